public import ArgumentParser
public import DaemonCore
import Foundation

/// `forecastd bench daemon`: the real daemon (`forecastd run` as child processes) at scale,
/// one JSON line per scenario run.
struct BenchDaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run real daemons on synthetic sources; report latency, memory, CPU, connections, takeover.",
        discussion: """
            Starts a throwaway PostgreSQL (max_connections from --max-connections) unless \
            --database is given; that database must hold no other models and no running forecastd. \
            Each scenario run creates its tables (hourly sine + noise, a level per series, --hours \
            hours, an index on the time column) and models (hidden 16, 1 layer, 2 epochs, horizon 24, \
            lookback 48), starts `forecastd run` as child processes of this very binary, measures, \
            stops them and drops what it created. A cycle = one new hour for every series, timed from \
            its commit until forecasts issued at that hour cover every series (probed every 25 ms; every \
            100 ms when waiting for more than 10 models).
              series     1 model over 100, 1,000, 10,000 series: first forecasts, cycles, peak RSS, \
            idle CPU and rows re-read during --idle-seconds without data, connections
              models     50 and 200 models x --series-per-model series, one table each: first \
            forecasts, per-model cycle latency, models in error, 'too many clients', connections
              growth     1 model over 1,000 series, 100 cycles: latency trend, forecast history \
            bytes per cycle, SELECT * FROM forecast.latest WHERE model = ... before and after
              instances  --instances daemons, 8 models: leases held per daemon, then kill -9 of \
            the busiest and the takeover time
            Progress goes to stderr, results to stdout.
            """)

    @Option(help: "Use this database instead of a throwaway server (it must hold no other models).")
    var database: String?
    @Option(help: "Run one scenario: series, models, growth or instances (default: all).")
    var scenario: DaemonBenchmark.Scenario?
    @Option(
        help:
            "Series counts of 'series', comma-separated (default 100,1000,10000); 'growth' uses the largest if under 1000.",
        transform: Self.list)
    var series: [Int]?
    @Option(
        help: "Model counts of 'models', comma-separated (default 50,200); 'instances' uses the smallest if under 8.",
        transform: Self.list)
    var models: [Int]?
    @Option(help: "Series per model in 'models' and 'instances'.") var seriesPerModel = 10
    @Option(help: "Cycles per scenario run (default 5; 100 for 'growth').") var cycles: Int?
    @Option(help: "Hours of history per series.") var hours = 2_000
    @Option(help: "Seconds without new data over which 'series' measures idle CPU and reads.")
    var idleSeconds = 20.0
    @Option(help: "Seconds to wait for any one thing (first forecasts, a cycle, a takeover).") var timeout = 900.0
    @Option(help: "--workers for the daemons (default: theirs, one per core).") var workers: Int?
    @Option(help: "Daemons in 'instances'.") var instances = 4
    @Option(help: "max_connections of the throwaway server.") var maxConnections = 300
    @Option(help: "Keep the daemons' logs in this directory (default: a temporary one, removed).")
    var logDir: String?

    static func list(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw ValidationError("expected comma-separated integers, got '\(text)'")
        }
        return values.compactMap { $0 }
    }

    func validate() throws {
        if let series, !series.allSatisfy({ (1...99_999).contains($0) }) {
            throw ValidationError("--series must be from 1 to 99999")
        }
        if let models, !models.allSatisfy({ $0 >= 1 }) { throw ValidationError("--models must be at least 1") }
        if let cycles, cycles < 1 { throw ValidationError("--cycles must be at least 1") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if !(1...99_999).contains(seriesPerModel) {
            throw ValidationError("--series-per-model must be from 1 to 99999")
        }
        if hours < 96 { throw ValidationError("--hours must be at least 96 (lookback 48 + horizon 24, with room)") }
        if instances < 2 { throw ValidationError("--instances must be at least 2") }
        if !(idleSeconds > 0) || !(timeout > 0) {
            throw ValidationError("--idle-seconds and --timeout must be positive")
        }
        if maxConnections < 10 { throw ValidationError("--max-connections must be at least 10") }
    }

    func run() async throws {
        try await reportingFailures {
            let logs =
                logDir.map { URL(fileURLWithPath: $0) }
                ?? FileManager.default.temporaryDirectory.appending(path: "forecastd-bench-\(getpid())")
            try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
            defer { if logDir == nil { try? FileManager.default.removeItem(at: logs) } }
            var options = DaemonBenchmark.Options(logDirectory: logs)
            if let scenario { options.scenarios = [scenario] }
            options.override(series: series, models: models)
            options.seriesPerModel = seriesPerModel
            options.cycles = cycles
            options.hours = hours
            options.idleSeconds = idleSeconds
            options.timeout = .milliseconds(Int(timeout * 1000))
            options.workers = workers
            options.instances = instances
            options.keepLogs = logDir != nil

            var server: ThrowawayPostgres?
            let conninfo: String
            if let database {
                conninfo = database
            } else {
                FileHandle.standardError.write(Data("starting a throwaway PostgreSQL ...\n".utf8))
                let started = try ThrowawayPostgres(maxConnections: maxConnections)
                server = started
                conninfo = started.conninfo
            }
            defer { server?.stop() }
            let benchmark = DaemonBenchmark(conninfo: conninfo, executable: Self.ownExecutable, options: options)
            try await benchmark.run(
                progress: { FileHandle.standardError.write(Data("bench daemon: \($0)\n".utf8)) },
                report: { result in
                    // Unbuffered, so each line appears as its scenario ends.
                    if let line = try? JSONLine.encode(result) {
                        FileHandle.standardOutput.write(Data((line + "\n").utf8))
                    }
                })
        }
    }

    /// This program's own binary: `/proc/self/exe`, else `argv[0]`.
    static var ownExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

extension DaemonBenchmark.Scenario: ExpressibleByArgument {}
