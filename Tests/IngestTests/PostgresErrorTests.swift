import Foundation
import Testing

@testable import Ingest
@testable import PostgresClient

@Suite(.database)
struct PostgresErrorTests {
    @Test func syntaxErrorCarriesSQLStateAndStatement() async throws {
        let error = await #expect(throws: PostgresError.self) {
            try await TestDatabase.session { session in try session.execute("SELEC 1") }
        }
        #expect(error?.kind == .server)
        #expect(error?.sqlState == PostgresError.State.syntaxError)
        #expect(error?.statement == "SELEC 1")
        #expect(error?.description.contains("SELEC 1") == true)
    }

    @Test func uniqueViolationCarriesDetail() async throws {
        let table = TestDatabase.uniqueName("unique_violation")
        let error = await #expect(throws: PostgresError.self) {
            try await TestDatabase.session { session in
                try session.execute("CREATE TEMP TABLE \(table) (id int PRIMARY KEY)")
                try session.execute("INSERT INTO \(table) VALUES ($1)", [Int32(1)])
                try session.execute("INSERT INTO \(table) VALUES ($1)", [Int32(1)])
            }
        }
        #expect(error?.sqlState == PostgresError.State.uniqueViolation)
        #expect(error?.detail?.contains("already exists") == true)
    }

    @Test func connectionSurvivesAFailedStatement() async throws {
        let value = try await TestDatabase.session { session in
            _ = try? session.execute("SELECT 1/0")
            return try session.query("SELECT 7")[0].decode(Int.self, at: 0)
        }
        #expect(value == 7)
    }

    @Test func refusedConnectionIsAConnectionError() async throws {
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect("host=127.0.0.1 port=1 connect_timeout=3")
        }
        #expect(error?.kind == .connection)
        #expect(error?.description.contains("\n") == false)
    }
}

/// Redaction needs no server.
struct ConnectionSettingsTests {
    @Test func passwordNeverAppearsInConnectionErrors() async throws {
        let settings = ConnectionSettings("postgresql://user:s3cr3t-pw@127.0.0.1:1/db")
        #expect(!settings.redact("password authentication failed: s3cr3t-pw").contains("s3cr3t-pw"))
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect("host=127.0.0.1 port=1 password=s3cr3t-pw connect_timeout=3")
        }
        #expect(error?.description.contains("s3cr3t-pw") == false)
    }

    @Test func malformedConninfoEchoesNoFragment() async throws {
        let error = await #expect(throws: PostgresError.self) {
            _ = try await PostgresConnection.connect("host=localhost password=s3cr3t pw")
        }
        #expect(error?.kind == .connection)
        #expect(error?.description.contains("s3cr3t") == false)
        #expect(error?.description.contains(" pw") == false)
    }

    @Test func userConninfoOverridesOurDefaults() {
        let settings = ConnectionSettings("application_name=mine")
        let pairs = settings.keywordValues(environment: [:])
        #expect(pairs.last?.0 == "dbname")
        #expect(pairs.last?.1 == "application_name=mine")
        #expect(pairs.contains { $0 == ("application_name", "forecastd") })
        #expect(!settings.keywordValues(environment: ["PGAPPNAME": "x"]).contains { $0.0 == "application_name" })
    }
}
