import Foundation
import Ingest
import PostgresClient
import Testing

@testable import DaemonCore

/// Forecast storage (migration 0011): sets in history, the newest set per series, actuals,
/// and the views that show them as rows.
@Suite(.database) struct ForecastStoreTests {
    static let hour: Int64 = 3_600_000_000
    /// 2024-03-04 00:00 UTC (a Monday), µs.
    static let t0: Int64 = 1_709_510_400_000_000
    static let owner = "forecast-store-test"

    /// A migrated database with model `m` (hourly, horizon 3) and versions 1 and 2, `body`
    /// run with the lease on `m`.
    static func withModel(
        _ name: String, _ body: @escaping @Sendable (PostgresSession, Lease) throws -> Void
    ) async throws {
        let (conninfo, database) = try await TestDatabase.createDatabase(name)
        let connection = try await PostgresConnection.connect(conninfo)
        var failure: (any Error)?
        do {
            try await connection.withSession { session in
                _ = try Migrator().migrate(session)
                try session.executeScript(
                    """
                    CREATE TABLE readings (ts timestamptz, sensor text, value float8);
                    SELECT forecast.create_model('m', 'readings', 'ts', 'value', 'sensor', '1 hour', 3, 4);
                    INSERT INTO forecast.model_versions (model, version, kind, checkpoint, active)
                    VALUES ('m', 1, 'full', '\\x00', false), ('m', 2, 'full', '\\x00', true);
                    """)
                let lease = try #require(
                    try ModelStore.maintainLeases(owner: owner, seconds: 60, busy: [], in: session).first)
                try body(session, lease)
            }
        } catch {
            failure = error
        }
        await connection.close()
        try await TestDatabase.dropDatabase(database)
        if let failure { throw failure }
    }

    /// A forecast set as the Forecaster makes it: hourly targets, quantiles 0.1/0.5/0.9
    /// (lower and upper the outer two), values that do not round-trip through text lightly.
    static func set(_ series: String, issuedAt: Int64, steps: Int = 3, base: Double = 1, quantiles: Bool = true)
        -> [ForecastRow]
    {
        (1...steps).map { step in
            let value = base + Double(step) / 3
            let levels = quantiles ? [value - 8.5e-07, value, value + 0.1 + 0.2] : []
            return ForecastRow(
                series: series, issuedAt: issuedAt, targetTime: issuedAt + Int64(step) * hour, step: step, value: value,
                lower: levels.first, upper: levels.last, quantiles: levels)
        }
    }

    /// Rows of `view` (forecast.predictions or forecast.latest) for model m, as ForecastRows.
    static func rows(_ view: String, _ session: PostgresSession, where condition: String = "true") throws
        -> [ForecastRow]
    {
        try session.query(
            """
            SELECT series, issued_at, target_time, step, value, lower, upper, quantiles FROM forecast.\(view)
            WHERE model = 'm' AND \(condition) ORDER BY series, issued_at, step
            """
        ).map { row in
            ForecastRow(
                series: try row.decode(String.self, at: 0),
                issuedAt: try row.decode(PostgresTimestamp.self, at: 1).microsecondsSince1970,
                targetTime: try row.decode(PostgresTimestamp.self, at: 2).microsecondsSince1970,
                step: try row.decode(Int.self, at: 3), value: try row.decode(Double.self, at: 4),
                lower: try row.decode(Double?.self, at: 5), upper: try row.decode(Double?.self, at: 6),
                quantiles: try row.decode(PostgresFloat8Array?.self, at: 7)?.values ?? [])
        }
    }

    static func integer(_ sql: String, _ session: PostgresSession) throws -> Int {
        try session.query(sql)[0].decode(Int.self, at: 0)
    }

    @Test func historyViewUnnestsExactly() async throws {
        try await Self.withModel("forecast_store_history") { session, lease in
            let written =
                Self.set("a", issuedAt: Self.t0, base: 1e-300) + Self.set("a", issuedAt: Self.t0 + Self.hour, base: -7)
                + Self.set("b", issuedAt: Self.t0, steps: 5, base: .greatestFiniteMagnitude / 2)
                + Self.set("c", issuedAt: Self.t0 - 30 * 24 * Self.hour, quantiles: false)
            try ForecastStore.writeForecasts(
                written, version: 2, states: [], lease: lease, owner: Self.owner, in: session)
            let read = try Self.rows("predictions", session)
            #expect(read == written.sorted { ($0.series, $0.issuedAt, $0.step) < ($1.series, $1.issuedAt, $1.step) })
            #expect(try Self.integer("SELECT count(*) FROM forecast.predictions WHERE version = 2", session) == 14)
            // One stored row per set; a week's partition for each week written (c is a month old).
            #expect(try Self.integer("SELECT count(*) FROM forecast.sets", session) == 4)
            #expect(try Self.integer("SELECT count(*) FROM forecast.partitions WHERE parent = 'sets'", session) == 2)
            #expect(
                try Self.integer("SELECT count(*) FROM forecast.sets WHERE lower IS NULL AND upper IS NULL", session)
                    == 4)
        }
    }

    /// Sets packed by the client are stored exactly as `forecast.pack_steps` stores the same
    /// steps (inserted row by row through `forecast.predictions` for a second model), and a
    /// set that is not regular goes to the server as steps.
    @Test func clientPackingStoresWhatPackStepsStores() async throws {
        try await Self.withModel("forecast_store_packing") { session, lease in
            var calibrated = Self.set("d", issuedAt: Self.t0, base: 3)
            for index in calibrated.indices {
                calibrated[index].lower = calibrated[index].value - 2
                calibrated[index].upper = calibrated[index].value + 2
            }
            var boundsOnly = Self.set("e", issuedAt: Self.t0, quantiles: false)
            for index in boundsOnly.indices {
                boundsOnly[index].lower = -1
                boundsOnly[index].upper = 1
            }
            let written =
                Self.set("a", issuedAt: Self.t0, base: -0.0) + Self.set("b", issuedAt: Self.t0 + Self.hour, steps: 5)
                + Self.set("c", issuedAt: Self.t0, quantiles: false) + calibrated + boundsOnly
            let (packed, others) = PackedSet.pack(written)
            #expect(packed.count == 5 && others.isEmpty)
            var gap = Self.set("f", issuedAt: Self.t0)
            gap.remove(at: 1)
            #expect(PackedSet.pack(gap).packed.isEmpty && PackedSet.pack(gap).others == gap)

            try ForecastStore.writeForecasts(
                written + gap, version: 2, states: [], lease: lease, owner: Self.owner, in: session)
            try session.execute(
                "SELECT forecast.create_model('n', 'readings', 'ts', 'value', 'sensor', '1 hour', 3, 4)")
            try session.execute(
                "INSERT INTO forecast.model_versions (model, version, kind, checkpoint, active) VALUES ('n', 2, 'full', '\\x00', true)"
            )
            for row in written + gap {
                try session.execute(
                    """
                    INSERT INTO forecast.predictions
                        (model, series, issued_at, target_time, step, value, lower, upper, quantiles, version)
                    VALUES ('n', $1, $2, $3, $4, $5, $6, $7, $8, 2)
                    """,
                    [
                        row.series, PostgresTimestamp(microsecondsSince1970: row.issuedAt),
                        PostgresTimestamp(microsecondsSince1970: row.targetTime), Int32(row.step), row.value,
                        row.lower, row.upper, row.quantiles.isEmpty ? nil : PostgresFloat8Array(row.quantiles),
                    ])
            }
            let stored = """
                SELECT s.series, s.issued_at::text, s.step_interval::text, s.levels::text, s.version::text,
                       encode(float8send_array(s.value), 'hex'), encode(float8send_array(s.lower), 'hex'),
                       encode(float8send_array(s.upper), 'hex'), encode(float8send_array(s.quantiles), 'hex'),
                       s.target_times::text
                FROM forecast.sets AS s JOIN forecast.models AS m ON m.id = s.model_id
                WHERE m.name = $1 ORDER BY s.series, s.issued_at
                """
            try session.execute(
                """
                CREATE FUNCTION pg_temp.float8send_array(a float8[]) RETURNS bytea LANGUAGE sql AS
                $$ SELECT string_agg(coalesce(float8send(x), '\\xff'), '\\x00' ORDER BY i)
                   FROM unnest(a) WITH ORDINALITY AS u (x, i) $$
                """)
            func rows(_ model: String) throws -> [String] {
                try session.query(
                    stored.replacingOccurrences(of: "float8send_array", with: "pg_temp.float8send_array"), [model]
                )
                .map { row in
                    try (0..<10).map { try row.decode(String?.self, at: $0) ?? "NULL" }.joined(separator: " | ")
                }
            }
            let client = try rows("m")
            #expect(client.count == 6)
            #expect(client == (try rows("n")))
        }
    }

    @Test func latestIsTheNewestSetOfEverySeries() async throws {
        try await Self.withModel("forecast_store_latest") { session, lease in
            let newestA = Self.set("a", issuedAt: Self.t0 + Self.hour, base: 5)
            let onlyB = Self.set("b", issuedAt: Self.t0, base: 9)
            try ForecastStore.writeForecasts(
                Self.set("a", issuedAt: Self.t0) + onlyB, version: 2, states: [], lease: lease, owner: Self.owner,
                in: session)
            try ForecastStore.writeForecasts(
                newestA, version: 2, states: [], lease: lease, owner: Self.owner, in: session)
            // A set older than the newest (a replay) goes to history only.
            try ForecastStore.writeForecasts(
                Self.set("a", issuedAt: Self.t0 - Self.hour), version: 2, states: [], lease: lease, owner: Self.owner,
                in: session)
            let latest = try Self.rows("latest", session)
            #expect(latest == newestA + onlyB)
            let newestInHistory = try Self.rows(
                "predictions", session,
                where: """
                    issued_at = (SELECT max(q.issued_at) FROM forecast.predictions AS q
                                 WHERE q.model = 'm' AND q.series = predictions.series)
                    """)
            #expect(latest == newestInHistory)
            #expect(try ForecastStore.lastIssued("m", in: session) == ["a": Self.t0 + Self.hour, "b": Self.t0])
            #expect(
                try Self.integer(
                    "SELECT count(*) FROM forecast.latest WHERE model = 'm' AND version = 2 AND NOT stale", session)
                    == 6)
            let lastForecast = try session.query("SELECT last_forecast FROM forecast.model_status WHERE model = 'm'")
            #expect(
                try lastForecast[0].decode(PostgresTimestamp.self, at: 0).microsecondsSince1970
                    == Self.t0 + Self.hour)
        }
    }

    @Test func writingASetAgainReplacesIt() async throws {
        try await Self.withModel("forecast_store_rewrite") { session, lease in
            let first = Self.set("a", issuedAt: Self.t0, steps: 3, base: 1)
            try ForecastStore.writeForecasts(
                first, version: 1, states: [], lease: lease, owner: Self.owner, in: session)
            try ForecastStore.writeForecasts(
                first, version: 1, states: [], lease: lease, owner: Self.owner, in: session)
            #expect(try Self.rows("predictions", session) == first)
            // A new version re-issues the newest set: its rows replace the old ones.
            let second = Self.set("a", issuedAt: Self.t0, steps: 2, base: 2)
            try ForecastStore.writeForecasts(
                second, version: 2, states: [], lease: lease, owner: Self.owner, in: session)
            #expect(try Self.rows("predictions", session) == second)
            #expect(try Self.rows("latest", session) == second)
            #expect(try Self.integer("SELECT min(version) FROM forecast.predictions", session) == 2)
        }
    }

    @Test func scoringFillsActualsOnlyForMaturedSteps() async throws {
        try await Self.withModel("forecast_store_scoring") { session, lease in
            // TinyModel's series s0, hourly; a set issued at step 50 forecasts steps 51...53.
            let issued = TinyModel.time(ofStep: 50)
            try ForecastStore.writeForecasts(
                Self.set("s0", issuedAt: issued), version: 2, states: [], lease: lease, owner: Self.owner, in: session)
            // Readings through step 52: steps 1 and 2 of the set have matured.
            let set = TinyModel.series(0..<53, covariates: [])
            let due = try ForecastStore.unscored("m", through: TinyModel.time(ofStep: 52), in: session)
            #expect(
                due == [
                    ActualsDue(series: "s0", recordedThrough: issued, lastTarget: TinyModel.time(ofStep: 53), steps: 3)
                ])
            let s0 = try #require(set.series["s0"])
            let (rows, through) = try #require(due.first?.actuals(in: s0))
            try ForecastStore.score("m", rows, through: ["s0": through], in: session)

            let scored = try session.query(
                "SELECT step, actual, seasonal_naive FROM forecast.predictions WHERE model = 'm' ORDER BY step")
            let value = { (step: Int) in Double(TinyModel.value(series: 0, step: step)) }
            #expect(try scored.map { try $0.decode(Double?.self, at: 1) } == [value(51), value(52), nil])
            #expect(try scored.map { try $0.decode(Double?.self, at: 2) } == [value(27), value(28), nil])
            #expect(try Self.integer("SELECT count(*) FROM forecast.sets WHERE NOT scored", session) == 1)
            #expect(try ForecastStore.unscored("m", through: TinyModel.time(ofStep: 52), in: session).isEmpty)
            #expect(
                try Self.integer("SELECT sum(forecasts)::int8 FROM forecast.accuracy WHERE model = 'm'", session) == 2)

            // The last step matures; then nothing is left to score for this set.
            let later = TinyModel.series(0..<60, covariates: [])
            let rest = try ForecastStore.unscored("m", through: TinyModel.time(ofStep: 59), in: session)
            let laterS0 = try #require(later.series["s0"])
            let (more, end) = try #require(rest.first?.actuals(in: laterS0))
            #expect(more.map(\.targetTime) == [TinyModel.time(ofStep: 53)])
            try ForecastStore.score("m", more, through: ["s0": end], in: session)
            #expect(try Self.integer("SELECT count(actual) FROM forecast.predictions", session) == 3)
            // All its targets have come: the set holds its actuals itself now.
            #expect(try Self.integer("SELECT count(*) FROM forecast.sets WHERE scored", session) == 1)
            let folded = try session.query(
                "SELECT actual, seasonal_naive FROM forecast.predictions WHERE model = 'm' ORDER BY step")
            #expect(try folded.map { try $0.decode(Double?.self, at: 0) } == [value(51), value(52), value(53)])
            #expect(try folded.map { try $0.decode(Double?.self, at: 1) } == [value(27), value(28), value(29)])
            #expect(try ForecastStore.unscored("m", through: TinyModel.time(ofStep: 59), in: session).isEmpty)

            // Recent accuracy (per-day sums, added once when the set was scored) agrees with
            // forecast.accuracy computed from the steps.
            let recent = try session.query(
                "SELECT forecasts, mae, mase, coverage FROM forecast.recent_accuracy WHERE model = 'm'")
            let full = try session.query(
                """
                SELECT count(*), avg(abs(value - actual)),
                       sum(abs(value - actual)) / nullif(sum(abs(seasonal_naive - actual)), 0),
                       avg(CASE WHEN actual BETWEEN lower AND upper THEN 1.0 ELSE 0.0 END)::float8
                FROM forecast.predictions WHERE model = 'm' AND actual IS NOT NULL
                """)
            #expect(try recent[0].decode(Int.self, at: 0) == 3 && full[0].decode(Int.self, at: 0) == 3)
            for column in 1...3 {
                let a = try recent[0].decode(Double?.self, at: column)
                let b = try full[0].decode(Double?.self, at: column)
                #expect(
                    (a == nil) == (b == nil), "column \(column): \(String(describing: a)) vs \(String(describing: b))")
                if let a, let b { #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "column \(column): \(a) vs \(b)") }
            }
            // Scoring again adds nothing (the set is scored once).
            try ForecastStore.score("m", [], through: ["s0": end], in: session)
            #expect(
                try Self.integer("SELECT sum(forecasts)::int8 FROM forecast.accuracy_days", session) == 3)
        }
    }

    @Test func droppingTheModelRemovesEverything() async throws {
        try await Self.withModel("forecast_store_drop") { session, lease in
            try ForecastStore.writeForecasts(
                Self.set("a", issuedAt: Self.t0), version: 2, states: [], lease: lease, owner: Self.owner, in: session)
            try ForecastStore.score(
                "m",
                [ActualRow(series: "a", targetTime: Self.t0 + Self.hour, actual: 1, season: 24, seasonalNaive: [2])],
                through: ["a": Self.t0 + Self.hour], in: session)
            try session.execute("SELECT forecast.drop_model('m')")
            #expect(
                try Self.integer(
                    """
                    SELECT (SELECT count(*) FROM forecast.sets) + (SELECT count(*) FROM forecast.latest_sets)
                           + (SELECT count(*) FROM forecast.actuals)
                    """, session) == 0)
        }
    }

    /// Migrating a database at version 10 with forecasts in the old forecast.predictions
    /// carries every row over: the views show exactly what the table held.
    @Test func migrationCarriesOldForecastsOver() async throws {
        let (conninfo, database) = try await TestDatabase.createDatabase("forecast_store_carry")
        let connection = try await PostgresConnection.connect(conninfo)
        var failure: (any Error)?
        do {
            try await connection.withSession { session in
                _ = try Migrator(migrations: Migration.all.filter { $0.version <= 10 }).migrate(session)
                try session.executeScript(
                    """
                    CREATE TABLE readings (ts timestamptz, sensor text, value float8);
                    SELECT forecast.create_model('m', 'readings', 'ts', 'value', 'sensor', '1 hour', 3, 4);
                    SELECT forecast.create_model('other', 'readings', 'ts', 'value', 'sensor', '1 hour', 2, 4);
                    INSERT INTO forecast.model_versions (model, version, kind, checkpoint, active)
                    VALUES ('m', 1, 'full', '\\x00', false), ('m', 2, 'full', '\\x00', true),
                           ('other', 1, 'full', '\\x00', true);
                    -- As the daemon wrote them: sets of three hourly steps, scored as they matured.
                    INSERT INTO forecast.predictions
                        (model, series, issued_at, target_time, step, value, lower, upper, quantiles, version, actual,
                         seasonal_naive)
                    SELECT 'm', s, t, t + k * interval '1 hour', k, k / 3.0 + extract(epoch FROM t) / 1e9, k - 1.5e-7,
                           k + 0.1 + 0.2, ARRAY[k - 1.5e-7, k, k + 0.1 + 0.2], 2,
                           CASE WHEN t + k * interval '1 hour' <= '2024-03-04 05:00+00'
                                THEN 100 + extract(hour FROM t + k * interval '1 hour') / 7 END,
                           CASE WHEN t + k * interval '1 hour' <= '2024-03-04 05:00+00'
                                THEN 200 + extract(hour FROM t + k * interval '1 hour') + k / 2.0 END
                    FROM unnest(ARRAY['a', 'b']) AS s,
                         generate_series(timestamptz '2024-03-03 20:00+00', '2024-03-04 06:00+00', interval '1 hour') AS t,
                         generate_series(1, 3) AS k;
                    -- Written by hand: a missing step, uneven targets, no quantiles, odd ones.
                    INSERT INTO forecast.predictions
                        (model, series, issued_at, target_time, step, value, lower, upper, quantiles, version)
                    VALUES ('other', 'x', '2017-10-24 00:00+00', '2017-10-24 01:00:00.25+00', 1, 1.5, 1, 2, NULL, 1),
                           ('other', 'x', '2017-10-24 00:00+00', '2017-10-24 02:00:00.5+00', 2, 2.5, NULL, NULL, NULL, 1),
                           ('other', 'x', '2017-10-24 00:00+00', '2017-10-24 05:00+00', 4, '-0', -0.0, 0.0,
                            ARRAY[0.0, NULL, 3], 1),
                           ('other', 'y', '2017-10-24 00:00+00', '2017-10-24 02:00+00', 2, 7, 6, 8, ARRAY[6, 7, 8], 1),
                           ('other', 'y', '2017-10-24 00:00+00', '2017-10-24 01:00+00', 1, 3, 2.5, 4, ARRAY[2, 3, 4], 1);
                    """)
                let before = try Self.snapshot(session)
                #expect(before.predictions.count == 71)
                let applied = try Migrator().migrate(session)
                #expect(applied.map(\.version).contains(11))
                let after = try Self.snapshot(session)
                #expect(after.predictions == before.predictions)
                #expect(after.latest == before.latest)
                #expect(try Self.integer("SELECT count(*) FROM forecast.sets", session) == 24)
                // Sets whose targets had all been scored hold their actuals.
                #expect(try Self.integer("SELECT count(*) FROM forecast.sets WHERE scored", session) == 14)
                // Their steps are summed into forecast.accuracy_days (migration 0013).
                #expect(
                    try Self.integer("SELECT sum(forecasts)::int8 FROM forecast.accuracy_days", session)
                        == Self.integer(
                            "SELECT count(*) FROM forecast.sets AS s, unnest(s.actual) AS a WHERE s.scored AND a IS NOT NULL",
                            session))
                #expect(try Self.integer("SELECT sum(forecasts)::int8 FROM forecast.accuracy_days", session) > 0)
                // The daemon goes on recording actuals after the newest scored target.
                let due = try ForecastStore.unscored("m", through: Self.t0 + 1000 * Self.hour, in: session)
                #expect(due.map(\.recordedThrough) == Array(repeating: 1_709_528_400_000_000, count: 2))
            }
        } catch {
            failure = error
        }
        await connection.close()
        try await TestDatabase.dropDatabase(database)
        if let failure { throw failure }
    }

    /// Every column of forecast.predictions and forecast.latest as text (shortest exact
    /// float8 output), in a stable order.
    static func snapshot(_ session: PostgresSession) throws -> (predictions: [String], latest: [String]) {
        let text = { (sql: String) in try session.query(sql).map { try $0.decode(String.self, at: 0) } }
        return (
            try text(
                """
                SELECT concat_ws('|', model, series, issued_at, target_time, step, float8send(value), lower, upper,
                                 quantiles, version, actual, seasonal_naive)
                FROM forecast.predictions ORDER BY model, series, issued_at, step
                """),
            try text(
                """
                SELECT concat_ws('|', model, series, issued_at, target_time, step, value, lower, upper, quantiles,
                                 version, stale)
                FROM forecast.latest ORDER BY model, series, step
                """)
        )
    }
}

/// The weeks the writer asks partitions for, as `forecast.ensure_partition` starts them.
struct ForecastStoreWeekTests {
    static let day: Int64 = 86_400_000_000

    @Test func weeksStartOnMondayMidnightUTC() {
        let monday: Int64 = 1_709_510_400_000_000  // 2024-03-04 00:00 UTC
        #expect(ForecastStore.weekStart(monday) == monday)
        #expect(ForecastStore.weekStart(monday - 1) == monday - 7 * Self.day)
        #expect(ForecastStore.weekStart(monday + 7 * Self.day - 1) == monday)
        #expect(ForecastStore.weekStart(0) == -3 * Self.day)  // 1969-12-29
    }
}
