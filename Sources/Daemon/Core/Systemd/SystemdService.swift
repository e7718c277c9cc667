import Foundation
import Ingest
import Logging
import PostgresClient
import ServiceLifecycle
import UnixSignals

/// The daemon's side of systemd's `Type=notify` protocol:
///
/// - `READY=1` once the database was reachable, the schema current (checked before the
///   services start) and the scheduler has claimed its models (its first loop turn);
/// - `WATCHDOG=1` every half `WATCHDOG_USEC` (at most every 5 s) while the scheduler's loop
///   is healthy (`SchedulerProgress.isHealthy`: it turns within the bound it promised, plus
///   half the watchdog interval, with or without work), so only a stuck main loop gets the
///   process restarted;
/// - `STATUS=` one line: models, errors, queued requests, last forecast;
/// - on SIGHUP `RELOADING=1` with `MONOTONIC_USEC`, re-reads the configuration (an invalid
///   file keeps the old configuration and says why in the log), then `READY=1`;
/// - `STOPPING=1` when shutdown begins.
struct SystemdService: Service {
    let notifier: SystemdNotifier
    let context: DaemonContext
    let progress: SchedulerProgress
    /// Builds the configuration again from file, environment and flags (for reload).
    let reload: @Sendable () throws -> DaemonConfiguration

    func run() async throws {
        let watchdog = SystemdNotifier.watchdogInterval()
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.readyWatchdogAndStatus(watchdog: watchdog) }
                group.addTask { await self.reloads() }
                try await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            notifier.notify(["STOPPING=1", "STATUS=stopping"])
        }
    }

    /// READY once the scheduler turned once, then pings and status until shutdown.
    private func readyWatchdogAndStatus(watchdog: Duration?) async throws {
        while progress.count == 0 {
            try await Task.sleep(for: .milliseconds(50))
        }
        notifier.notify(["READY=1", "STATUS=started"])
        context.logger.info("ready")
        let tick = watchdog.map { min($0 / 2, .seconds(5)) } ?? .seconds(5)
        let statusEvery = Duration.seconds(10)
        // The first ping goes with READY's first check.
        var lastPing = ContinuousClock.now - (watchdog ?? .zero)
        // A turn may take this long beyond its promised sleep (lease renewal, starting
        // cycles) before the loop counts as stuck: half the watchdog, so systemd still
        // hears in time from a loop that recovers.
        let grace = watchdog.map { $0 / 2 } ?? .seconds(5)
        var lastStatus = ContinuousClock.now - statusEvery
        var statusConnection: PostgresConnection?
        defer { if let statusConnection { Task { await statusConnection.close() } } }
        while !Task.isCancelledOrShuttingDown {
            let now = ContinuousClock.now
            if let watchdog, now - lastPing >= min(watchdog / 2, .seconds(5)) - .milliseconds(100) {
                if progress.isHealthy(at: now, grace: grace) {
                    notifier.notify(["WATCHDOG=1"])
                    lastPing = now
                } else {
                    context.logger.warning("scheduler made no progress: withholding the watchdog ping")
                }
            }
            // The status line is for systemd: without it, no connection is spent on it.
            if notifier.isEnabled, now - lastStatus >= statusEvery {
                lastStatus = now
                do {
                    if statusConnection == nil {
                        statusConnection = try await PostgresConnection.connect(context.settings)
                    }
                    let line = try await statusConnection!.withSession { session in try Self.statusLine(session) }
                    notifier.notify(["STATUS=\(line)"])
                } catch is CancellationError {
                    return
                } catch {
                    statusConnection = nil
                    notifier.notify(["STATUS=database unreachable: \(ModelWorker.describe(error))"])
                }
            }
            try await Task.sleep(for: watchdog.map { min(tick, $0 / 4) } ?? tick)
        }
    }

    /// How late a scheduler turn may be before `/healthz` calls the loop stuck: half the
    /// watchdog interval under systemd, else 30 s (a turn waits for the database, up to its
    /// connect timeout, when the database is away: that is no reason to restart).
    static func healthGrace(watchdog: Duration? = SystemdNotifier.watchdogInterval()) -> Duration {
        max(watchdog.map { $0 / 2 } ?? .seconds(30), .seconds(5))
    }

    /// "3 models (1 training, 1 error), 0 queued requests, last forecast 2026-...".
    static func statusLine(_ session: PostgresSession) throws -> String {
        let row = try session.query(
            """
            SELECT count(*), count(*) FILTER (WHERE state = 'training'), count(*) FILTER (WHERE state = 'error'),
                   coalesce(sum(queued_requests), 0)::int8, to_char(max(last_forecast) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
            FROM forecast.model_status
            """)[0]
        let models = try row.decode(Int.self, at: 0)
        var text = "\(models) model\(models == 1 ? "" : "s")"
        let training = try row.decode(Int.self, at: 1)
        let errors = try row.decode(Int.self, at: 2)
        if training + errors > 0 { text += " (\(training) training, \(errors) in error)" }
        text += ", \(try row.decode(Int.self, at: 3)) queued requests"
        if let last = try row.decode(String?.self, at: 4) { text += ", newest forecast issued at \(last) UTC" }
        return text
    }

    /// SIGHUP: reload the configuration.
    private func reloads() async {
        for await _ in await UnixSignalsSequence(trapping: .sighup) {
            notifier.notify(["RELOADING=1", "MONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds())"])
            do {
                let configuration = try reload()
                context.runtime.replace(with: configuration)
                context.pool.resize(configuration.workers)
                await context.connections.resize(configuration.workers)
                context.logger.notice(
                    "configuration reloaded",
                    metadata: [
                        "log_level": "\(configuration.logLevel)", "workers": "\(configuration.workers)",
                        "poll_interval": "\(configuration.pollInterval)",
                        "http_listen": "\(configuration.httpListen)",
                    ])
            } catch {
                context.logger.error("reload failed, keeping the previous configuration: \(error)")
            }
            notifier.notify(["READY=1"])
        }
    }
}
