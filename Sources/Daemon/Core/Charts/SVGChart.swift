import Foundation

/// Draws a `ForecastChart` as one self-contained SVG element, for a file or inline in an
/// HTML page: no script, no external font or style sheet, every text escaped.
///
/// What it draws, each with a stable class for styling and tests: `path.history` (the
/// readings), `path.forecast` (the newest forecast) over `path.interval` (its interval,
/// a translucent band), `path.past-forecast` and `path.past-interval` (earlier forecasts,
/// dashed), `path.actual` (the actuals of those), `line.issued` (a vertical marker at the
/// issue time), `g.value-axis` and `g.time-axis` (grid lines and tick labels, UTC), and
/// `g.legend`. A point alone between gaps is also drawn as a `circle` (`*-point`), since a
/// path of one point shows nothing. Lines use `M`/`L` commands only, one point each, and
/// break at every gap. Lines are thinned to at most two points per pixel column
/// (`ChartDownsampler`); a chart without any finite value says "no data".
public struct SVGChart: Sendable {
    /// Size in pixels (and viewBox units).
    public var width: Int
    public var height: Int

    public init(width: Int = 960, height: Int = 420) {
        self.width = max(width, 200)
        self.height = max(height, 160)
    }

    /// The chart drawn at the default size.
    public static func render(_ chart: ForecastChart) -> String { SVGChart().render(chart) }

    // Colours (the classic categorical palette: readable on white, distinct in grey).
    static let historyColour = "#1f77b4"
    static let forecastColour = "#d62728"
    static let pastColour = "#ff7f0e"
    static let actualColour = "#222222"

    /// The plot area inside the margins.
    struct Frame {
        var left: Double
        var right: Double
        var top: Double
        var bottom: Double
    }

    public func render(_ chart: ForecastChart) -> String {
        var svg = SVGWriter()
        let (w, h) = (Double(width), Double(height))
        svg.open(
            "svg",
            [
                ("xmlns", "http://www.w3.org/2000/svg"), ("class", "forecast-chart"), ("width", "\(width)"),
                ("height", "\(height)"), ("viewBox", "0 0 \(width) \(height)"), ("role", "img"),
                ("font-family", "sans-serif"), ("font-size", "12"),
            ])
        svg.element("title", text: chart.subtitle.isEmpty ? chart.title : "\(chart.title) (\(chart.subtitle))")
        svg.element(
            "rect", [("class", "background"), ("width", "\(width)"), ("height", "\(height)"), ("fill", "#ffffff")])
        svg.element(
            "text", [("class", "title"), ("x", "12"), ("y", "22"), ("font-size", "15"), ("font-weight", "bold")],
            text: chart.title, limit: 110)
        if !chart.subtitle.isEmpty {
            svg.element(
                "text", [("class", "subtitle"), ("x", "12"), ("y", "40"), ("fill", "#555555")], text: chart.subtitle,
                limit: 140)
        }
        guard chart.hasData else {
            svg.element(
                "text",
                [
                    ("class", "no-data"), ("x", svgNumber(w / 2)), ("y", svgNumber(h / 2)), ("text-anchor", "middle"),
                    ("font-size", "16"), ("fill", "#777777"),
                ], text: "no data")
            svg.close("svg")
            return svg.text
        }
        let frame = Frame(left: 72, right: w - 20, top: chart.subtitle.isEmpty ? 36 : 52, bottom: h - 72)
        let scales = Scales(chart, frame: frame)
        drawAxes(&svg, chart, scales)
        drawSeries(&svg, chart, scales)
        drawLegend(&svg, chart, scales)
        svg.close("svg")
        return svg.text
    }

    /// Grid lines, tick labels and axis captions.
    private func drawAxes(_ svg: inout SVGWriter, _ chart: ForecastChart, _ scales: Scales) {
        let frame = scales.frame
        svg.open("g", [("class", "axis value-axis"), ("fill", "#555555")])
        for (tick, label) in zip(scales.values.ticks, scales.values.labels) {
            let y = svgNumber(scales.y(tick))
            svg.element(
                "line",
                [
                    ("x1", svgNumber(frame.left)), ("x2", svgNumber(frame.right)), ("y1", y), ("y2", y),
                    ("stroke", "#e5e5e5"),
                ])
            svg.element(
                "text", [("x", svgNumber(frame.left - 6)), ("y", y), ("text-anchor", "end"), ("dy", "0.32em")],
                text: label)
        }
        if !chart.valueLabel.isEmpty {
            let middle = svgNumber((frame.top + frame.bottom) / 2)
            svg.element(
                "text",
                [
                    ("class", "value-label"), ("x", "14"), ("y", middle), ("text-anchor", "middle"),
                    ("transform", "rotate(-90 14 \(middle))"),
                ], text: chart.valueLabel, limit: 60)
        }
        svg.close("g")
        svg.open("g", [("class", "axis time-axis"), ("fill", "#555555")])
        svg.element(
            "line",
            [
                ("x1", svgNumber(frame.left)), ("x2", svgNumber(frame.right)), ("y1", svgNumber(frame.bottom)),
                ("y2", svgNumber(frame.bottom)), ("stroke", "#999999"),
            ])
        for tick in scales.timeTicks {
            let x = svgNumber(scales.x(tick.time))
            svg.element(
                "line",
                [
                    ("x1", x), ("x2", x), ("y1", svgNumber(frame.top)), ("y2", svgNumber(frame.bottom)),
                    ("stroke", "#f0f0f0"),
                ])
            svg.element(
                "text", [("x", x), ("y", svgNumber(frame.bottom + 16)), ("text-anchor", "middle")], text: tick.label)
            if let date = tick.date {
                svg.element(
                    "text",
                    [("class", "date"), ("x", x), ("y", svgNumber(frame.bottom + 30)), ("text-anchor", "middle")],
                    text: date)
            }
        }
        svg.element(
            "text",
            [
                ("x", svgNumber(frame.right)), ("y", svgNumber(frame.bottom + 30)), ("text-anchor", "end"),
                ("fill", "#888888"),
            ],
            text: "UTC")
        svg.close("g")
    }

    /// Bands first, then lines, then the issue marker on top.
    private func drawSeries(_ svg: inout SVGWriter, _ chart: ForecastChart, _ scales: Scales) {
        let forecast = chart.forecast.sorted { $0.time < $1.time }
        let past = chart.past.sorted { ($0.issuedAt, $0.time) < ($1.issuedAt, $1.time) }
        let pastSets = Dictionary(grouping: past, by: \.issuedAt).sorted { $0.key < $1.key }.map(\.value)

        // Past intervals, one band per forecast set.
        let pastBands = pastSets.flatMap { set in
            ChartDownsampler.bandSegments(
                set.map { .init(x: scales.x($0.time), low: $0.lower ?? .nan, high: $0.upper ?? .nan) })
        }
        band(&svg, pastBands, scales, class: "past-interval", colour: Self.pastColour, opacity: 0.12)
        let bands = ChartDownsampler.bandSegments(
            forecast.map { .init(x: scales.x($0.time), low: $0.lower ?? .nan, high: $0.upper ?? .nan) })
        band(
            &svg, bands, scales, class: "interval", colour: Self.forecastColour, opacity: 0.18,
            span: Self.span(forecast.filter { $0.lower != nil && $0.upper != nil }.map(\.time)))

        let history = chart.history.sorted { $0.time < $1.time }
        line(
            &svg, history.map { .init(x: scales.x($0.time), y: $0.value) }, scales, class: "history",
            colour: Self.historyColour, width: 1.5, span: Self.span(history.filter(\.value.isFinite).map(\.time)))
        // Actuals by time, each once (overlapping sets share target times).
        var seen = Set<Int64>()
        let actuals = past.sorted { $0.time < $1.time }.filter { seen.insert($0.time).inserted }
        if actuals.contains(where: { $0.actual != nil }) {
            line(
                &svg, actuals.map { .init(x: scales.x($0.time), y: $0.actual ?? .nan) }, scales, class: "actual",
                colour: Self.actualColour, width: 1)
        }
        if !past.isEmpty {
            // One run per set: a gap between sets, so two forecasts are never joined.
            var points: [ChartDownsampler.Point] = []
            for set in pastSets {
                if let first = set.first, !points.isEmpty { points.append(.init(x: scales.x(first.time), y: .nan)) }
                points += set.map { .init(x: scales.x($0.time), y: $0.forecast) }
            }
            line(
                &svg, points, scales, class: "past-forecast", colour: Self.pastColour, width: 1.5, dashes: "5 3",
                sorted: false)
        }
        line(
            &svg, forecast.map { .init(x: scales.x($0.time), y: $0.value) }, scales, class: "forecast",
            colour: Self.forecastColour, width: 2, span: Self.span(forecast.map(\.time)))
        if let issuedAt = chart.issuedAt {
            let x = svgNumber(scales.x(issuedAt))
            svg.element(
                "line",
                [
                    ("class", "issued"), ("x1", x), ("x2", x), ("y1", svgNumber(scales.frame.top)),
                    ("y2", svgNumber(scales.frame.bottom)), ("stroke", "#555555"), ("stroke-dasharray", "2 3"),
                ])
            let anchor = scales.x(issuedAt) > (scales.frame.left + scales.frame.right) / 2 ? "end" : "start"
            svg.element(
                "text",
                [
                    ("class", "issued-label"), ("x", svgNumber(scales.x(issuedAt) + (anchor == "end" ? -4 : 4))),
                    ("y", svgNumber(scales.frame.top + 12)), ("text-anchor", anchor), ("fill", "#555555"),
                ], text: "issued \(ChartTicks.dateTimeLabel(issuedAt))")
        }
    }

    /// The first and last of `times` (µs since the epoch) as ISO 8601 UTC, for a path's
    /// `data-from` and `data-to` (what a reader or a test can check the drawing against).
    static func span(_ times: [Int64]) -> (from: String, to: String)? {
        guard let first = times.min(), let last = times.max() else { return nil }
        func iso(_ time: Int64) -> String {
            Date(timeIntervalSince1970: Double(time) / 1_000_000).ISO8601Format()
        }
        return (iso(first), iso(last))
    }

    /// A polyline with gaps: `path.<class>` plus a `circle.<class>-point` per lone point.
    /// `points` are pixel `x` and value `y`; sorted by `x` unless `sorted` is false (then
    /// each run between gaps is sorted already). `span`, when given, is written as the
    /// path's `data-from` and `data-to`.
    private func line(
        _ svg: inout SVGWriter, _ points: [ChartDownsampler.Point], _ scales: Scales, class name: String,
        colour: String, width: Double, dashes: String? = nil, sorted: Bool = true,
        span: (from: String, to: String)? = nil
    ) {
        guard !points.isEmpty else { return }
        // Columns as written (x to 0.1 px), so "two points per column" holds in the file.
        let points = points.map { ChartDownsampler.Point(x: ($0.x * 10).rounded() / 10, y: $0.y) }
        let thinned = sorted ? ChartDownsampler.downsample(points) : downsampleRuns(points)
        let runs = ChartDownsampler.segments(thinned)
        var d = ""
        for run in runs {
            for (index, point) in run.enumerated() {
                if !d.isEmpty { d += " " }
                d += "\(index == 0 ? "M" : "L")\(svgNumber(point.x)) \(svgNumber(scales.y(point.y)))"
            }
        }
        var attributes = [
            ("class", name), ("d", d), ("fill", "none"), ("stroke", colour), ("stroke-width", svgNumber(width)),
            ("stroke-linejoin", "round"), ("stroke-linecap", "round"),
        ]
        if let dashes { attributes.append(("stroke-dasharray", dashes)) }
        if let span { attributes += [("data-from", span.from), ("data-to", span.to)] }
        svg.element("path", attributes)
        for run in runs where run.count == 1 {
            svg.element(
                "circle",
                [
                    ("class", "\(name)-point"), ("cx", svgNumber(run[0].x)), ("cy", svgNumber(scales.y(run[0].y))),
                    ("r", svgNumber(max(2, width + 0.5))), ("fill", colour),
                ])
        }
    }

    /// Downsamples each run between gaps of `points` on its own (for lines made of several
    /// sets that may share pixel columns).
    private func downsampleRuns(_ points: [ChartDownsampler.Point]) -> [ChartDownsampler.Point] {
        var result: [ChartDownsampler.Point] = []
        var run: [ChartDownsampler.Point] = []
        func flush() {
            guard let first = run.first else { return }
            if !result.isEmpty { result.append(.init(x: first.x, y: .nan)) }
            result += ChartDownsampler.downsample(run)
            run = []
        }
        for point in points {
            if point.y.isFinite { run.append(point) } else { flush() }
        }
        flush()
        return result
    }

    /// A translucent band: one closed subpath per run (upper edge forward, lower back);
    /// `span` as for `line`.
    private func band(
        _ svg: inout SVGWriter, _ runs: [[ChartDownsampler.BandPoint]], _ scales: Scales, class name: String,
        colour: String, opacity: Double, span: (from: String, to: String)? = nil
    ) {
        guard !runs.isEmpty else { return }
        var d = ""
        for run in runs {
            // A lone point gets a band 4 px wide, so it shows.
            let points =
                run.count == 1
                ? [
                    ChartDownsampler.BandPoint(x: run[0].x - 2, low: run[0].low, high: run[0].high),
                    ChartDownsampler.BandPoint(x: run[0].x + 2, low: run[0].low, high: run[0].high),
                ] : run
            for (index, point) in points.enumerated() {
                if !d.isEmpty { d += " " }
                d += "\(index == 0 ? "M" : "L")\(svgNumber(point.x)) \(svgNumber(scales.y(point.high)))"
            }
            for point in points.reversed() { d += " L\(svgNumber(point.x)) \(svgNumber(scales.y(point.low)))" }
            d += " Z"
        }
        var attributes = [
            ("class", name), ("d", d), ("fill", colour), ("fill-opacity", svgNumber(opacity)), ("stroke", "none"),
        ]
        if let span { attributes += [("data-from", span.from), ("data-to", span.to)] }
        svg.element("path", attributes)
    }

    /// One row of legend entries under the time axis, for what the chart shows.
    private func drawLegend(_ svg: inout SVGWriter, _ chart: ForecastChart, _ scales: Scales) {
        enum Swatch { case line(String, String?), band(String, Double), marker }
        var entries: [(String, Swatch)] = []
        if chart.history.contains(where: { $0.value.isFinite }) {
            entries.append(("readings", .line(Self.historyColour, nil)))
        }
        if !chart.forecast.isEmpty { entries.append(("forecast", .line(Self.forecastColour, nil))) }
        if chart.forecast.contains(where: { $0.lower != nil && $0.upper != nil }) {
            entries.append(("interval", .band(Self.forecastColour, 0.18)))
        }
        if !chart.past.isEmpty { entries.append(("earlier forecasts", .line(Self.pastColour, "5 3"))) }
        if chart.past.contains(where: { $0.lower != nil && $0.upper != nil }) {
            entries.append(("their intervals", .band(Self.pastColour, 0.12)))
        }
        if chart.past.contains(where: { $0.actual?.isFinite ?? false }) {
            entries.append(("actual", .line(Self.actualColour, nil)))
        }
        if chart.issuedAt != nil { entries.append(("issued", .marker)) }
        let y = scales.frame.bottom + 52
        svg.open("g", [("class", "legend"), ("fill", "#333333")])
        var x = scales.frame.left
        for (label, swatch) in entries {
            svg.open("g", [("class", "legend-entry")])
            switch swatch {
            case .line(let colour, let dashes):
                var attributes = [
                    ("x1", svgNumber(x)), ("x2", svgNumber(x + 22)), ("y1", svgNumber(y)), ("y2", svgNumber(y)),
                    ("stroke", colour),
                    ("stroke-width", "2"),
                ]
                if let dashes { attributes.append(("stroke-dasharray", dashes)) }
                svg.element("line", attributes)
            case .band(let colour, let opacity):
                svg.element(
                    "rect",
                    [
                        ("x", svgNumber(x)), ("y", svgNumber(y - 6)), ("width", "22"), ("height", "12"),
                        ("fill", colour),
                        ("fill-opacity", svgNumber(opacity)),
                    ])
            case .marker:
                svg.element(
                    "line",
                    [
                        ("x1", svgNumber(x + 11)), ("x2", svgNumber(x + 11)), ("y1", svgNumber(y - 7)),
                        ("y2", svgNumber(y + 7)),
                        ("stroke", "#555555"), ("stroke-dasharray", "2 3"),
                    ])
            }
            svg.element("text", [("x", svgNumber(x + 28)), ("y", svgNumber(y)), ("dy", "0.32em")], text: label)
            svg.close("g")
            x += 28 + 7 * Double(label.count) + 18
        }
        svg.close("g")
    }
}

/// Number formatting for coordinates: one decimal, never a locale's comma.
func svgNumber(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let rounded = (value * 10).rounded() / 10
    return rounded == rounded.rounded() ? String(Int64(rounded)) : String(format: "%.1f", rounded)
}

extension SVGChart {
    /// Data to pixels: the time domain spans every point; the value domain every finite
    /// value and interval bound, widened to round ticks.
    struct Scales {
        let frame: Frame
        let timeDomain: (low: Int64, high: Int64)
        let values: ChartTicks.Values
        let timeTicks: [ChartTicks.TimeTick]

        init(_ chart: ForecastChart, frame: Frame) {
            self.frame = frame
            let times =
                chart.history.map(\.time) + chart.forecast.map(\.time) + chart.past.map(\.time)
                + (chart.issuedAt.map { [$0] } ?? [])
            var low = times.min() ?? 0
            var high = times.max() ?? 0
            if low == high {
                let pad = ChartTicks.hour
                (low, high) = (low.subtractingReportingOverflow(pad).partialValue, high &+ pad)
                if low > high { (low, high) = (high, low) }
            }
            timeDomain = (low, high)
            var numbers = chart.history.map(\.value)
            numbers += chart.forecast.flatMap { [$0.value, $0.lower ?? .nan, $0.upper ?? .nan] }
            numbers += chart.past.flatMap { [$0.forecast, $0.lower ?? .nan, $0.upper ?? .nan, $0.actual ?? .nan] }
            let finite = numbers.filter(\.isFinite)
            values = ChartTicks.values(finite.min() ?? 0, finite.max() ?? 1)
            let labels = max(2, Int((frame.right - frame.left) / 110))
            timeTicks = ChartTicks.times(low, high, target: labels)
        }

        func x(_ time: Int64) -> Double {
            let span = Double(timeDomain.high) - Double(timeDomain.low)
            return frame.left + (Double(time) - Double(timeDomain.low)) / span * (frame.right - frame.left)
        }

        /// Halves first, so values near ±Double.greatestFiniteMagnitude cannot overflow.
        func y(_ value: Double) -> Double {
            let low = values.domain.lowerBound / 2
            let high = values.domain.upperBound / 2
            return frame.bottom - (value / 2 - low) / (high - low) * (frame.bottom - frame.top)
        }
    }
}

/// Builds SVG text: elements with escaped attributes and text.
struct SVGWriter {
    private(set) var text = ""

    mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        text += "<\(name)\(Self.attributes(attributes))>"
    }

    mutating func close(_ name: String) { text += "</\(name)>" }

    /// An empty element, or one holding `text` (escaped, cut to `limit` characters).
    mutating func element(
        _ name: String, _ attributes: [(String, String)] = [], text content: String? = nil, limit: Int = 200
    ) {
        if let content {
            text += "<\(name)\(Self.attributes(attributes))>\(XMLText.escaped(content, limit: limit))</\(name)>"
        } else {
            text += "<\(name)\(Self.attributes(attributes))/>"
        }
        if name != "title" { text += "\n" }
    }

    static func attributes(_ attributes: [(String, String)]) -> String {
        attributes.map { " \($0.0)=\"\(XMLText.escaped($0.1))\"" }.joined()
    }
}
