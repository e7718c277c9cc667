import Ingest
import Logging
public import PostgresClient
import ServiceLifecycle

/// The running service: the request listener, the scheduler and (under systemd) the notify
/// and reload service, in one `ServiceGroup` that stops gracefully on SIGTERM or SIGINT.
public enum ForecastDaemon {
    /// Runs the daemon's services until a shutdown signal (or cancellation).
    public static func serve(
        _ context: DaemonContext, reload: (@Sendable () throws -> DaemonConfiguration)? = nil
    ) async throws {
        HeapPolicy.configure()
        let inbox = NotificationInbox()
        let progress = SchedulerProgress()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: RequestListener(context: context, notifications: inbox)),
            .init(service: Scheduler(context: context, notifications: inbox, progress: progress)),
        ]
        if let reload {
            services.append(
                .init(
                    service: SystemdService(
                        notifier: SystemdNotifier(), context: context, progress: progress, reload: reload)))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: context.logger))
        context.logger.info(
            "forecastd started", metadata: ["owner": "\(context.owner)", "workers": "\(context.pool.size)"])
        try await group.run()
        await context.writer.close()
        await context.connections.close()
        context.logger.info("forecastd stopped")
    }

    /// Refuses to run against a schema older (or newer) than this binary's migrations.
    public static func checkSchema(_ settings: ConnectionSettings) async throws {
        let connection = try await PostgresConnection.connect(settings)
        let applied = try await connection.withSession { session in try Migrator().appliedVersions(session) }
        await connection.close()
        let newest = Migration.all.last?.version ?? 0
        let current = applied.keys.max() ?? 0
        guard current == newest else {
            throw SchemaOutOfDate(current: current, expected: newest)
        }
    }

    public struct SchemaOutOfDate: Error, CustomStringConvertible {
        var current: Int
        var expected: Int
        public var description: String {
            current < expected
                ? "the forecast schema is at version \(current), this forecastd needs \(expected): run 'forecastd migrate'"
                : "the forecast schema is at version \(current), newer than this forecastd (\(expected)): upgrade forecastd"
        }
    }
}
