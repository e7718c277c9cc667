import DaemonCore
import Foundation
import Ingest
import PostgresClient

/// Prints query results for people (aligned table), spreadsheets (CSV) or programs (JSON lines).
enum OutputFormat: String, CaseIterable, Sendable {
    case table, csv, json
}

struct TextTable {
    var columns: [String]
    /// Cells as text; nil is SQL NULL.
    var rows: [[String?]]

    func render(_ format: OutputFormat) -> String {
        switch format {
        case .table: table
        case .csv: csv
        case .json: json
        }
    }

    private var table: String {
        var widths = columns.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], (cell ?? "").count) }
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        var text = line(columns) + "\n" + line(widths.map { String(repeating: "-", count: $0) }) + "\n"
        for row in rows { text += line(row.map { $0 ?? "" }) + "\n" }
        return text + "(\(rows.count) row\(rows.count == 1 ? "" : "s"))\n"
    }

    private var csv: String {
        func quote(_ cell: String?) -> String {
            guard let cell else { return "" }
            guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return cell }
            return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        var text = columns.map(quote).joined(separator: ",") + "\n"
        for row in rows { text += row.map(quote).joined(separator: ",") + "\n" }
        return text
    }

    private var json: String {
        rows.map { row in ((try? JSONLine.encode(JSONRow(columns: columns, cells: row))) ?? "{}") + "\n" }.joined()
    }
}

/// One table row as a JSON object, keys in column order: numbers as numbers, NULL as null.
private struct JSONRow: Encodable {
    var columns: [String]
    var cells: [String?]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (column, cell) in zip(columns, cells) {
            let key = Key(stringValue: column)
            if let cell, let number = Double(cell), number.isFinite, !cell.contains(" ") {
                try container.encode(number, forKey: key)
            } else if let cell {
                try container.encode(cell, forKey: key)
            } else {
                try container.encodeNil(forKey: key)
            }
        }
    }
}

extension TextTable {
    /// The rows of a query whose every column is `text` (cast in SQL).
    init(_ rows: PostgresRows) throws {
        columns = rows.columns.map(\.name)
        self.rows = try rows.map { row in try (0..<rows.columns.count).map { try row.decode(String?.self, at: $0) } }
    }
}
