import Ingest
import PostgresClient

/// Forecast storage (migration 0011): the sets forecastd issues, each series' newest set,
/// the actuals of matured targets, and the weekly partitions that retention drops.
///
/// - `forecast.sets`: one row per model, series and issued set, the steps as arrays,
///   partitioned by week of `issued_at`.
/// - `forecast.latest_sets`: each series' newest set, so `forecast.latest` costs the
///   model's series x horizon, whatever the history.
/// - `forecast.actuals`: per series and matured target time, the actual and the
///   seasonal-naive values (shared by every set that forecast that time), partitioned by
///   week of `target_time`; once all of a set's targets have come, its row gets them too.
///
/// `scripts/bench-storage` runs the statements between `BEGIN bench:` and `END bench:`
/// markers verbatim (`$1` the model, `$2` the version or the time scored through): keep
/// each a complete statement ending in a semicolon.
enum ForecastStore {
    // MARK: Writing sets

    // BEGIN bench: write
    static let createSetsTable = """
        CREATE TEMP TABLE IF NOT EXISTS forecastd_sets (
            series text, issued_at timestamptz, step_interval interval, levels int4, value float8[],
            lower float8[], upper float8[], quantiles float8[], target_times timestamptz[]) ON COMMIT DELETE ROWS;
        """
    /// The rows of `forecastd_rows`, one set per series and issue time, in the stored form.
    static let packSets = """
        INSERT INTO forecastd_sets
        SELECT r.series, r.issued_at, k.step_interval, k.levels, k.value, k.lower, k.upper, k.quantiles, k.target_times
        FROM (SELECT series, issued_at,
                     array_agg(ROW(step, target_time, value, lower, upper, quantiles)::forecast.forecast_step) AS steps
              FROM forecastd_rows GROUP BY series, issued_at) AS r
        CROSS JOIN LATERAL forecast.pack_steps(r.issued_at, r.steps) AS k;
        """
    /// Partitions for the weeks written (created before the transaction; this only makes
    /// sure, should retention have dropped an empty one in between).
    static let ensureSetPartitions = """
        SELECT count(forecast.ensure_partition(w.week))
        FROM (SELECT DISTINCT date_trunc('week', issued_at, 'UTC') AS week FROM forecastd_sets) AS w;
        """
    /// History; a set issued again (a new version) replaces the stored one and is scored
    /// again from `forecast.actuals`.
    static let storeSets = """
        INSERT INTO forecast.sets AS s
            (model_id, series, issued_at, step_interval, version, levels, value, lower, upper, quantiles, target_times)
        SELECT (SELECT id FROM forecast.models WHERE name = $1), series, issued_at, step_interval, $2, levels, value,
               lower, upper, quantiles, target_times
        FROM forecastd_sets
        ON CONFLICT (model_id, series, issued_at) DO UPDATE
        SET step_interval = EXCLUDED.step_interval, version = EXCLUDED.version, levels = EXCLUDED.levels,
            value = EXCLUDED.value, lower = EXCLUDED.lower, upper = EXCLUDED.upper, quantiles = EXCLUDED.quantiles,
            target_times = EXCLUDED.target_times, scored = false, actual = NULL, seasonal_naive = NULL;
        """
    /// Each series' newest set; a series seen for the first time records its actuals from
    /// this set on.
    static let storeLatest = """
        INSERT INTO forecast.latest_sets AS l
            (model_id, series, issued_at, step_interval, version, levels, value, lower, upper, quantiles, target_times,
             actuals_through, written_at)
        SELECT DISTINCT ON (series)
               (SELECT id FROM forecast.models WHERE name = $1), series, issued_at, step_interval, $2, levels, value,
               lower, upper, quantiles, target_times, issued_at, now()
        FROM forecastd_sets ORDER BY series, issued_at DESC
        ON CONFLICT (model_id, series) DO UPDATE
        SET issued_at = EXCLUDED.issued_at, step_interval = EXCLUDED.step_interval, version = EXCLUDED.version,
            levels = EXCLUDED.levels, value = EXCLUDED.value, lower = EXCLUDED.lower, upper = EXCLUDED.upper,
            quantiles = EXCLUDED.quantiles, target_times = EXCLUDED.target_times, written_at = EXCLUDED.written_at
        WHERE l.issued_at <= EXCLUDED.issued_at;
        """
    // END bench: write

    /// Sets packed by the client (`PackedSet`), the interval as µs.
    static let createPackedTable = """
        CREATE TEMP TABLE IF NOT EXISTS forecastd_packed (
            series text, issued_at timestamptz, step_us int8, levels int4, value float8[], lower float8[],
            upper float8[], quantiles float8[]) ON COMMIT DELETE ROWS;
        """
    static let insertPacked = """
        INSERT INTO forecastd_sets
        SELECT series, issued_at, step_us * interval '1 microsecond', levels, value, lower, upper, quantiles, NULL
        FROM forecastd_packed;
        """

    /// Writes forecast sets and the series' watermarks and quality in one transaction
    /// (fenced): readers see all of it or none. Writing a set again (same model, series and
    /// `issuedAt`, e.g. by a new version) replaces it: idempotent.
    static func writeForecasts(
        _ rows: [ForecastRow], version: Int, states: [SeriesStateRow],
        lease: Lease, owner: String, in session: PostgresSession
    ) throws {
        // Creating a partition locks forecast.models: never while the fence holds the model's
        // row (a transaction waiting for that row would deadlock with it). Usually they exist.
        for week in Set(rows.map { weekStart($0.issuedAt) }).sorted() {
            try session.query("SELECT forecast.ensure_partition($1)", [PostgresTimestamp(microsecondsSince1970: week)])
        }
        try session.transaction {
            try ModelStore.fence(lease, owner: owner, in: session)
            try session.executeScript(
                """
                CREATE TEMP TABLE IF NOT EXISTS forecastd_rows (
                    series text, issued_at timestamptz, target_time timestamptz, step int4, value float8,
                    lower float8, upper float8, quantiles float8[]) ON COMMIT DELETE ROWS;
                CREATE TEMP TABLE IF NOT EXISTS forecastd_series_states (
                    series text, watermark timestamptz, quality text, reason text, bridged int4) ON COMMIT DELETE ROWS;
                """)
            if !rows.isEmpty {
                // Regular sets (all the Forecaster writes) go packed; any other as steps,
                // packed by forecast.pack_steps.
                let (packed, others) = PackedSet.pack(rows)
                try session.execute(createSetsTable)
                if !others.isEmpty {
                    try session.copyIn("COPY forecastd_rows FROM STDIN (FORMAT binary)") { writer in
                        for row in others {
                            try writer.appendRow([
                                row.series, PostgresTimestamp(microsecondsSince1970: row.issuedAt),
                                PostgresTimestamp(microsecondsSince1970: row.targetTime), Int32(row.step), row.value,
                                row.lower, row.upper, row.quantiles.isEmpty ? nil : PostgresFloat8Array(row.quantiles),
                            ])
                        }
                    }
                    try session.execute(packSets)
                }
                if !packed.isEmpty {
                    try session.execute(createPackedTable)
                    try session.copyIn("COPY forecastd_packed FROM STDIN (FORMAT binary)") { writer in
                        for set in packed {
                            try writer.appendRow([
                                set.series, PostgresTimestamp(microsecondsSince1970: set.issuedAt), set.spacing,
                                Int32(set.levels), PostgresFloat8Array(set.value),
                                set.lower.map(PostgresFloat8Array.init),
                                set.upper.map(PostgresFloat8Array.init), set.quantiles.map(PostgresFloat8Array.init),
                            ])
                        }
                    }
                    try session.execute(insertPacked)
                }
                try session.execute(ensureSetPartitions)
                try session.execute(storeSets, [lease.model, Int32(version)])
                try session.execute(storeLatest, [lease.model, Int32(version)])
            }
            if !states.isEmpty {
                try session.copyIn("COPY forecastd_series_states FROM STDIN (FORMAT binary)") { writer in
                    for state in states {
                        try writer.appendRow([
                            state.series, PostgresTimestamp(microsecondsSince1970: state.watermark), state.quality,
                            state.reason, Int32(clamping: state.bridged),
                        ])
                    }
                }
                try session.execute(
                    """
                    INSERT INTO forecast.series_state
                        (model, series, watermark, last_seen_at, quality, reason, bridged, updated_at)
                    SELECT $1, t.series, t.watermark, now(),
                           coalesce(t.quality::jsonb, (
                               SELECT o.quality FROM forecast.series_state AS o
                               WHERE o.model = $1 AND o.series = t.series), '{}'),
                           t.reason, t.bridged, now()
                    FROM forecastd_series_states AS t
                    ON CONFLICT (model, series) DO UPDATE
                    SET watermark = EXCLUDED.watermark, last_seen_at = EXCLUDED.last_seen_at,
                        quality = EXCLUDED.quality, reason = EXCLUDED.reason, bridged = EXCLUDED.bridged,
                        updated_at = EXCLUDED.updated_at
                    """, [lease.model])
            }
        }
    }

    /// Monday 00:00 UTC of the week holding `time` (µs since the Unix epoch, at or after
    /// 1970; 1970-01-05 was a Monday): where `forecast.ensure_partition` starts it.
    static func weekStart(_ time: Int64) -> Int64 {
        let day: Int64 = 86_400_000_000
        let offset = (time - 4 * day) % (7 * day)
        return time - (offset < 0 ? offset + 7 * day : offset)
    }

    /// Per series, the newest `issued_at` written (µs since the Unix epoch).
    static func lastIssued(_ model: String, in session: PostgresSession) throws -> [String: Int64] {
        let rows = try session.query(
            """
            SELECT series, issued_at FROM forecast.latest_sets
            WHERE model_id = (SELECT id FROM forecast.models WHERE name = $1)
            """, [model])
        var result: [String: Int64] = [:]
        for row in rows {
            result[try row.decode(String.self, at: 0)] =
                try row.decode(PostgresTimestamp.self, at: 1).microsecondsSince1970
        }
        return result
    }

    // MARK: Scoring

    // BEGIN bench: unscored
    /// Series whose newest set has targets after the time their actuals are recorded
    /// through, up to `$2`: one row per series, read from latest_sets (its primary key).
    static let unscoredSeries = """
        SELECT series, actuals_through, last_target, steps
        FROM (SELECT l.series, l.actuals_through, cardinality(l.value) AS steps,
                     CASE WHEN l.target_times IS NULL THEN l.issued_at + cardinality(l.value) * l.step_interval
                          ELSE (SELECT max(t) FROM unnest(l.target_times) AS t) END AS last_target
              FROM forecast.latest_sets AS l
              WHERE l.model_id = (SELECT id FROM forecast.models WHERE name = $1)) AS l
        WHERE actuals_through < least(last_target, $2);
        """
    // END bench: unscored

    /// The series of `model` with forecast targets whose actuals are not recorded yet, up to
    /// `through` (µs): see `ActualsDue.actuals(in:)`.
    static func unscored(_ model: String, through: Int64, in session: PostgresSession) throws -> [ActualsDue] {
        try session.query(unscoredSeries, [model, PostgresTimestamp(microsecondsSince1970: through)]).map { row in
            ActualsDue(
                series: try row.decode(String.self, at: 0),
                recordedThrough: try row.decode(PostgresTimestamp.self, at: 1).microsecondsSince1970,
                lastTarget: try row.decode(PostgresTimestamp.self, at: 2).microsecondsSince1970,
                steps: try row.decode(Int.self, at: 3))
        }
    }

    // BEGIN bench: score
    static let createActualsTables = """
        CREATE TEMP TABLE IF NOT EXISTS forecastd_actuals (
            series text, target_time timestamptz, actual float8, season int4, seasonal_naive float8[])
            ON COMMIT DELETE ROWS;
        CREATE TEMP TABLE IF NOT EXISTS forecastd_scored (series text, through timestamptz) ON COMMIT DELETE ROWS;
        """
    static let ensureActualPartitions = """
        SELECT count(forecast.ensure_partition(w.week))
        FROM (SELECT DISTINCT date_trunc('week', target_time, 'UTC') AS week FROM forecastd_actuals) AS w;
        """
    /// NaN stands for a missing seasonal-naive value (the wire format has no NULL elements).
    static let storeActuals = """
        INSERT INTO forecast.actuals AS a (model_id, series, target_time, actual, season, seasonal_naive)
        SELECT (SELECT id FROM forecast.models WHERE name = $1), t.series, t.target_time, t.actual, t.season,
               (SELECT CASE WHEN count(nullif(n.v, 'NaN')) > 0 THEN array_agg(nullif(n.v, 'NaN') ORDER BY n.i) END
                FROM unnest(t.seasonal_naive) WITH ORDINALITY AS n (v, i))
        FROM forecastd_actuals AS t
        ON CONFLICT (model_id, series, target_time) DO UPDATE
        SET actual = EXCLUDED.actual, season = EXCLUDED.season, seasonal_naive = EXCLUDED.seasonal_naive;
        """
    static let storeScoredThrough = """
        UPDATE forecast.latest_sets AS l SET actuals_through = s.through
        FROM forecastd_scored AS s
        WHERE l.model_id = (SELECT id FROM forecast.models WHERE name = $1) AND l.series = s.series
          AND l.actuals_through < s.through;
        """
    /// Sets whose targets have all come get their actuals in their own row, once.
    static let foldActuals = """
        SELECT forecast.fold_actuals((SELECT id FROM forecast.models WHERE name = $1));
        """
    // END bench: score

    /// Records the actuals (and seasonal-naive values) of matured targets and, per series,
    /// the time they are now recorded through (`through`, µs), and scores the sets whose
    /// targets have all come (`forecast.fold_actuals`), in one transaction. Writing an actual
    /// again replaces it. Not fenced: an actual is the same whoever records it.
    static func score(
        _ model: String, _ actuals: [ActualRow], through: [String: Int64], in session: PostgresSession
    ) throws {
        guard !actuals.isEmpty || !through.isEmpty else { return }
        try session.transaction {
            try session.executeScript(createActualsTables)
            if !actuals.isEmpty {
                try session.copyIn("COPY forecastd_actuals FROM STDIN (FORMAT binary)") { writer in
                    for actual in actuals {
                        try writer.appendRow([
                            actual.series, PostgresTimestamp(microsecondsSince1970: actual.targetTime), actual.actual,
                            Int32(clamping: actual.season),
                            actual.seasonalNaive.isEmpty
                                ? nil : PostgresFloat8Array(actual.seasonalNaive.map { $0 ?? .nan }),
                        ])
                    }
                }
                try session.execute(ensureActualPartitions)
                try session.execute(storeActuals, [model])
            }
            if !through.isEmpty {
                try session.copyIn("COPY forecastd_scored FROM STDIN (FORMAT binary)") { writer in
                    for (series, time) in through.sorted(by: { $0.key < $1.key }) {
                        try writer.appendRow([series, PostgresTimestamp(microsecondsSince1970: time)])
                    }
                }
                try session.execute(storeScoredThrough, [model])
                try session.execute(foldActuals, [model])
            }
        }
    }

    // MARK: Partitions and retention

    /// Creates the forecast partitions of every week from this one through `aheadSeconds`
    /// from now (by the clock), so a writer rarely creates one in its transaction. Returns
    /// the number of weeks added.
    @discardableResult
    static func ensurePartitions(aheadSeconds: Double = 14 * 86_400, in session: PostgresSession) throws -> Int {
        try session.query("SELECT forecast.ensure_partitions(now() + make_interval(secs => $1))", [aheadSeconds])[0]
            .decode(Int.self, at: 0)
    }

    /// Retention: drops the weekly partitions of forecasts and actuals that ended more than
    /// `keepSeconds` ago, both by the clock and counted back from the newest forecast of
    /// every model with rows in them (data time: a replayed history keeps its recent part;
    /// a model that wrote nothing for `keepSeconds` holds nothing back). Each series' newest
    /// set stays in `forecast.latest` (`latest_sets`). Returns the number of
    /// partitions dropped (0 while another process is at it). Not fenced by a lease: it is
    /// the same whoever does it.
    @discardableResult
    static func pruneForecasts(keepSeconds: Double, in session: PostgresSession) throws -> Int {
        try session.query("SELECT forecast.drop_expired_partitions(make_interval(secs => $1))", [keepSeconds])[0]
            .decode(Int.self, at: 0)
    }
}
