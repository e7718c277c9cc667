import Foundation
import Ingest
import PostgresClient
import Testing

/// The real server `scripts/test` starts, and throwaway databases on it.
enum TestDatabase {
    static let conninfo = ProcessInfo.processInfo.environment["FORECASTD_TEST_DATABASE"]
    static var isConfigured: Bool { conninfo != nil }

    /// Creates an empty database for one test and returns its conninfo; `drop` removes it.
    static func createDatabase(_ prefix: String) async throws -> (conninfo: String, name: String) {
        let name = "\(prefix)_\(UInt32.random(in: 0...UInt32.max))"
        let admin = try await PostgresConnection.connect(conninfo ?? "")
        try await admin.withSession { session in
            try session.execute("CREATE DATABASE \(try session.escapeIdentifier(name))")
        }
        await admin.close()
        return ("\(conninfo ?? "") dbname=\(name)", name)
    }

    static func dropDatabase(_ name: String) async throws {
        let admin = try await PostgresConnection.connect(conninfo ?? "")
        try await admin.withSession { session in
            try session.execute("DROP DATABASE IF EXISTS \(try session.escapeIdentifier(name)) WITH (FORCE)")
        }
        await admin.close()
    }
}

extension Trait where Self == ConditionTrait {
    static var database: Self {
        .enabled(if: TestDatabase.isConfigured, "needs FORECASTD_TEST_DATABASE (scripts/test sets it)")
    }
}
