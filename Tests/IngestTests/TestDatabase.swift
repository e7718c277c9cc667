import Foundation
import Ingest
import PostgresClient
import Testing

/// The real PostgreSQL server the test script starts (`scripts/test` always sets
/// `FORECASTD_TEST_DATABASE`); integration tests are disabled only when it is absent,
/// e.g. in a bare `swift test` run.
enum TestDatabase {
    static let conninfo = ProcessInfo.processInfo.environment["FORECASTD_TEST_DATABASE"]
    static var isConfigured: Bool { conninfo != nil }

    static func connect() async throws -> PostgresConnection {
        try await PostgresConnection.connect(ConnectionSettings(conninfo ?? ""))
    }

    /// Runs `body` on a fresh connection, closed afterwards whatever happens.
    static func session<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
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

    /// A unique, lower-case name for a table of one test.
    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only against a real server (see `TestDatabase`).
    static var database: Self {
        .enabled(if: TestDatabase.isConfigured, "needs FORECASTD_TEST_DATABASE (scripts/test sets it)")
    }
}

/// Guards against integration tests silently not running where they must.
struct TestDatabaseConfigurationTests {
    @Test func integrationTestsRunInCI() {
        let inCI = ProcessInfo.processInfo.environment["CI"] != nil
        #expect(!inCI || TestDatabase.isConfigured, "CI must run the integration tests: use scripts/test")
    }
}
