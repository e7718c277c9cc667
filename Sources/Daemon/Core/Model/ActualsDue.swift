import Ingest

/// A series whose forecast targets have actuals left to record (`ForecastStore.unscored`).
struct ActualsDue: Sendable, Hashable {
    var series: String
    /// Actuals are recorded through this time (µs since the Unix epoch).
    var recordedThrough: Int64
    /// The last target of the series' newest set (µs): nothing after it is recorded.
    var lastTarget: Int64
    /// Steps of the newest set: the seasonal-naive values cover that many.
    var steps: Int
}

/// The actual of one matured target, as `forecast.actuals` stores it.
struct ActualRow: Sendable, Hashable {
    var series: String
    /// µs since the Unix epoch.
    var targetTime: Int64
    var actual: Double
    /// Steps per season (the grid's seasonal period).
    var season: Int
    /// `[k - 1]`: the value `k` seasons before the target, the seasonal-naive forecast of
    /// steps `(k - 1) * season + 1 ... k * season`; nil where there was no reading.
    var seasonalNaive: [Double?]
}

extension ActualsDue {
    /// The actuals of the targets on `series`' grid after `recordedThrough` that have matured
    /// (at or before the series' watermark, the newest reading, and `lastTarget`), with the
    /// time that records them through. A target without a reading gets no row but counts as
    /// recorded. Nil when nothing new has matured.
    func actuals(in series: RegularSeries) -> (rows: [ActualRow], through: Int64)? {
        let through = min(series.watermark, lastTarget)
        guard through > recordedThrough else { return nil }
        let frequency = series.frequency
        let season = frequency.seasonalPeriod
        let seasons = (max(1, steps) + season - 1) / season
        var rows: [ActualRow] = []
        // Targets before the buckets held in memory have no reading to record.
        let after = frequency.bucket(of: recordedThrough)
        var bucket = max(after == .max ? after : after + 1, series.startBucket)
        while bucket < series.endBucket, frequency.start(of: bucket) <= through {
            let target = frequency.start(of: bucket)
            bucket += 1
            guard let actual = series.value(at: target) else { continue }
            let naive = (1...seasons).map { k -> Double? in
                let lag = Int64(k * season).multipliedReportingOverflow(by: frequency.microseconds)
                let time = target.subtractingReportingOverflow(lag.partialValue)
                return lag.overflow || time.overflow ? nil : series.value(at: time.partialValue).map(Double.init)
            }
            rows.append(
                ActualRow(
                    series: self.series, targetTime: target, actual: Double(actual), season: season,
                    seasonalNaive: naive))
        }
        return (rows, through)
    }
}
