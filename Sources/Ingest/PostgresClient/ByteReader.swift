/// Reads big-endian (network order) values from PostgreSQL's binary wire formats.
///
/// A cursor over borrowed bytes; it never outlives the buffer it was made from.
/// Every read checks bounds and throws `PostgresError(.protocolViolation)` when short.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(PostgresError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else {
            throw PostgresError(.protocolViolation, "binary value truncated: needed \(size) bytes, \(remaining) left")
        }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(bigEndian: value)
    }

    /// The next `count` bytes, borrowed.
    mutating func slice(_ count: Int) throws(PostgresError) -> UnsafeRawBufferPointer {
        guard count >= 0, remaining >= count else {
            throw PostgresError(.protocolViolation, "binary value truncated: needed \(count) bytes, \(remaining) left")
        }
        let result = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        offset += count
        return result
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in network byte order.
    @inline(__always)
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}
