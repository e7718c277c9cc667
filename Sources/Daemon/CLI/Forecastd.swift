import ArgumentParser
import DaemonCore

/// The `forecastd` command: the service and its command-line tools.
@main
struct Forecastd: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "forecastd",
        abstract: "Forecast sensor data that lives in PostgreSQL with stacked LSTM networks.",
        discussion: """
            forecastd reads sensor readings from your PostgreSQL tables, trains stacked LSTM \
            networks on them and writes forecasts back into the forecast schema.
            """,
        version: version,
        subcommands: [
            RunCommand.self, ModelCommand.self, RetrainCommand.self, ForecastCommand.self, StatusCommand.self,
            BacktestCommand.self, DemoCommand.self, MigrateCommand.self, CheckConfigCommand.self, BenchCommand.self,
        ]
    )
}
