import Foundation

extension BenchContext {
    /// `models`: `count` models of `seriesPerModel` series, one source table each, one
    /// daemon. First forecasts of all; then each cycle delivers a new hour to every table in
    /// one transaction and times each model until its latest forecasts show it (percentiles
    /// over all models and cycles; `cycle_s` lists each cycle's slowest model).
    func models(_ count: Int) async -> DaemonBenchResult {
        let perModel = options.seriesPerModel
        return await attempt(DaemonBenchResult(scenario: "models", series: perModel, models: count)) { result in
            let cycles = cycles(default: 5)
            let start = try await database.historyStart(hours: options.hours, spare: cycles + 2)
            let sources = (1...count).map { index in
                SyntheticSource(
                    name: String(format: "models_%d_m%03d", count, index), series: perModel, hours: options.hours,
                    start: start)
            }
            try await create(sources, &result)
            try await withDaemons(1, &result) { fleet, result in
                try await firstForecasts(sources, fleet: fleet, &result)
                var pooled: [Double] = []
                var slowest: [Double] = []
                for index in 0..<cycles {
                    let seen = try await cycle(hour: options.hours + index, sources, fleet: fleet)
                    pooled += seen.values
                    slowest.append(seen.values.max() ?? 0)
                    result.cycles = slowest.count
                    result.cycleSeconds = slowest
                    result.summarizeCycles(pooled)
                    progress(
                        "models \(count): cycle \(index + 1), all fresh after \(String(format: "%.2f", slowest.last!)) s"
                    )
                }
            }
        }
    }
}
