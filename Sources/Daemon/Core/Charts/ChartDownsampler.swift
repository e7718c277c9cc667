/// Thins a line to what a screen can show: at most two points per pixel column (the
/// column's lowest and highest, in time order), so thousands of readings cost a few
/// hundred points and no spike disappears. A non-finite `y` is a gap: lines break there
/// and are never drawn across one, however narrow.
enum ChartDownsampler {
    /// A point in pixel coordinates; `y` NaN marks a gap.
    struct Point: Equatable {
        var x: Double
        var y: Double
    }

    /// A band's point in pixel coordinates (`low` below `high` in value).
    struct BandPoint: Equatable {
        var x: Double
        var low: Double
        var high: Double
    }

    /// `points` (sorted by `x`) with at most two finite points per pixel column
    /// (`floor(x)`): the column's minimum and maximum `y`, in `x` order. A gap before,
    /// between or after them in the column is kept (consecutive gaps as one, none at the
    /// start).
    static func downsample(_ points: [Point]) -> [Point] {
        var result: [Point] = []
        result.reserveCapacity(min(points.count, 4096))
        func gap(at x: Double) {
            if let last = result.last, last.y.isFinite { result.append(Point(x: x, y: .nan)) }
        }
        func append(_ point: Point) { point.y.isFinite ? result.append(point) : gap(at: point.x) }
        var start = 0
        while start < points.count {
            let column = points[start].x.rounded(.down)
            var end = start + 1
            while end < points.count, points[end].x.rounded(.down) == column { end += 1 }
            defer { start = end }
            if end - start <= 2 {
                points[start..<end].forEach(append)
                continue
            }
            var lowest: Int?
            var highest: Int?
            for index in start..<end where points[index].y.isFinite {
                if lowest.map({ points[index].y < points[$0].y }) ?? true { lowest = index }
                if highest.map({ points[index].y > points[$0].y }) ?? true { highest = index }
            }
            guard let lowest, let highest else {
                gap(at: points[start].x)
                continue
            }
            let (first, second) = (min(lowest, highest), max(lowest, highest))
            func hasGap(_ range: Range<Int>) -> Bool { range.contains { !points[$0].y.isFinite } }
            if hasGap(start..<first) { gap(at: points[start].x) }
            result.append(points[first])
            if second != first {
                if hasGap((first + 1)..<second) { gap(at: points[first].x) }
                result.append(points[second])
            }
            if hasGap((second + 1)..<end) { gap(at: points[second].x) }
        }
        return result
    }

    /// The runs of finite points between gaps.
    static func segments(_ points: [Point]) -> [[Point]] {
        var runs: [[Point]] = []
        var current: [Point] = []
        for point in points {
            if point.y.isFinite {
                current.append(point)
            } else if !current.isEmpty {
                runs.append(current)
                current = []
            }
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    /// A band (sorted by `x`) as runs of at most one point per pixel column: the column's
    /// envelope (lowest `low`, highest `high`) at its first point's `x`. A column with a
    /// non-finite bound is a gap.
    static func bandSegments(_ points: [BandPoint]) -> [[BandPoint]] {
        var runs: [[BandPoint]] = []
        var current: [BandPoint] = []
        var start = 0
        while start < points.count {
            let column = points[start].x.rounded(.down)
            var end = start + 1
            while end < points.count, points[end].x.rounded(.down) == column { end += 1 }
            let slice = points[start..<end]
            start = end
            guard slice.allSatisfy({ $0.low.isFinite && $0.high.isFinite }) else {
                if !current.isEmpty { runs.append(current) }
                current = []
                continue
            }
            current.append(
                BandPoint(
                    x: slice.first!.x, low: slice.map(\.low).min()!, high: slice.map(\.high).max()!))
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }
}
