import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// Serves `HTTPEndpoint` at the configured `http_listen`, as a service of the daemon's group.
///
/// A reload that changes `http_listen` rebinds: the old listener stops gracefully, the new
/// one opens (or none, for `off`). An address that cannot be bound (in use, not local) is
/// logged and tried again every 10 s while the daemon carries on: the endpoint is for
/// watching the service, not a reason to stop forecasting.
struct HTTPService: Service {
    let context: DaemonContext
    let endpoint: HTTPEndpoint
    static let retryEvery = Duration.seconds(10)

    func run() async throws {
        var failed: String?
        while !Task.isCancelledOrShuttingDown {
            let listen = context.runtime.snapshot.httpListen
            guard case .address(let host, let port) = listen else {
                _ = await waitForChange(from: listen, orFor: nil)
                continue
            }
            do {
                try await serve(host: host, port: port, listen: listen)
                failed = nil
            } catch {
                let message = "cannot serve HTTP at \(listen): \(HealthChecks.oneLine("\(error)"))"
                if message != failed {
                    context.logger.error("\(message); trying again every \(Int(Self.retryEvery.seconds)) s")
                    failed = message
                }
                _ = await waitForChange(from: listen, orFor: Self.retryEvery)
            }
        }
    }

    /// Runs the application at `host:port` until shutdown or until the configuration changes
    /// `http_listen`.
    private func serve(host: String, port: Int, listen: HTTPListen) async throws {
        let logger = context.logger
        // Idle keep-alive connections close after 30 s; at most 64 connections at once.
        let application = Application(
            router: endpoint.router(),
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(
                address: .hostname(host, port: port), serverName: nil,
                availableConnectionsDelegate: MaximumAvailableConnections(64, logger: logger)),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                let shown = host.contains(":") ? "[\(host)]:\(bound)" : "\(host):\(bound)"
                logger.info("HTTP endpoint at http://\(shown)/ (/metrics, /healthz, /readyz)")
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        enum Ended { case application, changed, shutdown }
        try await withThrowingTaskGroup(of: Ended.self) { tasks in
            tasks.addTask {
                try await group.run()
                return .application
            }
            tasks.addTask { await waitForChange(from: listen, orFor: nil) ? .changed : .shutdown }
            // The application ends on shutdown (its group follows ours) or failure; a change of
            // address stops it gracefully.
            switch try await tasks.next() {
            case .changed:
                logger.notice("http_listen changed: closing the HTTP endpoint at \(listen)")
                await group.triggerGracefulShutdown()
            case .application:
                tasks.cancelAll()  // no longer waiting for a change
            case .shutdown, nil:
                break  // the application follows the daemon's graceful shutdown
            }
            while try await tasks.next() != nil {}
        }
    }

    /// Waits until `http_listen` differs from `listen` (true), `timeout` passed when given,
    /// or shutdown began (false).
    private func waitForChange(from listen: HTTPListen, orFor timeout: Duration?) async -> Bool {
        let updates = context.runtime.updates()
        guard context.runtime.snapshot.httpListen == listen else { return true }
        let changed = try? await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Bool.self) { tasks in
                tasks.addTask {
                    for await configuration in updates where configuration.httpListen != listen { return true }
                    return false
                }
                if let timeout {
                    tasks.addTask {
                        try? await Task.sleep(for: timeout)
                        return false
                    }
                }
                let changed = await tasks.next() ?? false
                tasks.cancelAll()
                return changed
            }
        }
        return changed ?? false
    }
}
