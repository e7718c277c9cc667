import ArgumentParser
import Foundation
import Ingest

/// Options every subcommand shares.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "PostgreSQL conninfo string or postgresql:// URI.",
            discussion:
                "Defaults to $FORECASTD_DATABASE_URL, else libpq's PG* environment variables, service file and password file.",
            valueName: "conninfo"))
    var database: String?

    /// The connection string in force: the flag, else the environment, else libpq's defaults ("").
    var conninfo: String {
        database ?? ProcessInfo.processInfo.environment["FORECASTD_DATABASE_URL"] ?? ""
    }

    func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(ConnectionSettings(conninfo))
    }
}
