import Foundation
import Ingest
import PostgresClient

/// The ETTh1 data set (ETDataset, Zhou et al., AAAI 2021; CC BY-ND 4.0), read from the
/// repository's unmodified copy, `data/ETTh1.csv`.
enum ETTh1 {
    static let columns = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]

    /// `<package>/data/ETTh1.csv`, found from this source file (`<package>/Tests/IngestTests/`).
    static var url: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "data/ETTh1.csv")
    }

    /// A missing or malformed file, named by its path (a test failure, never a trap).
    struct FileError: Error, CustomStringConvertible {
        let description: String
    }

    /// Rows as (UTC time, seven readings).
    static func load() throws -> [(time: Date, values: [Double])] {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw FileError(description: "cannot read ETTh1 at \(url.path): \(error)")
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return try text.split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: ",")
            guard fields.count == 8, let time = formatter.date(from: String(fields[0])) else {
                throw CocoaError(.fileReadCorruptFile)
            }
            return (
                time,
                try fields.dropFirst().map { field in
                    guard let value = Double(field) else { throw CocoaError(.fileReadCorruptFile) }
                    return value
                }
            )
        }
    }

    /// Creates `table (date timestamptz, HUFL float8, ..., OT float8)` holding ETTh1.
    static func createTable(_ table: String, in session: PostgresSession, rows: [(time: Date, values: [Double])]) throws
    {
        let name = try session.escapeIdentifier(table)
        let columns = try columns.map { "\(try session.escapeIdentifier($0)) float8" }.joined(separator: ", ")
        try session.execute("CREATE TABLE \(name) (date timestamptz, \(columns))")
        try session.copyIn("COPY \(name) FROM STDIN (FORMAT binary)") { writer in
            for row in rows { try writer.appendRow([row.time] + row.values.map { $0 }) }
        }
    }
}
