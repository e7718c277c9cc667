import ArgumentParser
import DaemonCore
import Ingest
import PostgresClient

/// `forecastd status`: every model's state at a glance.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show every model's state, versions, data and errors.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "table, csv or json.") var format: OutputFormatOption = .table

    func run() async throws {
        try await reportingFailures {
            let rows = try await global.read { session in
                try session.query(
                    """
                    SELECT s.model, s.state, s.active_version::text AS version, s.active_kind AS kind,
                           s.last_forecast::text, s.newest_data::text, s.series::text, s.queued_requests::text AS queued,
                           a.forecasts::text AS scored, round(a.mae::numeric, 4)::text AS mae,
                           round(a.mase::numeric, 3)::text AS mase, round(100 * a.coverage::numeric, 1)::text AS coverage_pct,
                           s.worked_on_by, s.last_error
                    FROM forecast.model_status AS s
                    LEFT JOIN (
                        SELECT model, sum(forecasts) AS forecasts, sum(mae * forecasts) / sum(forecasts) AS mae,
                               avg(mase) AS mase, sum(coverage * forecasts) / sum(forecasts) AS coverage
                        FROM forecast.accuracy GROUP BY model
                    ) AS a ON a.model = s.model
                    ORDER BY s.model
                    """)
            }
            print(try TextTable(rows).render(format.value), terminator: "")
        }
    }
}
