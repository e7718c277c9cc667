import Logging
import Synchronization

/// Whether this process reaches PostgreSQL: the daemon's condition, not each model's. A lost
/// connection is logged once when it is first seen and once when it is back, however many
/// models notice it; models keep their states meanwhile.
final class DatabaseHealth: Sendable {
    private let lostSince = Mutex<ContinuousClock.Instant?>(nil)
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
        ProcessMetrics.databaseReachable.record(1)
    }

    /// Whether the database was reachable at the last attempt.
    var isReachable: Bool { lostSince.withLock { $0 == nil } }

    /// A connection failed with `message`.
    func lost(_ message: String) {
        let first = lostSince.withLock { since -> Bool in
            guard since == nil else { return false }
            since = .now
            return true
        }
        if first {
            logger.error("database unreachable: \(message)")
            ProcessMetrics.databaseReachable.record(0)
        }
    }

    /// A round trip succeeded.
    func reached() {
        let outage = lostSince.withLock { since -> Duration? in
            defer { since = nil }
            return since.map { .now - $0 }
        }
        if let outage {
            ProcessMetrics.databaseReachable.record(1)
            logger.notice("database reachable again", metadata: ["after_seconds": "\(Int(outage.seconds))"])
        }
    }
}
