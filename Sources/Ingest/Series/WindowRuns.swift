/// A window: `lookback` input steps then `horizon` target steps of one series.
public struct WindowReference: Sendable, Hashable {
    /// Index into `SeriesWindows.series`.
    public var series: Int
    /// Index of the first input step in that series.
    public var start: Int

    public init(series: Int, start: Int) {
        self.series = series
        self.start = start
    }
}

/// A compact, indexable list of windows: runs of evenly strided starts, so a source with
/// thousands of series and tens of thousands of steps each costs a few bytes per segment,
/// not per window. Index `i` is a window; trainers sample indices.
public struct WindowRuns: Sendable, RandomAccessCollection {
    struct Run: Sendable {
        var series: Int
        var firstStart: Int
        var count: Int
    }

    let stride: Int
    private(set) var runs: [Run] = []
    /// `ends[k]` = windows in runs `0...k`.
    private(set) var ends: [Int] = []

    init(stride: Int) { self.stride = stride }

    mutating func append(series: Int, firstStart: Int, count: Int) {
        guard count > 0 else { return }
        runs.append(Run(series: series, firstStart: firstStart, count: count))
        ends.append((ends.last ?? 0) + count)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { ends.last ?? 0 }

    public subscript(position: Int) -> WindowReference {
        precondition(position >= 0 && position < endIndex, "window index out of range")
        // The first run whose end exceeds `position`.
        var low = 0
        var high = ends.count - 1
        while low < high {
            let middle = (low + high) / 2
            if ends[middle] > position { high = middle } else { low = middle + 1 }
        }
        let run = runs[low]
        let within = position - (ends[low] - run.count)
        return WindowReference(series: run.series, start: run.firstStart + within * stride)
    }
}
