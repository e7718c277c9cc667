/// One forecast set in the stored form of `forecast.sets` (migration 0011), packed on the
/// client: the same arrays `forecast.pack_steps` makes on the server, for the regular sets
/// the Forecaster writes, so a cycle sends one row per series instead of one per step and
/// the server does not regroup them (at 10,000 series x 24 steps: 0.85 s of server-side
/// packing and 0.3 s of COPY per cycle, measured).
///
/// Regular means: steps exactly `1...n`, step `k` targeting `issuedAt + k * spacing`, one
/// number of quantile levels for every step, and bounds that are either all the outer
/// quantiles (bit for bit, then stored as NULL as `pack_steps` does) or all given. Anything
/// else is left to `pack_steps` (`ForecastStore.writeForecasts` sends those rows as steps).
struct PackedSet: Equatable {
    var series: String
    /// µs since the Unix epoch.
    var issuedAt: Int64
    /// µs between steps.
    var spacing: Int64
    /// Quantile levels per step (0: none).
    var levels: Int
    /// By step, `n` values.
    var value: [Double]
    /// By step; nil when every step's bound is its outer quantile (or both are absent).
    var lower: [Double]?
    var upper: [Double]?
    /// `n * levels` values, step after step; nil without quantiles.
    var quantiles: [Double]?

    /// Splits `rows` into the regular sets, packed, and the rows of every other set.
    static func pack(_ rows: [ForecastRow]) -> (packed: [PackedSet], others: [ForecastRow]) {
        var groups: [SetKey: [ForecastRow]] = [:]
        var order: [SetKey] = []
        for row in rows {
            let key = SetKey(series: row.series, issuedAt: row.issuedAt)
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(row)
        }
        var packed: [PackedSet] = []
        var others: [ForecastRow] = []
        for key in order {
            let steps = groups[key] ?? []
            if let set = PackedSet(steps) { packed.append(set) } else { others += steps }
        }
        return (packed, others)
    }

    private struct SetKey: Hashable {
        var series: String
        var issuedAt: Int64
    }

    /// The set of `steps` (one series and issue time), nil unless regular.
    init?(_ steps: [ForecastRow]) {
        guard let first = steps.first else { return nil }
        let sorted = steps.sorted { $0.step < $1.step }
        let levels = first.quantiles.count
        let spacing = (sorted[0].targetTime - first.issuedAt) / Int64(max(1, sorted[0].step))
        guard spacing > 0 else { return nil }
        var value: [Double] = []
        var lower: [Double] = []
        var upper: [Double] = []
        var quantiles: [Double] = []
        var lowerDerived = true
        var upperDerived = true
        for (index, row) in sorted.enumerated() {
            guard row.step == index + 1, row.targetTime == first.issuedAt + Int64(row.step) * spacing,
                row.quantiles.count == levels
            else { return nil }
            value.append(row.value)
            switch (row.lower, row.upper) {
            case (let low?, let high?):
                lower.append(low)
                upper.append(high)
                quantiles += row.quantiles
                lowerDerived = lowerDerived && levels > 0 && low.bitPattern == row.quantiles[0].bitPattern
                upperDerived = upperDerived && levels > 0 && high.bitPattern == row.quantiles[levels - 1].bitPattern
            case (nil, nil) where levels == 0:
                continue
            default:
                // Quantiles without bounds, or one bound alone.
                return nil
            }
        }
        // Without quantiles the bounds are all present or all absent.
        guard lower.isEmpty || lower.count == value.count else { return nil }
        self.series = first.series
        self.issuedAt = first.issuedAt
        self.spacing = spacing
        self.levels = levels
        self.value = value
        self.lower = lower.isEmpty || lowerDerived ? nil : lower
        self.upper = upper.isEmpty || upperDerived ? nil : upper
        self.quantiles = levels == 0 ? nil : quantiles
    }
}
