import Foundation
import Testing

@testable import Ingest
@testable import PostgresClient

@Suite(.database)
struct PostgresSessionTests {
    @Test func hostileIdentifierIsQuotedNotExecuted() async throws {
        let hostile = "x\"; DROP TABLE t; --"
        let (label, survivor) = try await TestDatabase.session { session in
            let schema = TestDatabase.uniqueName("quoting")
            try session.execute("CREATE SCHEMA \(schema)")
            try session.execute("SET search_path TO \(schema)")
            defer { _ = try? session.execute("DROP SCHEMA \(schema) CASCADE") }
            try session.execute("CREATE TABLE t (id int)")
            let table = try session.escapeIdentifier(hostile)
            let column = try session.escapeIdentifier("value; --")
            try session.execute("DROP TABLE IF EXISTS \(table)")
            try session.execute("CREATE TABLE \(table) (\(column) text)")
            try session.execute("INSERT INTO \(table) (\(column)) VALUES ($1)", ["it works"])
            let label = try session.query("SELECT \(column) FROM \(table)")[0].decode(String.self, at: 0)
            let survivor = try session.query("SELECT to_regclass('t') IS NOT NULL")[0].decode(Bool.self, at: 0)
            let exact = try session.query(
                "SELECT count(*) FROM pg_class WHERE relname = $1 AND relnamespace = $2::regnamespace",
                [hostile, schema])
            #expect(try exact[0].decode(Int.self, at: 0) == 1)
            try session.execute("DROP TABLE \(table)")
            try session.execute("DROP TABLE t")
            return (label, survivor)
        }
        #expect(label == "it works")
        #expect(survivor)
    }

    @Test func transactionRollsBackOnError() async throws {
        struct Boom: Error {}
        let table = TestDatabase.uniqueName("transaction")
        let count = try await TestDatabase.session { session in
            try session.execute("CREATE TEMP TABLE \(table) (id int)")
            #expect(throws: Boom.self) {
                try session.transaction {
                    try session.execute("INSERT INTO \(table) VALUES (1)")
                    throw Boom()
                }
            }
            try session.transaction {
                try session.execute("INSERT INTO \(table) VALUES (2)")
                // A failing nested block rolls back to its savepoint only.
                _ = try? session.transaction {
                    try session.execute("INSERT INTO \(table) VALUES (3)")
                    throw Boom()
                }
            }
            #expect(throws: PostgresError.self) {
                try session.transaction {
                    try session.execute("INSERT INTO \(table) VALUES (4)")
                    try session.execute("INSERT INTO \(table) VALUES ('not a number')")
                }
            }
            return try session.query("SELECT string_agg(id::text, ',' ORDER BY id) FROM \(table)")[0]
                .decode(String.self, at: 0)
        }
        #expect(count == "2")
    }

    @Test func cancellingATaskCancelsItsStatement() async throws {
        let connection = try await TestDatabase.connect()
        let pid = try await connection.withSession { session in
            try session.query("SELECT pg_backend_pid()")[0].decode(Int.self, at: 0)
        }
        let sleeper = Task {
            try await connection.withSession { session in try session.execute("SELECT pg_sleep(30)") }
        }
        // Cancel only once the server is running the statement (not before it was sent).
        let running = try await Self.waitUntilRunning(pid: pid, query: "pg_sleep")
        #expect(running, "backend \(pid) never ran pg_sleep")
        let clock = ContinuousClock()
        let cancelled = clock.now
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        // Long before the wait or statement would end (30 s and more); generous because these
        // machines are shared and a loaded one takes seconds to schedule the cancel.
        #expect(clock.now - cancelled < .seconds(10))
        // The connection is still usable afterwards.
        let value = try await connection.withSession { session in
            try session.query("SELECT 5")[0].decode(Int.self, at: 0)
        }
        #expect(value == 5)
        await connection.close()
    }

    /// Polls `pg_stat_activity` from a second connection until backend `pid` is active in a
    /// statement containing `query`; false if it was not within `timeout`.
    static func waitUntilRunning(pid: Int, query: String, timeout: Duration = .seconds(30)) async throws -> Bool {
        let observer = try await TestDatabase.connect()
        do {
            let deadline = ContinuousClock.now + timeout
            var running = false
            while !running && ContinuousClock.now < deadline {
                running = try await observer.withSession { session in
                    try session.query(
                        """
                        SELECT count(*)::int8 FROM pg_stat_activity
                        WHERE pid = $1 AND state = 'active' AND position($2 IN query) > 0
                        """, [pid, query])[0].decode(Int.self, at: 0) == 1
                }
                if !running { try await Task.sleep(for: .milliseconds(20)) }
            }
            await observer.close()
            return running
        } catch {
            await observer.close()
            throw error
        }
    }

    @Test func cancellationBeforeStartNeverRunsTheBody() async throws {
        let connection = try await TestDatabase.connect()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await connection.withSession { session in try session.execute("SELECT pg_sleep(30)") }
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        await connection.close()
    }

    @Test func scriptRunsSeveralStatements() async throws {
        let value = try await TestDatabase.session { session in
            try session.executeScript("CREATE TEMP TABLE script_t (a int); INSERT INTO script_t VALUES (1), (2);")
            return try session.query("SELECT sum(a) FROM script_t")[0].decode(Int.self, at: 0)
        }
        #expect(value == 3)
    }
}
