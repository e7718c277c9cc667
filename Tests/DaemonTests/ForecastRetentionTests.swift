import Foundation
import Ingest
import PostgresClient
import Testing

@testable import DaemonCore

/// `keep_forecasts_days`: whole weekly partitions go once they ended `keep` before the newest
/// forecast of every model with rows in them (data time); each series' newest set stays in
/// forecast.latest.
@Suite(.database) struct ForecastRetentionTests {
    @Test func pruneDropsWholeOldPartitionsByDataTimeAndKeepsNewestSets() async throws {
        let (conninfo, database) = try await TestDatabase.createDatabase("retention")
        let connection = try await PostgresConnection.connect(conninfo)
        defer { Task { try? await TestDatabase.dropDatabase(database) } }
        let (dropped, remaining, droppedLater, remainingLater) = try await connection.withSession { session in
            _ = try Migrator().migrate(session)
            try session.executeScript(
                """
                CREATE TABLE readings (ts timestamptz, sensor text, value float8);
                SELECT forecast.create_model('m', 'readings', 'ts', 'value', 'sensor', '1 hour', 2, 4);
                SELECT forecast.create_model('other', 'readings', 'ts', 'value', 'sensor', '1 hour', 2, 4);
                INSERT INTO forecast.model_versions (model, version, kind, checkpoint, active)
                VALUES ('m', 1, 'full', '\\x00', true), ('other', 1, 'full', '\\x00', true);
                -- Forecasts issued daily in 2017 (a history replayed long after): m through
                -- January 31, other through January 10; series b ten days behind a. Each is
                -- scored (its actual is in the week of its forecast).
                INSERT INTO forecast.predictions (model, series, issued_at, target_time, step, value, version, actual)
                SELECT model, series, issued, issued + interval '1 hour', 1, 0, 1, 0
                FROM (VALUES ('m', timestamptz '2017-01-31'), ('other', '2017-01-10')) AS models (model, last),
                     (VALUES ('a', 0), ('b', 10)) AS series (series, lag),
                     generate_series(timestamptz '2017-01-01', last, interval '1 day') AS day,
                     LATERAL (SELECT day - lag * interval '1 day' AS issued) AS t;
                SELECT forecast.ensure_partitions(now() + interval '14 days');
                """)
            let partitions = { () throws -> Set<String> in
                Set(
                    try session.query("SELECT partition::text FROM forecast.partitions")
                        .map { try $0.decode(String.self, at: 0) })
            }
            let before = try partitions()
            // A week (Monday to Monday, UTC) goes when it ended 7 days before the newest
            // forecast of each model with forecasts in it: m's newest is Jan 31 (Jan 24),
            // other's Jan 10 (Jan 3). Weeks of Dec 19 and 26 and of Jan 16 go; those of Jan 2
            // and 9 hold other's forecasts; those of Jan 23 and 30, and the weeks ahead, stay.
            #expect(try ForecastStore.pruneForecasts(keepSeconds: 7 * 86_400, in: session) == 6)
            let dropped = before.subtracting(try partitions())
            #expect(try ForecastStore.pruneForecasts(keepSeconds: 7 * 86_400, in: session) == 0)
            let remaining = try Self.summary(session)
            // A model that wrote nothing for `keep` (by the clock) holds nothing back.
            try session.execute(
                """
                UPDATE forecast.latest_sets SET written_at = now() - interval '8 days'
                WHERE model_id = (SELECT id FROM forecast.models WHERE name = 'other')
                """)
            let droppedLater = try ForecastStore.pruneForecasts(keepSeconds: 7 * 86_400, in: session)
            return (dropped, remaining, droppedLater, try Self.summary(session))
        }
        await connection.close()
        #expect(
            dropped
                == Set(
                    ["20161219", "20161226", "20170116"].flatMap { ["forecast.sets_\($0)", "forecast.actuals_\($0)"] }))
        // model:series:sets in forecast.predictions:first issued:newest set in forecast.latest
        // (m:b's of Jan 21 and other:b's of Dec 31 were in dropped weeks: only latest has them).
        #expect(
            remaining == ["m:a:23:01-02:01-31", "m:b:14:01-02:01-21", "other:a:9:01-02:01-10", "other:b:0:-:12-31"])
        #expect(droppedLater == 4)
        #expect(remainingLater == ["m:a:9:01-23:01-31", "m:b:0:-:01-21", "other:a:0:-:01-10", "other:b:0:-:12-31"])
    }

    /// Per model and series of forecast.latest: sets in forecast.predictions, the first one's
    /// issue time, and the newest set's in forecast.latest.
    static func summary(_ session: PostgresSession) throws -> [String] {
        try session.query(
            """
            SELECT l.model || ':' || l.series || ':' || count(p.issued_at) || ':'
                   || coalesce(to_char(min(p.issued_at) AT TIME ZONE 'UTC', 'MM-DD'), '-') || ':'
                   || to_char(l.issued_at AT TIME ZONE 'UTC', 'MM-DD')
            FROM (SELECT DISTINCT model, series, issued_at FROM forecast.latest) AS l
            LEFT JOIN forecast.predictions AS p ON p.model = l.model AND p.series = l.series
            GROUP BY l.model, l.series, l.issued_at ORDER BY 1
            """
        ).map { try $0.decode(String.self, at: 0) }
    }
}
