import Metrics

/// Every metric forecastd exports, in one place: Prometheus names (`forecastd_` prefix, base
/// units, `_total` counters), their help text and, for histograms, their buckets. DaemonCore
/// creates metrics only through swift-metrics; the executable's backend reads this catalog to
/// give each metric its `# HELP` line and its buckets.
///
/// Labels are bounded: `model` (a model name), `state`, `kind`, `version`; never a series.
public enum DaemonMetrics {
    /// One exported metric.
    public struct Description: Sendable {
        public let name: String
        public let help: String
        /// Histogram bucket bounds in seconds (timers only).
        public let bucketSeconds: [Double]?
    }

    // Updated where the events happen (ModelWorker, Scheduler, ConnectionPool, DatabaseHealth).
    static let cycleDuration = "forecastd_cycle_duration_seconds"
    static let rowsRead = "forecastd_rows_read_total"
    static let forecastsWritten = "forecastd_forecasts_written_total"
    static let versionsPublished = "forecastd_versions_published_total"
    static let errors = "forecastd_errors_total"
    static let modelsHeld = "forecastd_models_held"
    static let connectionsInUse = "forecastd_db_connections_in_use"
    static let connectionsOpen = "forecastd_db_connections_open"
    static let databaseReachable = "forecastd_database_reachable"
    static let buildInfo = "forecastd_build_info"
    // Refreshed from `forecast.model_status`, `forecast.model_versions` and `forecast.recent_accuracy`
    // on scrape (`StatusMetrics`).
    static let modelState = "forecastd_model_state"
    static let modelSeries = "forecastd_model_series"
    static let modelStaleSeries = "forecastd_model_stale_series"
    static let modelVersions = "forecastd_model_versions"
    static let modelActiveVersion = "forecastd_model_active_version"
    static let modelLastTrainingSeconds = "forecastd_model_last_training_seconds"
    static let modelLastTrainingEpochs = "forecastd_model_last_training_epochs"
    static let modelLastForecast = "forecastd_model_last_forecast_timestamp_seconds"
    static let modelQueuedRequests = "forecastd_model_queued_requests"
    static let modelScoredForecasts = "forecastd_model_scored_forecasts"
    static let modelMAE = "forecastd_model_mae"
    static let modelMASE = "forecastd_model_mase"
    static let modelCoverage = "forecastd_model_interval_coverage_ratio"

    public static let all: [Description] = [
        .init(
            name: cycleDuration,
            help: "Duration of one model cycle (read, decide, train, forecast, write), by model.",
            bucketSeconds: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800]),
        .init(name: rowsRead, help: "Source rows read, by model.", bucketSeconds: nil),
        .init(
            name: forecastsWritten, help: "Forecast rows written (one per series and step), by model.",
            bucketSeconds: nil),
        .init(
            name: versionsPublished, help: "Model versions published by this process, by model and kind.",
            bucketSeconds: nil),
        .init(
            name: errors,
            help: "Failed model cycles, by model and kind (database, lease, read, train, forecast, write).",
            bucketSeconds: nil),
        .init(name: modelsHeld, help: "Models this process holds a lease on.", bucketSeconds: nil),
        .init(
            name: connectionsInUse, help: "Pooled database connections lent to model cycles now.",
            bucketSeconds: nil),
        .init(name: connectionsOpen, help: "Pooled database connections open (lent and idle).", bucketSeconds: nil),
        .init(
            name: databaseReachable, help: "1 while PostgreSQL answered at the last attempt, else 0.",
            bucketSeconds: nil),
        .init(name: buildInfo, help: "Always 1; the version label is this forecastd's version.", bucketSeconds: nil),
        .init(
            name: modelState, help: "1 for the model's current state (active, paused, training, error), else 0.",
            bucketSeconds: nil),
        .init(name: modelSeries, help: "Series the model forecasts.", bucketSeconds: nil),
        .init(
            name: modelStaleSeries, help: "Series without a fresh forecast (forecast.model_status.stale_series).",
            bucketSeconds: nil),
        .init(name: modelVersions, help: "Versions stored for the model.", bucketSeconds: nil),
        .init(name: modelActiveVersion, help: "Number of the model's active version.", bucketSeconds: nil),
        .init(
            name: modelLastTrainingSeconds, help: "Training time of the model's newest version, in seconds.",
            bucketSeconds: nil),
        .init(
            name: modelLastTrainingEpochs, help: "Epochs of the model's newest full training.", bucketSeconds: nil),
        .init(
            name: modelLastForecast,
            help: "Issue time of the model's newest forecast (its last observation), Unix seconds.",
            bucketSeconds: nil),
        .init(name: modelQueuedRequests, help: "Retrain requests queued for the model.", bucketSeconds: nil),
        .init(
            name: modelScoredForecasts,
            help: "Matured forecast steps scored against actuals, of sets issued in the last 7 days.",
            bucketSeconds: nil),
        .init(
            name: modelMAE, help: "Live mean absolute error of matured forecasts, in the source's units.",
            bucketSeconds: nil),
        .init(
            name: modelMASE,
            help: "Live mean absolute scaled error against the seasonal-naive forecast (below 1 beats it).",
            bucketSeconds: nil),
        .init(
            name: modelCoverage, help: "Share of matured actuals inside the forecast interval [lower, upper].",
            bucketSeconds: nil),
    ]

    private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    /// The help text of `name`; for a metric not in the catalog (another library's), a
    /// generic line, so every family still has one.
    public static func help(for name: String) -> String {
        byName[name]?.help ?? "\(name) (reported by a library forecastd uses)."
    }

    /// Histogram buckets of the timer `name`, if the catalog sets them.
    public static func durationBuckets(for name: String) -> [Duration]? {
        byName[name]?.bucketSeconds?.map { .milliseconds(Int64(($0 * 1000).rounded())) }
    }

    /// Records `forecastd_build_info{version}` 1 (the executable calls this once it has
    /// bootstrapped the backend).
    public static func recordBuildInfo(version: String) {
        Gauge(label: buildInfo, dimensions: [("version", version)]).record(1)
    }
}

/// Renders the registered metrics in Prometheus' text format: the backend the executable
/// chose (swift-prometheus' registry), handed to the HTTP endpoint.
public protocol MetricsExposition: Sendable {
    func emit(into buffer: inout [UInt8])
}
