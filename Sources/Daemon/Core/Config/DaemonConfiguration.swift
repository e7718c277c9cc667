public import Foundation
import Ingest
public import Logging
public import PostgresClient
import Yams

/// The daemon's settings: built-in defaults, then the configuration file, then the
/// environment, then command-line flags (each overriding the one before).
///
/// The file (`/etc/forecastd/forecastd.conf` by default) is YAML with these keys, all
/// optional:
///
///     database: "host=/var/run/postgresql dbname=sensors user=forecastd"  # conninfo or URI, no password
///     log_level: info         # trace, debug, info, notice, warning, error, critical
///     workers: 2              # models trained at once (default: number of cores)
///     poll_interval: 10       # seconds between polls of each model without notifications
///     lease_seconds: 30       # lease lifetime; renewed every third of it
///     keep_forecasts_days: 90 # forecasts kept, counted back from each model's newest (weekly partitions); 0 keeps all
///     keep_versions: 10       # checkpoints kept per model (the active one and its parent always)
///     http_listen: 127.0.0.1:9464  # /metrics, /healthz, /readyz and status pages; off disables
///
/// Passwords never go in the file, the unit or the environment: put them in a libpq
/// password file. Under systemd the unit passes it with `LoadCredential=pgpass:...`, and
/// forecastd points libpq's `passfile` at `$CREDENTIALS_DIRECTORY/pgpass`.
public struct DaemonConfiguration: Sendable, Equatable {
    public init() {}

    public var database = ""
    public var logLevel: Logger.Level = .info
    public var workers = ProcessInfo.processInfo.activeProcessorCount
    public var pollInterval = 10.0
    public var leaseSeconds = 30
    /// Days of issued forecasts kept per series, counted back from its newest forecast (data
    /// time, so replayed history is not wiped); 0 keeps everything.
    public var keepForecastsDays = 90.0
    /// Checkpoints kept per model: older versions' are cleared (rows and metrics stay); the
    /// active version's and its parent's never are.
    public var keepVersions = 10
    /// Where the HTTP endpoint listens (`HTTPListen`); a reload that changes it rebinds.
    public var httpListen = HTTPListen.default

    public static let defaultPath = "/etc/forecastd/forecastd.conf"
    public static let keys = [
        "database", "log_level", "workers", "poll_interval", "lease_seconds", "keep_forecasts_days",
        "keep_versions", "http_listen",
    ]

    /// A problem with one key (or the file as a whole when `key` is nil).
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var path: String
        public var key: String?
        public var message: String
        public var description: String { "\(path): \(key.map { "\($0): " } ?? "")\(message)" }
    }

    /// Applies the YAML file at `path` on top of `self`.
    public func applyingFile(_ path: String) throws -> DaemonConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Invalid(path: path, key: nil, message: "cannot read the file (\(error.localizedDescription))")
        }
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw Invalid(path: path, key: nil, message: "not valid YAML: \(error)")
        }
        guard let loaded else { return self }
        guard let mapping = loaded as? [String: Any] else {
            throw Invalid(path: path, key: nil, message: "expected key: value lines")
        }
        var result = self
        for (key, value) in mapping.sorted(by: { $0.key < $1.key }) {
            func invalid(_ message: String) -> Invalid { Invalid(path: path, key: key, message: message) }
            /// The value as an integer in `range`, else nil.
            func integer(in range: ClosedRange<Int>) -> Int? {
                (value as? Int).flatMap { range.contains($0) ? $0 : nil }
            }
            /// The value as a number (integer or decimal) in `range`, else nil.
            func number(in range: ClosedRange<Double>) -> Double? {
                ((value as? Double) ?? (value as? Int).map(Double.init)).flatMap { range.contains($0) ? $0 : nil }
            }
            switch key {
            case "database":
                guard let text = value as? String else { throw invalid("must be a conninfo string or URI") }
                if text.range(of: #"(^|\s)password\s*="#, options: .regularExpression) != nil
                    || text.range(of: #"://[^/@\s]*:[^/@\s]*@"#, options: .regularExpression) != nil
                {
                    throw invalid("must not contain a password: use a libpq password file (see LoadCredential=)")
                }
                result.database = text
            case "log_level":
                guard let text = value as? String, let level = Logger.Level(rawValue: text) else {
                    throw invalid("must be one of trace, debug, info, notice, warning, error, critical")
                }
                result.logLevel = level
            case "workers":
                guard let count = integer(in: 1...256) else { throw invalid("must be an integer from 1 to 256") }
                result.workers = count
            case "poll_interval":
                guard let seconds = number(in: 0.1...3600) else {
                    throw invalid("must be a number of seconds from 0.1 to 3600")
                }
                result.pollInterval = seconds
            case "lease_seconds":
                guard let seconds = integer(in: 3...3600) else { throw invalid("must be an integer from 3 to 3600") }
                result.leaseSeconds = seconds
            case "keep_forecasts_days":
                guard let days = number(in: 0...36_500) else {
                    throw invalid("must be a number of days from 0 (keep all) to 36500")
                }
                result.keepForecastsDays = days
            case "keep_versions":
                guard let count = integer(in: 2...100_000) else {
                    throw invalid("must be an integer from 2 to 100000")
                }
                result.keepVersions = count
            case "http_listen":
                // YAML 1.1 reads a bare `off` as false.
                if let flag = value as? Bool, !flag {
                    result.httpListen = .off
                    continue
                }
                guard let text = value as? String, let listen = HTTPListen(text) else {
                    throw invalid("must be off or HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464)")
                }
                result.httpListen = listen
            default:
                throw invalid("unknown key (known: \(Self.keys.joined(separator: ", ")))")
            }
        }
        return result
    }

    /// Applies `FORECASTD_DATABASE_URL`, `FORECASTD_LOG_LEVEL`, `FORECASTD_WORKERS`.
    public func applyingEnvironment(_ environment: [String: String]) -> DaemonConfiguration {
        var result = self
        if let database = environment["FORECASTD_DATABASE_URL"] { result.database = database }
        if let level = environment["FORECASTD_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) {
            result.logLevel = level
        }
        if let workers = environment["FORECASTD_WORKERS"].flatMap(Int.init), workers >= 1 { result.workers = workers }
        return result
    }

    /// libpq settings: the conninfo, plus the systemd credential password file when present.
    public func connectionSettings(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> ConnectionSettings
    {
        var settings = ConnectionSettings(database)
        if let credentials = environment["CREDENTIALS_DIRECTORY"] {
            let passfile = URL(fileURLWithPath: credentials).appending(path: "pgpass").path
            if FileManager.default.fileExists(atPath: passfile) { settings.defaults.append(("passfile", passfile)) }
        }
        return settings
    }
}
