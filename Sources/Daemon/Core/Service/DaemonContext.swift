import Foundation
import Ingest
public import Logging
public import PostgresClient

/// What every part of a running daemon shares.
public struct DaemonContext: Sendable {
    /// The configuration in force (replaced on reload).
    var runtime: RuntimeConfiguration
    /// This process's identity in leases: host, pid and a random suffix.
    public var owner: String
    var pool: TrainingPool
    var writer: ForecastWriter
    /// Connections model cycles borrow (as many as workers).
    var connections: ConnectionPool
    var wake: WakeSignal
    /// Whether PostgreSQL is reachable, logged once per outage.
    var database: DatabaseHealth
    public var logger: Logger
    /// Test aid: the scheduler stops making progress after this long (so the watchdog test
    /// can see pings stop). Set only through `FORECASTD_DEBUG_STALL_SCHEDULER_AFTER`.
    var stallSchedulerAfter: Duration?

    /// Progress notifications (epoch, loss) go to this channel for `forecastd retrain --wait`.
    public static let progressChannel = "forecastd_progress"

    public init(runtime: RuntimeConfiguration, logger: Logger, owner: String = Self.makeOwner()) {
        self.runtime = runtime
        self.owner = owner
        self.logger = logger
        let configuration = runtime.snapshot
        pool = TrainingPool(size: configuration.workers)
        writer = ForecastWriter(runtime: runtime)
        connections = ConnectionPool(size: configuration.workers) { runtime.snapshot.connectionSettings() }
        wake = WakeSignal()
        database = DatabaseHealth(logger: logger)
        stallSchedulerAfter = ProcessInfo.processInfo.environment["FORECASTD_DEBUG_STALL_SCHEDULER_AFTER"]
            .flatMap(Double.init).map { .milliseconds(Int($0 * 1000)) }
    }

    /// Connection settings for new connections (existing ones keep theirs).
    var settings: ConnectionSettings { runtime.snapshot.connectionSettings() }
    /// Between polls of each model when no notification arrives.
    var pollInterval: Duration { .milliseconds(Int(runtime.snapshot.pollInterval * 1000)) }
    /// How far back from each series' newest forecast issued forecasts are kept, in seconds;
    /// nil keeps all.
    var keepForecastsSeconds: Double? {
        let days = runtime.snapshot.keepForecastsDays
        return days > 0 ? days * 86_400 : nil
    }
    /// Checkpoints kept per model (older versions' are cleared; see `ModelStore.pruneCheckpoints`).
    var keepVersions: Int { runtime.snapshot.keepVersions }
    /// Between lease renewals and instance heartbeats: a third of the lease, at most 3 s.
    var leaseRenewal: Duration { min(.milliseconds(leaseSeconds * 1000 / 3), .seconds(3)) }
    /// How long this instance's announcement lasts without a heartbeat (three renewals):
    /// after a `kill -9`, other instances take its models over once it has lapsed.
    var instanceSeconds: Int { max(1, Int((leaseRenewal * 3).seconds.rounded(.up))) }
    /// Lease lifetime in seconds; renewed every `leaseRenewal`.
    var leaseSeconds: Int { runtime.snapshot.leaseSeconds }

    public static func makeOwner() -> String {
        let host = ProcessInfo.processInfo.hostName
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
    }
}
