import Foundation

/// What every scenario run shares: the options, the benchmark's connection, starting and
/// stopping daemons, and waiting for fresh forecasts.
struct BenchContext: Sendable {
    let conninfo: String
    let executable: String
    let options: DaemonBenchmark.Options
    let database: BenchDatabase
    let progress: @Sendable (String) -> Void

    /// The daemon's poll interval (its default; the benchmark does not change it).
    static let pollIntervalSeconds = 10.0
    /// Between probes for fresh forecasts: latencies are good to this. Waits for many
    /// models probe less often, to leave the server to the daemon.
    static func probeInterval(models: Int) -> Duration { .milliseconds(models <= 10 ? 25 : 100) }

    func cycles(default value: Int) -> Int { options.cycles ?? value }

    /// Runs `body` and records how it ended: a timeout or a failure goes into the result,
    /// never further. Afterwards the run's tables and models are dropped, the load average
    /// noted and the figures rounded for printing.
    func attempt(
        _ initial: DaemonBenchResult, _ body: (inout DaemonBenchResult) async throws -> Void
    ) async -> DaemonBenchResult {
        var result = initial
        do {
            try await body(&result)
        } catch let timeout as DaemonBenchmark.TimedOut {
            result.timedOut = true
            result.failure = timeout.description
        } catch {
            result.failure = String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        }
        if result.failure != nil { progress("\(result.scenario): \(result.failure!)") }
        do {
            try await database.dropAll()
        } catch {
            progress("could not drop the benchmark's tables and models: \(error)")
        }
        result.loadAverage = ProcessStats.loadAverage()
        return result.rounded()
    }

    /// Creates `sources` (tables filled server-side, models registered).
    func create(_ sources: [SyntheticSource], _ result: inout DaemonBenchResult) async throws {
        let rows = sources.reduce(0) { $0 + $1.series * $1.hours }
        progress("\(result.scenario): creating \(sources.count) table(s), \(rows) rows")
        let started = ContinuousClock.now
        try await database.create(sources)
        progress(
            "\(result.scenario): data ready in \(String(format: "%.1f", (ContinuousClock.now - started).seconds)) s")
        result.serverMaxConnections = try await database.maxConnections
        result.workers = options.workers
    }

    /// Starts `count` daemons, samples them while `body` runs, then stops them (SIGTERM) and
    /// adds their figures (peak RSS, connections, errors, log lines) to `result`.
    func withDaemons(
        _ count: Int, _ result: inout DaemonBenchResult,
        _ body: (DaemonFleet, inout DaemonBenchResult) async throws -> Void
    ) async throws {
        let label = "\(result.scenario)-\(result.series)x\(result.models)"
        // An empty configuration file: the daemons run on defaults, whatever /etc/forecastd holds.
        let configuration = options.logDirectory.appending(path: "forecastd.conf")
        try Data("# forecastd bench daemon: defaults\n".utf8).write(to: configuration)
        var arguments = ["--config", configuration.path]
        if let workers = options.workers { arguments += ["--workers", "\(workers)"] }
        let fleet = try DaemonFleet.start(
            count, executable: executable, conninfo: conninfo, arguments: arguments,
            logs: options.logDirectory, label: label)
        let samplerDatabase = try await BenchDatabase.connect(conninfo)
        let sampler = RunSampler(daemons: fleet.daemons, database: samplerDatabase)
        var failure: (any Error)?
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await sampler.run() }
            do {
                try await body(fleet, &result)
            } catch {
                failure = error
            }
            group.cancelAll()
        }
        let figures = sampler.figures
        await fleet.stopAll()
        await samplerDatabase.close()
        result.peakRSSMegabytes = figures.peakResidentKiB.map { Double($0) / 1024 }
        result.connectionsMax = figures.connectionsMax
        result.errors = figures.errorsMax
        result.tooManyClients = fleet.logLines(containing: "too many clients")
        result.logErrors = fleet.logLines(matching: #"^\S+ (error|critical) "#)
        if options.keepLogs { result.daemonLog = fleet.daemons.first?.log.path }
        if let failure { throw failure }
    }

    /// Waits until every source's model has forecasts issued at `time` for all its series;
    /// returns per model the seconds from `since` to the probe that first saw them. Fails
    /// when a daemon not killed on purpose exits.
    func waitFresh(
        _ sources: [SyntheticSource], issuedAt time: Date, since: ContinuousClock.Instant, fleet: DaemonFleet,
        what: String
    ) async throws -> [String: Double] {
        var remaining = sources
        var seen: [String: Double] = [:]
        let deadline = since + options.timeout
        while !remaining.isEmpty {
            try fleet.checkRunning()
            let probed = ContinuousClock.now
            let fresh = try await database.fresh(remaining, issuedAt: time)
            for model in fresh { seen[model] = (probed - since).seconds }
            remaining.removeAll { fresh.contains($0.model) }
            if remaining.isEmpty { break }
            if ContinuousClock.now > deadline {
                throw DaemonBenchmark.TimedOut(what: "\(what) (\(remaining.count) of \(sources.count) models)")
            }
            try await Task.sleep(for: Self.probeInterval(models: sources.count))
        }
        return seen
    }

    /// First forecasts of `sources`, timed from the daemons' start.
    func firstForecasts(_ sources: [SyntheticSource], fleet: DaemonFleet, _ result: inout DaemonBenchResult)
        async throws
    {
        progress("\(result.scenario): waiting for the first forecasts")
        guard let time = sources.first?.lastHistoryTime else { return }
        let seen = try await waitFresh(
            sources, issuedAt: time, since: fleet.started, fleet: fleet, what: "the first forecasts")
        result.firstForecastsSeconds = seen.values.max()
        progress("\(result.scenario): first forecasts after \(String(format: "%.1f", seen.values.max() ?? 0)) s")
    }

    /// Delivers hour `hour` to every source and waits until all models show it; returns
    /// per model the seconds from the commit. Delivers once the daemons are quiet (`settle`).
    func cycle(hour: Int, _ sources: [SyntheticSource], fleet: DaemonFleet) async throws -> [String: Double] {
        guard let time = sources.first?.time(ofHour: hour) else { return [:] }
        try await settle()
        try await database.deliver(hour: hour, to: sources)
        let committed = ContinuousClock.now
        return try await waitFresh(
            sources, issuedAt: time, since: committed, fleet: fleet, what: "forecasts of hour \(hour)")
    }

    /// Waits until no daemon connection runs a statement in three samples 0.1 s apart (at
    /// most 5 s), so the previous cycle's housekeeping is over before the next hour arrives.
    /// Hourly data never lands in the middle of the previous hour's cycle; back to back, it
    /// would, and a notification for a model whose cycle is still running waits for the
    /// next poll (10 s) in today's daemon: a cycle measures the path from commit to fresh
    /// forecasts, not that race.
    func settle() async throws {
        let deadline = ContinuousClock.now + .seconds(5)
        var quiet = 0
        while quiet < 3, ContinuousClock.now < deadline {
            quiet = try await database.busyDaemonConnections() == 0 ? quiet + 1 : 0
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
