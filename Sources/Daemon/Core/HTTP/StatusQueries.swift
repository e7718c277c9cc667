import Foundation
import PostgresClient

/// Every query the HTTP endpoint runs, in one place: read-only, each bounded (a page of
/// series, the newest versions and events, one chart). The forecast schema is read here;
/// the chart reads its series' readings from the model's source through `ChartData` (the
/// daemon's own reading path, a bounded span), like `forecastd plot`.
enum StatusQueries {
    /// The schema version applied (0: none), for `/readyz`.
    static func schemaVersion(_ session: PostgresSession) throws -> Int {
        try Migrator().appliedVersions(session).keys.max() ?? 0
    }

    /// Every model with its state and figures, in one query: `forecast.model_status`, the
    /// newest version's training figures and the recent live accuracy
    /// (`forecast.recent_accuracy`: the sets issued in the 7 days up to the newest scored
    /// one, from per-day sums, so the cost does not grow with history).
    static func overview(_ session: PostgresSession) throws -> [ModelOverview] {
        let rows = try session.query(
            """
            SELECT s.model, s.state, s.last_error, s.last_error_at, s.active_version,
                   coalesce(v.versions, 0)::int8, v.seconds, v.epochs, s.last_forecast, s.newest_data,
                   s.series::int8, s.stale_series::int8, s.queued_requests::int8, a.forecasts, a.mae, a.mase,
                   a.coverage, s.worked_on_by
            FROM forecast.model_status AS s
            LEFT JOIN LATERAL (
                SELECT count(*) AS versions,
                       (array_agg((mv.metrics->>'seconds')::float8 ORDER BY mv.version DESC))[1] AS seconds,
                       (array_agg((mv.metrics->>'epochs')::int8 ORDER BY mv.version DESC)
                           FILTER (WHERE mv.kind = 'full'))[1] AS epochs
                FROM forecast.model_versions AS mv WHERE mv.model = s.model
            ) AS v ON true
            LEFT JOIN forecast.recent_accuracy AS a ON a.model = s.model
            ORDER BY s.model
            """)
        return try rows.map { row in
            ModelOverview(
                model: try row.decode(String.self, at: 0), state: try row.decode(String.self, at: 1),
                lastError: try row.decode(String?.self, at: 2), lastErrorAt: try row.decode(Date?.self, at: 3),
                activeVersion: try row.decode(Int?.self, at: 4), versions: try row.decode(Int.self, at: 5),
                lastTrainingSeconds: try row.decode(Double?.self, at: 6),
                lastTrainingEpochs: try row.decode(Int?.self, at: 7), lastForecast: try row.decode(Date?.self, at: 8),
                newestData: try row.decode(Date?.self, at: 9), series: try row.decode(Int.self, at: 10),
                staleSeries: try row.decode(Int.self, at: 11), queuedRequests: try row.decode(Int.self, at: 12),
                scored: try row.decode(Int?.self, at: 13), mae: try row.decode(Double?.self, at: 14),
                mase: try row.decode(Double?.self, at: 15), coverage: try row.decode(Double?.self, at: 16),
                workedOnBy: try row.decode(String?.self, at: 17))
        }
    }

    /// One model's page: settings, status, the newest versions and events, one page of its
    /// series (those whose name contains `search`, case-insensitively), and the chart data of
    /// the series `search` names exactly, else the page's first. Nil when the model does not
    /// exist.
    static func modelPage(_ name: String, search: String, page: Int, pageSize: Int, in session: PostgresSession)
        throws -> ModelPageData?
    {
        let found = try session.query(
            """
            SELECT m.source, m.time_column, m.value_column, m.series_column, m.frequency::text, m.horizon,
                   m.lookback, m.options::text
            FROM forecast.models AS m WHERE m.name = $1
            """, [name])
        guard let row = found.first else { return nil }
        var data = ModelPageData(
            name: name,
            settings: [
                ("source", try row.decode(String.self, at: 0)), ("time column", try row.decode(String.self, at: 1)),
                ("value column", try row.decode(String.self, at: 2)),
                ("series column", try row.decode(String?.self, at: 3) ?? "(none: one series)"),
                ("frequency", try row.decode(String.self, at: 4)), ("horizon", "\(try row.decode(Int.self, at: 5))"),
                ("lookback", "\(try row.decode(Int.self, at: 6))"), ("options", try row.decode(String.self, at: 7)),
            ])
        data.overview = try overview(session).first { $0.model == name }
        data.versions = try session.query(
            """
            SELECT version, kind, created_at, trained_through, train_loss, val_loss, active,
                   (metrics->>'seconds')::float8, (metrics->>'epochs')::int8, (metrics->>'steps')::int8
            FROM forecast.model_versions WHERE model = $1 ORDER BY version DESC LIMIT 20
            """, [name]
        ).map { row in
            VersionRow(
                version: try row.decode(Int.self, at: 0), kind: try row.decode(String.self, at: 1),
                createdAt: try row.decode(Date.self, at: 2), trainedThrough: try row.decode(Date?.self, at: 3),
                trainLoss: try row.decode(Double?.self, at: 4), validationLoss: try row.decode(Double?.self, at: 5),
                active: try row.decode(Bool.self, at: 6), seconds: try row.decode(Double?.self, at: 7),
                epochs: try row.decode(Int?.self, at: 8), steps: try row.decode(Int?.self, at: 9))
        }
        data.events = try session.query(
            "SELECT at, level, message FROM forecast.events WHERE model = $1 ORDER BY id DESC LIMIT 20", [name]
        ).map { row in
            EventRow(
                at: try row.decode(Date.self, at: 0), level: try row.decode(String.self, at: 1),
                message: try row.decode(String.self, at: 2))
        }
        let matching = "model = $1 AND ($2 = '' OR strpos(lower(series), lower($2)) > 0)"
        data.matchingSeries = try session.query(
            "SELECT count(*)::int8 FROM forecast.series_state WHERE \(matching)", [name, search]
        )[0].decode(Int.self, at: 0)
        data.series = try session.query(
            """
            SELECT series, watermark, reason, bridged FROM forecast.series_state WHERE \(matching)
            ORDER BY series LIMIT $3 OFFSET $4
            """, [name, search, pageSize, max(0, page - 1) * pageSize]
        ).map { row in
            SeriesRow(
                name: try row.decode(String.self, at: 0), newestReading: try row.decode(Date?.self, at: 1),
                reason: try row.decode(String?.self, at: 2), bridged: try row.decode(Int.self, at: 3))
        }
        let exact = try session.query(
            "SELECT 1 FROM forecast.series_state WHERE model = $1 AND series = $2", [name, search])
        if let charted = exact.isEmpty ? data.series.first?.name : search {
            data.chart = chart(model: name, series: charted, in: session)
        }
        return data
    }

    /// The chart of one series, as `forecastd plot MODEL --series S` draws it: three
    /// lookbacks of readings, the newest forecast and the earlier ones with their actuals.
    static func chart(model: String, series: String, in session: PostgresSession) -> SeriesChart {
        do {
            let plot = try ChartData.plot(PlotRequest(model: model, series: series), in: session)
            return SeriesChart(series: plot.series, svg: SVGChart().render(plot.chart), notes: plot.notes)
        } catch let failure as ChartData.Failure {
            return SeriesChart(series: series, problem: failure.description)
        } catch {
            return SeriesChart(series: series, problem: "the chart could not be read: \(error)")
        }
    }
}

/// One model on the status page and in the SQL-backed metrics.
struct ModelOverview: Sendable, Equatable {
    var model: String
    var state: String
    var lastError: String?
    var lastErrorAt: Date?
    var activeVersion: Int?
    var versions: Int
    var lastTrainingSeconds: Double?
    var lastTrainingEpochs: Int?
    var lastForecast: Date?
    var newestData: Date?
    var series: Int
    var staleSeries: Int
    var queuedRequests: Int
    /// Recent live accuracy (`forecast.recent_accuracy`): matured steps scored, MAE, MASE,
    /// interval coverage.
    var scored: Int?
    var mae: Double?
    var mase: Double?
    var coverage: Double?
    var workedOnBy: String?
}

/// Everything `/models/NAME` shows.
struct ModelPageData: Sendable {
    var name: String
    var settings: [(String, String)]
    var overview: ModelOverview?
    var versions: [VersionRow] = []
    var events: [EventRow] = []
    /// Series whose name matches the search, and the requested page of them.
    var matchingSeries = 0
    var series: [SeriesRow] = []
    var chart: SeriesChart?
}

struct VersionRow: Sendable {
    var version: Int
    var kind: String
    var createdAt: Date
    var trainedThrough: Date?
    var trainLoss: Double?
    var validationLoss: Double?
    var active: Bool
    var seconds: Double?
    var epochs: Int?
    var steps: Int?
}

struct EventRow: Sendable {
    var at: Date
    var level: String
    var message: String
}

struct SeriesRow: Sendable {
    var name: String
    var newestReading: Date?
    var reason: String?
    var bridged: Int
}
