import Foundation

/// One versioned migration from `schemas/NNNN_name.sql`.
public struct Migration: Sendable, Hashable {
    /// The number before the first underscore of the file name.
    public var version: Int
    /// The file name without extension, e.g. `0001_initial`.
    public var name: String
    public var sql: String

    /// Every migration shipped inside this binary, ordered by version.
    public static let all: [Migration] = embeddedMigrations.compactMap(\.migration).sorted { $0.version < $1.version }

    /// The schema version this binary needs: its newest migration's.
    public static var newest: Int { all.last?.version ?? 0 }
}

/// What the EmbedSchemas build plugin generates for each file in `schemas/`.
struct EmbeddedMigration {
    var fileName: String
    var base64: String

    /// Nil when the file name does not start with a number (such files are not migrations).
    var migration: Migration? {
        guard let version = Int(fileName.prefix { $0.isNumber }), version > 0,
            let data = Data(base64Encoded: base64)
        else { return nil }
        return Migration(version: version, name: fileName, sql: String(decoding: data, as: UTF8.self))
    }
}
