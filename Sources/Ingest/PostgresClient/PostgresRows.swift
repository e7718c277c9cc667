/// One column of a query result.
public struct PostgresColumn: Sendable, Hashable {
    public var name: String
    public var type: PostgresType
}

/// The complete result of a statement, copied out of libpq's `PGresult` (which is freed
/// before this value exists). Values are kept in their binary wire format in one buffer
/// and decoded on access.
///
/// For large reads use `PostgresSession.copyOut`, which streams instead of buffering.
public struct PostgresRows: Sendable, RandomAccessCollection {
    public let columns: [PostgresColumn]
    /// Rows affected, for INSERT/UPDATE/DELETE/COPY and similar; 0 otherwise.
    public let affectedRows: Int
    let storage: [UInt8]
    /// `[rowCount * columns.count]` (offset, length) pairs into `storage`; length -1 is NULL.
    let cells: [(offset: Int, length: Int)]

    init(columns: [PostgresColumn], affectedRows: Int, storage: [UInt8], cells: [(offset: Int, length: Int)]) {
        self.columns = columns
        self.affectedRows = affectedRows
        self.storage = storage
        self.cells = cells
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { columns.isEmpty ? 0 : cells.count / columns.count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, index: position) }

    /// Index of the column called `name`, if any.
    public func columnIndex(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }
}

/// A row of a `PostgresRows`.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let index: Int

    /// Whether column `column` is SQL NULL.
    public func isNull(_ column: Int) -> Bool {
        rows.cells[index * rows.columns.count + column].length < 0
    }

    /// Decodes column `column` (0-based) as `T`; use an `Optional` type to accept NULL.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, at column: Int) throws(PostgresError) -> T {
        guard rows.columns.indices.contains(column) else {
            throw PostgresError(.usage, "column index \(column) out of range 0..<\(rows.columns.count)")
        }
        let cell = rows.cells[index * rows.columns.count + column]
        let columnType = rows.columns[column].type
        if cell.length < 0 { return try T.decodeNull(type: columnType) }
        let result = rows.storage.withUnsafeBytes { storage in
            Result { () throws(PostgresError) in
                try T.decode(
                    UnsafeRawBufferPointer(rebasing: storage[cell.offset..<cell.offset + cell.length]),
                    type: columnType)
            }
        }
        do {
            return try result.get()
        } catch {
            throw PostgresError(.decoding, "column \"\(rows.columns[column].name)\": \(error.message)")
        }
    }

    /// Decodes the column called `name` as `T`.
    public func decode<T: PostgresDecodable>(_ type: T.Type = T.self, named name: String) throws(PostgresError) -> T {
        guard let column = rows.columnIndex(name) else {
            throw PostgresError(.usage, "no column named \"\(name)\"")
        }
        return try decode(type, at: column)
    }
}
