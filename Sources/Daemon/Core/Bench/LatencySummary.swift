/// Percentiles of a list of latencies in seconds, by the nearest-rank method: the p-th
/// percentile of n sorted values is the value at rank ceil(p/100 * n), so p95 of 5 cycles
/// is their maximum and nothing is interpolated.
struct LatencySummary: Sendable, Equatable {
    var p50: Double
    var p95: Double
    var max: Double

    /// nil for an empty list.
    init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        p50 = Self.percentile(sorted, 50)
        p95 = Self.percentile(sorted, 95)
        max = sorted[sorted.count - 1]
    }

    /// The nearest-rank `p`-th percentile of `sorted` (ascending, not empty).
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
    }

    /// The median of `values` (nearest rank), nil when empty.
    static func median(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : percentile(values.sorted(), 50)
    }
}
