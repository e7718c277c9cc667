import Foundation
public import PostgresClient

/// Options for reading a source onto its grid.
public struct ReadOptions: Sendable, Hashable, Codable {
    /// How readings within one bucket are combined.
    public var aggregation: Aggregation = .mean
    /// The first read of a source goes back at most this many steps from its newest
    /// reading, and a series keeps at most this many steps of history.
    public var maxHistory: Int = Self.defaultMaxHistory
    /// Steps before the watermark's bucket that every incremental read re-reads (the
    /// watermark's own bucket is always re-read), so late or corrected rows are absorbed.
    public var overlap: Int = 24

    /// Steps of history per series unless a model says otherwise (`max_history`; the SQL
    /// API documents the same default).
    public static let defaultMaxHistory = 20_000

    public init(aggregation: Aggregation = .mean, maxHistory: Int = defaultMaxHistory, overlap: Int = 24) {
        self.aggregation = aggregation
        self.maxHistory = maxHistory
        self.overlap = overlap
    }
}

/// The grid of one series over the range one read covered.
public struct SeriesChunk: Sendable {
    public var key: String
    /// The first bucket this read covered: the chunk replaces a series' grid from here on.
    public var coversFrom: Int64
    /// Bucket of `target[0]`, at or after `coversFrom` (the first bucket with a reading).
    public var startBucket: Int64
    /// Target per bucket, NaN where no valid reading fell. `[buckets]`.
    public var target: [Float]
    /// Each covariate per bucket, NaN where missing. `[covariates][buckets]`.
    public var covariates: [[Float]]
    /// Time (µs since the Unix epoch) of the newest valid reading: the series' watermark.
    public var watermark: Int64
    public var quality: QualityReport
}

/// Everything one read returned.
public struct SeriesRead: Sendable {
    public var chunks: [SeriesChunk]
    /// Rows streamed in total (valid or not), and how long the read took.
    public var rows: Int
    public var seconds: Double
}

/// Streams a source's rows with binary COPY and buckets them onto the grid as they arrive,
/// holding only one Float32 (plus a UInt16 count) per bucket, never the rows.
///
/// The first read of a source (no watermarks) covers `maxHistory` steps back from the
/// source's newest reading. An incremental read covers from the oldest watermark minus
/// `overlap` steps, so only new rows (and the overlap) travel. The read bound is passed to
/// the server as a session setting, so no value is ever spliced into SQL, and it is
/// compared in the time column's own type so an index on it can be used.
public struct SeriesReader: Sendable {
    public let source: ResolvedSource
    public let options: ReadOptions

    public init(source: ResolvedSource, options: ReadOptions = ReadOptions()) {
        self.source = source
        self.options = options
    }

    /// Reads rows newer than `watermarks` (per series key: µs since the Unix epoch of the
    /// newest reading already seen) minus the overlap; all recent history when empty.
    public func read(in session: PostgresSession, after watermarks: [String: Int64] = [:]) throws -> SeriesRead {
        let clock = ContinuousClock()
        let started = clock.now
        let frequency = source.description.frequency
        // The read's lower bound (µs since the Unix epoch), or nil to read everything.
        var lowerBound: Int64?
        if let oldest = watermarks.values.min() {
            lowerBound = frequency.start(of: frequency.bucket(of: oldest) - Int64(options.overlap))
        } else if try timeColumnIsIndexed(session) {
            // Cheap with an index: read only the newest `maxHistory` steps. Without one, a
            // max() would scan the table once more than the read itself; the accumulator
            // then drops what falls out of the history window as it streams.
            guard let newest = try newestTime(in: session) else {
                return SeriesRead(chunks: [], rows: 0, seconds: (clock.now - started).seconds)
            }
            lowerBound = frequency.start(of: frequency.bucket(of: newest) - Int64(options.maxHistory) + 1)
        }
        let sql = try copyStatement(session, bounded: lowerBound != nil)
        var accumulator = GridAccumulator(
            frequency: frequency, lowerBucket: lowerBound.map(frequency.bucket(of:)),
            covariates: source.description.covariateColumns.count, aggregation: options.aggregation,
            maxHistory: options.maxHistory)
        let rows = try session.transaction {
            if let lowerBound {
                try session.execute(
                    "SELECT set_config('forecastd.read_from', $1, true)",
                    [String(lowerBound - PostgresTime.epochOffsetMicroseconds)])
            }
            return try session.copyOut(sql) { row in accumulator.add(row) }
        }
        let chunks = accumulator.finish()
        return SeriesRead(chunks: chunks, rows: rows, seconds: (clock.now - started).seconds)
    }

    /// Whether some index on the relation starts with the time column.
    func timeColumnIsIndexed(_ session: PostgresSession) throws -> Bool {
        let rows = try session.query(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_index AS i
                JOIN pg_attribute AS a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = $1::oid AND a.attname = $2::text)
            """, [source.oid, source.description.timeColumn])
        return try rows[0].decode(Bool.self, at: 0)
    }

    /// The source's newest time (µs since the Unix epoch), nil when it has no rows.
    func newestTime(in session: PostgresSession) throws -> Int64? {
        let rows = try session.query("SELECT max(\(try timeExpression(session))) FROM \(try relation(session))")
        return try rows[0].decode(PostgresTimestamp?.self, at: 0)?.microsecondsSince1970
    }

    func relation(_ session: PostgresSession) throws -> String {
        "\(try session.escapeIdentifier(source.schema)).\(try session.escapeIdentifier(source.name))"
    }

    /// The time column as `timestamptz`.
    func timeExpression(_ session: PostgresSession) throws -> String {
        let column = try session.escapeIdentifier(source.description.timeColumn)
        switch source.timeKind {
        case .timestamptz: return column
        case .timestamp: return "(\(column) AT TIME ZONE 'UTC')"
        case .date: return "(\(column)::timestamp AT TIME ZONE 'UTC')"
        case .epochSeconds:
            // Non-finite or absurd epochs become NULL (counted), instead of failing the read.
            return
                "(CASE WHEN \(column)::float8 BETWEEN -1e11 AND 1e11 THEN to_timestamp(\(column)::float8) END)"
        }
    }

    /// `time_column >= bound`, with the bound converted to the column's own type so an index
    /// on the column serves it.
    func lowerBoundCondition(_ session: PostgresSession) throws -> String {
        let column = try session.escapeIdentifier(source.description.timeColumn)
        let bound =
            "('2000-01-01 00:00:00+00'::timestamptz + current_setting('forecastd.read_from')::int8 * interval '1 microsecond')"
        let typed =
            switch source.timeKind {
            case .timestamptz: bound
            case .timestamp: "(\(bound) AT TIME ZONE 'UTC')"
            case .date: "(\(bound) AT TIME ZONE 'UTC')::date"
            case .epochSeconds: "extract(epoch FROM \(bound))"
            }
        // Rows without a time are read too, so each read reports them.
        return "(\(column) >= \(typed) OR \(column) IS NULL)"
    }

    /// `COPY (SELECT key, time, value, covariates... WHERE time >= bound) TO STDOUT`.
    func copyStatement(_ session: PostgresSession, bounded: Bool) throws -> String {
        let key = try source.description.seriesColumn.map { "\(try session.escapeIdentifier($0))::text" } ?? "''::text"
        let value = "\(try session.escapeIdentifier(source.description.valueColumn))::float8"
        let covariates = try source.description.covariateColumns.map { "\(try session.escapeIdentifier($0))::float8" }
        let columns = ([key, try timeExpression(session), value] + covariates).joined(separator: ", ")
        return """
            COPY (SELECT \(columns) FROM \(try relation(session))\(bounded ? " WHERE \(try lowerBoundCondition(session))" : "")) \
            TO STDOUT (FORMAT binary)
            """
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
