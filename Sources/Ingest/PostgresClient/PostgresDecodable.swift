public import Foundation

/// A Swift type that can be decoded from a PostgreSQL value in binary format.
///
/// Decoding is strict about types but widens where no information is lost
/// (`int2`/`int4` into `Int`, `float4` into `Double`) and converts `numeric` to the
/// nearest `Double`. SQL NULL decodes only into an `Optional`.
public protocol PostgresDecodable {
    /// Decodes a non-NULL value of server type `type` from its binary representation.
    static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Self
    /// Decodes SQL NULL; by default, an error.
    static func decodeNull(type: PostgresType) throws(PostgresError) -> Self
}

extension PostgresDecodable {
    public static func decodeNull(type: PostgresType) throws(PostgresError) -> Self {
        throw PostgresError(.decoding, "unexpected NULL of type \(type) for \(Self.self)")
    }

    static func mismatch(_ type: PostgresType) -> PostgresError {
        PostgresError(.decoding, "cannot decode \(type) as \(Self.self)")
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Self {
        try Wrapped.decode(bytes, type: type)
    }
    public static func decodeNull(type: PostgresType) throws(PostgresError) -> Self { nil }
}

extension String: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> String {
        if type.isTextual { return String(decoding: bytes, as: UTF8.self) }
        switch type {
        case .jsonb:
            guard bytes.first == 1 else { throw PostgresError(.decoding, "unknown jsonb version") }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes.dropFirst()), as: UTF8.self)
        case .uuid:
            guard bytes.count == 16 else { throw PostgresError(.decoding, "uuid of \(bytes.count) bytes") }
            let hex = bytes.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }
            return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hex[$0].joined() }.joined(separator: "-")
        default:
            throw mismatch(type)
        }
    }
}

extension Bool: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Bool {
        guard type == .bool, bytes.count == 1 else { throw mismatch(type) }
        return bytes[0] != 0
    }
}

extension FixedWidthInteger where Self: PostgresDecodable {
    /// Decodes `int2`, `int4`, `int8` (and `oid`), failing when the value does not fit `Self`.
    static func decodeInteger(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Self {
        var reader = ByteReader(bytes)
        let wide: Int64
        switch type {
        case .int2: wide = Int64(try reader.read(Int16.self))
        case .int4: wide = Int64(try reader.read(Int32.self))
        case .int8: wide = try reader.read(Int64.self)
        case .oid: wide = Int64(try reader.read(UInt32.self))
        default: throw mismatch(type)
        }
        guard let value = Self(exactly: wide) else {
            throw PostgresError(.decoding, "\(type) value \(wide) does not fit \(Self.self)")
        }
        return value
    }
}

extension Int: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Int {
        try decodeInteger(bytes, type: type)
    }
}

extension Int64: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Int64 {
        try decodeInteger(bytes, type: type)
    }
}

extension Int32: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Int32 {
        try decodeInteger(bytes, type: type)
    }
}

extension Int16: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Int16 {
        try decodeInteger(bytes, type: type)
    }
}

extension Double: PostgresDecodable {
    /// Decodes `float8`, `float4`, integers and `numeric` (to the nearest double; NaN and
    /// ±Infinity preserved).
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Double {
        var reader = ByteReader(bytes)
        switch type {
        case .float8: return Double(bitPattern: try reader.read(UInt64.self))
        case .float4: return Double(Float(bitPattern: try reader.read(UInt32.self)))
        case .int2, .int4, .int8: return Double(try Int64.decodeInteger(bytes, type: type))
        case .numeric: return try PostgresNumeric.double(from: bytes)
        default: throw mismatch(type)
        }
    }
}

extension Float: PostgresDecodable {
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Float {
        if type == .float4 {
            var reader = ByteReader(bytes)
            return Float(bitPattern: try reader.read(UInt32.self))
        }
        return Float(try Double.decode(bytes, type: type))
    }
}

extension Date: PostgresDecodable {
    /// Decodes `timestamptz`, `timestamp` (read as UTC) and `date` (midnight UTC).
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Date {
        var reader = ByteReader(bytes)
        switch type {
        case .timestamptz, .timestamp:
            return PostgresTime.date(microseconds: try reader.read(Int64.self))
        case .date:
            let days = try reader.read(Int32.self)
            if days == .max { return .distantFuture }
            if days == .min { return .distantPast }
            return PostgresTime.date(microseconds: Int64(days) * 86_400_000_000)
        default:
            throw mismatch(type)
        }
    }
}

extension Array: PostgresDecodable where Element == UInt8 {
    /// Decodes `bytea`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> [UInt8] {
        guard type == .bytea else { throw mismatch(type) }
        return [UInt8](bytes)
    }
}

extension Data: PostgresDecodable {
    /// Decodes `bytea`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Data {
        guard type == .bytea else { throw mismatch(type) }
        return Data(bytes)
    }
}

extension PostgresFloat8Array: PostgresDecodable {
    /// Decodes a one-dimensional `float8[]` or `float4[]` without NULL elements
    /// (an empty array has zero dimensions on the wire).
    public static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Self {
        guard type == .float8Array || type == .float4Array else { throw mismatch(type) }
        var reader = ByteReader(bytes)
        let dimensions = try reader.read(Int32.self)
        _ = try reader.read(Int32.self)  // has-NULL flag; NULL elements are rejected below
        let elementType = PostgresType(rawValue: try reader.read(UInt32.self))
        if dimensions == 0 { return PostgresFloat8Array([]) }
        guard dimensions == 1 else {
            throw PostgresError(.decoding, "expected a one-dimensional array, got \(dimensions) dimensions")
        }
        let count = Int(try reader.read(Int32.self))
        _ = try reader.read(Int32.self)  // lower bound
        var values = [Double]()
        values.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try reader.read(Int32.self))
            guard length >= 0 else { throw PostgresError(.decoding, "NULL element in \(type)") }
            values.append(try Double.decode(try reader.slice(length), type: elementType))
        }
        return PostgresFloat8Array(values)
    }
}

/// PostgreSQL's binary `numeric`: base-10000 digits with a weight, sign and display scale.
enum PostgresNumeric {
    private static let negative: UInt16 = 0x4000
    private static let nan: UInt16 = 0xC000
    private static let positiveInfinity: UInt16 = 0xD000
    private static let negativeInfinity: UInt16 = 0xF000

    /// The double nearest to the numeric's exact decimal value (parsed from its digits).
    static func double(from bytes: UnsafeRawBufferPointer) throws(PostgresError) -> Double {
        var reader = ByteReader(bytes)
        let count = Int(try reader.read(Int16.self))
        let weight = Int(try reader.read(Int16.self))
        let sign = try reader.read(UInt16.self)
        _ = try reader.read(Int16.self)  // display scale
        switch sign {
        case nan: return .nan
        case positiveInfinity: return .infinity
        case negativeInfinity: return -.infinity
        default: break
        }
        if count == 0 { return sign == negative ? -0.0 : 0 }
        var text = sign == negative ? "-" : ""
        for index in 0..<count {
            let digit = try reader.read(Int16.self)
            guard (0..<10_000).contains(digit) else {
                throw PostgresError(.decoding, "numeric digit \(digit) out of range")
            }
            let group = String(digit)
            text += index == 0 ? group : String(repeating: "0", count: 4 - group.count) + group
        }
        text += "e\((weight - count + 1) * 4)"
        guard let value = Double(text) else { throw PostgresError(.decoding, "malformed numeric") }
        return value
    }
}
