import Foundation
import Ingest
import PostgresClient
import Testing

/// Every series has a fresh forecast or a stated reason; bounded gaps are bridged.
@Suite(.database, .serialized)
struct SeriesReasonTests {
    /// Hourly rows `hours` of `sensor` (hour 0 is ETTh1's first, 2016-07-01 00:00 UTC):
    /// NULL values for `missing`, a sine otherwise.
    static func insert(_ sensor: String, _ hours: Range<Int>, missing: Range<Int>) -> String {
        """
        INSERT INTO readings (sensor, ts, value)
        SELECT '\(sensor)', '2016-07-01 00:00+00'::timestamptz + h * interval '1 hour',
               CASE WHEN h >= \(missing.lowerBound) AND h < \(missing.upperBound) THEN NULL ELSE 10 + sin(h) END
        FROM generate_series(\(hours.lowerBound), \(hours.upperBound - 1)) AS h
        """
    }

    @Test func boundedGapsAreBridgedAndLongOnesGiveAReason() async throws {
        let harness = try await DaemonHarness.make("forecastd_series_reasons")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<600)
        try await harness.createModel("ett")
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'ett'")[0].decode(Int.self, at: 0)
                    == 24
            }, "\(daemon.log)")

        // OT misses six hours (more than the 3 training bridges, less than a quarter of the
        // 48-step lookback), then six arrive: it is forecast from hour 611, bridged.
        try await harness.sql { session in
            try session.execute(Self.insert("OT", 600..<612, missing: 600..<606))
            try session.execute(Self.insert("HUFL", 600..<612, missing: 0..<0))
        }
        let hour611 = try DaemonHarness.etth1[0].time.addingTimeInterval(611 * 3600)
        #expect(
            try await harness.waitUntil { session in
                try session.query(
                    "SELECT count(*) FROM forecast.latest WHERE model = 'ett' AND issued_at = $1 AND NOT stale",
                    [hour611])[0].decode(Int.self, at: 0) == 24
            }, "\(daemon.log)")
        let ot = try await harness.sql { session in
            try session.query(
                "SELECT bridged, reason FROM forecast.series_state WHERE model = 'ett' AND series = 'OT'")[0]
        }
        #expect(try ot.decode(Int.self, at: 0) == 6 && ot.decode(String?.self, at: 1) == nil)

        // HUFL misses 28 hours (beyond a quarter of the lookback), then five arrive: no fresh
        // forecast, and it says why; its old set is flagged stale.
        try await harness.sql { session in try session.execute(Self.insert("HUFL", 612..<645, missing: 612..<640)) }
        #expect(
            try await harness.waitUntil { session in
                try session.query(
                    """
                    SELECT (SELECT stale_series FROM forecast.model_status WHERE model = 'ett') = 1
                       AND (SELECT bool_and(stale) FROM forecast.latest WHERE model = 'ett' AND series = 'HUFL')
                       AND (SELECT reason LIKE '%the lookback needs 48%' FROM forecast.series_state
                            WHERE model = 'ett' AND series = 'HUFL')
                    """)[0].decode(Bool?.self, at: 0) == true
            }, "\(daemon.log)")
        #expect(await daemon.stop().status == 0)
    }
}

/// A table of several sensors read without its series column is reported, not averaged silently.
@Suite(.database, .serialized)
struct SeveralSensorsTests {
    @Test func sensorsReadAsOneSeriesAreReported() async throws {
        let harness = try await DaemonHarness.make("forecastd_several_sensors")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<300)
        try await harness.sql { session in
            try session.execute(
                """
                SELECT forecast.create_model('blend', 'readings', 'ts', 'value', NULL, '1 hour', 12, 48,
                                             '{"hidden": 8, "max_epochs": 1}')
                """)
        }
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query(
                    """
                    -- The first read's counts are in the event; series_state holds the latest
                    -- read's (a later poll re-reads the overlap: fewer rows, still shared).
                    SELECT (SELECT (quality->>'rows_sharing_timestamp')::int FROM forecast.series_state
                            WHERE model = 'blend') > 0
                       AND EXISTS (SELECT 1 FROM forecast.events WHERE model = 'blend' AND level = 'warning'
                                   AND message LIKE '300 of 600 rows share their timestamp%several sensors%series_column%')
                    """)[0].decode(Bool?.self, at: 0) == true
            }, "\(daemon.log)")
        #expect(await daemon.stop().status == 0)
    }
}
