import Foundation
import Ingest
import Logging

/// What every part of a running daemon shares.
struct DaemonContext: Sendable {
    var settings: ConnectionSettings
    /// This process's identity in leases: host, pid and a random suffix.
    var owner: String
    var pool: TrainingPool
    var writer: ForecastWriter
    var wake: WakeSignal
    var logger: Logger
    /// Seconds between polls of every model when no notification arrives.
    var pollInterval: Duration
    /// Lease lifetime in seconds; renewed every third of it.
    var leaseSeconds: Int
    /// Progress notifications (epoch, loss) go to this channel for `forecastd retrain --wait`.
    static let progressChannel = "forecastd_progress"

    static func makeOwner() -> String {
        let host = ProcessInfo.processInfo.hostName
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
    }
}
