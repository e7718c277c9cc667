import Ingest
import Logging
public import PostgresClient
import ServiceLifecycle

/// The running service: the HTTP endpoint, the request listener, the scheduler and (under
/// systemd) the notify and reload service, in one `ServiceGroup` that stops gracefully on
/// SIGTERM or SIGINT.
public enum ForecastDaemon {
    /// Runs the daemon's services until a shutdown signal (or cancellation). `http` serves
    /// `/metrics`, `/healthz`, `/readyz` and the status pages at the configured `http_listen`.
    public static func serve(
        _ context: DaemonContext, reload: (@Sendable () throws -> DaemonConfiguration)? = nil,
        http: HTTPEndpoint.Options? = nil
    ) async throws {
        HeapPolicy.configure()
        let inbox = NotificationInbox()
        let progress = SchedulerProgress()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let status = StatusDatabase { context.runtime.snapshot.connectionSettings() }
        if let http {
            // First in, last out: the endpoint answers until the others have stopped.
            let endpoint = HTTPEndpoint(
                options: http, context: context,
                health: HealthChecks(progress: progress, database: status, grace: SystemdService.healthGrace()),
                status: status)
            services.append(.init(service: HTTPService(context: context, endpoint: endpoint)))
        }
        services += [
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
        await status.close()
        context.logger.info("forecastd stopped")
    }

    /// Refuses to run against a schema newer than this binary's migrations (upgrade
    /// forecastd); an older or missing one is waited for (`waitForSchema`).
    public static func checkSchema(_ settings: ConnectionSettings) async throws {
        if let problem = try await schemaProblem(settings), problem.current > problem.expected { throw problem }
    }

    /// Why the schema does not match this binary, or nil when it does.
    static func schemaProblem(_ settings: ConnectionSettings) async throws -> SchemaOutOfDate? {
        let connection = try await PostgresConnection.connect(settings)
        let applied: [Int: String]
        do {
            applied = try await connection.withSession { session in try Migrator().appliedVersions(session) }
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
        let current = applied.keys.max() ?? 0
        return current == Migration.newest ? nil : SchemaOutOfDate(current: current, expected: Migration.newest)
    }

    /// Returns once the schema is current, checking every 2 s and saying once what to run
    /// (`/readyz` answers 503 with the same reason meanwhile); throws for a schema newer than
    /// this binary. Returns early on shutdown.
    static func waitForSchema(_ context: DaemonContext) async throws {
        var said: String?
        while !Task.isCancelledOrShuttingDown {
            do {
                guard let problem = try await schemaProblem(context.settings) else {
                    if said != nil { context.logger.notice("the forecast schema is current: starting") }
                    return
                }
                if problem.current > problem.expected { throw problem }
                if said != problem.description {
                    context.logger.error("\(problem.description); waiting")
                    said = problem.description
                }
            } catch let error as PostgresError {
                if said != error.description {
                    context.logger.error("cannot check the forecast schema: \(error); waiting")
                    said = error.description
                }
            }
            try? await Task.sleep(for: .seconds(2))
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
