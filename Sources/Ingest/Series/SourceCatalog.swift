public import PostgresClient

/// A source checked against the catalog: the relation exists and is readable, every
/// column exists with a usable type. Built only by `SourceCatalog.resolve`.
public struct ResolvedSource: Sendable, Hashable {
    public let description: SourceDescription
    /// The relation's schema and name as stored in the catalog.
    public let schema: String
    public let name: String
    /// `r` table, `v` view, `m` materialized view, `p` partitioned table, `f` foreign table.
    public let kind: Character
    /// `pg_class.oid` of the relation (valid until it is dropped and re-created).
    public let oid: Int64
    let timeKind: TimeKind
    /// The SQL type names of the time, value and series columns, for reports.
    public let columnTypes: [String: String]
    /// The SQL-standard name of the base type (through domains) of the time, value and
    /// covariate columns, e.g. `bigint` or `numeric`: how to convert them safely.
    let baseTypes: [String: String]

    /// Whether the relation is a plain or partitioned table (which can carry a trigger).
    public var isTable: Bool { kind == "r" || kind == "p" }

    /// How the time column's values become timestamps.
    enum TimeKind: Sendable, Hashable {
        case timestamptz, timestamp, date, epochSeconds
    }
}

/// Resolves and validates `SourceDescription`s against `pg_catalog`.
public enum SourceCatalog {
    static let numericTypes: Set<String> = [
        "smallint", "integer", "bigint", "real", "double precision", "numeric",
    ]

    /// Checks `source` and returns it resolved, or throws a `SourceError` naming the missing
    /// relation or column or the unusable type.
    public static func resolve(_ source: SourceDescription, in session: PostgresSession) throws -> ResolvedSource {
        let relation = try findRelation(source.relation, in: session)
        let readable = try session.query("SELECT has_table_privilege($1::oid, 'SELECT')", [relation.oid])
        guard try readable[0].decode(Bool.self, at: 0) else { throw SourceError.notReadable(relation: source.relation) }

        let rows = try session.query(
            """
            SELECT a.attname::text, t.typname::text, format_type(a.atttypid, a.atttypmod),
                   coalesce(bt.typname::text, t.typname::text)
            FROM pg_attribute AS a
            JOIN pg_type AS t ON t.oid = a.atttypid
            LEFT JOIN pg_type AS bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
            WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
            """, [relation.oid])
        var types: [String: (display: String, base: String)] = [:]
        for row in rows {
            types[try row.decode(String.self, at: 0)] = (
                try row.decode(String.self, at: 2), try row.decode(String.self, at: 3)
            )
        }
        func type(of column: String) throws -> (display: String, base: String) {
            guard let type = types[column] else {
                throw SourceError.columnNotFound(column: column, relation: source.relation)
            }
            return type
        }
        func requireNumeric(_ column: String) throws -> String {
            let type = try type(of: column)
            guard numericTypes.contains(displayBase(type.base)) else {
                throw SourceError.unusableType(column: column, type: type.display, expected: "a number")
            }
            return type.display
        }

        let all =
            [source.timeColumn, source.valueColumn] + (source.seriesColumn.map { [$0] } ?? [])
            + source.covariateColumns
        var seen = Set<String>()
        for column in all where !seen.insert(column).inserted { throw SourceError.duplicateColumn(column) }

        let time = try type(of: source.timeColumn)
        let timeKind: ResolvedSource.TimeKind
        switch displayBase(time.base) {
        case "timestamp with time zone": timeKind = .timestamptz
        case "timestamp without time zone": timeKind = .timestamp
        case "date": timeKind = .date
        case let base where numericTypes.contains(base): timeKind = .epochSeconds
        default:
            throw SourceError.unusableType(
                column: source.timeColumn, type: time.display,
                expected: "timestamptz, timestamp, date or epoch seconds (a number)")
        }
        var columnTypes = [source.timeColumn: time.display, source.valueColumn: try requireNumeric(source.valueColumn)]
        for covariate in source.covariateColumns { columnTypes[covariate] = try requireNumeric(covariate) }
        if let series = source.seriesColumn { columnTypes[series] = try type(of: series).display }
        var baseTypes: [String: String] = [:]
        for column in [source.timeColumn, source.valueColumn] + source.covariateColumns {
            baseTypes[column] = displayBase(try type(of: column).base)
        }
        return ResolvedSource(
            description: source, schema: relation.schema, name: relation.name, kind: relation.kind, oid: relation.oid,
            timeKind: timeKind, columnTypes: columnTypes, baseTypes: baseTypes)
    }

    /// Maps a `pg_type.typname` to the SQL-standard spelling used above.
    private static func displayBase(_ typname: String) -> String {
        switch typname {
        case "int2": "smallint"
        case "int4": "integer"
        case "int8": "bigint"
        case "float4": "real"
        case "float8": "double precision"
        case "timestamptz": "timestamp with time zone"
        case "timestamp": "timestamp without time zone"
        default: typname
        }
    }

    /// Finds `relation` as `schema.name` (split at the first dot) or, failing that, as a
    /// name on the search path (which may itself contain dots).
    static func findRelation(
        _ relation: String, in session: PostgresSession
    ) throws -> (oid: Int64, schema: String, name: String, kind: Character) {
        var candidates: [(schema: String?, name: String)] = []
        if let dot = relation.firstIndex(of: ".") {
            candidates.append((String(relation[..<dot]), String(relation[relation.index(after: dot)...])))
        }
        candidates.append((nil, relation))
        for candidate in candidates {
            let rows = try session.query(
                """
                SELECT c.oid::int8, n.nspname::text, c.relname::text, c.relkind::text
                FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                WHERE c.relname = $2 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
                  AND (CASE WHEN $1::text IS NULL THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1::text END)
                """, [candidate.schema, candidate.name])
            if let row = rows.first {
                let kind = try row.decode(String.self, at: 3)
                return (
                    try row.decode(Int64.self, at: 0), try row.decode(String.self, at: 1),
                    try row.decode(String.self, at: 2), kind.first ?? "r"
                )
            }
        }
        throw SourceError.relationNotFound(relation)
    }
}
