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
    /// from `pg_stat_user_tables` over the same window, per poll of the daemon's default
    /// interval (10 s). An idle backend publishes its statistics up to 10 s late, so the
    /// window opens 11 s after the last cycle: only idle polls fall in it, and a window of
    /// whole poll intervals holds that many polls.
    func idle(_ source: SyntheticSource, fleet: DaemonFleet, _ result: inout DaemonBenchResult) async throws {
        guard let daemon = fleet.daemons.first else { return }
        progress("\(result.scenario) \(result.series): idle for 11 + \(Int(options.idleSeconds)) s")
        try await Task.sleep(for: .seconds(11))
        guard let ticksBefore = ProcessStats.read(pid: daemon.pid)?.cpuTicks else {
            throw DaemonBenchmark.Failure(description: "cannot read /proc/\(daemon.pid)/stat")
        }
        let rowsBefore = try await database.rowsRead(source.table)
        let begun = ContinuousClock.now
        try await Task.sleep(until: begun + .milliseconds(Int(options.idleSeconds * 1000)), clock: .continuous)
        try fleet.checkRunning()
        guard let ticksAfter = ProcessStats.read(pid: daemon.pid)?.cpuTicks else {
            throw DaemonBenchmark.Failure(description: "cannot read /proc/\(daemon.pid)/stat")
        }
        let rowsAfter = try await database.rowsRead(source.table)
        let elapsed = (ContinuousClock.now - begun).seconds
        result.idleSeconds = elapsed
        result.idleCPUPercent = Double(ticksAfter - ticksBefore) / ProcessStats.ticksPerSecond / elapsed * 100
        result.idleRowsRead = rowsAfter - rowsBefore
        result.idleRowsPerPoll = Double(rowsAfter - rowsBefore) / max(1, elapsed / Self.pollIntervalSeconds)
    }
}
