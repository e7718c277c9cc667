import Foundation
public import Ingest
public import PostgresClient

/// What `forecastd plot` asks for; times as text PostgreSQL parses (`'2024-03-01 00:00+00'`).
public struct PlotRequest: Sendable {
    public var model: String
    /// nil: the series with the newest forecast (the first by name among ties).
    public var series: String?
    /// nil: three lookbacks before the newest forecast's issue time.
    public var from: String?
    /// nil: the end of the newest forecast.
    public var to: String?
    /// Only forecasts issued by this model version.
    public var version: Int?

    public init(model: String, series: String? = nil, from: String? = nil, to: String? = nil, version: Int? = nil) {
        self.model = model
        self.series = series
        self.from = from
        self.to = to
        self.version = version
    }
}

/// A chart ready to render, the series it shows, and what the user should be told about
/// choices made for them (for stderr).
public struct Plot: Sendable {
    public var chart: ForecastChart
    public var series: String
    public var notes: [String]
}

/// Where charts get their data. ALL the SQL of charts lives in this file: forecasts come
/// from the storage of migration 0011 (`forecast.latest_sets` and `forecast.sets` to find
/// sets through their keys, the views `forecast.latest` and `forecast.predictions` for their
/// steps), `forecast.series_state`, and `forecast.backtests` /
/// `forecast.backtest_forecasts`; readings come from the model's source through the daemon's
/// own reading path (`SourceCatalog` + `SeriesReader`), so they appear as the model saw
/// them: on its grid, a mean per bucket, untrusted rows dropped, NaN where a bucket had no
/// reading (a gap in the line). Times are µs since the Unix epoch.
public enum ChartData {
    /// Why a chart cannot be drawn as asked (the user's mistake: exit 64).
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unknownModel(String)
        case unknownSeries(model: String, series: String, known: [String])
        case noForecastOfVersion(model: String, series: String?, version: Int)
        case noSeries(model: String)
        case emptySpan
        case unknownBacktest(Int64)
        case invalidTime(String, message: String)

        public var description: String {
            switch self {
            case .unknownModel(let name): "no model named '\(name)'"
            case .unknownSeries(let model, let series, let known):
                "model '\(model)' has no series '\(series)'"
                    + (known.isEmpty ? "" : "; it has \(ChartData.listed(known))")
            case .noForecastOfVersion(let model, let series, let version):
                "version \(version) of model '\(model)' issued no forecast"
                    + (series.map { " of series '\($0)'" } ?? "")
            case .noSeries(let model): "model '\(model)' has no series yet: its source holds no valid reading"
            case .emptySpan: "--from must be before --to"
            case .unknownBacktest(let id): "no backtest \(id)"
            case .invalidTime(let text, let message): "invalid time '\(text)': \(message)"
            }
        }
    }

    /// How many lookbacks of readings a plot shows before the newest forecast by default.
    static let defaultLookbacks: Int64 = 3
    /// The most steps of readings one chart reads per series.
    static let maxSteps = 1_000_000

    /// The chart `forecastd plot` draws: a series' readings, its newest forecast with the
    /// interval and issue time, and earlier forecasts with their actuals: going back from the
    /// newest, each time the latest earlier forecast whose horizon ended by the next one's
    /// issue time (non-overlapping, each shown whole).
    public static func plot(_ request: PlotRequest, on connection: PostgresConnection) async throws -> Plot {
        try await connection.withSession { session in try plot(request, in: session) }
    }

    static func plot(_ request: PlotRequest, in session: PostgresSession) throws -> Plot {
        guard let settings = try ModelStore.model(request.model, in: session)?.settings else {
            throw Failure.unknownModel(request.model)
        }
        let model = settings.name
        let frequency = settings.source.frequency
        let newest = try newestIssued(model, version: request.version, in: session)
        let watermarks = try watermarks(model, in: session)
        if let version = request.version, request.series.map({ newest[$0] == nil }) ?? newest.isEmpty {
            throw Failure.noForecastOfVersion(model: model, series: request.series, version: version)
        }
        var (series, note) = choose(request.series, newest: newest, known: watermarks.keys.sorted())
        let forecast = try series.map { try newestForecast(model, series: $0, version: request.version, in: session) }
        let issuedAt = forecast?.points.isEmpty == false ? forecast?.issuedAt : nil

        // The span: as asked, else from three lookbacks before the issue time (or `to`) to the
        // end of the forecast (or of the readings).
        let askedFrom = try instant(request.from, in: session)
        let askedTo = try instant(request.to, in: session)
        let lookbacks = defaultLookbacks * Int64(settings.lookback) * frequency.microseconds
        let readFrom =
            askedFrom ?? issuedAt.map { $0 - lookbacks } ?? askedTo.map { $0 - lookbacks + frequency.microseconds }
        let set = try readGrid(settings, from: readFrom, in: session)
        if series == nil {
            (series, note) = choose(nil, newest: [:], known: set.keys)
        }
        guard let series else { throw Failure.noSeries(model: model) }
        let grid = set.series[series]
        if grid == nil, newest[series] == nil, watermarks[series] == nil {
            let known = Set(newest.keys).union(watermarks.keys).union(set.keys).sorted()
            throw Failure.unknownSeries(model: model, series: series, known: known)
        }
        let to = askedTo ?? forecast?.points.last?.time ?? grid?.lastBucketTime ?? watermarks[series] ?? readFrom ?? 0
        let from = readFrom ?? to - lookbacks + frequency.microseconds
        guard from < to else { throw Failure.emptySpan }

        let past = try earlierForecasts(
            model, series: series, version: request.version, from: from, before: min(issuedAt ?? to, to), to: to,
            in: session)
        var subtitle = ["no forecast"]
        if let forecast, let issuedAt {
            subtitle = [
                "forecast of version \(forecast.version) issued \(ChartTicks.dateTimeLabel(issuedAt)) UTC"
                    + (forecast.stale ? " (stale: newer readings, or a reason in series_state)" : "")
            ]
        }
        subtitle.append("grid \(frequency), horizon \(settings.horizon), lookback \(settings.lookback)")
        let points = (forecast?.points ?? []).filter { $0.time >= from && $0.time <= to }
        let chart = ForecastChart(
            title: series.isEmpty ? model : "\(model) · \(series)", subtitle: subtitle.joined(separator: " · "),
            valueLabel: settings.source.valueColumn, history: readings(grid, from: from, to: to), forecast: points,
            issuedAt: points.isEmpty ? nil : issuedAt, past: past)
        return Plot(chart: chart, series: series, notes: note.map { [$0] } ?? [])
    }

    /// The series to draw and what to tell the user about the choice: `asked` when given;
    /// else the one with the newest forecast in `newest` (issue times by series), the first
    /// by name among ties; else the first of `known` by name.
    static func choose(_ asked: String?, newest: [String: Int64], known: [String]) -> (String?, String?) {
        if let asked { return (asked, nil) }
        if let time = newest.values.max() {
            let tied = newest.filter { $0.value == time }.keys.sorted()
            guard newest.count > 1 else { return (tied[0], nil) }
            let why =
                tied.count > 1
                ? "the first by name of \(tied.count) with the newest forecast" : "the one with the newest forecast"
            return (
                tied[0], "plotting series '\(tied[0])', \(why); --series picks another: \(listed(newest.keys.sorted()))"
            )
        }
        guard let first = known.sorted().first else { return (nil, nil) }
        guard known.count > 1 else { return (first, nil) }
        return (
            first,
            "no forecast yet; plotting series '\(first)', the first by name; --series picks another: \(listed(known.sorted()))"
        )
    }

    /// The readings of `grid` in buckets starting in `[from, to]`, NaN where a bucket had none.
    static func readings(_ grid: RegularSeries?, from: Int64, to: Int64) -> [ForecastChart.Reading] {
        guard let grid, from <= to else { return [] }
        let frequency = grid.frequency
        let first = max(frequency.bucket(of: from - 1) + 1, grid.startBucket)
        let last = min(frequency.bucket(of: to), grid.endBucket - 1)
        guard first <= last else { return [] }
        return (first...last).map { bucket in
            ForecastChart.Reading(
                time: frequency.start(of: bucket), value: Double(grid.target[Int(bucket - grid.startBucket)]))
        }
    }

    /// `text` as an instant PostgreSQL parses (µs since the Unix epoch, within 1970 and
    /// the grid's latest time), nil for nil.
    static func instant(_ text: String?, in session: PostgresSession) throws -> Int64? {
        guard let text else { return nil }
        do {
            let time = try session.query("SELECT $1::text::timestamptz", [text])[0]
                .decode(PostgresTimestamp.self, at: 0).microsecondsSince1970
            return min(max(time, 0), latest)
        } catch let error as PostgresError where error.sqlState?.hasPrefix("22") ?? false {
            throw Failure.invalidTime(text, message: error.message)
        }
    }

    /// The latest instant a chart considers (about year 250,000, as the reader's bound).
    static let latest: Int64 = 8_000_000_000_000_000_000

    // MARK: Forecasts

    /// Per series, the issue time of its newest forecast (by `version` when given).
    static func newestIssued(_ model: String, version: Int?, in session: PostgresSession) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try session.query(
            """
            SELECT l.series, l.issued_at FROM forecast.latest_sets AS l
            JOIN forecast.models AS m ON m.id = l.model_id
            WHERE m.name = $1 AND $2::int4 IS NULL
            UNION ALL
            SELECT s.series, max(s.issued_at) FROM forecast.sets AS s
            JOIN forecast.models AS m ON m.id = s.model_id
            WHERE m.name = $1 AND s.version = $2
            GROUP BY s.series
            """, [model, version.map { Int32(clamping: $0) }])
        {
            result[try row.decode(String.self, at: 0)] = try row.decode(PostgresTimestamp.self, at: 1)
                .microsecondsSince1970
        }
        return result
    }

    /// Per series the daemon has read, its watermark (newest reading).
    static func watermarks(_ model: String, in session: PostgresSession) throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try session.query("SELECT series, watermark FROM forecast.series_state WHERE model = $1", [model]) {
            result[try row.decode(String.self, at: 0)] =
                try row.decode(PostgresTimestamp?.self, at: 1)?.microsecondsSince1970 ?? 0
        }
        return result
    }

    /// The newest forecast of `series` (`forecast.latest`, or the newest set of `version`).
    static func newestForecast(_ model: String, series: String, version: Int?, in session: PostgresSession) throws
        -> (points: [ForecastChart.ForecastPoint], issuedAt: Int64, version: Int, stale: Bool)
    {
        let rows =
            try version == nil
            ? session.query(
                """
                SELECT issued_at, target_time, value, lower, upper, version, stale FROM forecast.latest
                WHERE model = $1 AND series = $2 ORDER BY target_time
                """, [model, series])
            : session.query(
                """
                SELECT issued_at, target_time, value, lower, upper, version, false FROM forecast.predictions
                WHERE model = $1 AND series = $2
                  AND issued_at = (SELECT max(s.issued_at) FROM forecast.sets AS s
                                   JOIN forecast.models AS m ON m.id = s.model_id
                                   WHERE m.name = $1 AND s.series = $2 AND s.version = $3)
                ORDER BY target_time
                """, [model, series, version.map { Int32(clamping: $0) }])
        var result: (points: [ForecastChart.ForecastPoint], issuedAt: Int64, version: Int, stale: Bool) = (
            [], 0, 0, false
        )
        for row in rows {
            result.issuedAt = try row.decode(PostgresTimestamp.self, at: 0).microsecondsSince1970
            result.points.append(
                ForecastChart.ForecastPoint(
                    time: try row.decode(PostgresTimestamp.self, at: 1).microsecondsSince1970,
                    value: try row.decode(Double.self, at: 2), lower: try row.decode(Double?.self, at: 3),
                    upper: try row.decode(Double?.self, at: 4)))
            result.version = try row.decode(Int.self, at: 5)
            result.stale = try row.decode(Bool.self, at: 6)
        }
        return result
    }

    /// Earlier forecasts of `series` issued in `[from, before)` with targets up to `to`:
    /// going back from `before`, each time the latest set whose horizon ended by then (the
    /// next one's issue time), so they never overlap and each is whole, with the actuals the
    /// daemon scored.
    static func earlierForecasts(
        _ model: String, series: String, version: Int?, from: Int64, before: Int64, to: Int64,
        in session: PostgresSession
    ) throws -> [ForecastChart.PastPoint] {
        let rows = try session.query(
            """
            WITH RECURSIVE sets AS (
                SELECT s.issued_at,
                       CASE WHEN s.target_times IS NULL THEN s.issued_at + cardinality(s.value) * s.step_interval
                            ELSE (SELECT max(t) FROM unnest(s.target_times) AS t) END AS ends
                FROM forecast.sets AS s JOIN forecast.models AS m ON m.id = s.model_id
                WHERE m.name = $1 AND s.series = $2 AND ($3::int4 IS NULL OR s.version = $3)
                  AND s.issued_at >= $4 AND s.issued_at < $5
            ), chosen AS (
                (SELECT issued_at FROM sets WHERE ends <= $5 ORDER BY issued_at DESC LIMIT 1)
                UNION ALL
                (SELECT previous.issued_at FROM chosen CROSS JOIN LATERAL (
                    SELECT s.issued_at FROM sets AS s WHERE s.ends <= chosen.issued_at
                    ORDER BY s.issued_at DESC LIMIT 1) AS previous)
            )
            SELECT p.issued_at, p.target_time, p.value, p.lower, p.upper, p.actual
            FROM forecast.predictions AS p JOIN chosen AS c ON c.issued_at = p.issued_at
            WHERE p.model = $1 AND p.series = $2 AND p.target_time <= $6
            ORDER BY p.issued_at, p.target_time
            """,
            [
                model, series, version.map { Int32(clamping: $0) }, PostgresTimestamp(microsecondsSince1970: from),
                PostgresTimestamp(microsecondsSince1970: before), PostgresTimestamp(microsecondsSince1970: to),
            ])
        return try rows.map { row in
            ForecastChart.PastPoint(
                issuedAt: try row.decode(PostgresTimestamp.self, at: 0).microsecondsSince1970,
                time: try row.decode(PostgresTimestamp.self, at: 1).microsecondsSince1970,
                forecast: try row.decode(Double.self, at: 2), lower: try row.decode(Double?.self, at: 3),
                upper: try row.decode(Double?.self, at: 4), actual: try row.decode(Double?.self, at: 5))
        }
    }

    // MARK: Readings

    /// The model's source read as the daemon reads it (`SourceCatalog`, `SeriesReader`:
    /// its grid, its rules), reaching back to `from` (at most `maxSteps` steps), or
    /// `defaultLookbacks` lookbacks from each series' newest reading when nil.
    static func readGrid(_ settings: ModelSettings, from: Int64?, in session: PostgresSession) throws -> SeriesSet {
        let now = try session.query("SELECT now()")[0].decode(PostgresTimestamp.self, at: 0).microsecondsSince1970
        var options = settings.readOptions
        options.now = now
        options.maxHistory =
            from.map { max(settings.lookback, readSteps(from: $0, now: now, settings: settings)) }
            ?? Int(defaultLookbacks) * settings.lookback
        var set = SeriesSet(frequency: settings.source.frequency, maxHistory: options.maxHistory)
        let source = try SourceCatalog.resolve(settings.source, in: session)
        set.merge(try SeriesReader(source: source, options: options).read(in: session))
        return set
    }

    // MARK: Backtests

    /// Stores the forecasts a backtest kept for charts (see `Backtest.keptSeries`), inside
    /// the caller's transaction.
    static func storeBacktestForecasts(
        _ forecasts: [Backtest.KeptForecast], backtest: Int64, frequency: Frequency, in session: PostgresSession
    ) throws {
        for forecast in forecasts {
            func array(_ values: [Float]) -> PostgresFloat8Array? {
                values.isEmpty ? nil : PostgresFloat8Array(values.map(Double.init))
            }
            try session.execute(
                """
                INSERT INTO forecast.backtest_forecasts (backtest, series, issued_at, frequency, value, lower, upper, actual)
                VALUES ($1, $2, $3, $4::int8 * interval '1 microsecond', $5::float8[]::real[], $6::float8[]::real[],
                        $7::float8[]::real[], $8::float8[]::real[])
                """,
                [
                    backtest, forecast.series, PostgresTimestamp(microsecondsSince1970: forecast.issuedAt),
                    frequency.microseconds, array(forecast.value), array(forecast.lower), array(forecast.upper),
                    array(forecast.actual),
                ])
        }
    }

    /// One chart per series of backtest `id` whose forecasts were kept: the readings from two
    /// lookbacks before the test span to its end (from `history`, the backtest's own read, or
    /// read from the source again when nil and the model still exists), the kept forecasts
    /// with their intervals, and the actuals they were scored against. Ordered by series name.
    public static func backtestCharts(_ id: Int64, history: SeriesSet? = nil, on connection: PostgresConnection)
        async throws -> [(series: String, chart: ForecastChart)]
    {
        try await connection.withSession { session in try backtestCharts(id, history: history, in: session) }
    }

    static func backtestCharts(_ id: Int64, history: SeriesSet?, in session: PostgresSession) throws
        -> [(series: String, chart: ForecastChart)]
    {
        let runs = try session.query(
            "SELECT model, test_from, test_until FROM forecast.backtests WHERE id = $1", [id])
        guard let run = runs.first else { throw Failure.unknownBacktest(id) }
        let model = try run.decode(String.self, at: 0)
        let testFrom = try run.decode(PostgresTimestamp.self, at: 1).microsecondsSince1970
        let testUntil = try run.decode(PostgresTimestamp.self, at: 2).microsecondsSince1970
        let rows = try session.query(
            """
            SELECT series, issued_at, (extract(epoch FROM frequency) * 1000000)::int8, value, lower, upper, actual
            FROM forecast.backtest_forecasts WHERE backtest = $1 ORDER BY series, issued_at
            """, [id])
        var pastBySeries: [String: [ForecastChart.PastPoint]] = [:]
        var frequency: Frequency?
        for row in rows {
            let series = try row.decode(String.self, at: 0)
            let issuedAt = try row.decode(PostgresTimestamp.self, at: 1).microsecondsSince1970
            let step = try row.decode(Int64.self, at: 2)
            frequency = Frequency(validating: step) ?? frequency
            let values = try row.decode(PostgresFloat8Array.self, at: 3).values
            let lower = try row.decode(PostgresFloat8Array?.self, at: 4)?.values
            let upper = try row.decode(PostgresFloat8Array?.self, at: 5)?.values
            let actual = try row.decode(PostgresFloat8Array.self, at: 6).values
            for (index, value) in values.enumerated() {
                pastBySeries[series, default: []].append(
                    ForecastChart.PastPoint(
                        issuedAt: issuedAt, time: issuedAt + Int64(index + 1) * step, forecast: value,
                        lower: lower.flatMap { index < $0.count ? $0[index] : nil },
                        upper: upper.flatMap { index < $0.count ? $0[index] : nil },
                        actual: index < actual.count ? actual[index] : nil))
            }
        }
        guard !pastBySeries.isEmpty else { return [] }

        // Readings from two lookbacks before the test span to its end, on the model's grid.
        let settings = try ModelStore.model(model, in: session)?.settings
        let lookbacks = Int64(2 * (settings?.lookback ?? 0))
        let step = settings?.source.frequency.microseconds ?? frequency?.microseconds ?? 1
        let readings = try history ?? settings.map { try readGrid($0, from: testFrom - lookbacks * step, in: session) }
        let grid = readings?.frequency ?? frequency ?? Frequency.hours(1)
        return pastBySeries.keys.sorted().map { series in
            let points = Self.readings(readings?.series[series], from: testFrom - lookbacks * step, to: testUntil)
            let past = pastBySeries[series] ?? []
            let origins = Set(past.map(\.issuedAt)).count
            let chart = ForecastChart(
                title: "backtest \(id) · \(model)" + (series.isEmpty ? "" : " · \(series)"),
                subtitle:
                    "test span \(ChartTicks.dateTimeLabel(testFrom)) to \(ChartTicks.dateTimeLabel(testUntil)) UTC · "
                    + "\(origins) non-overlapping forecasts kept · grid \(grid)",
                valueLabel: settings?.source.valueColumn ?? "", history: points, past: past)
            return (series, chart)
        }
    }

    /// Steps of history a read must keep so that it reaches back to `from`: from there to the
    /// newest time a reading may have (`now` plus `max_future` steps), at most `maxSteps`.
    static func readSteps(from: Int64, now: Int64, settings: ModelSettings) -> Int {
        let step = Double(settings.source.frequency.microseconds)
        let newest = Double(now) + Double(max(0, settings.maxFuture)) * step
        let steps = ((newest - Double(from)) / step).rounded(.up) + 2
        return Int(min(max(steps, 1), Double(maxSteps)))
    }

    /// A few names for a message: `'a', 'b', 'c' and 4 more`.
    static func listed(_ names: [String]) -> String {
        let shown = names.prefix(5).map { "'\($0)'" }.joined(separator: ", ")
        return names.count > 5 ? "\(shown) and \(names.count - 5) more" : shown
    }
}
