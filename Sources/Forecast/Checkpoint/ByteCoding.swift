/// Appends little-endian values to a byte array.
struct ByteWriter {
    var buffer: [UInt8] = []

    mutating func bytes(_ values: some Sequence<UInt8>) { buffer.append(contentsOf: values) }

    mutating func uint32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    mutating func uint64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    mutating func float(_ value: Float) { uint32(value.bitPattern) }

    mutating func floats(_ values: [Float]) {
        buffer.reserveCapacity(buffer.count + 4 * values.count)
        for value in values { uint32(value.bitPattern) }
    }
}

/// Reads little-endian values from a byte slice, throwing `.truncated` past its end.
struct ByteReader {
    let bytes: ArraySlice<UInt8>
    var offset: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        offset = bytes.startIndex
    }

    mutating func bytes(_ count: Int) throws(CheckpointError) -> [UInt8] {
        guard count >= 0, bytes.endIndex - offset >= count else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func uint32() throws(CheckpointError) -> UInt32 {
        guard bytes.endIndex - offset >= 4 else { throw .truncated }
        var value: UInt32 = 0
        for k in 0..<4 { value |= UInt32(bytes[offset + k]) << (8 * k) }
        offset += 4
        return value
    }

    /// The little-endian UInt32 in the first four bytes of `bytes`.
    static func uint32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var value: UInt32 = 0
        for (k, byte) in bytes.prefix(4).enumerated() { value |= UInt32(byte) << (8 * k) }
        return value
    }

    mutating func uint64() throws(CheckpointError) -> UInt64 {
        let low = UInt64(try uint32())
        let high = UInt64(try uint32())
        return low | high << 32
    }

    mutating func float() throws(CheckpointError) -> Float { Float(bitPattern: try uint32()) }

    mutating func floats(_ count: Int) throws(CheckpointError) -> [Float] {
        guard count >= 0, (bytes.endIndex - offset) / 4 >= count else { throw .truncated }
        var result = [Float](repeating: 0, count: count)
        for k in 0..<count { result[k] = try float() }
        return result
    }
}
