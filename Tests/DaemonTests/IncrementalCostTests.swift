import Foundation
import Ingest
import PostgresClient
import Testing

/// The cost of a cycle follows the news: an idle daemon reads and writes (almost) nothing.
@Suite(.database, .serialized)
struct IncrementalCostTests {
    /// Rows read from `readings` so far (sequential and index fetches) and the newest
    /// `series_state` update, as PostgreSQL counts them.
    static let activity = """
        SELECT (SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables
                WHERE relname = 'readings')::int8,
               (SELECT max(updated_at) FROM forecast.series_state)
        """

    @Test func idlePollsReadNothingAndNewRowsAreRead() async throws {
        let harness = try await DaemonHarness.make("forecastd_incremental_cost")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<300)
        try await harness.createModel("ett")
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'ett'")[0].decode(Int.self, at: 0)
                    == 24
            }, "\(daemon.log)")
        // Let the first cycles' statistics reach the collector (backends flush at most once a
        // second), then watch five polls (1 s apart) go by.
        let settled = ContinuousClock.now
        #expect(await eventually { ContinuousClock.now - settled >= .seconds(3) })
        let before = try await harness.sql { session in try session.query(Self.activity)[0] }
        let polled = ContinuousClock.now
        #expect(await eventually { ContinuousClock.now - polled >= .seconds(5) })
        let after = try await harness.sql { session in try session.query(Self.activity)[0] }
        let read = try after.decode(Int.self, at: 0) - before.decode(Int.self, at: 0)
        #expect(read == 0, "rows read while idle: \(read)\n\(daemon.log)")
        #expect(try after.decode(Date.self, at: 1) == before.decode(Date.self, at: 1), "series_state rewritten")

        // New rows are announced by the trigger and read at once.
        try await harness.load(300..<306)
        let newest = try DaemonHarness.etth1[305].time
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT min(issued_at) FROM forecast.latest WHERE model = 'ett'")[0]
                    .decode(Date?.self, at: 0) == newest
            }, "\(daemon.log)")
        #expect(await daemon.stop().status == 0)
    }
}
