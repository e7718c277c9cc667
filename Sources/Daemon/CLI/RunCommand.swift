import ArgumentParser
import Foundation
import Ingest
import Logging
import ServiceLifecycle

/// `forecastd run`: the service.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the forecasting service: train, update and forecast every model in the database.",
        discussion: """
            Stops gracefully on SIGTERM or SIGINT (in-flight training is abandoned without \
            writing anything). Logs go to stderr, one line per event.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Models trained or forecast at once (default: number of cores).") var workers: Int?
    @Option(help: "Seconds between polls of each model when no notification arrives.") var pollInterval: Double = 10
    @Option(help: "Seconds a model lease lasts without renewal.") var leaseSeconds: Int = 30
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.") var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard pollInterval > 0 else { throw ValidationError("--poll-interval must be positive") }
        guard leaseSeconds >= 3 else { throw ValidationError("--lease-seconds must be at least 3") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() async throws {
        try await reportingFailures {
            let logger = DaemonLogging.bootstrap(level: Logger.Level(rawValue: logLevel) ?? .info)
            let settings = ConnectionSettings(global.conninfo)
            try await Self.checkSchema(settings)
            let context = DaemonContext(
                settings: settings, owner: DaemonContext.makeOwner(),
                pool: TrainingPool(size: workers ?? ProcessInfo.processInfo.activeProcessorCount),
                writer: ForecastWriter(settings: settings), wake: WakeSignal(), logger: logger,
                pollInterval: .milliseconds(Int(pollInterval * 1000)), leaseSeconds: leaseSeconds)
            try await Self.serve(context)
        }
    }

    /// Runs the daemon's services until a shutdown signal.
    static func serve(_ context: DaemonContext, progress: SchedulerProgress = SchedulerProgress()) async throws {
        let inbox = NotificationInbox()
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: RequestListener(context: context, notifications: inbox)),
                    .init(service: Scheduler(context: context, notifications: inbox, progress: progress)),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: context.logger))
        context.logger.info(
            "forecastd started", metadata: ["owner": "\(context.owner)", "workers": "\(context.pool.size)"])
        try await group.run()
        await context.writer.close()
        context.logger.info("forecastd stopped")
    }

    /// Refuses to run against a schema older (or newer) than this binary's migrations.
    static func checkSchema(_ settings: ConnectionSettings) async throws {
        let connection = try await PostgresConnection.connect(settings)
        let applied = try await connection.withSession { session in try Migrator().appliedVersions(session) }
        await connection.close()
        let newest = Migration.all.last?.version ?? 0
        let current = applied.keys.max() ?? 0
        guard current == newest else {
            throw SchemaOutOfDate(current: current, expected: newest)
        }
    }

    struct SchemaOutOfDate: Error, CustomStringConvertible {
        var current: Int
        var expected: Int
        var description: String {
            current < expected
                ? "the forecast schema is at version \(current), this forecastd needs \(expected): run 'forecastd migrate'"
                : "the forecast schema is at version \(current), newer than this forecastd (\(expected)): upgrade forecastd"
        }
    }
}

/// Logging for the executable: plain lines to stderr (journald adds the time).
enum DaemonLogging {
    static func bootstrap(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "forecastd")
        logger.logLevel = level
        return logger
    }
}
