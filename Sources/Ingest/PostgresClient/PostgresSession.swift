import CLibPQ
import Foundation

/// The synchronous API of a `PostgresConnection`, valid only inside the body passed to
/// `PostgresConnection.withSession` (it must not escape it).
///
/// Statements use the extended protocol (`PQsendQueryParams`): values always travel as
/// parameters, results arrive in binary format. Every `PGresult` is freed on every path.
public final class PostgresSession {
    let handle: OpaquePointer
    let token: CancelToken
    let canceller: Canceller
    let wakeup: Wakeup
    private var transactionDepth = 0

    init(handle: OpaquePointer, token: CancelToken, canceller: Canceller, wakeup: Wakeup) {
        self.handle = handle
        self.token = token
        self.canceller = canceller
        self.wakeup = wakeup
    }

    // MARK: Statements

    /// Runs one statement with `parameters` (`$1`, `$2`, ...; `nil` is SQL NULL) and returns
    /// all its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> PostgresRows {
        let result = try run(sql, parameters, cancellable: true)
        defer { PQclear(result) }
        return try Self.rows(from: result, sql: sql)
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> Int {
        try query(sql, parameters).affectedRows
    }

    /// Runs a script of several `;`-separated statements with the simple query protocol
    /// (no parameters possible: use it for fixed SQL such as migrations only).
    public func executeScript(_ sql: String) throws {
        try checkCancelled()
        guard PQsendQuery(handle, sql) == 1 else { throw connectionError(statement: sql) }
        try afterSend()
        var failure: (any Error)?
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if failure == nil, let error = error(of: result, sql: sql) { failure = error }
        }
        if let failure { throw mapCancellation(failure) }
    }

    /// Quotes `identifier` for use as an SQL identifier (`PQescapeIdentifier`), e.g. a table
    /// or column name from configuration. Never build identifiers any other way.
    public func escapeIdentifier(_ identifier: String) throws(PostgresError) -> String {
        let bytes = Array(identifier.utf8)
        guard let escaped = PQescapeIdentifier(handle, identifier, bytes.count) else {
            throw PostgresError(.usage, lastError())
        }
        defer { PQfreemem(escaped) }
        return String(cString: escaped)
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: committed when `body` returns, rolled back when it (or
    /// the commit) throws. Nested calls use savepoints.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let depth = transactionDepth
        let savepoint = "forecastd_savepoint_\(depth)"
        _ = try run(depth == 0 ? "BEGIN" : "SAVEPOINT \(savepoint)", [], cancellable: true).clear()
        transactionDepth += 1
        defer { transactionDepth = depth }
        do {
            let value = try body()
            _ = try run(depth == 0 ? "COMMIT" : "RELEASE SAVEPOINT \(savepoint)", [], cancellable: true).clear()
            return value
        } catch {
            let rollback = depth == 0 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT \(savepoint)"
            // The rollback itself must not be cancelled: it is what cancellation relies on.
            if let result = try? run(rollback, [], cancellable: false) { PQclear(result) }
            throw error
        }
    }

    // MARK: Internals

    /// Sends one statement, waits for its results and returns the last one (the caller frees it).
    func run(_ sql: String, _ parameters: [(any PostgresEncodable)?], cancellable: Bool) throws -> OpaquePointer {
        if cancellable { try checkCancelled() }
        let encoded = EncodedParameters(parameters)
        let sent = encoded.withCArrays { types, values, lengths, formats in
            PQsendQueryParams(handle, sql, Int32(parameters.count), types, values, lengths, formats, 1)
        }
        guard sent == 1 else { throw connectionError(statement: sql) }
        if cancellable { try afterSend() }
        return try collectResult(sql: sql)
    }

    /// Drains `PQgetResult`, returning the first error or the last result. Stops early at a
    /// COPY result, which the caller then drives.
    func collectResult(sql: String) throws -> OpaquePointer {
        var last: OpaquePointer?
        var failure: (any Error)?
        while let result = PQgetResult(handle) {
            let status = PQresultStatus(result)
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT {
                if let last { PQclear(last) }
                return result
            }
            if failure == nil, let error = error(of: result, sql: sql) {
                failure = error
                PQclear(result)
                continue
            }
            if let last { PQclear(last) }
            last = result
        }
        if let failure {
            if let last { PQclear(last) }
            throw mapCancellation(failure)
        }
        guard let last else { throw connectionError(statement: sql) }
        return last
    }

    /// After a statement is on its way: if cancellation was requested before the server
    /// had anything to cancel, ask again now, so no cancel is ever lost.
    func afterSend() throws {
        if token.isCancelled { canceller.cancel() }
    }

    func checkCancelled() throws {
        if token.isCancelled { throw CancellationError() }
    }

    /// A server error from a cancelled task surfaces as `CancellationError`.
    func mapCancellation(_ error: any Error) -> any Error {
        if token.isCancelled, let postgres = error as? PostgresError,
            postgres.sqlState == PostgresError.State.queryCanceled
        {
            return CancellationError()
        }
        return error
    }

    /// The error carried by `result`, or nil when it succeeded.
    func error(of result: OpaquePointer, sql: String?) -> PostgresError? {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN, PGRES_COPY_OUT,
            PGRES_SINGLE_TUPLE:
            return nil
        default:
            func field(_ code: UInt8) -> String? {
                PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
            }
            let message = field(UInt8(ascii: "M")) ?? String(cString: PQresultErrorMessage(result))
            let lost = PQstatus(handle) != CONNECTION_OK
            return PostgresError(
                lost ? .connection : .server,
                message.trimmingCharacters(in: .whitespacesAndNewlines),
                sqlState: field(UInt8(ascii: "C")),
                detail: field(UInt8(ascii: "D")),
                hint: field(UInt8(ascii: "H")),
                statement: sql
            )
        }
    }

    func connectionError(statement: String?) -> PostgresError {
        PostgresError(.connection, lastError(), statement: statement)
    }

    func lastError() -> String {
        String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func rows(from result: OpaquePointer, sql: String) throws -> PostgresRows {
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { column in
            PostgresColumn(
                name: String(cString: PQfname(result, Int32(column))),
                type: PostgresType(rawValue: PQftype(result, Int32(column))))
        }
        var storage = [UInt8]()
        var cells = [(offset: Int, length: Int)]()
        cells.reserveCapacity(rowCount * columnCount)
        for row in 0..<Int32(rowCount) {
            for column in 0..<Int32(columnCount) {
                if PQgetisnull(result, row, column) == 1 {
                    cells.append((storage.count, -1))
                    continue
                }
                let length = Int(PQgetlength(result, row, column))
                let value = UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length)
                cells.append((storage.count, length))
                storage.append(contentsOf: value)
            }
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, affectedRows: affected, storage: storage, cells: cells)
    }
}

extension OpaquePointer {
    /// Frees a `PGresult` the caller does not need.
    fileprivate func clear() { PQclear(self) }
}

/// Parameters laid out for `PQsendQueryParams`: one contiguous buffer plus C arrays of
/// types, pointers, lengths and formats.
struct EncodedParameters {
    private var buffer: [UInt8] = []
    private var offsets: [Int?] = []
    private var types: [UInt32] = []
    private var lengths: [Int32] = []
    private var formats: [Int32] = []

    init(_ parameters: [(any PostgresEncodable)?]) {
        for parameter in parameters {
            guard let parameter else {
                offsets.append(nil)
                types.append(PostgresType.unspecified.rawValue)
                lengths.append(0)
                formats.append(0)
                continue
            }
            let start = buffer.count
            parameter.encode(into: &buffer)
            offsets.append(start)
            let kind = type(of: parameter)
            types.append(kind.postgresType.rawValue)
            lengths.append(Int32(buffer.count - start))
            formats.append(kind.sendsAsText ? 0 : 1)
        }
        buffer.append(0)  // keeps every pointer valid, even for empty values
    }

    func withCArrays<R>(
        _ body: (
            UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?
        ) -> R
    ) -> R {
        buffer.withUnsafeBytes { raw in
            let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self)
            // Text parameters are read as C strings by libpq, so each gets its own terminator.
            var textCopies: [UnsafeMutablePointer<CChar>] = []
            defer { textCopies.forEach { free($0) } }
            let pointers: [UnsafePointer<CChar>?] = offsets.indices.map { index in
                guard let offset = offsets[index] else { return nil }
                if formats[index] == 0 {
                    let copy = strndup(base + offset, Int(lengths[index]))!
                    textCopies.append(copy)
                    return UnsafePointer(copy)
                }
                return base + offset
            }
            return body(types, pointers, lengths, formats)
        }
    }
}
