import Foundation
import PostgresClient

/// The benchmark's own connection (application_name `forecastd-bench`, so it is never
/// counted as a daemon's): setting up sources and models, and the figures read from the
/// server while the daemons run.
struct BenchDatabase: Sendable {
    let connection: PostgresConnection

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func connect(_ conninfo: String) async throws -> BenchDatabase {
        var settings = ConnectionSettings(conninfo)
        settings.applicationName = "forecastd-bench"
        return BenchDatabase(connection: try await PostgresConnection.connect(settings))
    }

    func close() async { await connection.close() }

    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        try await connection.withSession(body)
    }

    /// Migrates the forecast schema, refuses a database with other models or a running
    /// daemon (the benchmark's daemons would work on them, and they on its models), and
    /// removes what an interrupted run left behind.
    func prepare() async throws {
        try await run { session in
            _ = try Migrator().migrate(session)
            let others = try session.query(
                "SELECT name FROM forecast.models WHERE left(name, length($1)) <> $1 ORDER BY name LIMIT 5",
                [SyntheticSource.modelPrefix]
            ).map { try $0.decode(String.self, at: 0) }
            guard others.isEmpty else {
                throw Failure(
                    description: "the database has other models (\(others.joined(separator: ", "))): the "
                        + "benchmark's daemons would work on them; use an empty database or the throwaway server")
            }
            let live = try session.query("SELECT count(*) FROM forecast.instances WHERE expires_at > now()")[0]
                .decode(Int.self, at: 0)
            guard live == 0 else {
                throw Failure(description: "a forecastd is running on this database: stop it first")
            }
        }
        try await dropAll()
    }

    /// Drops every benchmark model and the benchmark schema.
    func dropAll() async throws {
        try await run { session in
            try session.execute(
                "SELECT forecast.drop_model(name) FROM forecast.models WHERE left(name, length($1)) = $1",
                [SyntheticSource.modelPrefix])
            try session.execute("DROP SCHEMA IF EXISTS \(SyntheticSource.schema) CASCADE")
            try session.execute("CREATE SCHEMA \(SyntheticSource.schema)")
        }
    }

    /// The start of a history of `hours` hours that ends `spare` hours before the current
    /// hour, so every hour a run delivers lies in the past (never beyond `max_future`).
    func historyStart(hours: Int, spare: Int) async throws -> Date {
        try await run { session in
            try session.query(
                "SELECT date_trunc('hour', now()) - $1 * interval '1 hour'", [Int32(hours + spare)]
            )[0].decode(Date.self, at: 0)
        }
    }

    /// Creates the tables and models of `sources`.
    func create(_ sources: [SyntheticSource]) async throws {
        for source in sources {
            try await run { session in
                try source.create(in: session)
                try source.createModel(in: session)
            }
        }
    }

    /// Appends hour `hour` to every source in one transaction (so every model is notified at
    /// its commit).
    func deliver(hour: Int, to sources: [SyntheticSource]) async throws {
        try await run { session in
            try session.transaction {
                for source in sources { try source.deliver(hour: hour, in: session) }
            }
        }
    }

    var maxConnections: Int {
        get async throws {
            try await run { session in
                Int(try session.query("SHOW max_connections")[0].decode(String.self, at: 0)) ?? 0
            }
        }
    }

    /// Connections of forecastd daemons to this database now.
    func daemonConnections() async throws -> Int {
        try await run { session in
            try session.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE application_name = 'forecastd' AND datname = current_database()
                """)[0].decode(Int.self, at: 0)
        }
    }

    /// Daemon connections running a statement now (`state` other than `idle`).
    func busyDaemonConnections() async throws -> Int {
        try await run { session in
            try session.query(
                """
                SELECT count(*) FROM pg_stat_activity
                WHERE application_name = 'forecastd' AND datname = current_database() AND state <> 'idle'
                """)[0].decode(Int.self, at: 0)
        }
    }

    /// Benchmark models in state `error` now.
    func modelsInError() async throws -> Int {
        try await run { session in
            try session.query(
                "SELECT count(*) FROM forecast.models WHERE state = 'error' AND left(name, length($1)) = $1",
                [SyntheticSource.modelPrefix])[0].decode(Int.self, at: 0)
        }
    }

    /// Rows read from `table` so far by sequential and index scans (statistics as of now).
    func rowsRead(_ table: String) async throws -> Int {
        try await run { session in
            try session.execute("SELECT pg_stat_clear_snapshot()")
            return try session.query(
                """
                SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables
                WHERE relid = $1::regclass
                """, [table])[0].decode(Int.self, at: 0)
        }
    }

    /// Bytes of forecast history (`forecast.sets` and `forecast.actuals` with every
    /// partition and index; `forecast.latest_sets` is a constant per series and left out),
    /// and of every table of the schema.
    func forecastBytes() async throws -> (history: Int, schema: Int) {
        try await run { session in
            let row = try session.query(
                """
                SELECT (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class AS c
                        JOIN pg_namespace AS n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'forecast' AND c.relkind = 'r'
                          AND (c.relname LIKE 'sets%' OR c.relname LIKE 'actuals%')),
                       (SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class AS c
                        JOIN pg_namespace AS n ON n.oid = c.relnamespace
                        WHERE n.nspname = 'forecast' AND c.relkind IN ('r', 'm'))
                """)[0]
            return (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1))
        }
    }

    /// `SELECT * FROM forecast.latest WHERE model = ...` timed on the client, milliseconds,
    /// median of `repeats`.
    func latestQueryMilliseconds(_ model: String, repeats: Int = 5) async throws -> Double? {
        var times: [Double] = []
        for _ in 0..<repeats {
            let started = ContinuousClock.now
            _ = try await run { session in try session.query("SELECT * FROM forecast.latest WHERE model = $1", [model])
            }
            times.append((ContinuousClock.now - started).seconds * 1000)
        }
        return LatencySummary.median(times)
    }

    /// Per benchmark model, the owner of its live lease (models without one are left out).
    func leaseOwners() async throws -> [String: String] {
        try await run { session in
            let rows = try session.query(
                """
                SELECT model, owner FROM forecast.leases
                WHERE expires_at > now() AND owner IS NOT NULL AND left(model, length($1)) = $1
                """, [SyntheticSource.modelPrefix])
            var owners: [String: String] = [:]
            for row in rows { owners[try row.decode(String.self, at: 0)] = try row.decode(String.self, at: 1) }
            return owners
        }
    }

    /// Of `sources`, those whose newest forecasts (`forecast.latest_sets`) were issued at
    /// `time` or later for all their series.
    func fresh(_ sources: [SyntheticSource], issuedAt time: Date) async throws -> Set<String> {
        guard !sources.isEmpty else { return [] }
        let models = sources.map(\.model).joined(separator: ",")
        let expected = Dictionary(uniqueKeysWithValues: sources.map { ($0.model, $0.series) })
        return try await run { session in
            var fresh: Set<String> = []
            for row in try session.query(
                """
                SELECT m.name, count(l.series) FROM forecast.models AS m
                JOIN forecast.latest_sets AS l ON l.model_id = m.id AND l.issued_at >= $2
                WHERE m.name = ANY (string_to_array($1, ','))
                GROUP BY m.name
                """, [models, time])
            {
                let model = try row.decode(String.self, at: 0)
                if try row.decode(Int.self, at: 1) >= expected[model] ?? 0 { fresh.insert(model) }
            }
            return fresh
        }
    }
}
