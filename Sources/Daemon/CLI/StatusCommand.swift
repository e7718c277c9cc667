import ArgumentParser
import Ingest

/// `forecastd status`: every model's state at a glance.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show every model's state, versions, data and errors.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "table, csv or json.") var format: OutputFormatOption = .table

    func run() async throws {
        try await reportingFailures {
            let rows = try await global.query(
                """
                SELECT model, state, active_version::text AS version, active_kind AS kind,
                       last_forecast::text, newest_data::text, series::text, queued_requests::text AS queued,
                       worked_on_by, last_error
                FROM forecast.model_status ORDER BY model
                """)
            print(try TextTable(rows).render(format.value), terminator: "")
        }
    }
}
