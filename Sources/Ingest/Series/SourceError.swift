/// Why a source cannot be read, worded for the user who configured it.
public enum SourceError: Error, Sendable, Hashable, CustomStringConvertible {
    case relationNotFound(String)
    case columnNotFound(column: String, relation: String)
    case unusableType(column: String, type: String, expected: String)
    case notReadable(relation: String)
    case invalidFrequency(String)
    case duplicateColumn(String)

    public var description: String {
        switch self {
        case .relationNotFound(let relation):
            "relation \"\(relation)\" does not exist (or is not visible on the search path)"
        case .columnNotFound(let column, let relation):
            "column \"\(column)\" does not exist in relation \"\(relation)\""
        case .unusableType(let column, let type, let expected):
            "column \"\(column)\" has type \(type), expected \(expected)"
        case .notReadable(let relation):
            "permission denied: cannot SELECT from relation \"\(relation)\""
        case .invalidFrequency(let interval):
            "frequency '\(interval)' must be a positive fixed-length interval (no months or years)"
        case .duplicateColumn(let column):
            "column \"\(column)\" is used twice"
        }
    }
}
