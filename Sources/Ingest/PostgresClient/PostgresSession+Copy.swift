import CLibPQ
import Foundation

/// Binary COPY's fixed file header: signature, flags, header-extension length.
private let copySignature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]

extension PostgresSession {
    /// Streams rows into the server with `COPY ... FROM STDIN (FORMAT binary)`.
    ///
    /// `sql` must be that COPY statement; `body` appends rows to the writer, which sends
    /// them in chunks of about 256 KiB (nothing is buffered whole). If `body` throws, the
    /// COPY is aborted and nothing is written. Returns the number of rows the server stored.
    ///
    /// Binary COPY needs each value's type to match its column exactly (`Int32` for `int4`,
    /// `Int` for `int8`, `Double` for `float8`, `Date` for `timestamptz`, `String` for text).
    @discardableResult
    public func copyIn(_ sql: String, _ body: (inout CopyInWriter) throws -> Void) throws -> Int {
        let start = try run(sql, [], cancellable: true)
        let status = PQresultStatus(start)
        PQclear(start)
        guard status == PGRES_COPY_IN else {
            throw PostgresError(.usage, "statement is not COPY FROM STDIN", statement: sql)
        }
        var writer = CopyInWriter(session: self)
        do {
            try body(&writer)
            try writer.finish()
        } catch {
            _ = PQputCopyEnd(handle, "aborted by client: \(error)")
            if let result = try? collectResult(sql: sql) { PQclear(result) }
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw connectionError(statement: sql) }
        let result = try collectResult(sql: sql)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    func putCopyData(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { raw in
            PQputCopyData(handle, raw.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(raw.count))
        }
        guard sent == 1 else { throw connectionError(statement: nil) }
        try checkCancelled()
    }

    /// Streams rows out of the server with `COPY ... TO STDOUT (FORMAT binary)`, calling
    /// `body` once per row as it arrives. The row's bytes are borrowed and valid only during
    /// the call. Returns the number of rows.
    @discardableResult
    public func copyOut(_ sql: String, _ body: (CopyOutRow) throws -> Void) throws -> Int {
        let start = try run(sql, [], cancellable: true)
        let status = PQresultStatus(start)
        PQclear(start)
        guard status == PGRES_COPY_OUT else {
            throw PostgresError(.usage, "statement is not COPY TO STDOUT", statement: sql)
        }
        var rows = 0
        var headerSeen = false
        var failure: (any Error)?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if length == -1 { break }  // done: the final result follows
            guard length >= 0, let buffer else { throw connectionError(statement: sql) }
            defer { PQfreemem(buffer) }
            // After a failure keep draining, so the connection stays usable.
            guard failure == nil else { continue }
            do {
                var reader = ByteReader(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
                if !headerSeen {
                    try Self.readCopyHeader(&reader)
                    headerSeen = true
                }
                while reader.remaining > 0 {
                    let fieldCount = try reader.read(Int16.self)
                    if fieldCount == -1 { break }  // trailer
                    try body(try CopyOutRow(reader: &reader, fieldCount: Int(fieldCount)))
                    rows += 1
                }
            } catch {
                failure = error
                canceller.cancel()
            }
        }
        do {
            PQclear(try collectResult(sql: sql))
        } catch {
            // Our own cancel after a failed callback surfaces here as 57014: report the cause.
            if failure == nil { throw error }
        }
        if let failure { throw failure }
        return rows
    }

    private static func readCopyHeader(_ reader: inout ByteReader) throws {
        let signature = try reader.slice(copySignature.count)
        guard signature.elementsEqual(copySignature) else {
            throw PostgresError(.protocolViolation, "not a binary COPY stream")
        }
        _ = try reader.read(UInt32.self)  // flags
        let extensionLength = Int(try reader.read(UInt32.self))
        _ = try reader.slice(extensionLength)
    }
}

/// Accumulates binary COPY rows and sends them to the server in chunks.
public struct CopyInWriter {
    private let session: PostgresSession
    private var buffer: [UInt8]
    private var fieldsLeft = 0
    private static let chunkSize = 256 * 1024

    init(session: PostgresSession) {
        self.session = session
        buffer = copySignature
        buffer.appendBigEndian(UInt32(0))  // flags
        buffer.appendBigEndian(UInt32(0))  // header extension length
        buffer.reserveCapacity(Self.chunkSize + 4096)
    }

    /// Starts a row of `fieldCount` fields; append exactly that many values next.
    public mutating func beginRow(fieldCount: Int) throws {
        guard fieldsLeft == 0 else {
            throw PostgresError(.usage, "previous COPY row is missing \(fieldsLeft) fields")
        }
        if buffer.count >= Self.chunkSize {
            try session.putCopyData(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
        buffer.appendBigEndian(Int16(fieldCount))
        fieldsLeft = fieldCount
    }

    /// Appends one field; `nil` is SQL NULL.
    public mutating func append(_ value: (any PostgresEncodable)?) throws {
        guard fieldsLeft > 0 else { throw PostgresError(.usage, "more COPY fields than announced") }
        fieldsLeft -= 1
        guard let value else {
            buffer.appendBigEndian(Int32(-1))
            return
        }
        let lengthOffset = buffer.count
        buffer.appendBigEndian(Int32(0))
        value.encode(into: &buffer)
        let length = Int32(buffer.count - lengthOffset - 4).bigEndian
        withUnsafeBytes(of: length) { bytes in
            buffer.replaceSubrange(lengthOffset..<lengthOffset + 4, with: bytes)
        }
    }

    /// Appends a whole row.
    public mutating func appendRow(_ values: [(any PostgresEncodable)?]) throws {
        try beginRow(fieldCount: values.count)
        for value in values { try append(value) }
    }

    mutating func finish() throws {
        guard fieldsLeft == 0 else {
            throw PostgresError(.usage, "last COPY row is missing \(fieldsLeft) fields")
        }
        buffer.appendBigEndian(Int16(-1))  // trailer
        try session.putCopyData(buffer)
        buffer.removeAll()
    }
}

/// One row of a binary COPY stream; its bytes are borrowed from libpq for one callback.
///
/// Fields are located by walking their length prefixes (no allocation per row): reading
/// them in order with `fields` is O(fields), random access with `field(_:)` O(index).
public struct CopyOutRow {
    /// The row's fields: for each, a big-endian Int32 length (-1 for NULL) then the bytes.
    let bytes: UnsafeRawBufferPointer
    public let count: Int

    /// Validates the row at the reader's position and advances past it.
    init(reader: inout ByteReader, fieldCount: Int) throws(PostgresError) {
        let start = reader.offset
        for _ in 0..<fieldCount {
            let length = Int(try reader.read(Int32.self))
            if length > 0 { _ = try reader.slice(length) }
        }
        bytes = UnsafeRawBufferPointer(rebasing: reader.bytes[start..<reader.offset])
        count = fieldCount
    }

    /// The bytes of field `index`, or nil for NULL.
    public func field(_ index: Int) -> UnsafeRawBufferPointer? {
        precondition(index >= 0 && index < count, "COPY field index out of range")
        var fields = self.fields
        for _ in 0..<index { _ = fields.next() }
        return fields.next()!
    }

    /// The fields in order.
    public var fields: Fields { Fields(bytes: bytes) }

    /// Iterates fields in order without allocating; `next()` yields nil for SQL NULL and
    /// ends (returns `.none` wrapped as nil-of-nil) after the last field.
    public struct Fields: IteratorProtocol {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        @inline(__always)
        public mutating func next() -> UnsafeRawBufferPointer?? {
            guard offset + 4 <= bytes.count else { return nil }
            let length = Int(Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)))
            offset += 4
            guard length >= 0 else { return .some(nil) }
            defer { offset += length }
            return .some(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length]))
        }
    }

    /// Decodes field `index` as `T`, given the column's server type (COPY does not carry
    /// types: the caller knows them from the statement). Use an `Optional` for NULL.
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, at index: Int, type: PostgresType)
        throws(PostgresError) -> T
    {
        guard let bytes = field(index) else { return try T.decodeNull(type: type) }
        return try T.decode(bytes, type: type)
    }
}
