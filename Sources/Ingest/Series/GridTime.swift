/// The times a grid accepts (µs since the Unix epoch) and saturating arithmetic on times and
/// bucket indices, so that no value PostgreSQL can store (`±infinity`, 4713 BC, 294276 AD)
/// traps on overflow.
enum GridTime {
    /// 1970-01-01 UTC, the grid's epoch: earlier readings are dropped, so every bucket of a
    /// grid is at least 0.
    static let earliest: Int64 = 0
    /// The latest bound a read ever uses (about year 255,000): inside the range of every
    /// PostgreSQL time type, and far from overflow when shifted to PostgreSQL's epoch.
    static let latest: Int64 = 8_000_000_000_000_000_000

    /// The newest reading time a read accepts: `now` plus `steps` steps of `frequency`,
    /// clamped to `earliest...latest`. Later readings are "in the future".
    static func newestAllowed(now: Int64, steps: Int, frequency: Frequency) -> Int64 {
        let ahead = Int64(max(0, steps)).saturatingMultiplied(by: frequency.microseconds)
        return min(max(now.saturatingAdding(ahead), earliest), latest)
    }
}

extension Int64 {
    /// `self + other`, clamped to `Int64.min...Int64.max` instead of trapping.
    @inline(__always)
    func saturatingAdding(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }

    /// `self - other`, clamped to `Int64.min...Int64.max` instead of trapping.
    @inline(__always)
    func saturatingSubtracting(_ other: Int64) -> Int64 {
        let (difference, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other < 0 ? .max : .min) : difference
    }

    /// `self * other`, clamped to `Int64.min...Int64.max` instead of trapping.
    @inline(__always)
    func saturatingMultiplied(by other: Int64) -> Int64 {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) == (other < 0) ? .max : .min) : product
    }
}
