/// How a cell reads in each output format.
extension Cell {
    /// The value as text for tables and CSV; nil for NULL.
    ///
    /// Numbers: the shortest text that reads back as the same double (`8.54e-07`), `NaN`,
    /// `Infinity`, `-Infinity`; arrays as PostgreSQL writes them (`{0.1,0.5,0.9}`); instants
    /// as ISO 8601 in UTC (`2017-10-24T00:00:00Z`); intervals as ISO 8601 durations (`PT1H`).
    var text: String? {
        switch self {
        case .null: nil
        case .text(let text), .json(let text): text
        case .bool(let value): value ? "true" : "false"
        case .integer(let value): String(value)
        case .number(let value): Self.text(value)
        case .numbers(let values): "{" + values.map(Self.text).joined(separator: ",") + "}"
        case .instant(let microseconds): ISO8601Text.instant(microseconds, offset: "Z")
        case .localTime(let microseconds): ISO8601Text.instant(microseconds, offset: "")
        case .date(let days): ISO8601Text.date(days)
        case .interval(let months, let days, let microseconds):
            ISO8601Text.duration(months: months, days: days, microseconds: microseconds)
        }
    }

    /// The value as a JSON value: numbers as numbers (non-finite ones as the strings `"NaN"`,
    /// `"Infinity"`, `"-Infinity"`, as PostgreSQL's `to_json` writes them), arrays as arrays,
    /// documents embedded as they are, instants, dates and intervals as strings.
    var json: String {
        switch self {
        case .null: "null"
        case .bool, .integer: text ?? "null"
        case .number(let value): value.isFinite ? "\(value)" : JSONText.string(Self.text(value))
        case .numbers(let values): "[" + values.map { Cell.number($0).json }.joined(separator: ",") + "]"
        // A document's line feeds and carriage returns can only be whitespace between
        // tokens (JSON strings escape theirs), so one line of output stays one line.
        case .json(let document):
            String(String.UnicodeScalarView(document.unicodeScalars.map { $0 == "\n" || $0 == "\r" ? " " : $0 }))
        case .text, .instant, .localTime, .date, .interval: JSONText.string(text ?? "")
        }
    }

    /// `value` in full: Swift's shortest round-trip text, with PostgreSQL's spellings of
    /// the non-finite values.
    static func text(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return "\(value)"
    }
}

/// JSON text written by hand, so numbers keep the exact text the other formats print and
/// stored documents are embedded without a round trip through a dictionary.
enum JSONText {
    /// `text` as a JSON string: quotes, backslashes and control characters escaped.
    static func string(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    /// An object with `members` in order; values are JSON text already.
    static func object(_ members: [(key: String, value: String)]) -> String {
        "{" + members.map { string($0.key) + ":" + $0.value }.joined(separator: ",") + "}"
    }
}
