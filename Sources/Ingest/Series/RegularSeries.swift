/// One series on its regular grid, as merged from successive reads.
///
/// `target[i]` is the value of bucket `startBucket + i`, NaN where no valid reading fell.
/// Values are contiguous Float32, at most `maxHistory` of them. Gaps are filled only when
/// asked (`filled(maxGap:)`), so a later read can still correct them.
public struct RegularSeries: Sendable {
    public let key: String
    public let frequency: Frequency
    public private(set) var startBucket: Int64
    /// `[buckets]`, NaN = missing.
    public private(set) var target: [Float]
    /// `[covariates][buckets]`, NaN = missing.
    public private(set) var covariates: [[Float]]
    /// Time (µs since the Unix epoch) of the newest valid reading.
    public private(set) var watermark: Int64
    /// Bumped whenever a merge changes the grid (values, range or watermark); a re-read that
    /// brings exactly what is already there leaves it alone, so derived data can be cached.
    public private(set) var revision = 0

    public init(key: String, frequency: Frequency, chunk: SeriesChunk) {
        self.key = key
        self.frequency = frequency
        startBucket = chunk.startBucket
        target = chunk.target
        covariates = chunk.covariates
        watermark = chunk.watermark
    }

    /// The observed value of the bucket holding `time` (µs since the Unix epoch), nil when
    /// the bucket is outside the series or has no reading.
    public func value(at time: Int64) -> Float? {
        let index = frequency.bucket(of: time).saturatingSubtracting(startBucket)
        guard index >= 0, index < Int64(target.count) else { return nil }
        let value = target[Int(index)]
        return value.isNaN ? nil : value
    }

    /// Bucket after the last one.
    public var endBucket: Int64 { startBucket.saturatingAdding(Int64(target.count)) }
    /// Start time (µs since the Unix epoch) of the last bucket.
    public var lastBucketTime: Int64 { frequency.start(of: endBucket - 1) }

    /// Replaces the grid from `chunk.coversFrom` on with the chunk (rows re-read in the
    /// overlap may have changed, appeared or vanished), then keeps the newest `maxHistory`
    /// buckets (at least 1). Bucket arithmetic saturates, and a gap of `maxHistory` or more
    /// between the kept buckets and the chunk is never allocated.
    public mutating func merge(_ chunk: SeriesChunk, maxHistory: Int) {
        guard !chunk.target.isEmpty else { return }
        let maxHistory = max(1, maxHistory)
        // Buckets before the chunk's range survive; the chunk starts at or after its range.
        var keep = Int(max(0, min(Int64(target.count), chunk.coversFrom.saturatingSubtracting(startBucket))))
        guard keep > 0 else {
            revision &+= 1
            startBucket = chunk.startBucket
            target = chunk.target
            covariates = chunk.covariates
            watermark = chunk.watermark
            trim(maxHistory)
            return
        }
        var gap = max(0, chunk.startBucket.saturatingSubtracting(startBucket.saturatingAdding(Int64(keep))))
        if gap == 0, chunk.watermark <= watermark, Self.sameBits(target[keep...], chunk.target),
            covariates.indices.allSatisfy({ Self.sameBits(covariates[$0][keep...], chunk.covariates[$0]) })
        {
            return  // the overlap re-read brought nothing new (the usual poll without data)
        }
        revision &+= 1
        if gap >= Int64(maxHistory) {
            // Nothing kept would survive the trim: drop it now instead of allocating the gap.
            keep = 0
            gap = Int64(maxHistory)
            startBucket = chunk.startBucket.saturatingSubtracting(gap)
        }
        target.removeSubrange(keep...)
        target.append(contentsOf: repeatElement(.nan, count: Int(gap)))
        target.append(contentsOf: chunk.target)
        for index in covariates.indices {
            covariates[index].removeSubrange(keep...)
            covariates[index].append(contentsOf: repeatElement(.nan, count: Int(gap)))
            covariates[index].append(contentsOf: chunk.covariates[index])
        }
        watermark = max(watermark, chunk.watermark)
        trim(maxHistory)
    }

    /// Whether two runs of values are bit for bit the same (NaN equal to NaN).
    private static func sameBits(_ old: ArraySlice<Float>, _ new: [Float]) -> Bool {
        old.count == new.count && zip(old, new).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    private mutating func trim(_ maxHistory: Int) {
        let excess = target.count - maxHistory
        guard excess > 0 else { return }
        target.removeFirst(excess)
        for index in covariates.indices { covariates[index].removeFirst(excess) }
        startBucket += Int64(excess)
    }

    /// The series with gaps of at most `maxGap` buckets filled by linear interpolation;
    /// longer gaps stay NaN and split the series into segments. `channels` picks and orders
    /// the covariates (indices into `covariates`; all of them when nil). `lastSteps` keeps
    /// only the newest steps (all when nil): forecasting needs a lookback's worth, not the
    /// whole history, so a cycle costs O(lookback) per series instead of O(history).
    public func filled(maxGap: Int = 3, channels: [Int]? = nil, lastSteps: Int? = nil) -> FilledSeries {
        let first = lastSteps.map { max(0, target.count - max(0, $0)) } ?? 0
        var values = Array(target[first...])
        let targetGaps = GapFiller.fill(&values, maxGap: maxGap)
        let chosen = channels.map { $0.map { covariates[$0] } } ?? covariates
        let filledCovariates = chosen.map { channel in
            var channel = Array(channel[first...])
            _ = GapFiller.fill(&channel, maxGap: maxGap)
            return channel
        }
        // A step is usable when the target and every covariate are present.
        var segments: [Range<Int>] = []
        var start: Int?
        for index in values.indices {
            let present = !values[index].isNaN && filledCovariates.allSatisfy { !$0[index].isNaN }
            if present, start == nil { start = index }
            if !present, let open = start {
                segments.append(open..<index)
                start = nil
            }
        }
        if let open = start { segments.append(open..<values.count) }
        return FilledSeries(
            key: key, frequency: frequency, startBucket: startBucket + Int64(first), target: values,
            covariates: filledCovariates, segments: segments, interpolated: targetGaps.filled,
            missing: targetGaps.missing)
    }
}

/// A series ready for windows: short gaps interpolated, long gaps NaN.
public struct FilledSeries: Sendable {
    public let key: String
    public let frequency: Frequency
    public let startBucket: Int64
    /// `[buckets]`.
    public let target: [Float]
    /// `[covariates][buckets]`.
    public let covariates: [[Float]]
    /// Maximal index ranges where the target and all covariates are present; no window
    /// may cross from one to the next.
    public let segments: [Range<Int>]
    /// Buckets filled by interpolation, and buckets still missing.
    public let interpolated: Int
    public let missing: Int

    /// Start time (µs since the Unix epoch) of bucket index `index`.
    public func time(at index: Int) -> Int64 { frequency.start(of: startBucket.saturatingAdding(Int64(index))) }

    /// Index of the bucket holding `time` (may be outside `target`; saturates at `Int.min` /
    /// `Int.max`).
    public func index(of time: Int64) -> Int { Int(frequency.bucket(of: time).saturatingSubtracting(startBucket)) }

    /// The series without its buckets at or after `time` (segments clipped accordingly).
    public func prefix(before time: Int64) -> FilledSeries {
        let end = Int(
            max(0, min(Int64(target.count), Int64(index(of: time.saturatingSubtracting(1))).saturatingAdding(1))))
        return FilledSeries(
            key: key, frequency: frequency, startBucket: startBucket, target: Array(target[..<end]),
            covariates: covariates.map { Array($0[..<end]) },
            segments: segments.compactMap { segment in
                let clipped = segment.clamped(to: 0..<end)
                return clipped.isEmpty ? nil : clipped
            }, interpolated: interpolated, missing: missing)
    }
}

/// Linear interpolation over short runs of NaN.
enum GapFiller {
    /// Fills runs of at most `maxGap` NaNs that have a value on both sides; returns how
    /// many values were filled and how many NaNs remain (inside the series).
    static func fill(_ values: inout [Float], maxGap: Int) -> (filled: Int, missing: Int) {
        var filled = 0
        var missing = 0
        var previous: Int?
        var index = 0
        while index < values.count {
            guard values[index].isNaN else {
                previous = index
                index += 1
                continue
            }
            var end = index
            while end < values.count && values[end].isNaN { end += 1 }
            let length = end - index
            if let before = previous, end < values.count, length <= maxGap {
                let from = values[before]
                let to = values[end]
                for gap in index..<end {
                    let fraction = Float(gap - before) / Float(end - before)
                    values[gap] = from + (to - from) * fraction
                }
                filled += length
            } else {
                missing += length
            }
            index = end
        }
        return (filled, missing)
    }
}
