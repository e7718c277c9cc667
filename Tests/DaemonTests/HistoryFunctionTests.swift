import Foundation
import Ingest
import PostgresClient
import Testing

/// `forecast.history(model, series, from, to)`: a source's readings on a model's grid in
/// SQL, bucketed and cleaned as the daemon's reader does it, whatever the names involved.
@Suite(.database) struct HistoryFunctionTests {
    /// A relation, columns and a series whose names would break naive SQL.
    static let table = "x.y\"; DROP TABLE readings; --"

    /// 2024-01-01 00:00 UTC, µs since the Unix epoch.
    static let start: Int64 = 1_704_067_200_000_000
    static let hour: Int64 = 3_600_000_000

    /// One bucket of `forecast.history`.
    struct Bucket: Equatable, CustomStringConvertible {
        var time: Int64
        var value: Double?
        var readings: Int
        var description: String {
            "(\((time - HistoryFunctionTests.start) / HistoryFunctionTests.hour)h, \(value.map { "\($0)" } ?? "NULL"), \(readings))"
        }
    }

    static func history(_ session: PostgresSession, _ sql: String, _ parameters: [(any PostgresEncodable)?] = [])
        throws -> [Bucket]
    {
        try session.query(sql, parameters).map { row in
            Bucket(
                time: try row.decode(PostgresTimestamp.self, at: 0).microsecondsSince1970,
                value: try row.decode(Double?.self, at: 1), readings: try row.decode(Int.self, at: 2))
        }
    }

    /// The grid of series `key` as the daemon's reader sees it: (bucket start, value or nil).
    static func read(_ session: PostgresSession, _ description: SourceDescription, key: String) throws -> [Bucket] {
        let source = try SourceCatalog.resolve(description, in: session)
        let read = try SeriesReader(source: source, options: ReadOptions(maxFuture: 2)).read(in: session)
        guard let chunk = read.chunks.first(where: { $0.key == key }) else { return [] }
        return chunk.target.enumerated().map { index, value in
            Bucket(
                time: description.frequency.start(of: chunk.startBucket + Int64(index)),
                value: value.isNaN ? nil : Double(value), readings: value.isNaN ? 0 : -1)
        }
    }

    @Test func hostileNamesAndUntrustedRowsAreHandledAsTheDaemonDoes() async throws {
        let harness = try await DaemonHarness.make("forecastd_history")
        defer { Task { try? await harness.drop() } }
        try await harness.sql { session in
            let table = try session.escapeIdentifier(Self.table)
            try session.execute(
                "CREATE TABLE \(table) (\"t i\"\"me\" timestamp, \"va'l\" numeric, \"se ries\" text)")
            // Series 7: bucket 0 holds 1 and 2 (NaN and NULL dropped), bucket 1 nothing, bucket 2
            // holds 5 (1e39 is beyond real: dropped), bucket 3 only Infinity; then times the
            // daemon drops: infinity, 1969, the year 3000 (in the future), NULL.
            try session.execute(
                """
                INSERT INTO \(table) VALUES
                 ('2024-01-01 00:10', 1, '7'), ('2024-01-01 00:50', 2, '7'), ('2024-01-01 00:20', 'NaN', '7'),
                 ('2024-01-01 00:30', NULL, '7'), ('2024-01-01 02:00', 5, '7'), ('2024-01-01 02:30', 1e39, '7'),
                 ('2024-01-01 03:00', 'Infinity', '7'), ('infinity', 3, '7'), ('1969-12-31 23:00', 4, '7'),
                 ('3000-01-01', 9, '7'), (NULL, 3, '7'), ('2024-01-01 01:00', 100, 'it''s "8"; --')
                """)
            try session.execute(
                """
                SELECT forecast.create_model('h', $1, 't i"me', 'va''l', 'se ries', '1 hour', 2, 4, '{"notify": false}')
                """, [Self.table])
            try session.execute(
                """
                SELECT forecast.create_model('daily', $1, 't i"me', 'va''l', 'se ries', '1 day', 2, 4, '{"notify": false}')
                """, [Self.table])
        }
        try await harness.sql { session in
            // A session time zone far from UTC changes nothing: buckets are UTC-aligned.
            try session.execute("SET TIME ZONE 'Asia/Kolkata'")
            let expected = [
                Bucket(time: Self.start, value: 1.5, readings: 2),
                Bucket(time: Self.start + Self.hour, value: nil, readings: 0),
                Bucket(time: Self.start + 2 * Self.hour, value: 5, readings: 1),
            ]
            let all = try Self.history(session, "SELECT * FROM forecast.history('h', '7')")
            #expect(all == expected, "\(all)")
            // The daemon's reader, on the same source: the same grid.
            let description = SourceDescription(
                relation: Self.table, timeColumn: "t i\"me", valueColumn: "va'l", seriesColumn: "se ries",
                frequency: .hours(1))
            let read = try Self.read(session, description, key: "7")
            #expect(read.map(\.time) == all.map(\.time) && read.map(\.value) == all.map(\.value), "\(read)")
            // Buckets whose start lies in [from, to].
            let span = try Self.history(
                session, "SELECT * FROM forecast.history('h', '7', $1, $2)",
                [
                    PostgresTimestamp(microsecondsSince1970: Self.start + 1),
                    PostgresTimestamp(microsecondsSince1970: Self.start + 2 * Self.hour),
                ])
            #expect(span == [expected[2]], "\(span)")
            let hostileSeries = try Self.history(session, "SELECT * FROM forecast.history('h', $1)", ["it's \"8\"; --"])
            #expect(hostileSeries == [Bucket(time: Self.start + Self.hour, value: 100, readings: 1)])
            let daily = try Self.history(session, "SELECT * FROM forecast.history('daily', '7')")
            #expect(daily == [Bucket(time: Self.start, value: 8.0 / 3, readings: 3)], "\(daily)")
            #expect(try Self.history(session, "SELECT * FROM forecast.history('h', 'none')").isEmpty)
            // Nothing was injected: the table the names tried to drop is still there.
            #expect(try session.query("SELECT to_regclass('readings') IS NOT NULL")[0].decode(Bool.self, at: 0))
        }
        // Wrong calls are clear errors.
        for (sql, state) in [
            ("SELECT * FROM forecast.history('h')", "22023"),
            ("SELECT * FROM forecast.history('nothing', '7')", "42704"),
        ] {
            await #expect {
                try await harness.sql { session in try session.execute(sql) }
            } throws: { error in
                (error as? PostgresError)?.sqlState == state
            }
        }
    }

    @Test func epochSecondsWithoutASeriesColumn() async throws {
        let harness = try await DaemonHarness.make("forecastd_history_epoch")
        defer { Task { try? await harness.drop() } }
        try await harness.sql { session in
            try session.execute("CREATE TABLE epochs (s bigint, v float8)")
            try session.execute(
                """
                INSERT INTO epochs VALUES (1704067200, 1), (1704069000, 'NaN'), (1704070800, 3), (1704071000, '-Infinity'),
                                          (-100, 5), (1000000000000, 7), (NULL, 8)
                """)
            try session.execute(
                "SELECT forecast.create_model('e', 'epochs', 's', 'v', NULL, '1 hour', 2, 4, '{\"notify\": false}')")
            let expected = [
                Bucket(time: Self.start, value: 1, readings: 1),
                Bucket(time: Self.start + Self.hour, value: 3, readings: 1),
            ]
            #expect(try Self.history(session, "SELECT * FROM forecast.history('e')") == expected)
            #expect(try Self.history(session, "SELECT * FROM forecast.history('e', '')") == expected)
            #expect(try Self.history(session, "SELECT * FROM forecast.history('e', 'other')").isEmpty)
            let read = try Self.read(
                session, SourceDescription(relation: "epochs", timeColumn: "s", valueColumn: "v", frequency: .hours(1)),
                key: "")
            #expect(read.map(\.value) == expected.map(\.value))
        }
    }
}
