import Foundation

extension BenchContext {
    /// `series`: one model over `count` series. First forecasts, `cycles` (default 5) cycles
    /// of "new hour -> fresh forecasts", then an idle window with no new data: the daemon's
    /// CPU and the rows it reads from the source meanwhile.
    func series(_ count: Int) async -> DaemonBenchResult {
        await attempt(DaemonBenchResult(scenario: "series", series: count, models: 1)) { result in
            let cycles = cycles(default: 5)
            let start = try await database.historyStart(hours: options.hours, spare: cycles + 2)
            let source = SyntheticSource(name: "series_\(count)", series: count, hours: options.hours, start: start)
            try await create([source], &result)
            try await withDaemons(1, &result) { fleet, result in
                try await firstForecasts([source], fleet: fleet, &result)
                var latencies: [Double] = []
                for index in 0..<cycles {
                    let seen = try await cycle(hour: options.hours + index, [source], fleet: fleet)
                    latencies.append(seen[source.model] ?? 0)
                    result.cycles = latencies.count
                    result.cycleSeconds = latencies
                    result.summarizeCycles(latencies)
                    progress("series \(count): cycle \(index + 1) in \(String(format: "%.2f", latencies.last!)) s")
                }
                try await idle(source, fleet: fleet, &result)
            }
        }
    }

    /// The idle window: no new data for `idleSeconds`. CPU from `/proc/PID/stat`; rows read
    /// and scans (one per poll) from `pg_stat_user_tables`, each snapshot taken 1.5 s after
    /// its end of the window so the daemon's backends have flushed their statistics (at most
    /// once a second when idle).
    func idle(_ source: SyntheticSource, fleet: DaemonFleet, _ result: inout DaemonBenchResult) async throws {
        guard let daemon = fleet.daemons.first else { return }
        progress("\(result.scenario) \(result.series): idle for \(Int(options.idleSeconds)) s")
        // Let the last cycle's housekeeping (scoring, pruning) finish first.
        try await Task.sleep(for: .seconds(2))
        let flush = Duration.milliseconds(1500)
        guard let ticksBefore = ProcessStats.read(pid: daemon.pid)?.cpuTicks else {
            throw DaemonBenchmark.Failure(description: "cannot read /proc/\(daemon.pid)/stat")
        }
        let begun = ContinuousClock.now
        try await Task.sleep(for: flush)
        let readsBefore = try await database.reads(source.table)
        try await Task.sleep(until: begun + .milliseconds(Int(options.idleSeconds * 1000)), clock: .continuous)
        try fleet.checkRunning()
        guard let ticksAfter = ProcessStats.read(pid: daemon.pid)?.cpuTicks else {
            throw DaemonBenchmark.Failure(description: "cannot read /proc/\(daemon.pid)/stat")
        }
        let elapsed = (ContinuousClock.now - begun).seconds
        try await Task.sleep(for: flush)
        let readsAfter = try await database.reads(source.table)
        result.idleSeconds = elapsed
        result.idleCPUPercent = Double(ticksAfter - ticksBefore) / ProcessStats.ticksPerSecond / elapsed * 100
        result.idleRowsRead = readsAfter.rows - readsBefore.rows
        // Each poll reads the source in one statement: one scan of the table.
        result.idlePolls = readsAfter.scans - readsBefore.scans
        if result.idlePolls! > 0 {
            result.idleRowsPerPoll = Double(result.idleRowsRead!) / Double(result.idlePolls!)
        }
    }
}
