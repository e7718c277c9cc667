import ArgumentParser

/// `forecastd status`: every model's state at a glance.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show every model's state, versions, data and errors.",
        discussion: """
            One row per model: model, state, version and kind of the active version, last_forecast, \
            newest_data, series, queued requests, live accuracy of the forecasts issued in the 7 \
            days up to its newest scored one (forecast.recent_accuracy; scored: matured steps; mae in \
            the source's units; mase: its absolute error over the seasonal-naive forecast's; \
            coverage: the fraction inside [lower, upper]), worked_on_by (the daemon holding its \
            lease) and last_error. All history, per series and step: SELECT * FROM forecast.accuracy.

            \(OutputFormat.help)
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "table, csv or json.") var format: OutputFormat = .table

    func run() async throws {
        try await reportingFailures {
            let rows = try await global.read { session in
                try session.query(
                    """
                    SELECT s.model, s.state, s.active_version AS version, s.active_kind AS kind, s.last_forecast,
                           s.newest_data, s.series, s.queued_requests AS queued, a.forecasts AS scored, a.mae,
                           a.mase, a.coverage, s.worked_on_by, s.last_error
                    FROM forecast.model_status AS s
                    LEFT JOIN forecast.recent_accuracy AS a ON a.model = s.model
                    ORDER BY s.model
                    """)
            }
            print(try TextTable(rows).render(format), terminator: "")
        }
    }
}
