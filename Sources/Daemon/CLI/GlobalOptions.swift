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

extension GlobalOptions {
    /// Runs forecastd's own statements (reads of the forecast schema) on one connection.
    /// A server error here is about the database or forecastd, never about the command's
    /// arguments (e.g. the schema was never migrated): exit status 1, whatever its SQLSTATE.
    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        do {
            return try await withSession(body)
        } catch var error as PostgresError {
            if error.sqlState == PostgresError.State.undefinedTable, error.hint == nil {
                error.hint = "is the forecast schema installed? forecastd migrate creates or upgrades it"
            }
            throw CommandFailure(error, judgingArguments: false)
        }
    }

    /// Runs one call of a `forecast.*` function that checks the values the command passes it
    /// (create_model, alter_model, pause, ...): its rejections exit 64 (see `CommandFailure`).
    func call(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> PostgresRows {
        try await withSession { session in try session.query(sql, parameters) }
    }

    /// Connects, runs `body`, disconnects.
    private func withSession<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws
        -> T
    {
        let connection = try await connect()
        do {
            let value = try await connection.withSession(body)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }
}
