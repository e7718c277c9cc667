public import Foundation

/// A Swift value that can travel to PostgreSQL as a statement parameter or a binary COPY field.
///
/// `encode(into:)` appends the value's binary wire representation (the type's `send`
/// format), which is also what binary COPY expects, so the same encoding serves both.
/// Textual values are sent as text with an unspecified type, letting the server infer it.
public protocol PostgresEncodable: Sendable {
    /// The OID sent with a parameter; `.unspecified` lets the server infer the type.
    static var postgresType: PostgresType { get }
    /// Whether the parameter is sent in text format (`true` only for strings).
    static var sendsAsText: Bool { get }
    /// Appends the binary (or, for text, UTF-8) representation.
    func encode(into buffer: inout [UInt8])
}

extension PostgresEncodable {
    public static var sendsAsText: Bool { false }
}

extension String: PostgresEncodable {
    public static var postgresType: PostgresType { .unspecified }
    public static var sendsAsText: Bool { true }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Bool: PostgresEncodable {
    public static var postgresType: PostgresType { .bool }
    public func encode(into buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }
}

extension Int16: PostgresEncodable {
    public static var postgresType: PostgresType { .int2 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
}

extension Int32: PostgresEncodable {
    public static var postgresType: PostgresType { .int4 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
}

extension Int64: PostgresEncodable {
    public static var postgresType: PostgresType { .int8 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
}

/// `Int` travels as `int8`. For a binary COPY into an `int4` column use `Int32`.
extension Int: PostgresEncodable {
    public static var postgresType: PostgresType { .int8 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(Int64(self)) }
}

extension Double: PostgresEncodable {
    public static var postgresType: PostgresType { .float8 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
}

extension Float: PostgresEncodable {
    public static var postgresType: PostgresType { .float4 }
    public func encode(into buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
}

/// A `Date` travels as `timestamptz` (microseconds since 2000-01-01 UTC, rounded).
extension Date: PostgresEncodable {
    public static var postgresType: PostgresType { .timestamptz }
    public func encode(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(PostgresTime.microseconds(from: self))
    }
}

/// Raw bytes travel as `bytea`.
extension Array: PostgresEncodable where Element == UInt8 {
    public static var postgresType: PostgresType { .bytea }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

extension Data: PostgresEncodable {
    public static var postgresType: PostgresType { .bytea }
    public func encode(into buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}

/// An array of doubles travels as a one-dimensional `float8[]` (lower bound 1, no NULLs).
public struct PostgresFloat8Array: PostgresEncodable, Hashable {
    public var values: [Double]
    public init(_ values: [Double]) { self.values = values }
    public static var postgresType: PostgresType { .float8Array }
    public func encode(into buffer: inout [UInt8]) {
        buffer.appendBigEndian(Int32(1))  // dimensions
        buffer.appendBigEndian(Int32(0))  // has NULLs
        buffer.appendBigEndian(PostgresType.float8.rawValue)
        buffer.appendBigEndian(Int32(values.count))
        buffer.appendBigEndian(Int32(1))  // lower bound
        for value in values {
            buffer.appendBigEndian(Int32(8))
            buffer.appendBigEndian(value.bitPattern)
        }
    }
}

/// Conversions between Foundation dates and PostgreSQL's binary timestamps.
public enum PostgresTime {
    /// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01 00:00 UTC.
    public static let epochOffset: Double = 946_684_800
    /// The same in microseconds, for binary timestamps.
    public static let epochOffsetMicroseconds: Int64 = 946_684_800_000_000

    /// Microseconds since 2000-01-01 UTC, rounded to the nearest microsecond.
    public static func microseconds(from date: Date) -> Int64 {
        Int64(((date.timeIntervalSince1970 - epochOffset) * 1_000_000).rounded())
    }

    /// The date `microseconds` after 2000-01-01 UTC; PostgreSQL's `±infinity` map to
    /// `Date.distantFuture` / `Date.distantPast`.
    public static func date(microseconds: Int64) -> Date {
        if microseconds == .max { return .distantFuture }
        if microseconds == .min { return .distantPast }
        let seconds = Double(microseconds / 1_000_000) + Double(microseconds % 1_000_000) / 1_000_000
        return Date(timeIntervalSince1970: epochOffset + seconds)
    }
}

/// An exact instant for `timestamptz` parameters and COPY fields: microseconds since the
/// Unix epoch (no floating-point rounding, unlike `Date`).
///
/// PostgreSQL's `'infinity'` and `'-infinity'` are `Int64.max` and `Int64.min` both ways;
/// shifting between the epochs saturates there instead of overflowing.
public struct PostgresTimestamp: PostgresEncodable, PostgresDecodable, Hashable, Comparable {
    public var microsecondsSince1970: Int64
    public init(microsecondsSince1970: Int64) { self.microsecondsSince1970 = microsecondsSince1970 }

    public static var postgresType: PostgresType { .timestamptz }
    public func encode(into buffer: inout [UInt8]) {
        let (shifted, overflow) = microsecondsSince1970.subtractingReportingOverflow(
            PostgresTime.epochOffsetMicroseconds)
        buffer.appendBigEndian(microsecondsSince1970 == .max ? .max : overflow ? .min : shifted)
    }

    /// Decodes `timestamptz` or `timestamp` (as UTC).
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Self {
        guard type == .timestamptz || type == .timestamp else { throw mismatch(type) }
        var reader = ByteReader(bytes)
        let raw = try reader.read(Int64.self)
        let (shifted, overflow) = raw.addingReportingOverflow(PostgresTime.epochOffsetMicroseconds)
        return Self(microsecondsSince1970: raw == .min ? .min : overflow ? .max : shifted)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.microsecondsSince1970 < rhs.microsecondsSince1970 }
}
