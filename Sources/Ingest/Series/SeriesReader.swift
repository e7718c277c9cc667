import Foundation
public import PostgresClient

/// Options for reading a source onto its grid.
public struct ReadOptions: Sendable, Hashable, Codable {
    /// How readings within one bucket are combined.
    public var aggregation: Aggregation = .mean
    /// The first read of a source goes back at most this many steps from its newest valid
    /// reading, and a series keeps at most this many steps of history.
    public var maxHistory: Int = Self.defaultMaxHistory
    /// Steps before the watermark's bucket that every incremental read re-reads (the
    /// watermark's own bucket is always re-read), so late or corrected rows are absorbed.
    public var overlap: Int = 24
    /// How far after `now` a reading may lie, in steps of the grid: a reading later than
    /// `now + maxFuture` steps is in the future and dropped (counted in
    /// `QualityReport.droppedFutureTime`), so one far-future row (a typo, year 9999) can
    /// neither stretch the grid nor hide the real data. Callers pass the model's horizon.
    public var maxFuture: Int = Self.defaultMaxFuture
    /// The read's reference time (µs since the Unix epoch) for `maxFuture`; nil (the
    /// default) takes the server's `now()` at the start of the read, so the bound follows
    /// the clock of the database that timestamps the rows, not this machine's.
    public var now: Int64?

    /// Steps of history per series unless a model says otherwise (`max_history`; the SQL
    /// API documents the same default).
    public static let defaultMaxHistory = 20_000
    /// Steps a reading may lie ahead of `now` unless the caller says otherwise: a day of
    /// hourly data, enough for sensor clock skew and values scheduled a little ahead.
    public static let defaultMaxFuture = 24

    public init(
        aggregation: Aggregation = .mean, maxHistory: Int = defaultMaxHistory, overlap: Int = 24,
        maxFuture: Int = defaultMaxFuture, now: Int64? = nil
    ) {
        self.aggregation = aggregation
        self.maxHistory = maxHistory
        self.overlap = overlap
        self.maxFuture = maxFuture
        self.now = now
    }

    /// Options saved before `maxFuture` existed decode with its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        aggregation = try container.decodeIfPresent(Aggregation.self, forKey: .aggregation) ?? .mean
        maxHistory = try container.decodeIfPresent(Int.self, forKey: .maxHistory) ?? Self.defaultMaxHistory
        overlap = try container.decodeIfPresent(Int.self, forKey: .overlap) ?? 24
        maxFuture = try container.decodeIfPresent(Int.self, forKey: .maxFuture) ?? Self.defaultMaxFuture
        now = try container.decodeIfPresent(Int64.self, forKey: .now)
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
/// source's newest valid reading. An incremental read covers from the oldest watermark minus
/// `overlap` steps, so only new rows (and the overlap) travel. The read bound is passed to
/// the server as a session setting, so no value is ever spliced into SQL, and it is
/// compared in the time column's own type so an index on it can be used.
///
/// No stored value can fail or crash a read: times that are `±infinity`, before 1970 or in
/// the future (see `ReadOptions.maxFuture`) and values that are NaN, infinite or too large
/// for Float32 are dropped and counted in the series' `QualityReport`; `numeric` values
/// beyond float8 and dates beyond `timestamptz` are converted so the server cannot reject
/// them.
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
        let now = try options.now ?? serverNow(in: session)
        let newestAllowed = GridTime.newestAllowed(now: now, steps: options.maxFuture, frequency: frequency)
        // The read's lower bound (µs since the Unix epoch), or nil to read everything.
        var lowerBound: Int64?
        if let oldest = watermarks.values.min() {
            // A watermark from elsewhere may lie outside what this read accepts.
            let watermark = min(max(oldest, GridTime.earliest), newestAllowed)
            lowerBound = frequency.start(
                of: frequency.bucket(of: watermark).saturatingSubtracting(Int64(max(0, options.overlap))))
        } else if try timeColumnIsIndexed(session), let newest = try newestTime(in: session, notAfter: newestAllowed) {
            // Cheap with an index: read only the newest `maxHistory` steps. Without one, a
            // max() would scan the table once more than the read itself; the accumulator
            // then drops what falls out of the history window as it streams. Without a valid
            // reading, the whole (empty or untrusted) table is read, so it is reported.
            let history = Int64(max(1, options.maxHistory))
            lowerBound = frequency.start(of: frequency.bucket(of: newest).saturatingSubtracting(history - 1))
        }
        // Between 1970 (earlier rows are dropped anyway) and `GridTime.latest`, so the bound
        // converts to every time type without overflow.
        lowerBound = lowerBound.map { min(max($0, GridTime.earliest), GridTime.latest) }
        let sql = try copyStatement(session, bounded: lowerBound != nil)
        var accumulator = GridAccumulator(
            frequency: frequency, lowerBucket: lowerBound.map(frequency.bucket(of:)),
            covariates: source.description.covariateColumns.count, aggregation: options.aggregation,
            maxHistory: options.maxHistory, newestAllowed: newestAllowed)
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

    /// The server's `now()` (µs since the Unix epoch).
    func serverNow(in session: PostgresSession) throws -> Int64 {
        try session.query("SELECT now()")[0].decode(PostgresTimestamp.self, at: 0).microsecondsSince1970
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

    /// The source's newest time at or before `bound` (µs since the Unix epoch), nil when it
    /// has none. `max()` runs on the bare column, compared in its own type (and so below
    /// `'infinity'` and NaN), so an index on the column answers it from one end.
    func newestTime(in session: PostgresSession, notAfter bound: Int64) throws -> Int64? {
        let column = try session.escapeIdentifier(source.description.timeColumn)
        let rows = try session.query(
            """
            SELECT \(timeExpression(of: "newest")) FROM (
                SELECT max(\(column)) AS newest FROM \(try relation(session))
                WHERE \(column) <= \(typedBound("$1::timestamptz", roundingUp: false))) AS m
            """, [PostgresTimestamp(microsecondsSince1970: bound)])
        return try rows[0].decode(PostgresTimestamp?.self, at: 0)?.microsecondsSince1970
    }

    func relation(_ session: PostgresSession) throws -> String {
        "\(try session.escapeIdentifier(source.schema)).\(try session.escapeIdentifier(source.name))"
    }

    /// The base type of the time column is an integer (so bounds are rounded to integers).
    private var integerTime: Bool {
        ["smallint", "integer", "bigint"].contains(source.baseTypes[source.description.timeColumn] ?? "")
    }

    /// The time column's value `expression` (the column, or an alias of its type) as
    /// `timestamptz`.
    func timeExpression(of expression: String) -> String {
        let x = expression
        switch source.timeKind {
        case .timestamptz:
            return x
        case .timestamp:
            return "(\(x) AT TIME ZONE 'UTC')"
        case .date:
            // Dates run to 5874897 AD, timestamps to 294276 AD: later dates are clamped (and
            // then dropped as in the future) instead of failing the cast and the read.
            return """
                ((CASE WHEN \(x) > '200000-01-01'::date AND \(x) < 'infinity'::date THEN '200000-01-01'::date \
                ELSE \(x) END)::timestamp AT TIME ZONE 'UTC')
                """
        case .epochSeconds:
            // Non-finite or absurd epochs become NULL (counted), instead of failing the read.
            let type = source.baseTypes[source.description.timeColumn] ?? ""
            let seconds = type == "numeric" ? x : "\(x)::float8"
            return "(CASE WHEN \(seconds) BETWEEN -1e11 AND 1e11 THEN to_timestamp(\(float8(x, type: type))) END)"
        }
    }

    /// `expression` (of SQL type `type`) as float8. A `numeric` can exceed float8, which
    /// would fail the whole read: beyond ±1e300 it becomes ±1e300 (then dropped as too
    /// large for Float32), below 1e-300 in magnitude 0; NaN and ±Infinity stay themselves.
    func float8(_ expression: String, type: String) -> String {
        guard type == "numeric" else { return "\(expression)::float8" }
        let x = expression
        return """
            (CASE WHEN \(x) > 1e300 OR \(x) < -1e300 THEN \
            (CASE WHEN \(x)::text IN ('NaN', 'Infinity', '-Infinity') THEN \(x)::text::float8 \
            WHEN \(x) > 0 THEN 1e300::float8 ELSE -1e300::float8 END) \
            WHEN \(x) >= 1e-300 OR \(x) <= -1e-300 THEN \(x)::float8 \
            WHEN \(x) IS NOT NULL THEN 0::float8 END)
            """
    }

    /// `bound` (a `timestamptz` SQL expression) in the time column's own type, so comparing
    /// the bare column with it can use an index on the column; integer epochs round up for
    /// a lower bound and down for an upper one.
    func typedBound(_ bound: String, roundingUp: Bool) -> String {
        switch source.timeKind {
        case .timestamptz: bound
        case .timestamp: "(\(bound) AT TIME ZONE 'UTC')"
        case .date: "(\(bound) AT TIME ZONE 'UTC')::date"
        case .epochSeconds where integerTime: "\(roundingUp ? "ceil" : "floor")(extract(epoch FROM \(bound)))::int8"
        case .epochSeconds: "extract(epoch FROM \(bound))"
        }
    }

    /// `time_column >= bound`, with the bound converted to the column's own type so an index
    /// on the column serves it.
    func lowerBoundCondition(_ session: PostgresSession) throws -> String {
        let column = try session.escapeIdentifier(source.description.timeColumn)
        let bound =
            "('2000-01-01 00:00:00+00'::timestamptz + current_setting('forecastd.read_from')::int8 * interval '1 microsecond')"
        // Rows without a time are read too, so each read reports them.
        return "(\(column) >= \(typedBound(bound, roundingUp: true)) OR \(column) IS NULL)"
    }

    /// `COPY (SELECT key, time, value, covariates... WHERE time >= bound) TO STDOUT`.
    func copyStatement(_ session: PostgresSession, bounded: Bool) throws -> String {
        let description = source.description
        let key = try description.seriesColumn.map { "\(try session.escapeIdentifier($0))::text" } ?? "''::text"
        let numbers = try ([description.valueColumn] + description.covariateColumns).map { column in
            float8(try session.escapeIdentifier(column), type: source.baseTypes[column] ?? "")
        }
        let time = timeExpression(of: try session.escapeIdentifier(description.timeColumn))
        let columns = ([key, time] + numbers).joined(separator: ", ")
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
