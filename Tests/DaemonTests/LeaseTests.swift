import Foundation
import Ingest
import PostgresClient
import Testing

/// Leases that never depend on a long write, and instances that share the work.
@Suite(.database, .serialized)
struct LeaseTests {
    /// A lock on the model's row held longer than the lease lifetime (6 s here) used to make
    /// the renewal skip the model and drop its worker; leases live in their own table now.
    @Test func aLongLockOnTheModelRowDoesNotCostTheLease() async throws {
        let harness = try await DaemonHarness.make("forecastd_lease_lock")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<300)
        try await harness.createModel("ett")
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'ett'")[0].decode(Int.self, at: 0)
                    == 24
            }, "\(daemon.log)")
        let epoch = try await harness.integer("SELECT epoch FROM forecast.leases WHERE model = 'ett'")
        let blocker = try await PostgresConnection.connect(harness.conninfo)
        try await blocker.withSession { session in
            try session.execute("BEGIN")
            try session.execute("SELECT 1 FROM forecast.models WHERE name = 'ett' FOR UPDATE")
        }
        // Wait until the lease has been renewed past the point it would have expired.
        let lockedAt = try await harness.sql { session in
            try session.query("SELECT now()")[0].decode(Date.self, at: 0)
        }
        #expect(
            try await harness.waitUntil(timeout: .seconds(60)) { session in
                try session.query(
                    "SELECT expires_at > $1::timestamptz + interval '8 seconds' FROM forecast.leases WHERE model = 'ett'",
                    [lockedAt])[0].decode(Bool?.self, at: 0) == true
            }, "\(daemon.log)")
        try await blocker.withSession { session in try session.execute("COMMIT") }
        await blocker.close()
        #expect(try await harness.integer("SELECT epoch FROM forecast.leases WHERE model = 'ett'") == epoch)
        #expect(!daemon.log.contains("lease on model"), "\(daemon.log)")
        #expect(await daemon.stop().status == 0)
    }

    /// Three instances, six models: each ends up with its fair share (two); after a
    /// `kill -9` the others take its models over within seconds (its announcement lapses
    /// after three renewals), and every model is forecast again.
    @Test func instancesShareTheModelsAndTakeOverFromADeadOne() async throws {
        let harness = try await DaemonHarness.make("forecastd_lease_share")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<300)
        let names = ["a", "b", "c", "d", "e", "f"]
        for name in names { try await harness.createModel(name, epochs: 1) }
        let daemons = [try harness.startDaemon(), try harness.startDaemon(), try harness.startDaemon()]
        let perOwner = """
            SELECT coalesce(max(n), 0)::int8, coalesce(sum(n), 0)::int8, count(*)::int8
            FROM (SELECT owner, count(*) AS n FROM forecast.leases
                  WHERE owner IS NOT NULL AND expires_at > now() GROUP BY owner) AS o
            """
        #expect(
            try await harness.waitUntil(timeout: .seconds(180)) { session in
                let row = try session.query(perOwner)[0]
                let forecast = try session.query("SELECT count(DISTINCT model) FROM forecast.latest")[0]
                    .decode(Int.self, at: 0)
                return try row.decode(Int.self, at: 0) == 2 && row.decode(Int.self, at: 1) == 6
                    && row.decode(Int.self, at: 2) == 3 && forecast == 6
            }, "\(daemons.map(\.log))")

        // Kill the instance holding most; the others take over.
        let pids = daemons.map { "\($0.process.processIdentifier)" }
        let busiest = try await harness.sql { session in
            try session.query(
                "SELECT owner FROM forecast.leases WHERE owner IS NOT NULL GROUP BY owner ORDER BY count(*) DESC LIMIT 1"
            )[0].decode(String.self, at: 0)
        }
        let victim = try #require(daemons.firstIndex { busiest.contains(":\($0.process.processIdentifier):") })
        #expect(pids.count == 3)
        let killedAt = ContinuousClock.now
        _ = await daemons[victim].stop(signal: SIGKILL)
        #expect(
            try await harness.waitUntil(timeout: .seconds(60), every: .milliseconds(100)) { session in
                try session.query(
                    "SELECT count(*) FROM forecast.leases WHERE owner IS NOT NULL AND owner <> $1 AND expires_at > now()",
                    [busiest])[0].decode(Int.self, at: 0) == 6
            })
        let takeover = ContinuousClock.now - killedAt
        #expect(takeover < .seconds(15), "takeover took \(takeover)")
        for (index, daemon) in daemons.enumerated() where index != victim {
            #expect(await daemon.stop().status == 0)
        }
    }
}

/// Many models share a bounded set of connections.
@Suite(.database, .serialized)
struct ConnectionBudgetTests {
    /// 30 models, 2 workers: every model is forecast and the daemon never holds more than
    /// its workers plus the listener, lease and writer connections.
    @Test func manyModelsShareTheWorkersConnections() async throws {
        let harness = try await DaemonHarness.make("forecastd_connection_budget")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<200)
        for index in 0..<30 { try await harness.createModel("m\(index)", epochs: 1, hidden: 4) }
        let database = harness.databaseName
        let daemon = try DaemonProcess(
            arguments: [
                "run", "--database", harness.conninfo, "--poll-interval", "1", "--lease-seconds", "6", "--workers", "2",
            ],
            environment: ["PGAPPNAME": "budget-daemon"])
        var most = 0
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            let (connections, forecast) = try await harness.sql { session in
                let row = try session.query(
                    """
                    SELECT (SELECT count(*) FROM pg_stat_activity
                            WHERE datname = $1 AND application_name = 'budget-daemon')::int8,
                           (SELECT count(DISTINCT model) FROM forecast.latest)::int8
                    """, [database])[0]
                return (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1))
            }
            most = max(most, connections)
            if forecast == 30 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await harness.integer("SELECT count(DISTINCT model) FROM forecast.latest") == 30, "\(daemon.log)")
        #expect(try await harness.integer("SELECT count(*) FROM forecast.models WHERE state = 'error'") == 0)
        // 2 workers + listener + lease + writer.
        #expect(most <= 5, "at most \(most) connections")
        #expect(await daemon.stop().status == 0)
    }
}
