/// All series of one source, kept up to date by merging successive reads.
public struct SeriesSet: Sendable {
    public let frequency: Frequency
    public let maxHistory: Int
    /// Names of the covariate columns read beside the target, in channel order.
    public let covariateColumns: [String]
    public private(set) var series: [String: RegularSeries] = [:]
    /// Gap counts per series key at a series revision and `maxGap`: recomputed (a gap-filled
    /// copy of the whole history) only when a merge changed the series, not on every poll.
    private var gapCounts: [String: (revision: Int, maxGap: Int, interpolated: Int, missing: Int, segments: Int)] =
        [:]

    public init(frequency: Frequency, maxHistory: Int = ReadOptions.defaultMaxHistory, covariateColumns: [String] = [])
    {
        self.frequency = frequency
        self.maxHistory = maxHistory
        self.covariateColumns = covariateColumns
    }

    /// Every series gap-filled (`RegularSeries.filled`) with the covariate channels named
    /// `covariates`, in that order, by key (only the newest `lastSteps` of each when given);
    /// nil when one of them was not read.
    public func filled(covariates: [String], maxGap: Int, lastSteps: Int? = nil) -> [FilledSeries]? {
        var channels: [Int] = []
        for name in covariates {
            guard let index = covariateColumns.firstIndex(of: name) else { return nil }
            channels.append(index)
        }
        return keys.compactMap { series[$0]?.filled(maxGap: maxGap, channels: channels, lastSteps: lastSteps) }
    }

    /// Per series key, the time (µs since the Unix epoch) of the newest valid reading: what
    /// the next `SeriesReader.read(after:)` continues from. Store it to survive restarts.
    public var watermarks: [String: Int64] { series.mapValues(\.watermark) }

    /// Series keys in a stable order.
    public var keys: [String] { series.keys.sorted() }

    /// Merges a read into the set and returns each series' quality report, completed with
    /// the interpolated and missing buckets and segments of the merged series.
    @discardableResult
    public mutating func merge(_ read: SeriesRead, maxGap: Int = 3) -> [String: QualityReport] {
        var reports: [String: QualityReport] = [:]
        for chunk in read.chunks {
            var report = chunk.quality
            if !chunk.target.isEmpty {
                if series[chunk.key] == nil {
                    series[chunk.key] = RegularSeries(key: chunk.key, frequency: frequency, chunk: chunk)
                } else {
                    series[chunk.key]?.merge(chunk, maxHistory: maxHistory)
                }
            }
            if let merged = series[chunk.key] {
                if let cached = gapCounts[chunk.key], cached.revision == merged.revision, cached.maxGap == maxGap {
                    // Unchanged since the counts were taken.
                } else {
                    let filled = merged.filled(maxGap: maxGap)
                    gapCounts[chunk.key] = (
                        merged.revision, maxGap, filled.interpolated, filled.missing, filled.segments.count
                    )
                }
                if let counts = gapCounts[chunk.key] {
                    report.bucketsInterpolated = counts.interpolated
                    report.bucketsMissing = counts.missing
                    report.segments = counts.segments
                }
            }
            reports[chunk.key] = report
        }
        return reports
    }
}
