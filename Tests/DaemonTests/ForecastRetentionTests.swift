import Foundation
import Ingest
import PostgresClient
import Testing

@testable import DaemonCore

/// `keep_forecasts_days`: old forecasts go, counted back from each series' newest forecast.
@Suite(.database) struct ForecastRetentionTests {
    @Test func pruneKeepsEachSeriesRecentForecastsByDataTime() async throws {
        let (conninfo, database) = try await TestDatabase.createDatabase("retention")
        let connection = try await PostgresConnection.connect(conninfo)
        defer { Task { try? await TestDatabase.dropDatabase(database) } }
        let remaining: [String] = try await connection.withSession { session in
            _ = try Migrator().migrate(session)
            try session.executeScript(
                """
                CREATE TABLE readings (ts timestamptz, sensor text, value float8);
                SELECT forecast.create_model('m', 'readings', 'ts', 'value', 'sensor', '1 hour', 2, 4);
                SELECT forecast.create_model('other', 'readings', 'ts', 'value', 'sensor', '1 hour', 2, 4);
                INSERT INTO forecast.model_versions (model, version, kind, checkpoint, active)
                VALUES ('m', 1, 'full', '\\x00', true), ('other', 1, 'full', '\\x00', true);
                -- Series a: forecasts issued daily in 2017 (history replayed long after);
                -- series b: its newest forecast is ten days older than a's.
                INSERT INTO forecast.predictions (model, series, issued_at, target_time, step, value, version)
                SELECT model, series, issued, issued + interval '1 hour', 1, 0, 1
                FROM (VALUES ('m'), ('other')) AS models (model),
                     (VALUES ('a', 0), ('b', 10)) AS series (series, lag),
                     generate_series(timestamptz '2017-01-01', timestamptz '2017-01-31', interval '1 day') AS day,
                     LATERAL (SELECT day - lag * interval '1 day' AS issued) AS t;
                """)
            // In batches of 10, as the worker does (46 rows: 10, 10, 10, 10, 6).
            var batches: [Int] = []
            while batches.last.map({ $0 == 10 }) ?? true {
                batches.append(try ModelStore.pruneForecasts("m", keepSeconds: 7 * 86_400, limit: 10, in: session))
            }
            #expect(batches == [10, 10, 10, 10, 6])
            #expect(try ModelStore.pruneForecasts("m", keepSeconds: 7 * 86_400, in: session) == 0)
            return try session.query(
                """
                SELECT model || ':' || series || ':' || count(*) || ':' || to_char(min(issued_at) AT TIME ZONE 'UTC', 'MM-DD')
                FROM forecast.predictions GROUP BY model, series ORDER BY 1
                """
            ).map { try $0.decode(String.self, at: 0) }
        }
        await connection.close()
        // Each series of m keeps its newest forecast and the seven days before it; the other
        // model is untouched.
        #expect(remaining == ["m:a:8:01-24", "m:b:8:01-14", "other:a:31:01-01", "other:b:31:12-22"])
    }
}
