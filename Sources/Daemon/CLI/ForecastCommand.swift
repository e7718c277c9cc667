import ArgumentParser
import DaemonCore
import Ingest
import PostgresClient

/// `forecastd forecast MODEL`: the newest forecasts, as `forecast.latest` holds them.
struct ForecastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast", abstract: "Print a model's newest forecasts.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Model name.") var model: String
    @Option(help: "Only this series.") var series: String?
    @Option(help: "table, csv or json.") var format: OutputFormatOption = .table

    func run() async throws {
        try await reportingFailures {
            let (model, series) = (self.model, self.series)
            let rows = try await global.read { session -> PostgresRows? in
                guard try !session.query("SELECT 1 FROM forecast.models WHERE name = $1", [model]).isEmpty else {
                    return nil
                }
                return try session.query(
                    """
                    SELECT series, issued_at::text, target_time::text, step::text,
                           round(value::numeric, 4)::text AS value, round(lower::numeric, 4)::text AS lower,
                           round(upper::numeric, 4)::text AS upper, version::text
                    FROM forecast.latest AS p WHERE p.model = $1 AND ($2::text IS NULL OR p.series = $2)
                    ORDER BY p.series, p.step
                    """, [model, series])
            }
            guard let rows else { throw CommandFailure.unknownModel(model) }
            print(try TextTable(rows).render(format.value), terminator: "")
        }
    }
}
