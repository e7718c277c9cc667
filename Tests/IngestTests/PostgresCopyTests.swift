import Foundation
import Testing

@testable import Ingest
@testable import PostgresClient

@Suite(.database)
struct PostgresCopyTests {
    /// The value of row `index`, a pure function so both directions can be checked without
    /// holding a million rows twice.
    static func row(_ index: Int) -> (String, Date, Double) {
        let base = 1_700_000_000.0
        let value: Double =
            switch index % 1000 {
            case 7: .nan
            case 8: .infinity
            case 9: -.infinity
            default: Double(index) * 0.001 - 17.25
            }
        return ("sensor-\(index % 1000)", Date(timeIntervalSince1970: base + Double(index) * 60), value)
    }

    @Test func millionRowsRoundTripThroughBinaryCopy() async throws {
        let table = TestDatabase.uniqueName("copy_round_trip")
        let count = 1_000_000
        let (stored, read, mismatches) = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (sensor text, ts timestamptz, value float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            let stored = try session.copyIn("COPY \(table) (sensor, ts, value) FROM STDIN (FORMAT binary)") { writer in
                for index in 0..<count {
                    let (sensor, time, value) = Self.row(index)
                    try writer.beginRow(fieldCount: 3)
                    try writer.append(sensor)
                    try writer.append(time)
                    try writer.append(value)
                }
            }
            var read = 0
            var mismatches = 0
            try session.copyOut(
                "COPY (SELECT sensor, ts, value FROM \(table) ORDER BY ts) TO STDOUT (FORMAT binary)"
            ) { row in
                let (sensor, time, value) = Self.row(read)
                let gotSensor = try row.decode(String.self, at: 0, type: .text)
                let gotTime = try row.decode(Date.self, at: 1, type: .timestamptz)
                let gotValue = try row.decode(Double.self, at: 2, type: .float8)
                let sameValue = gotValue.bitPattern == value.bitPattern
                let sameTime = PostgresTime.microseconds(from: gotTime) == PostgresTime.microseconds(from: time)
                if gotSensor != sensor || !sameTime || !sameValue { mismatches += 1 }
                read += 1
            }
            return (stored, read, mismatches)
        }
        #expect(stored == count)
        #expect(read == count)
        #expect(mismatches == 0)
    }

    @Test func nullsAndEmptyStringsSurviveCopy() async throws {
        let table = TestDatabase.uniqueName("copy_nulls")
        let values = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (id int4, label text, value float8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            try session.copyIn("COPY \(table) FROM STDIN (FORMAT binary)") { writer in
                try writer.appendRow([Int32(1), nil, 1.5])
                try writer.appendRow([Int32(2), "", nil])
            }
            var values: [String] = []
            try session.copyOut("COPY (SELECT * FROM \(table) ORDER BY id) TO STDOUT (FORMAT binary)") { row in
                let label = try row.decode(String?.self, at: 1, type: .text)
                let value = try row.decode(Double?.self, at: 2, type: .float8)
                values.append("\(try row.decode(Int.self, at: 0, type: .int4)):\(label ?? "NULL"):\(value ?? -1)")
            }
            return values
        }
        #expect(values == ["1:NULL:1.5", "2::-1.0"])
    }

    @Test func failedCopyInWritesNothingAndLeavesConnectionUsable() async throws {
        struct Stop: Error {}
        let table = TestDatabase.uniqueName("copy_abort")
        let count = try await TestDatabase.session { session in
            try session.execute("CREATE TABLE \(table) (id int8)")
            defer { _ = try? session.execute("DROP TABLE \(table)") }
            #expect(throws: Stop.self) {
                try session.copyIn("COPY \(table) FROM STDIN (FORMAT binary)") { writer in
                    for index in 0..<100_000 { try writer.appendRow([index]) }
                    throw Stop()
                }
            }
            // A type mismatch is reported by the server with its SQLSTATE.
            #expect(throws: PostgresError.self) {
                try session.copyIn("COPY \(table) FROM STDIN (FORMAT binary)") { writer in
                    try writer.appendRow([Int32(1)])  // int4 bytes into an int8 column
                }
            }
            return try session.query("SELECT count(*) FROM \(table)")[0].decode(Int.self, at: 0)
        }
        #expect(count == 0)
    }

    @Test func copyOutErrorInCallbackIsRethrownAndConnectionRecovers() async throws {
        struct Enough: Error {}
        let after = try await TestDatabase.session { session in
            var seen = 0
            #expect(throws: Enough.self) {
                try session.copyOut("COPY (SELECT g FROM generate_series(1, 200000) g) TO STDOUT (FORMAT binary)") {
                    _ in
                    seen += 1
                    if seen == 10 { throw Enough() }
                }
            }
            return try session.query("SELECT 42")[0].decode(Int.self, at: 0)
        }
        #expect(after == 42)
    }
}
