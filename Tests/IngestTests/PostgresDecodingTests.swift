import Foundation
import Testing

@testable import Ingest
@testable import PostgresClient

/// Round trips of every supported type through a real server.
@Suite(.database)
struct PostgresDecodingTests {
    @Test func scalarTypesRoundTrip() async throws {
        let rows = try await TestDatabase.session { session in
            try session.query(
                """
                SELECT $1::text, $2::bool, $3::int2, $4::int4, $5::int8, $6::float4, $7::float8,
                       $8::bytea, $9::float8[], 'héllo ☃'::varchar, 12345.678901::numeric,
                       '-0.000123'::numeric, 'NaN'::numeric, (2^62)::int8::numeric
                """,
                [
                    "text with 'quotes' and \"double\"", true, Int16(-12345), Int32(2_000_000_000),
                    Int64.max, Float(1.5), 2.718281828459045, [UInt8]([0, 1, 254, 255]),
                    PostgresFloat8Array([1.5, -2, .infinity]),
                ])
        }
        let row = rows[0]
        #expect(try row.decode(String.self, at: 0) == "text with 'quotes' and \"double\"")
        #expect(try row.decode(Bool.self, at: 1) == true)
        #expect(try row.decode(Int16.self, at: 2) == -12345)
        #expect(try row.decode(Int32.self, at: 3) == 2_000_000_000)
        #expect(try row.decode(Int.self, at: 3) == 2_000_000_000)
        #expect(try row.decode(Int64.self, at: 4) == .max)
        #expect(try row.decode(Float.self, at: 5) == 1.5)
        #expect(try row.decode(Double.self, at: 6) == 2.718281828459045)
        #expect(try row.decode([UInt8].self, at: 7) == [0, 1, 254, 255])
        #expect(try row.decode(PostgresFloat8Array.self, at: 8).values == [1.5, -2, .infinity])
        #expect(try row.decode(String.self, at: 9) == "héllo ☃")
        #expect(try row.decode(Double.self, at: 10) == 12345.678901)
        #expect(try row.decode(Double.self, at: 11) == -0.000123)
        #expect(try row.decode(Double.self, at: 12).isNaN)
        #expect(try row.decode(Double.self, at: 13) == 4_611_686_018_427_387_904)
        // Narrowing that would lose information is an error, not a silent wrap.
        #expect(throws: PostgresError.self) { try row.decode(Int16.self, at: 3) }
        #expect(throws: PostgresError.self) { try row.decode(Bool.self, at: 0) }
    }

    @Test func nullDecodesOnlyIntoOptionals() async throws {
        let rows = try await TestDatabase.session { session in
            try session.query("SELECT NULL::int4, $1::text, $2::float8", [nil, nil])
        }
        #expect(rows[0].isNull(0))
        #expect(try rows[0].decode(Int?.self, at: 0) == nil)
        #expect(try rows[0].decode(String?.self, at: 1) == nil)
        #expect(try rows[0].decode(Double?.self, at: 2) == nil)
        #expect(throws: PostgresError.self) { try rows[0].decode(Int.self, at: 0) }
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude])
    func specialFloatsRoundTrip(value: Double) async throws {
        let rows = try await TestDatabase.session { session in
            try session.query("SELECT $1::float8, $1::float8::text, $2::float4", [value, Float(value)])
        }
        let back = try rows[0].decode(Double.self, at: 0)
        #expect(back.bitPattern == value.bitPattern || (back.isNaN && value.isNaN))
        let float = try rows[0].decode(Float.self, at: 2)
        #expect(float == Float(value) || (float.isNaN && value.isNaN))
        if value.isNaN { #expect(try rows[0].decode(String.self, at: 1) == "NaN") }
        if value == .infinity { #expect(try rows[0].decode(String.self, at: 1) == "Infinity") }
    }

    @Test func numericSpecialValues() async throws {
        let rows = try await TestDatabase.session { session in
            try session.query("SELECT 'Infinity'::numeric, '-Infinity'::numeric, 0::numeric, 1e-20::numeric")
        }
        #expect(try rows[0].decode(Double.self, at: 0) == .infinity)
        #expect(try rows[0].decode(Double.self, at: 1) == -.infinity)
        #expect(try rows[0].decode(Double.self, at: 2) == 0)
        #expect(try rows[0].decode(Double.self, at: 3) == 1e-20)
    }

    @Test func timestampsAcrossTimeZones() async throws {
        // 2024-03-10 10:30:00.123456 UTC, the day US clocks change.
        let instant = Date(timeIntervalSince1970: 1_710_066_600.123456)
        let rows = try await TestDatabase.session { session in
            try session.execute("SET TIME ZONE 'America/Los_Angeles'")
            return try session.query(
                """
                SELECT $1::timestamptz,
                       '2024-03-10 02:30:00.123456-08'::timestamptz,
                       '2024-03-10 19:30:00.123456+09'::timestamptz,
                       '2024-03-10 10:30:00.123456'::timestamp,
                       '2024-03-10'::date,
                       $1::timestamptz::text,
                       'infinity'::timestamptz
                """,
                [instant])
        }
        let row = rows[0]
        let micros = { (date: Date) in PostgresTime.microseconds(from: date) }
        #expect(micros(try row.decode(Date.self, at: 0)) == micros(instant))
        #expect(micros(try row.decode(Date.self, at: 1)) == micros(instant))
        #expect(micros(try row.decode(Date.self, at: 2)) == micros(instant))
        #expect(micros(try row.decode(Date.self, at: 3)) == micros(instant))  // timestamp read as UTC
        #expect(try row.decode(Date.self, at: 4) == Date(timeIntervalSince1970: 1_710_028_800))
        #expect(try row.decode(String.self, at: 5) == "2024-03-10 03:30:00.123456-07")
        #expect(try row.decode(Date.self, at: 6) == .distantFuture)
    }

    @Test func sixteenMegabyteBytea() async throws {
        // Every byte value, in a pattern that does not repeat with a short period.
        let blob = (0..<(16 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) }
        let rows = try await TestDatabase.session { session in
            try session.query("SELECT $1::bytea, length($1::bytea), md5($1::bytea)", [blob])
        }
        #expect(try rows[0].decode(Int.self, at: 1) == blob.count)
        #expect(try rows[0].decode([UInt8].self, at: 0) == blob)
    }

    @Test func uuidAndJsonbAsText() async throws {
        let rows = try await TestDatabase.session { session in
            try session.query(
                "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, '{\"a\": [1, 2]}'::jsonb, '{}'::float8[]")
        }
        #expect(try rows[0].decode(String.self, at: 0) == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
        #expect(try rows[0].decode(String.self, at: 1) == "{\"a\": [1, 2]}")
        #expect(try rows[0].decode(PostgresFloat8Array.self, at: 2).values == [])
    }
}
