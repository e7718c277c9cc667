/// Accumulates readings of one column into buckets of a grid, in place.
///
/// Index `i` is bucket `base + i` of the reader's grid. Memory per bucket: a Float32 value
/// and a UInt16 count (plus an Int64 time when aggregating by `last`).
struct BucketChannel {
    /// The running mean, the running sum, or the latest value, per `aggregation`.
    var values: [Float] = []
    /// Readings per bucket, saturating at `UInt16.max` (the mean then weighs later readings
    /// slightly more: harmless at 65,535 readings per bucket).
    var counts: [UInt16] = []
    var lastTimes: [Int64] = []

    @inline(__always)
    mutating func add(_ value: Double, at index: Int, time: Int64, aggregation: Aggregation) -> Bool {
        if index >= values.count { grow(to: index + 1, aggregation: aggregation) }
        let count = counts[index]
        switch aggregation {
        case .mean:
            let next = count == .max ? count : count + 1
            values[index] += (Float(value) - values[index]) / Float(next)
            counts[index] = next
        case .sum:
            values[index] += Float(value)
            counts[index] = count == .max ? count : count + 1
        case .last:
            if count == 0 || time >= lastTimes[index] {
                values[index] = Float(value)
                lastTimes[index] = time
            }
            counts[index] = count == .max ? count : count + 1
        }
        return count == 1
    }

    private mutating func grow(to size: Int, aggregation: Aggregation) {
        // Geometric growth keeps appends amortised O(1) for data arriving in time order.
        let capacity = max(size, values.count + values.count / 2, 64)
        values.reserveCapacity(capacity)
        counts.reserveCapacity(capacity)
        values.append(contentsOf: repeatElement(0, count: size - values.count))
        counts.append(contentsOf: repeatElement(0, count: size - counts.count))
        if aggregation == .last {
            lastTimes.reserveCapacity(capacity)
            lastTimes.append(contentsOf: repeatElement(0, count: size - lastTimes.count))
        }
    }

    /// The grid values with NaN where no reading fell, trimmed to `range` (indices), and the
    /// accumulation memory released.
    mutating func finish(range: Range<Int>) -> [Float] {
        var result = values
        values = []
        for index in result.indices where counts[index] == 0 { result[index] = .nan }
        counts = []
        lastTimes = []
        if range.lowerBound == 0 && range.upperBound == result.count { return result }
        return Array(result[range])
    }
}
