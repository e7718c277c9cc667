/// The one error type of the PostgreSQL layer.
///
/// Carries what a user needs to act on a failure: the kind, the server's SQLSTATE,
/// message, detail and hint, and which statement failed. Its `description` never shows
/// a password or a connection string: connection messages are redacted when built, and
/// statements carry SQL text only (parameter values are never recorded).
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, coarsely, so callers can decide to retry, reconnect or give up.
    public enum Kind: Sendable, Hashable {
        /// The connection could not be made, or was lost.
        case connection
        /// The server rejected a statement; `sqlState` says why.
        case server
        /// A value could not be decoded into the requested Swift type.
        case decoding
        /// The server sent something this layer does not understand.
        case protocolViolation
        /// The API was used in a way it does not support (e.g. a multi-statement string with parameters).
        case usage
    }

    public var kind: Kind

    /// Whether the connection is gone, whatever the message: a lost or refused connection,
    /// SQLSTATE class 08 (connection exception), or the server shutting down or restarting
    /// (`57P01` admin shutdown, `57P02` crash shutdown, `57P03` cannot connect now). The
    /// caller reconnects; nothing is wrong with what it asked.
    public var isConnectionLoss: Bool {
        if kind == .connection { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState)
    }
    /// Five-character SQLSTATE from the server (e.g. `42601` syntax error, `23505` unique violation).
    public var sqlState: String?
    /// The primary, human-readable message.
    public var message: String
    /// The server's DETAIL line, if any.
    public var detail: String?
    /// The server's HINT line, if any.
    public var hint: String?
    /// The SQL text of the statement that failed (shortened to 300 characters), if any.
    public var statement: String?

    public init(
        _ kind: Kind,
        _ message: String,
        sqlState: String? = nil,
        detail: String? = nil,
        hint: String? = nil,
        statement: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.statement = statement.map(Self.shorten)
    }

    public var description: String {
        var text: String
        switch kind {
        case .connection: text = "connection error: \(message)"
        case .server: text = message
        case .decoding: text = "decoding error: \(message)"
        case .protocolViolation: text = "protocol error: \(message)"
        case .usage: text = "usage error: \(message)"
        }
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += "; detail: \(detail)" }
        if let hint { text += "; hint: \(hint)" }
        if let statement { text += "; statement: \(statement)" }
        return text
    }

    /// Known SQLSTATE values this project reacts to.
    public enum State {
        public static let syntaxError = "42601"
        public static let uniqueViolation = "23505"
        public static let queryCanceled = "57014"
        public static let undefinedTable = "42P01"
        public static let undefinedColumn = "42703"
        public static let insufficientPrivilege = "42501"
        public static let undefinedObject = "42704"
        public static let duplicateObject = "42710"
        public static let datatypeMismatch = "42804"
        public static let invalidParameterValue = "22023"
        /// The class (first two characters) of every "data exception" SQLSTATE, e.g. `22007`
        /// invalid datetime format or `22P02` invalid text representation.
        public static let dataExceptionClass = "22"
    }

    private static func shorten(_ sql: String) -> String {
        let collapsed = sql.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return collapsed.count <= 300 ? collapsed : String(collapsed.prefix(297)) + "..."
    }
}
