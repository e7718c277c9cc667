import ArgumentParser
import DaemonCore
import Ingest
import PostgresClient

/// `forecastd migrate`: applies the SQL migrations this binary carries.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade the forecast schema (idempotent; safe to run concurrently).")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await reportingFailures {
            let migrator = Migrator()
            let applied = try await global.read { session in try migrator.migrate(session) }
            for migration in applied { print("applied \(migration.name)") }
            let version = migrator.migrations.last?.version ?? 0
            print(applied.isEmpty ? "schema is up to date (version \(version))" : "schema is at version \(version)")
        }
    }
}
