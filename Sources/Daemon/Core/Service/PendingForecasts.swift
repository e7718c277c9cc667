/// Issued forecasts whose targets have not all arrived yet, kept compactly for the live
/// error (`LiveError`): per series, one entry per issued set with its point values as
/// Float32, not the written rows.
///
/// Memory: a set of horizon `h` costs about `4h + 64` bytes, and about `h` sets per series
/// are in flight (one per cycle until the first matures): 10,000 series at horizon 24 keep
/// about 38 MB (the written rows, with their quantile arrays, took over 600 MB).
struct PendingForecasts: Sendable {
    /// One issued set: step `k` (1-based) targets `issuedAt + k * spacing`.
    struct Set: Sendable, Equatable {
        var issuedAt: Int64
        /// µs between steps.
        var spacing: Int64
        /// Point values by step (index `k - 1`); NaN for a step the set did not hold.
        var values: [Float]
        /// Steps already scored (from step 1 on).
        var scored = 0

        /// The target time of step `step` (1-based).
        func target(ofStep step: Int) -> Int64 { issuedAt + Int64(step) * spacing }
    }

    private(set) var sets: [String: [Set]] = [:]

    /// Sets in flight, all series together.
    var count: Int { sets.values.reduce(0) { $0 + $1.count } }

    /// Keeps the sets of `rows` (grouped by series and issue time; targets on the grid
    /// `issuedAt + step * spacing`, as the Forecaster writes them).
    mutating func add(_ rows: [ForecastRow]) {
        var built: [String: [Int64: Set]] = [:]
        for row in rows where row.step >= 1 {
            var set =
                built[row.series]?[row.issuedAt]
                ?? Set(issuedAt: row.issuedAt, spacing: (row.targetTime - row.issuedAt) / Int64(row.step), values: [])
            if set.values.count < row.step {
                set.values += [Float](repeating: .nan, count: row.step - set.values.count)
            }
            set.values[row.step - 1] = Float(row.value)
            built[row.series, default: [:]][row.issuedAt] = set
        }
        for (series, issued) in built {
            sets[series, default: []] += issued.values.sorted { $0.issuedAt < $1.issuedAt }
        }
    }

    /// Scores every step whose target is at or before its series' watermark, once:
    /// `score(series, target, forecast)` is called for each, and sets whose targets have all
    /// arrived are dropped. Series not in `watermarks` keep their sets.
    mutating func scoreMatured(
        watermarks: [String: Int64], _ score: (_ series: String, _ target: Int64, _ forecast: Float) -> Void
    ) {
        for (series, inFlight) in sets {
            guard let watermark = watermarks[series] else { continue }
            var kept: [Set] = []
            for var set in inFlight {
                while set.scored < set.values.count, set.target(ofStep: set.scored + 1) <= watermark {
                    let step = set.scored + 1
                    if !set.values[step - 1].isNaN { score(series, set.target(ofStep: step), set.values[step - 1]) }
                    set.scored = step
                }
                if set.scored < set.values.count { kept.append(set) }
            }
            sets[series] = kept.isEmpty ? nil : kept
        }
    }
}
