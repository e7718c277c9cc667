public import ArgumentParser
import DaemonCore
import Foundation
import Ingest
public import Logging
import PostgresClient
import ServiceLifecycle

/// `forecastd run`: the service.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the forecasting service: train, update and forecast every model in the database.",
        discussion: """
            Settings come from the configuration file (default \(DaemonConfiguration.defaultPath), \
            if present), then the environment (FORECASTD_DATABASE_URL, FORECASTD_LOG_LEVEL, \
            FORECASTD_WORKERS), then these flags. SIGHUP re-reads them; SIGTERM or SIGINT stops \
            gracefully (in-flight training is abandoned without writing anything). Speaks systemd's \
            notify protocol when NOTIFY_SOCKET is set. Logs go to stderr, one line per event. Serves \
            /metrics (Prometheus), /healthz, /readyz and read-only status pages (/ and /models/NAME) \
            at --http-listen.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Configuration file (YAML).") var config: String?
    @Option(help: "Models trained or forecast at once (default: number of cores).") var workers: Int?
    @Option(help: "Seconds between polls of each model when no notification arrives (default 10).")
    var pollInterval: Double?
    @Option(help: "Seconds a model lease lasts without renewal (default 30).") var leaseSeconds: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info).")
    var logLevel: Logger.Level?
    @Option(
        help: ArgumentHelp(
            "HTTP endpoint address: HOST:PORT, [IPv6]:PORT or off (default \(HTTPListen.default)).",
            discussion: "Serves /metrics, /healthz, /readyz, / and /models/NAME. Port 0 takes a free port.",
            valueName: "address"))
    var httpListen: String?

    func validate() throws {
        if let pollInterval, pollInterval <= 0 { throw ValidationError("--poll-interval must be positive") }
        if let leaseSeconds, leaseSeconds < 3 { throw ValidationError("--lease-seconds must be at least 3") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if let httpListen, HTTPListen(httpListen) == nil {
            throw ValidationError("--http-listen must be off or HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464)")
        }
    }

    /// Defaults, then the file, then the environment, then flags.
    func loadConfiguration() throws -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        if let config {
            configuration = try configuration.applyingFile(config)
        } else if FileManager.default.fileExists(atPath: DaemonConfiguration.defaultPath) {
            configuration = try configuration.applyingFile(DaemonConfiguration.defaultPath)
        }
        configuration = configuration.applyingEnvironment(ProcessInfo.processInfo.environment)
        if let database = global.database { configuration.database = database }
        if let workers { configuration.workers = workers }
        if let pollInterval { configuration.pollInterval = pollInterval }
        if let leaseSeconds { configuration.leaseSeconds = leaseSeconds }
        if let logLevel { configuration.logLevel = logLevel }
        if let listen = httpListen.flatMap(HTTPListen.init) { configuration.httpListen = listen }
        return configuration
    }

    func run() async throws {
        try await reportingFailures {
            let configuration = try loadConfiguration()
            let (runtime, logger) = DaemonLogging.bootstrap(configuration)
            let registry = MetricsBackend.bootstrap(version: Forecastd.version)
            try await ForecastDaemon.checkSchema(configuration.connectionSettings())
            let context = DaemonContext(runtime: runtime, logger: logger)
            let command = self
            try await ForecastDaemon.serve(
                context, reload: { try command.loadConfiguration() },
                http: .init(metrics: PrometheusExposition(registry: registry)))
        }
    }
}

/// Logging for the executable: plain lines to stderr (journald adds the time), at a level
/// that a reload can change.
enum DaemonLogging {
    static func bootstrap(_ configuration: DaemonConfiguration) -> (RuntimeConfiguration, Logger) {
        let box = LogLevelBox(configuration.logLevel)
        LoggingSystem.bootstrap { label in DynamicLevelLogHandler(label: label, box: box) }
        return (RuntimeConfiguration(configuration, logLevel: box), Logger(label: "forecastd"))
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
