import Foundation
import Ingest
import PostgresClient
import Testing

@testable import DaemonCore

struct MigrationCatalogTests {
    @Test func binaryCarriesOrderedMigrations() {
        let migrations = Migration.all
        #expect(!migrations.isEmpty)
        #expect(migrations.first?.version == 1)
        #expect(migrations.map(\.version) == Array(1...migrations.count))
        #expect(migrations.allSatisfy { $0.sql.contains("forecast.") })
    }

    @Test func nonMigrationFilesAreIgnored() {
        #expect(EmbeddedMigration(fileName: "README", base64: "").migration == nil)
        #expect(EmbeddedMigration(fileName: "0007_x", base64: "U0VMRUNUIDE=").migration?.sql == "SELECT 1")
    }
}

@Suite(.database)
struct MigratorTests {
    @Test func migrateTwiceIsANoOp() async throws {
        let database = try await TestDatabase.createDatabase("forecastd_migrate_twice")
        let first = try ForecastdProcess.run(["migrate", "--database", database.conninfo])
        let second = try ForecastdProcess.run(["migrate", "--database", database.conninfo])
        let tables = try await Self.forecastTables(database.conninfo)
        try await TestDatabase.dropDatabase(database.name)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied 0001_initial"))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("up to date"))
        #expect(second.stderr.isEmpty)
        #expect(tables.contains("models") && tables.contains("predictions") && tables.contains("requests"))
        #expect(tables.contains("model_versions") && tables.contains("schema_migrations"))
    }

    @Test func concurrentMigratorsBothSucceedWithOneSchema() async throws {
        let database = try await TestDatabase.createDatabase("forecastd_migrate_concurrent")
        let one = try ForecastdProcess.start(["migrate", "--database", database.conninfo])
        let two = try ForecastdProcess.start(["migrate", "--database", database.conninfo])
        let outcomes = [ForecastdProcess.finish(one), ForecastdProcess.finish(two)]
        let connection = try await PostgresConnection.connect(database.conninfo)
        let recorded = try await connection.withSession { session in
            try session.query("SELECT count(*) FROM forecast.schema_migrations")[0].decode(Int.self, at: 0)
        }
        await connection.close()
        try await TestDatabase.dropDatabase(database.name)
        for outcome in outcomes { #expect(outcome.status == 0, "\(outcome.stderr)") }
        #expect(outcomes.filter { $0.stdout.contains("applied 0001_initial") }.count == 1)
        #expect(recorded == Migration.all.count)
    }

    @Test func editedMigrationIsRefused() async throws {
        let database = try await TestDatabase.createDatabase("forecastd_migrate_edited")
        let connection = try await PostgresConnection.connect(database.conninfo)
        let edited = Migration.all.map { migration in
            var changed = migration
            changed.sql += "\n-- edited"
            return changed
        }
        let error = await #expect(throws: Migrator.Failure.self) {
            try await connection.withSession { session in
                _ = try Migrator().migrate(session)
                _ = try Migrator(migrations: edited).migrate(session)
            }
        }
        await connection.close()
        try await TestDatabase.dropDatabase(database.name)
        #expect(error?.description.contains("0001_initial") == true)
    }

    @Test func retrainQueuesOnceAndNotifies() async throws {
        let database = try await TestDatabase.createDatabase("forecastd_retrain")
        let connection = try await PostgresConnection.connect(database.conninfo)
        let (first, second, other, notified) = try await connection.withSession { session in
            _ = try Migrator().migrate(session)
            try session.execute(
                "INSERT INTO forecast.models (name, source, time_column, value_column, lookback) VALUES ('m', 's', 't', 'v', 48)"
            )
            try session.listen("forecastd_requests")
            let first = try session.query("SELECT forecast.retrain('m')")[0].decode(Int.self, at: 0)
            let second = try session.query("SELECT forecast.retrain('m', 'full')")[0].decode(Int.self, at: 0)
            let other = try session.query("SELECT forecast.retrain('m', 'finetune')")[0].decode(Int.self, at: 0)
            let notified = try session.waitForNotification(timeout: .seconds(5))
            #expect(throws: PostgresError.self) { try session.query("SELECT forecast.retrain('nope')") }
            #expect(throws: PostgresError.self) { try session.query("SELECT forecast.retrain('m', 'bogus')") }
            return (first, second, other, notified)
        }
        await connection.close()
        try await TestDatabase.dropDatabase(database.name)
        #expect(first == second)
        #expect(other != first)
        #expect(notified?.payload == String(first))
    }

    static func forecastTables(_ conninfo: String) async throws -> Set<String> {
        let connection = try await PostgresConnection.connect(conninfo)
        let rows = try await connection.withSession { session in
            try session.query("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'forecast'")
        }
        await connection.close()
        return Set(try rows.map { try $0.decode(String.self, at: 0) })
    }
}
