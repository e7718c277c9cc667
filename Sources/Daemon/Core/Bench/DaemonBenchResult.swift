import Foundation

/// The JSON line `forecastd bench daemon` prints for one scenario run. Fields that do not
/// apply to the scenario are nil and left out of the line; times are seconds unless the name
/// says `_ms`.
public struct DaemonBenchResult: Codable, Sendable, Equatable {
    public var bench = "daemon"
    public var scenario: String
    /// Series per model (the `series` and `growth` scenarios: of the one model).
    public var series: Int
    public var models: Int
    /// Daemons run at once (the `instances` scenario), else 1.
    public var instances = 1
    /// Completed "new hour -> fresh forecasts" cycles.
    public var cycles: Int?

    /// From starting the daemon(s) until every series of every model has forecasts issued at
    /// the last hour of history.
    public var firstForecastsSeconds: Double?
    /// From committing a new hour for every series until `forecast.latest` shows forecasts
    /// issued at it for all series (`models`: for each model, pooled over cycles).
    public var cycleP50Seconds: Double?
    public var cycleP95Seconds: Double?
    public var cycleMaxSeconds: Double?
    /// Every cycle's latency in order (`models`: until the last model was fresh).
    public var cycleSeconds: [Double]?
    /// `growth`: medians of the first and the last 10 cycles, and last over first.
    public var cycleFirst10Seconds: Double?
    public var cycleLast10Seconds: Double?
    public var cycleLast10OverFirst10: Double?

    /// Highest `VmHWM` of the daemon (of any of them), MiB.
    public var peakRSSMegabytes: Double?
    /// Daemon CPU over the idle window (no new data), percent of one core.
    public var idleCPUPercent: Double?
    public var idleSeconds: Double?
    /// Rows of the source the daemon read during the idle window
    /// (`pg_stat_user_tables.seq_tup_read + idx_tup_fetch`), and per poll of the daemon's
    /// default interval (10 s; an estimate: a window may hold one poll more or less).
    public var idleRowsRead: Int?
    public var idleRowsPerPoll: Double?
    /// Most daemon connections seen at once (`pg_stat_activity`, application_name `forecastd`).
    public var connectionsMax: Int?
    /// The server's `max_connections`.
    public var serverMaxConnections: Int?
    /// Most models seen in state `error` at once.
    public var errors: Int?
    /// Daemon log lines with "too many clients", and lines logged at level error or above.
    public var tooManyClients: Int?
    public var logErrors: Int?

    /// `growth`: growth per cycle of `forecast.predictions` and of the whole forecast schema
    /// (`pg_total_relation_size`, so indexes and TOAST included), bytes.
    public var historyBytesPerCycle: Double?
    public var schemaBytesPerCycle: Double?
    /// `growth`: `SELECT * FROM forecast.latest WHERE model = ...`, median of 5, after the
    /// first forecasts and after the last cycle.
    public var latestQueryMsFirst: Double?
    public var latestQueryMsLast: Double?

    /// `instances`: models holding a live lease per daemon after settling, most first.
    public var heldPerInstance: [Int]?
    /// `instances`: from `kill -9` of the daemon holding most until all its models have a
    /// live lease by another daemon and forecasts issued at the hour inserted after the kill;
    /// and until the leases alone.
    public var takeoverSeconds: Double?
    public var takeoverLeaseSeconds: Double?

    /// Daemon settings in force: workers (nil: the daemon's default, one per core).
    public var workers: Int?
    /// 1-minute load average of the machine when the scenario ended.
    public var loadAverage: Double?
    /// A wait ran out: the figures are what was seen until then.
    public var timedOut: Bool?
    /// Why the scenario stopped early, in words.
    public var failure: String?
    /// Where the daemon logs were kept (`--keep-logs`).
    public var daemonLog: String?

    public init(scenario: String, series: Int, models: Int) {
        self.scenario = scenario
        self.series = series
        self.models = models
    }

    enum CodingKeys: String, CodingKey {
        case bench, scenario, series, models, instances, cycles
        case firstForecastsSeconds = "first_forecasts_s"
        case cycleP50Seconds = "cycle_p50_s"
        case cycleP95Seconds = "cycle_p95_s"
        case cycleMaxSeconds = "cycle_max_s"
        case cycleSeconds = "cycle_s"
        case cycleFirst10Seconds = "cycle_first10_s"
        case cycleLast10Seconds = "cycle_last10_s"
        case cycleLast10OverFirst10 = "cycle_last10_over_first10"
        case peakRSSMegabytes = "peak_rss_mb"
        case idleCPUPercent = "idle_cpu_pct"
        case idleSeconds = "idle_s"
        case idleRowsRead = "idle_rows_read"
        case idleRowsPerPoll = "idle_rows_per_poll"
        case connectionsMax = "connections_max"
        case serverMaxConnections = "server_max_connections"
        case errors
        case tooManyClients = "too_many_clients"
        case logErrors = "log_errors"
        case historyBytesPerCycle = "history_bytes_per_cycle"
        case schemaBytesPerCycle = "schema_bytes_per_cycle"
        case latestQueryMsFirst = "latest_query_ms_first"
        case latestQueryMsLast = "latest_query_ms_last"
        case heldPerInstance = "held_per_instance"
        case takeoverSeconds = "takeover_s"
        case takeoverLeaseSeconds = "takeover_lease_s"
        case workers
        case loadAverage = "load_avg_1m"
        case timedOut = "timed_out"
        case failure
        case daemonLog = "daemon_log"
    }

    /// The result as printed: seconds to the millisecond, milliseconds and MiB to a tenth
    /// (of a millisecond: hundredths), percentages and ratios to three digits.
    func rounded() -> DaemonBenchResult {
        func round(_ value: Double?, _ places: Int) -> Double? {
            guard let value, value.isFinite else { return nil }
            let scale = pow(10, Double(places))
            return (value * scale).rounded() / scale
        }
        var copy = self
        copy.firstForecastsSeconds = round(firstForecastsSeconds, 3)
        copy.cycleP50Seconds = round(cycleP50Seconds, 3)
        copy.cycleP95Seconds = round(cycleP95Seconds, 3)
        copy.cycleMaxSeconds = round(cycleMaxSeconds, 3)
        copy.cycleSeconds = cycleSeconds?.compactMap { round($0, 3) }
        copy.cycleFirst10Seconds = round(cycleFirst10Seconds, 3)
        copy.cycleLast10Seconds = round(cycleLast10Seconds, 3)
        copy.cycleLast10OverFirst10 = round(cycleLast10OverFirst10, 3)
        copy.peakRSSMegabytes = round(peakRSSMegabytes, 1)
        copy.idleCPUPercent = round(idleCPUPercent, 3)
        copy.idleSeconds = round(idleSeconds, 1)
        copy.idleRowsPerPoll = round(idleRowsPerPoll, 1)
        copy.historyBytesPerCycle = round(historyBytesPerCycle, 0)
        copy.schemaBytesPerCycle = round(schemaBytesPerCycle, 0)
        copy.latestQueryMsFirst = round(latestQueryMsFirst, 2)
        copy.latestQueryMsLast = round(latestQueryMsLast, 2)
        copy.takeoverSeconds = round(takeoverSeconds, 3)
        copy.takeoverLeaseSeconds = round(takeoverLeaseSeconds, 3)
        copy.loadAverage = round(loadAverage, 2)
        return copy
    }

    /// Fills the cycle percentiles from `latencies`.
    mutating func summarizeCycles(_ latencies: [Double]) {
        guard let summary = LatencySummary(latencies) else { return }
        cycleP50Seconds = summary.p50
        cycleP95Seconds = summary.p95
        cycleMaxSeconds = summary.max
    }
}
