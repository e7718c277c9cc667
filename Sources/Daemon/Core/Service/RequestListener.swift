import Ingest
import Logging
import PostgresClient
import ServiceLifecycle

/// Listens for `forecastd_requests` (retrain requests, model changes) and `forecastd_data`
/// (new rows in a source with a trigger) and wakes the scheduler within a second. When the
/// connection fails it reconnects; the scheduler's polling covers the gap.
struct RequestListener: Service {
    static let channels = ["forecastd_requests", "forecastd_data"]
    let context: DaemonContext
    let notifications: NotificationInbox

    func run() async throws {
        // Shutdown cancels the wait on the socket at once.
        try await cancelWhenGracefulShutdown { try await listen() }
    }

    private func listen() async throws {
        let logger = context.logger
        while !Task.isCancelledOrShuttingDown {
            do {
                let connection = try await PostgresConnection.connect(context.settings)
                defer { Task { await connection.close() } }
                try await connection.withSession { session in
                    for channel in Self.channels { try session.listen(channel) }
                }
                logger.debug("listening", metadata: ["channels": "\(Self.channels)"])
                // Rows may have arrived unannounced while nobody listened: every model reads.
                notifications.missedSome()
                context.wake.signal()
                while !Task.isCancelledOrShuttingDown {
                    let notification = try await connection.withSession { session in
                        try session.waitForNotification(timeout: .seconds(5))
                    }
                    if let notification {
                        notifications.add(notification)
                        context.wake.signal()
                    }
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("notification listener: \(ModelWorker.describe(error)); polling until reconnected")
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }
}

extension Task where Success == Never, Failure == Never {
    /// Cancelled, or the service group is shutting down gracefully.
    static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}
