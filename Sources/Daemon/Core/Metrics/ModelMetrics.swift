import Metrics

/// One model's counters and cycle histogram, created once per `ModelWorker` and updated where
/// the events happen: after each cycle, read, forecast write, published version and failure.
struct ModelMetrics: Sendable {
    /// Why a cycle failed, a bounded set (the `kind` label of `forecastd_errors_total`): the
    /// database connection was lost, the lease was lost, or the step that failed.
    enum ErrorKind: String, CaseIterable, Sendable {
        case database, lease, read, train, forecast, write
    }

    let cycles: Timer
    let rowsRead: Counter
    let forecastsWritten: Counter
    let versions: [VersionKind: Counter]
    let errors: [ErrorKind: Counter]

    init(model: String) {
        let label = [("model", model)]
        cycles = Timer(label: DaemonMetrics.cycleDuration, dimensions: label, preferredDisplayUnit: .seconds)
        rowsRead = Counter(label: DaemonMetrics.rowsRead, dimensions: label)
        forecastsWritten = Counter(label: DaemonMetrics.forecastsWritten, dimensions: label)
        versions = Dictionary(
            uniqueKeysWithValues: [VersionKind.full, .finetune].map { kind in
                (kind, Counter(label: DaemonMetrics.versionsPublished, dimensions: label + [("kind", "\(kind)")]))
            })
        // Every kind from the start, at zero: a rate over a series that appears late misses its
        // first increase.
        errors = Dictionary(
            uniqueKeysWithValues: ErrorKind.allCases.map { kind in
                (kind, Counter(label: DaemonMetrics.errors, dimensions: label + [("kind", kind.rawValue)]))
            })
    }

    func cycle(took duration: Duration) { cycles.record(duration: duration) }

    func failed(_ kind: ErrorKind) { errors[kind]?.increment() }
}

/// The process's own gauges: leases held, pooled connections, database reachability.
enum ProcessMetrics {
    static let modelsHeld = Gauge(label: DaemonMetrics.modelsHeld)
    static let connectionsInUse = Gauge(label: DaemonMetrics.connectionsInUse)
    static let connectionsOpen = Gauge(label: DaemonMetrics.connectionsOpen)
    static let databaseReachable = Gauge(label: DaemonMetrics.databaseReachable)
}
