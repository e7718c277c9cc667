import ArgumentParser
import PostgresClient

/// `forecastd forecast MODEL`: the newest forecasts, as `forecast.latest` holds them.
struct ForecastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast", abstract: "Print a model's newest forecasts.",
        discussion: """
            One row per series and step of each series' newest forecast (forecast.latest), ordered \
            by series and step: series, issued_at (time of the last observation used), \
            target_time, step, value (the point forecast), lower and upper (the outer quantiles), \
            quantiles (the forecast at each of the model's quantile levels, lowest level first: \
            {q1,q2,...} in table and csv, an array in json; empty for a single-quantile model) and \
            version.

            \(OutputFormat.help)
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Model name.") var model: String
    @Option(help: "Only this series.") var series: String?
    @Option(help: "table, csv or json.") var format: OutputFormat = .table

    func run() async throws {
        try await reportingFailures {
            let (model, series) = (self.model, self.series)
            let rows = try await global.read { session -> PostgresRows? in
                guard try !session.query("SELECT 1 FROM forecast.models WHERE name = $1", [model]).isEmpty else {
                    return nil
                }
                return try session.query(
                    """
                    SELECT series, issued_at, target_time, step, value, lower, upper, quantiles, version
                    FROM forecast.latest AS p WHERE p.model = $1 AND ($2::text IS NULL OR p.series = $2)
                    ORDER BY p.series, p.step
                    """, [model, series])
            }
            guard let rows else { throw CommandFailure.unknownModel(model) }
            print(try TextTable(rows).render(format), terminator: "")
        }
    }
}
