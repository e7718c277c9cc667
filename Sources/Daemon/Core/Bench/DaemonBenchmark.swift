public import Foundation

/// `forecastd bench daemon`: runs the real `forecastd run` as child processes on synthetic
/// hourly sources and measures what users see: time to first forecasts, "new hour -> fresh
/// forecasts" latency, peak RSS, idle CPU, rows re-read while idle, connections, errors,
/// forecast history growth and lease takeover. One `DaemonBenchResult` per scenario run.
///
/// Scenarios (the issue "Scale"):
/// - `series`: one model over 100 / 1,000 / 10,000 series;
/// - `models`: 50 and 200 models of 10 series, one source table each;
/// - `growth`: one model over 1,000 series for 100 cycles;
/// - `instances`: 4 daemons on one database sharing 8 models, then `kill -9` of the busiest.
///
/// Every source holds `hours` hours per series (sine + noise, per-series level; see
/// `SyntheticSource`), model options `{"hidden": 16, "layers": 1, "max_epochs": 2}`, horizon
/// 24, lookback 48. Each run creates its tables and models, and drops them afterwards.
public struct DaemonBenchmark: Sendable {
    public enum Scenario: String, CaseIterable, Sendable {
        case series, models, growth, instances
    }

    public struct Options: Sendable {
        public var scenarios = Scenario.allCases
        /// Series of the one model, per run of `series`.
        public var seriesCounts = [100, 1_000, 10_000]
        /// Models per run of `models`.
        public var modelCounts = [50, 200]
        /// Series per model in `models` and `instances`.
        public var seriesPerModel = 10
        public var growthSeries = 1_000
        public var instances = 4
        public var instanceModels = 8
        /// Cycles of every scenario; nil: 5, and 100 for `growth`.
        public var cycles: Int?
        /// Hours of history per series.
        public var hours = 2_000
        /// Seconds of the idle window (`series`).
        public var idleSeconds = 20.0
        /// Longest wait for any one thing (first forecasts, a cycle, a takeover).
        public var timeout = Duration.seconds(900)
        /// `--workers` for the daemons; nil: their default (one per core).
        public var workers: Int?
        /// Where the daemons' logs go (one file per daemon).
        public var logDirectory: URL
        /// Keep the logs and name them in the results.
        public var keepLogs = false

        public init(logDirectory: URL) { self.logDirectory = logDirectory }

        /// Smaller runs from two overrides: `series` sets the series counts of `series`,
        /// and `growth` uses the largest of them when it is under 1,000; `models` sets the
        /// model counts of `models`, and `instances` uses the smallest when it is under 8.
        public mutating func override(series: [Int]?, models: [Int]?) {
            if let series, let largest = series.max() {
                seriesCounts = series
                growthSeries = min(growthSeries, largest)
            }
            if let models, let smallest = models.min() {
                modelCounts = models
                instanceModels = min(instanceModels, smallest)
            }
        }
    }

    public let conninfo: String
    /// The `forecastd` binary to run as the daemon (normally this very program).
    public let executable: String
    public let options: Options

    public init(conninfo: String, executable: String, options: Options) {
        self.conninfo = conninfo
        self.executable = executable
        self.options = options
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A wait that ran out.
    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    /// Runs the chosen scenarios in order, handing each result to `report` as it is ready.
    /// A scenario that fails or times out reports what it saw and the next one runs.
    public func run(
        progress: @escaping @Sendable (String) -> Void, report: (DaemonBenchResult) -> Void
    ) async throws {
        let database = try await BenchDatabase.connect(conninfo)
        do {
            try await database.prepare()
        } catch {
            await database.close()
            throw error
        }
        let context = BenchContext(
            conninfo: conninfo, executable: executable, options: options, database: database, progress: progress)
        for scenario in options.scenarios where !Task.isCancelled {
            switch scenario {
            case .series:
                for count in options.seriesCounts { report(await context.series(count)) }
            case .models:
                for count in options.modelCounts { report(await context.models(count)) }
            case .growth:
                report(await context.growth())
            case .instances:
                report(await context.instances())
            }
        }
        await database.close()
    }
}
