import Foundation

extension BenchContext {
    /// `growth`: one model over `growthSeries` series for `cycles` (default 100) cycles: the
    /// latency of each, how many bytes each adds to the forecast history, and how long
    /// reading `forecast.latest` takes before and after.
    func growth() async -> DaemonBenchResult {
        let count = options.growthSeries
        return await attempt(DaemonBenchResult(scenario: "growth", series: count, models: 1)) { result in
            let cycles = cycles(default: 100)
            let start = try await database.historyStart(hours: options.hours, spare: cycles + 2)
            let source = SyntheticSource(name: "growth_\(count)", series: count, hours: options.hours, start: start)
            try await create([source], &result)
            try await withDaemons(1, &result) { fleet, result in
                try await firstForecasts([source], fleet: fleet, &result)
                result.latestQueryMsFirst = try await database.latestQueryMilliseconds(source.model)
                let before = try await database.forecastBytes()
                var latencies: [Double] = []
                for index in 0..<cycles {
                    let seen = try await cycle(hour: options.hours + index, [source], fleet: fleet)
                    latencies.append(seen[source.model] ?? 0)
                    let after = try await database.forecastBytes()
                    result.historyBytesPerCycle = Double(after.history - before.history) / Double(index + 1)
                    result.schemaBytesPerCycle = Double(after.schema - before.schema) / Double(index + 1)
                    Self.summarizeGrowth(latencies, into: &result)
                    if (index + 1) % 10 == 0 || index + 1 == cycles {
                        progress(
                            "growth \(count): cycle \(index + 1) of \(cycles) in \(String(format: "%.2f", latencies.last!)) s"
                        )
                    }
                }
                result.latestQueryMsLast = try await database.latestQueryMilliseconds(source.model)
            }
        }
    }

    /// Cycle figures of `growth`: percentiles, every latency, and the medians of the first
    /// and the last 10 cycles (of the first and last half when there are fewer than 20).
    static func summarizeGrowth(_ latencies: [Double], into result: inout DaemonBenchResult) {
        result.cycles = latencies.count
        result.cycleSeconds = latencies
        result.summarizeCycles(latencies)
        let window = min(10, latencies.count / 2)
        guard window > 0, let first = LatencySummary.median(Array(latencies.prefix(window))),
            let last = LatencySummary.median(Array(latencies.suffix(window)))
        else { return }
        result.cycleFirst10Seconds = first
        result.cycleLast10Seconds = last
        result.cycleLast10OverFirst10 = first > 0 ? last / first : nil
    }
}
