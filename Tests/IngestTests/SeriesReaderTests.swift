import Foundation
import PostgresClient
import Testing

@testable import Ingest

/// Reads real tables onto the grid.
@Suite(.database)
struct SeriesReaderTests {
    /// Resolves and reads `source` once (or incrementally after `watermarks`).
    static func read(
        _ source: SourceDescription, options: ReadOptions = ReadOptions(), watermarks: [String: Int64] = [:],
        in session: PostgresSession
    ) throws -> SeriesRead {
        let resolved = try SourceCatalog.resolve(source, in: session)
        return try SeriesReader(source: resolved, options: options).read(in: session, after: watermarks)
    }

    static let hour: Int64 = 3_600_000_000
    /// 2024-01-01 00:00 UTC in µs since the Unix epoch.
    static let t0: Int64 = 1_704_067_200_000_000

    @Test func etth1EveryColumnIsOneCleanSeries() async throws {
        let rows = try ETTh1.load()
        #expect(rows.count == 17_420)
        let table = TestDatabase.uniqueName("etth1")
        let results = try await TestDatabase.session { session in
            try ETTh1.createTable(table, in: session, rows: rows)
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            return try ETTh1.columns.map { column in
                var set = SeriesSet(frequency: .hours(1))
                let reports = set.merge(
                    try Self.read(
                        SourceDescription(
                            relation: table, timeColumn: "date", valueColumn: column, frequency: .hours(1)),
                        in: session))
                return (set, reports)
            }
        }
        for (index, (set, reports)) in results.enumerated() {
            let series = try #require(set.series[""])
            #expect(series.target.count == 17_420)
            #expect(
                series.startBucket * Self.hour == PostgresTime.microseconds(from: rows[0].time) + 946_684_800_000_000)
            let mismatches = zip(series.target, rows).filter { $0.0 != Float($0.1.values[index]) }.count
            #expect(mismatches == 0)
            let report = try #require(reports[""])
            #expect(report.rowsRead == 17_420 && report.rowsDropped == 0)
            #expect(report.bucketsObserved == 17_420 && report.segments == 1 && report.bucketsMissing == 0)
        }
    }

    @Test func longTableWithManySensorsGivesOneSeriesEach() async throws {
        let rows = try ETTh1.load()
        let table = TestDatabase.uniqueName("etth1_long")
        let set = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (sensor text, ts timestamptz, value float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            try session.copyIn("COPY \(table) FROM STDIN (FORMAT binary)") { writer in
                for row in rows {
                    for (column, value) in zip(ETTh1.columns, row.values) {
                        try writer.appendRow([column, row.time, value])
                    }
                }
            }
            var set = SeriesSet(frequency: .hours(1))
            set.merge(
                try Self.read(
                    SourceDescription(
                        relation: table, timeColumn: "ts", valueColumn: "value", seriesColumn: "sensor",
                        frequency: .hours(1)), in: session))
            return set
        }
        #expect(set.keys == ETTh1.columns.sorted())
        #expect(set.series["OT"]?.target.last == Float(rows.last!.values[6]))
        #expect(set.series.values.allSatisfy { $0.target.count == 17_420 })
    }

    @Test func everyTimeColumnTypeGivesTheSameGrid() async throws {
        let table = TestDatabase.uniqueName("time_types")
        let (scanned, indexed) = try await TestDatabase.session { session in
            try session.execute(
                """
                CREATE TABLE \(table) AS
                SELECT g AS i, ts AS t_tz, (ts AT TIME ZONE 'UTC') AS t_plain, (ts AT TIME ZONE 'UTC')::date AS t_date,
                       extract(epoch FROM ts)::int8 AS t_int, extract(epoch FROM ts)::float8 AS t_float,
                       extract(epoch FROM ts)::numeric AS t_numeric, g::float8 * 1.5 AS value
                FROM generate_series(0, 99) AS g,
                     LATERAL (SELECT '2024-01-01 00:00+00'::timestamptz + g * interval '1 day' AS ts) AS x
                """)
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            // Another session time zone must not change anything.
            try session.execute("SET TIME ZONE 'Asia/Kathmandu'")
            let columns = ["t_tz", "t_plain", "t_date", "t_int", "t_float", "t_numeric"]
            func read(_ options: ReadOptions) throws -> [(String, SeriesRead)] {
                try columns.map { column in
                    let source = SourceDescription(
                        relation: table, timeColumn: column, valueColumn: "value", frequency: .days(1))
                    return (column, try Self.read(source, options: options, in: session))
                }
            }
            let scanned = try read(ReadOptions())
            // With an index, the first read bounds itself by max() below the future bound and
            // the server compares the bound in the column's own type.
            for column in columns { try session.execute("CREATE INDEX ON \(table) (\(column))") }
            return (scanned, try read(ReadOptions(maxHistory: 60)))
        }
        let expected = (0..<100).map { Float($0) * 1.5 }
        for (column, read) in scanned {
            #expect(read.chunks[0].startBucket == Self.t0 / (24 * Self.hour), "\(column)")
            #expect(read.chunks[0].target == expected, "\(column)")
        }
        for (column, read) in indexed {
            #expect(read.rows == 60, "\(column)")
            #expect(read.chunks[0].startBucket == Self.t0 / (24 * Self.hour) + 40, "\(column)")
            #expect(read.chunks[0].target == Array(expected[40...]), "\(column)")
        }
    }

    @Test(arguments: [(Aggregation.mean, [Float](arrayLiteral: 1.5, 5.5)), (.last, [3, 7]), (.sum, [6, 22])])
    func subFrequencyReadingsAreBucketed(aggregation: Aggregation, expected: [Float]) async throws {
        let table = TestDatabase.uniqueName("sub_frequency")
        let target = try await TestDatabase.session { session in
            // Readings every 15 minutes, inserted out of order: values 0...7 over two hours.
            try session.execute("CREATE TABLE \(table) (ts timestamptz, v float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            try session.execute(
                """
                INSERT INTO \(table)
                SELECT '2024-01-01 00:00+00'::timestamptz + g * interval '15 minutes', g
                FROM generate_series(0, 7) AS g ORDER BY random()
                """)
            return try Self.read(
                SourceDescription(relation: table, timeColumn: "ts", valueColumn: "v", frequency: .hours(1)),
                options: ReadOptions(aggregation: aggregation), in: session
            ).chunks[0].target
        }
        #expect(target == expected)
    }

    @Test func badReadingsAreDroppedCountedAndGapsHandled() async throws {
        let table = TestDatabase.uniqueName("bad_data")
        let (report, filled) = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (ts timestamptz, v float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            // Hours 0..<40 with value = hour, except: 10-11 missing (short gap), 20-29 missing
            // (long gap); bad rows at hours 5 (NaN), 6 (Infinity), 7 (-Infinity), 8 (NULL value),
            // a NULL time, and a duplicate of hour 3 with value 5 (mean 4).
            try session.executeScript(
                """
                INSERT INTO \(table)
                SELECT '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', g
                FROM generate_series(0, 39) AS g WHERE g NOT IN (10, 11) AND g NOT BETWEEN 20 AND 29;
                INSERT INTO \(table) VALUES
                  ('2024-01-01 05:00+00', 'NaN'), ('2024-01-01 06:00+00', 'Infinity'),
                  ('2024-01-01 07:00+00', '-Infinity'), ('2024-01-01 08:00+00', NULL),
                  (NULL, 1), ('2024-01-01 03:00+00', 5)
                """)
            let read = try Self.read(
                SourceDescription(relation: table, timeColumn: "ts", valueColumn: "v", frequency: .hours(1)),
                in: session)
            var set = SeriesSet(frequency: .hours(1))
            let reports = set.merge(read)
            return (reports[""]!, set.series[""]!.filled(maxGap: 3))
        }
        #expect(report.rowsRead == 28 + 6)
        #expect(report.droppedNaN == 1 && report.droppedInfinite == 2)
        #expect(report.droppedNullValue == 1 && report.droppedNullTime == 1)
        #expect(report.bucketsMerged == 1)
        #expect(report.bucketsObserved == 28)
        #expect(report.bucketsInterpolated == 2 && report.bucketsMissing == 10)
        #expect(report.segments == 2)
        #expect(filled.target[3] == 4)  // mean of the duplicate readings 3 and 5
        #expect(filled.target[10] == 10 && filled.target[11] == 11)  // interpolated
        #expect(filled.segments == [0..<20, 30..<40])
    }

    @Test func lateRowsWithinTheOverlapChangeTheGrid() async throws {
        let table = TestDatabase.uniqueName("late_rows")
        let (first, second, series) = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (ts timestamptz, v float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            try session.execute(
                """
                INSERT INTO \(table) SELECT '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', g
                FROM generate_series(0, 99) AS g WHERE g <> 97
                """)
            let source = SourceDescription(relation: table, timeColumn: "ts", valueColumn: "v", frequency: .hours(1))
            let options = ReadOptions(overlap: 5)
            var set = SeriesSet(frequency: .hours(1))
            let first = try Self.read(source, options: options, in: session)
            set.merge(first)
            // A late reading for hour 97, a correction of hour 98, two new hours, and a late
            // reading far older than the overlap (not re-read).
            try session.execute(
                """
                INSERT INTO \(table) VALUES ('2024-01-05 01:00+00', 970), ('2024-01-05 04:00+00', 100),
                  ('2024-01-05 05:00+00', 101), ('2024-01-01 00:30+00', 1000)
                """)
            try session.execute("UPDATE \(table) SET v = 980 WHERE ts = '2024-01-05 02:00+00'")
            let second = try Self.read(source, options: options, watermarks: set.watermarks, in: session)
            set.merge(second)
            return (first, second, set.series[""]!)
        }
        #expect(first.rows == 99)
        // The watermark's hour (99) and the 5 before it are re-read (97 now present), plus 100, 101.
        #expect(second.rows == 6 + 2)
        #expect(series.target.count == 102)
        #expect(Array(series.target[95...]) == [95, 96, 970, 980, 99, 100, 101])
        #expect(series.target[0] == 0)
        #expect(series.watermark == Self.t0 + 101 * Self.hour)
    }

    @Test func watermarkStoredByTheCallerSurvivesARestart() async throws {
        let table = TestDatabase.uniqueName("restart")
        let (rows, newest) = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (sensor int4, ts timestamptz, v float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            try session.execute(
                """
                INSERT INTO \(table) SELECT s, '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', g
                FROM generate_series(0, 999) AS g, generate_series(1, 3) AS s
                """)
            let source = SourceDescription(
                relation: table, timeColumn: "ts", valueColumn: "v", seriesColumn: "sensor", frequency: .hours(1))
            var before = SeriesSet(frequency: .hours(1))
            before.merge(try Self.read(source, options: ReadOptions(overlap: 2), in: session))
            // What a caller would store (e.g. forecast.series_state), then a new process.
            let stored = try JSONEncoder().encode(before.watermarks)
            let restored = try JSONDecoder().decode([String: Int64].self, from: stored)
            try session.execute(
                "INSERT INTO \(table) SELECT s, '2024-01-01 00:00+00'::timestamptz + 1000 * interval '1 hour', 1000 FROM generate_series(1, 3) AS s"
            )
            let read = try Self.read(source, options: ReadOptions(overlap: 2), watermarks: restored, in: session)
            return (read.rows, read.chunks.map(\.watermark))
        }
        // Per sensor: the watermark's hour, the two before it, and the new hour.
        #expect(rows == 3 * 4)
        #expect(newest == Array(repeating: Self.t0 + 1000 * Self.hour, count: 3))
    }

    @Test func firstReadIsBoundedByMaxHistory() async throws {
        let table = TestDatabase.uniqueName("history")
        let (scanned, indexed) = try await TestDatabase.session { session in
            try session.execute(
                """
                CREATE TABLE \(table) AS SELECT '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour' AS ts, g::float8 AS v
                FROM generate_series(0, 4999) AS g ORDER BY random()
                """)
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            let source = SourceDescription(relation: table, timeColumn: "ts", valueColumn: "v", frequency: .hours(1))
            // Without an index every row streams past, but only the window is kept.
            let scanned = try Self.read(source, options: ReadOptions(maxHistory: 300), in: session)
            // With one, only the window travels.
            try session.execute("CREATE INDEX ON \(table) (ts)")
            let indexed = try Self.read(source, options: ReadOptions(maxHistory: 300), in: session)
            return (scanned, indexed)
        }
        #expect(scanned.rows == 5000)
        #expect(scanned.chunks[0].quality.droppedOutsideWindow == 4700)
        #expect(indexed.rows == 300)
        for read in [scanned, indexed] {
            #expect(read.chunks[0].target == (4700..<5000).map { Float($0) })
        }
    }

    @Test func hostileIdentifiersViewsAndKeyTypes() async throws {
        let table = "x\"; DROP TABLE t; --"
        let (fromTable, fromView, fromUUID) = try await TestDatabase.session { session in
            // A schema of its own, so the table `t` of other tests running in parallel is not ours.
            let schema = TestDatabase.uniqueName("hostile")
            try session.execute("CREATE SCHEMA \(schema)")
            try session.execute("SET search_path TO \(schema)")
            let name = try session.escapeIdentifier(table)
            try session.execute("CREATE TABLE t (id int)")
            let sensor = try session.escapeIdentifier("sensor id; --")
            let time = try session.escapeIdentifier("Time \"stamp\"")
            let value = try session.escapeIdentifier("v'alue")
            try session.execute("CREATE TABLE \(name) (\(sensor) int8, \(time) timestamptz, \(value) numeric, u uuid)")
            try session.execute(
                """
                INSERT INTO \(name) SELECT s, '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', g * s,
                  ('00000000-0000-0000-0000-00000000000' || s)::uuid
                FROM generate_series(0, 9) AS g, generate_series(1, 2) AS s
                """)
            let view = "readings view"
            try session.execute(
                "CREATE VIEW \(try session.escapeIdentifier(view)) AS SELECT * FROM \(name) WHERE \(sensor) = 2")
            defer { _ = try? session.execute("DROP SCHEMA \(schema) CASCADE") }
            let base = SourceDescription(
                relation: table, timeColumn: "Time \"stamp\"", valueColumn: "v'alue", seriesColumn: "sensor id; --",
                frequency: .hours(1))
            var viewSource = base
            viewSource.relation = "\(schema).\(view)"
            var uuidSource = base
            uuidSource.seriesColumn = "u"
            let survived = try session.query("SELECT to_regclass('t') IS NOT NULL")[0].decode(Bool.self, at: 0)
            #expect(survived)
            return (
                try Self.read(base, in: session), try Self.read(viewSource, in: session),
                try Self.read(uuidSource, in: session)
            )
        }
        #expect(fromTable.chunks.map(\.key).sorted() == ["1", "2"])
        #expect(fromTable.chunks.first { $0.key == "2" }?.target == (0..<10).map { Float($0 * 2) })
        #expect(fromView.chunks.map(\.key) == ["2"])
        #expect(
            fromUUID.chunks.map(\.key).sorted() == [
                "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002",
            ])
    }

    @Test func validationNamesWhatIsWrong() async throws {
        let table = TestDatabase.uniqueName("validation")
        let errors = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (ts timestamptz, label text, v float8, flag bool)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            let cases = [
                SourceDescription(relation: "no_such_table", timeColumn: "ts", valueColumn: "v", frequency: .hours(1)),
                SourceDescription(relation: table, timeColumn: "ts", valueColumn: "missing", frequency: .hours(1)),
                SourceDescription(relation: table, timeColumn: "ts", valueColumn: "label", frequency: .hours(1)),
                SourceDescription(relation: table, timeColumn: "flag", valueColumn: "v", frequency: .hours(1)),
                SourceDescription(
                    relation: table, timeColumn: "ts", valueColumn: "v", covariateColumns: ["label"],
                    frequency: .hours(1)),
                SourceDescription(
                    relation: "public.\(table)", timeColumn: "ts", valueColumn: "v", frequency: .hours(1)),
            ]
            return cases.map { source in
                do {
                    _ = try SourceCatalog.resolve(source, in: session)
                    return "ok"
                } catch {
                    return "\(error)"
                }
            }
        }
        #expect(errors[0] == "relation \"no_such_table\" does not exist (or is not visible on the search path)")
        #expect(errors[1] == "column \"missing\" does not exist in relation \"\(table)\"")
        #expect(errors[2] == "column \"label\" has type text, expected a number")
        #expect(errors[3].hasPrefix("column \"flag\" has type boolean, expected timestamptz"))
        #expect(errors[4] == "column \"label\" has type text, expected a number")
        #expect(errors[5] == "ok")
    }

    @Test func frequencyComesFromTheServersIntervalParser() async throws {
        let (hour, fiveMinutes, month) = try await TestDatabase.session { session in
            (
                try Frequency.resolve("1 hour", in: session), try Frequency.resolve("5 minutes", in: session),
                Result { try Frequency.resolve("1 month", in: session) }
            )
        }
        #expect(hour == .hours(1))
        #expect(fiveMinutes == .minutes(5))
        #expect(throws: SourceError.self) { try month.get() }
    }
}

/// One row no reader may trust, in a table of 48 good readings (`v` = step, `c` = 10 × step,
/// one step of `frequency` apart from 2024-01-01 00:00 UTC, or one hour apart when the
/// frequency is finer). The bad row is inserted first, so it streams before the good ones.
struct UntrustedRow: Sendable, CustomTestStringConvertible {
    let name: String
    /// The SQL type of the time column.
    let timeType: String
    let frequency: Frequency
    /// `(time, v, c)` as SQL.
    let row: String
    /// The counter that must count it (once).
    let counter: Counter
    /// Whether the row is dropped as a whole (a bad covariate keeps its row).
    var dropsRow = true
    var indexed = false

    var testDescription: String { "\(name), \(timeType), \(frequency)\(indexed ? ", indexed" : "")" }

    /// The `QualityReport` counters these rows exercise.
    enum Counter: Sendable {
        case nullTime, nonFiniteTime, beforeEpoch, futureTime, valueOverflow, covariateValues

        func count(in report: QualityReport) -> Int {
            switch self {
            case .nullTime: report.droppedNullTime
            case .nonFiniteTime: report.droppedNonFiniteTime
            case .beforeEpoch: report.droppedBeforeEpoch
            case .futureTime: report.droppedFutureTime
            case .valueOverflow: report.droppedValueOverflow
            case .covariateValues: report.droppedCovariateValues
            }
        }
    }

    /// Microseconds between good readings.
    var spacing: Int64 { timeType == "date" ? 86_400_000_000 : 3_600_000_000 }

    /// The good reading `step` as SQL of type `timeType`.
    static func goodTime(_ step: String, type: String) -> String {
        switch type {
        case "timestamptz": "('2024-01-01 00:00+00'::timestamptz + \(step) * interval '1 hour')"
        case "timestamp": "('2024-01-01 00:00'::timestamp + \(step) * interval '1 hour')"
        case "date": "('2024-01-01'::date + \(step))"
        default: "(1704067200 + \(step) * 3600)::float8"
        }
    }

    /// Every kind of untrusted row for a time column of SQL type `type`.
    static func all(type: String) -> [UntrustedRow] {
        let frequency: Frequency = type == "date" ? .days(1) : .hours(1)
        let epoch = type == "float8"
        // Epoch-seconds columns turn non-finite and absurd numbers into NULL times.
        let nonFinite: Counter = epoch ? .nullTime : .nonFiniteTime
        let far: Counter = epoch ? .nullTime : .futureTime
        let (infinity, minusInfinity) = epoch ? ("'Infinity'", "'-Infinity'") : ("'infinity'", "'-infinity'")
        let (year1960, year9999): (String, String) =
            switch type {
            case "timestamptz": ("'1960-06-01 00:00+00'", "'9999-12-31 00:00+00'")
            case "timestamp": ("'1960-06-01 00:00'", "'9999-12-31 00:00'")
            case "date": ("'1960-06-01'", "'9999-12-31'")
            default: ("-302400000", "253402214400")
            }
        var rows = [
            UntrustedRow(
                name: "infinity", timeType: type, frequency: frequency, row: "(\(infinity), 1, 1)", counter: nonFinite),
            UntrustedRow(
                name: "infinity", timeType: type, frequency: frequency, row: "(\(infinity), 1, 1)", counter: nonFinite,
                indexed: true),
            UntrustedRow(
                name: "-infinity", timeType: type, frequency: frequency, row: "(\(minusInfinity), 1, 1)",
                counter: nonFinite),
            UntrustedRow(
                name: "1960", timeType: type, frequency: frequency, row: "(\(year1960), 1, 1)",
                counter: .beforeEpoch),
            UntrustedRow(
                name: "year 9999", timeType: type, frequency: frequency, row: "(\(year9999), 1, 1)", counter: far),
            UntrustedRow(
                name: "year 9999", timeType: type, frequency: frequency, row: "(\(year9999), 1, 1)", counter: far,
                indexed: true),
            UntrustedRow(
                name: "value 1e308", timeType: type, frequency: frequency,
                row: "(\(goodTime("5", type: type)), 1e308, 50)", counter: .valueOverflow),
            UntrustedRow(
                name: "covariate -1e308", timeType: type, frequency: frequency,
                row: "(\(goodTime("6", type: type)), 6, -1e308)", counter: .covariateValues,
                dropsRow: false),
        ]
        switch type {
        case "timestamptz":
            for indexed in [false, true] {
                rows.append(
                    UntrustedRow(
                        name: "year 9999", timeType: type, frequency: .minutes(1), row: "(\(year9999), 1, 1)",
                        counter: far, indexed: indexed))
            }
        case "date":
            // Later than any timestamp: the cast to timestamptz must not fail the read.
            rows.append(
                UntrustedRow(
                    name: "year 5000000", timeType: type, frequency: frequency, row: "('5000000-01-01', 1, 1)",
                    counter: far, indexed: true))
        case "float8":
            rows.append(
                UntrustedRow(
                    name: "1e300 seconds", timeType: type, frequency: frequency, row: "(1e300, 1, 1)",
                    counter: nonFinite))
        default:
            break
        }
        return rows
    }

    static let cases = ["timestamptz", "timestamp", "date", "float8"].flatMap { all(type: $0) }
}

extension SeriesReaderTests {
    /// No row PostgreSQL can store fails the read, stretches the grid or hides the real
    /// data: the good rows all arrive and the bad one is counted by its own counter.
    @Test(arguments: UntrustedRow.cases)
    func untrustedRowsAreDroppedAndCounted(_ bad: UntrustedRow) async throws {
        let table = TestDatabase.uniqueName("untrusted")
        let read = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (ts \(bad.timeType), v float8, c float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            try session.execute("INSERT INTO \(table) VALUES \(bad.row)")
            try session.execute(
                """
                INSERT INTO \(table) SELECT \(UntrustedRow.goodTime("g", type: bad.timeType)), g, g * 10
                FROM generate_series(0, 47) AS g
                """)
            if bad.indexed { try session.execute("CREATE INDEX ON \(table) (ts)") }
            return try Self.read(
                SourceDescription(
                    relation: table, timeColumn: "ts", valueColumn: "v", covariateColumns: ["c"],
                    frequency: bad.frequency), in: session)
        }
        #expect(read.chunks.count == 1)
        let chunk = try #require(read.chunks.first)
        // The grid spans exactly the good readings.
        let steps = Int(bad.spacing / bad.frequency.microseconds)
        #expect(chunk.startBucket == bad.frequency.bucket(of: Self.t0))
        #expect(chunk.target.count == 47 * steps + 1)
        #expect(chunk.watermark == Self.t0 + 47 * bad.spacing)
        if chunk.target.count == 47 * steps + 1, chunk.covariates.count == 1 {
            let target = (0..<48).map { chunk.target[$0 * steps] }
            let covariate = (0..<48).map { chunk.covariates[0][$0 * steps] }
            #expect(target == (0..<48).map { Float($0) })
            #expect(covariate == (0..<48).map { Float($0 * 10) })
            #expect(chunk.target.filter { !$0.isNaN }.count == 48)
        }
        let report = chunk.quality
        #expect(bad.counter.count(in: report) == 1)
        #expect(report.rowsRead == 49)
        #expect(report.rowsDropped == (bad.dropsRow ? 1 : 0))
        #expect(report.bucketsObserved == 48)
    }

    /// `now` and `maxFuture` decide what is in the future; a reading dropped as in the future
    /// is taken by a later read once `now` has caught up with it.
    @Test func futureReadingsWaitUntilNowCatchesUp() async throws {
        let table = TestDatabase.uniqueName("future")
        let (first, second, series) = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (ts timestamptz, v float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            // Hours 0..<48, then hour 49 and one microsecond after hour 49 (value 50).
            try session.execute(
                """
                INSERT INTO \(table) SELECT '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', g
                FROM generate_series(0, 47) AS g;
                """)
            try session.execute(
                """
                INSERT INTO \(table) VALUES ('2024-01-03 01:00+00', 49),
                  ('2024-01-03 01:00:00.000001+00', 50)
                """)
            let source = SourceDescription(relation: table, timeColumn: "ts", valueColumn: "v", frequency: .hours(1))
            // Now is hour 47 and readings may lie 2 hours ahead: hour 49 exactly is fine.
            let first = try Self.read(
                source, options: ReadOptions(maxFuture: 2, now: Self.t0 + 47 * Self.hour), in: session)
            var set = SeriesSet(frequency: .hours(1))
            set.merge(first)
            let second = try Self.read(
                source, options: ReadOptions(maxFuture: 0, now: Self.t0 + 50 * Self.hour),
                watermarks: set.watermarks, in: session)
            set.merge(second)
            return (first, second, set.series[""]!)
        }
        #expect(first.chunks[0].quality.droppedFutureTime == 1)
        #expect(first.chunks[0].watermark == Self.t0 + 49 * Self.hour)
        #expect(second.chunks[0].quality.droppedFutureTime == 0)
        #expect(series.target.count == 50)
        #expect(series.target[47] == 47 && series.target[48].isNaN && series.target[49] == 49.5)
        #expect(series.watermark == Self.t0 + 49 * Self.hour + 1)
    }

    /// A source whose only rows cannot be trusted still reports them, index or not.
    @Test func aSourceWithOnlyUntrustedRowsReportsThem() async throws {
        let table = TestDatabase.uniqueName("only_untrusted")
        let reads = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (ts timestamptz, v float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            try session.execute("INSERT INTO \(table) VALUES ('infinity', 1), ('9999-01-01 00:00+00', 2), (NULL, 3)")
            let source = SourceDescription(relation: table, timeColumn: "ts", valueColumn: "v", frequency: .hours(1))
            let scanned = try Self.read(source, in: session)
            try session.execute("CREATE INDEX ON \(table) (ts)")
            return [scanned, try Self.read(source, in: session)]
        }
        for read in reads {
            let chunk = try #require(read.chunks.first)
            #expect(chunk.target.isEmpty)
            #expect(chunk.quality.droppedNonFiniteTime == 1 && chunk.quality.droppedFutureTime == 1)
            #expect(chunk.quality.droppedNullTime == 1 && chunk.quality.rowsDropped == 3)
        }
    }

    /// `numeric` holds numbers float8 cannot; dates run past timestamps: neither may fail
    /// the read, and what cannot be trusted is counted.
    @Test func numericBeyondFloat8DoesNotFailTheRead() async throws {
        let table = TestDatabase.uniqueName("numeric_extremes")
        let report = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (ts numeric, v numeric, c numeric)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            try session.execute(
                """
                INSERT INTO \(table) VALUES (1e400, 1, 1), ('NaN', 1, 1), ('Infinity', 1, 1),
                  (1704067200, 1e400, 0), (1704067200, -1e400, 0), (1704067200, 'Infinity', 0),
                  (1704067200, 'NaN', 0), (1704070800, 1e-400, 1e400), (1704074400, 2, 'NaN')
                """)
            return try Self.read(
                SourceDescription(
                    relation: table, timeColumn: "ts", valueColumn: "v", covariateColumns: ["c"],
                    frequency: .hours(1)), in: session
            ).chunks[0]
        }
        // Hour 0 had no valid value; hour 1's 1e-400 is 0 in float8.
        #expect(report.startBucket == Frequency.hours(1).bucket(of: Self.t0) + 1)
        #expect(report.target == [0, 2])
        #expect(report.covariates == [[.nan, .nan]] || report.covariates[0].allSatisfy(\.isNaN))
        #expect(report.quality.droppedNullTime == 3)
        #expect(report.quality.droppedValueOverflow == 2)
        #expect(report.quality.droppedInfinite == 1 && report.quality.droppedNaN == 1)
        #expect(report.quality.droppedCovariateValues == 2)
        #expect(report.quality.rowsRead == 9 && report.quality.rowsDropped == 7)
    }
}
