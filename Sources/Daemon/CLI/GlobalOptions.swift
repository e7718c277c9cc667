import ArgumentParser
import DaemonCore
import Foundation
import Ingest
import PostgresClient

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

    /// The connection string in force: the flag, else `$FORECASTD_DATABASE_URL`, else the
    /// `database` of the default configuration file, else libpq's defaults ("").
    var conninfo: String {
        if let database { return database }
        if let url = ProcessInfo.processInfo.environment["FORECASTD_DATABASE_URL"] { return url }
        if FileManager.default.isReadableFile(atPath: DaemonConfiguration.defaultPath),
            let configured = try? DaemonConfiguration().applyingFile(DaemonConfiguration.defaultPath)
        {
            return configured.database
        }
        return ""
    }

    func connect() async throws -> PostgresConnection {
        var configuration = DaemonConfiguration()
        configuration.database = conninfo
        return try await PostgresConnection.connect(configuration.connectionSettings())
    }
}
