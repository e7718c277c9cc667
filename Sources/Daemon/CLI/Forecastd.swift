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

            Exit status: 0 on success; 64 (EX_USAGE) when the command cannot succeed as typed: an \
            invalid flag or value, a model that does not exist, or a value the server rejects \
            (SQLSTATE class 22 data exception, e.g. a malformed interval or an unknown option; \
            42703 undefined column, 42704 undefined object, 42710 duplicate object, 42804 datatype \
            mismatch, 42P01 undefined table); 1 for any other failure (no connection, a lost one, \
            permissions, a schema not migrated). Errors are one line, `forecastd: MESSAGE (SQLSTATE \
            xxxxx)`, followed by the server's `detail:` and `hint:` lines when it gave them.
            """,
        version: version,
        subcommands: [
            RunCommand.self, ModelCommand.self, RetrainCommand.self, ForecastCommand.self, PlotCommand.self,
            StatusCommand.self,
            BacktestCommand.self, DemoCommand.self, MigrateCommand.self, CheckConfigCommand.self, BenchCommand.self,
        ]
    )
}
