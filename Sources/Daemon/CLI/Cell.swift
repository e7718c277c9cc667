import PostgresClient

/// One value of a query result, typed from its PostgreSQL column (results arrive in binary),
/// so that no output format loses it: a `float8` keeps every bit, a `timestamptz` is an
/// instant, whatever the session's `extra_float_digits`, `TimeZone`, `DateStyle` or
/// `IntervalStyle`.
enum Cell: Sendable, Hashable {
    case null
    case text(String)
    case bool(Bool)
    case integer(Int64)
    /// A `float8`, or a `float4` as the double nearest its shortest decimal text.
    case number(Double)
    /// A one-dimensional `float8[]` (e.g. a forecast's quantiles).
    case numbers([Double])
    /// A `timestamptz` as PostgreSQL counts it: microseconds since 2000-01-01 00:00 UTC (its
    /// range, 4713 BC to 294276 AD, does not fit an `Int64` counted from 1970); `Int64.max`
    /// and `Int64.min` are `infinity` and `-infinity`.
    case instant(Int64)
    /// A `timestamp` without time zone: the same count, read on a clock of unknown offset.
    case localTime(Int64)
    /// A `date`: days since 2000-01-01; `Int32.max` and `Int32.min` are ±infinity.
    case date(Int32)
    /// An `interval` as PostgreSQL keeps it: months, days and microseconds, each signed.
    case interval(months: Int32, days: Int32, microseconds: Int64)
    /// A `json` or `jsonb` document, as the server's text.
    case json(String)
}

extension Cell: PostgresDecodable {
    static func decodeNull(type: PostgresType) throws(PostgresError) -> Cell { .null }

    static func decode(_ bytes: UnsafeRawBufferPointer, type: PostgresType) throws(PostgresError) -> Cell {
        switch type {
        case .bool: return .bool(try Bool.decode(bytes, type: type))
        case .int2, .int4, .int8, .oid: return .integer(try Int64.decode(bytes, type: type))
        case .float8: return .number(try Double.decode(bytes, type: type))
        case .float4:
            let float = try Float.decode(bytes, type: type)
            return .number(float.isFinite ? Double("\(float)") ?? Double(float) : Double(float))
        case .float8Array, .float4Array: return .numbers(try PostgresFloat8Array.decode(bytes, type: type).values)
        case .timestamptz: return .instant(try bigEndian(Int64.self, bytes, at: 0))
        case .timestamp: return .localTime(try bigEndian(Int64.self, bytes, at: 0))
        case .date: return .date(try bigEndian(Int32.self, bytes, at: 0))
        case .interval:
            return .interval(
                months: try bigEndian(Int32.self, bytes, at: 12), days: try bigEndian(Int32.self, bytes, at: 8),
                microseconds: try bigEndian(Int64.self, bytes, at: 0))
        case .json, .jsonb: return .json(try String.decode(bytes, type: type))
        default:
            do {
                return .text(try String.decode(bytes, type: type))
            } catch {
                // numeric and other types have no exact rendering here: cast them in SQL.
                throw PostgresError(.decoding, "cannot print a value of type \(type); cast it to text or float8")
            }
        }
    }

    /// The big-endian integer at `offset` of `bytes`.
    private static func bigEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, at offset: Int)
        throws(PostgresError) -> T
    {
        let size = MemoryLayout<T>.size
        guard bytes.count >= offset + size else {
            throw PostgresError(.protocolViolation, "binary value truncated: needed \(offset + size) bytes")
        }
        return bytes[offset..<offset + size].reduce(T.zero) { $0 << 8 | T($1) }
    }
}
