import ArgumentParser
import PostgresClient

/// Prints query results for people (aligned table), spreadsheets (CSV) or programs (JSON lines).
enum OutputFormat: String, CaseIterable, Sendable, ExpressibleByArgument {
    case table, csv, json

    /// What every `--format` prints, for `--help`.
    static let help = """
        Formats: table aligns columns for a terminal (wide characters count twice; backslashes \
        and control characters are escaped as \\\\, \\t, \\n, \\u{1B}). csv is RFC 4180 with a \
        header line (NULL is an empty field, an empty string is ""). json prints one object per \
        row and line (numbers as numbers, NULL as null, arrays as arrays). Numbers are printed in \
        full, as the shortest text that reads back as the same double (8.54e-07); NaN, Infinity \
        and -Infinity as such (strings in json). Timestamps are ISO 8601 in UTC \
        (2017-10-24T00:00:00Z) and intervals ISO 8601 durations (PT1H), whatever the session's \
        TimeZone, DateStyle or IntervalStyle.
        """
}

/// Rows of typed cells under column names, rendered in any `OutputFormat`.
struct TextTable: Sendable {
    var columns: [String]
    var rows: [[Cell]]

    func render(_ format: OutputFormat) -> String {
        switch format {
        case .table: table
        case .csv: csv
        case .json: rows.map { JSONText.object(members($0)) + "\n" }.joined()
        }
    }

    /// Each row as one JSON object, keys in column order.
    var jsonObjects: [String] { rows.map { JSONText.object(members($0)) } }

    /// Column name and JSON value of each cell of `row`.
    func members(_ row: [Cell]) -> [(key: String, value: String)] {
        zip(columns, row).map { ($0, $1.json) }
    }

    /// Header, rule, rows and a row count; every column starts at the same display column on
    /// every line, whatever the cells hold (empty, wide, combining or control characters).
    private var table: String {
        let header = columns.map(\.terminalEscaped)
        let body = rows.map { row in row.map { ($0.text ?? "").terminalEscaped } }
        var widths = header.map(\.displayWidth)
        for row in body {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.displayWidth) }
        }
        // Cells padded to their column's width plus two spaces, up to the last non-empty one.
        func line(_ cells: [String]) -> String {
            let end = (cells.lastIndex { !$0.isEmpty } ?? -1) + 1
            var text = ""
            for (index, cell) in cells[..<end].enumerated() {
                text += cell
                if index < end - 1 { text += String(repeating: " ", count: widths[index] - cell.displayWidth + 2) }
            }
            return text + "\n"
        }
        var text = line(header) + line(widths.map { String(repeating: "-", count: $0) })
        for row in body { text += line(row) }
        return text + "(\(rows.count) row\(rows.count == 1 ? "" : "s"))\n"
    }

    private var csv: String {
        func field(_ cell: Cell) -> String {
            guard let text = cell.text else { return "" }
            let special = text.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
            guard special || text.isEmpty else { return text }
            var quoted = "\""
            for scalar in text.unicodeScalars {
                if scalar == "\"" { quoted += "\"" }
                quoted.unicodeScalars.append(scalar)
            }
            return quoted + "\""
        }
        var text = columns.map { field(.text($0)) }.joined(separator: ",") + "\n"
        for row in rows { text += row.map(field).joined(separator: ",") + "\n" }
        return text
    }
}

extension TextTable {
    /// The rows of a query, each cell typed from its column's type.
    init(_ rows: PostgresRows) throws {
        columns = rows.columns.map(\.name)
        self.rows = try rows.map { row in try rows.columns.indices.map { try row.decode(Cell.self, at: $0) } }
    }
}
