import Foundation
import Testing

@testable import DaemonCore

/// The SVG chart renderer, without a database: well-formed, every part where it belongs,
/// hostile text kept as text, gaps left open, thousands of points thinned.
struct SVGChartTests {
    static let hour: Int64 = 3_600_000_000
    /// 2024-01-01 00:00 UTC.
    static let start: Int64 = 1_704_067_200_000_000

    /// 100 hourly readings, a 24-step forecast with intervals issued at the last reading, and
    /// two earlier 12-step forecasts with their actuals.
    static var chart: ForecastChart {
        let history = (0..<100).map {
            ForecastChart.Reading(time: start + Int64($0) * hour, value: sin(Double($0) / 5))
        }
        let issuedAt = start + 99 * hour
        let forecast = (1...24).map { step in
            ForecastChart.ForecastPoint(
                time: issuedAt + Int64(step) * hour, value: sin(Double(99 + step) / 5), lower: -1.2, upper: 1.2)
        }
        var past: [ForecastChart.PastPoint] = []
        for origin in [75, 87] {
            for step in 1...12 {
                let actual: Double = sin(Double(origin + step) / 5)
                past.append(
                    ForecastChart.PastPoint(
                        issuedAt: start + Int64(origin) * hour, time: start + Int64(origin + step) * hour,
                        forecast: 0.1, lower: -0.5, upper: 0.5, actual: actual))
            }
        }
        return ForecastChart(
            title: "model · series", subtitle: "version 1", valueLabel: "value", history: history, forecast: forecast,
            issuedAt: issuedAt, past: past)
    }

    @Test func everyPartIsDrawnWhereItBelongs() throws {
        let svg = SVGChart.render(Self.chart)
        let document = try SVGDocument(parsing: svg)
        let root = try #require(document.elements.first)
        #expect(root.attributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(!svg.contains("<script") && !svg.lowercased().contains("nan") && !svg.contains("inf"))

        let history = try #require(document.path("history")).attributes["d"] ?? ""
        let forecast = try #require(document.path("forecast")).attributes["d"] ?? ""
        let historyPoints = subpaths(history)
        let forecastPoints = subpaths(forecast)
        #expect(historyPoints.count == 1 && historyPoints[0].count == 100)
        #expect(forecastPoints.count == 1 && forecastPoints[0].count == 24)
        // The time axis spans the data: the first reading at the left edge, the last
        // forecast step at the right edge, the forecast after the readings.
        let left = historyPoints[0].map(\.x).min() ?? 0
        let right = forecastPoints[0].map(\.x).max() ?? 0
        #expect(left == 72 && right == 940)
        #expect((historyPoints[0].last?.x ?? 0) < (forecastPoints[0].first?.x ?? 0))
        // Readings and forecast lie inside the plot area vertically.
        for point in historyPoints[0] + forecastPoints[0] { #expect(point.y >= 52 && point.y <= 348) }

        let interval = try #require(document.path("interval")).attributes["d"] ?? ""
        #expect(interval.hasSuffix("Z") && subpaths(interval).first?.count == 48)
        let past = subpaths(try #require(document.path("past-forecast")).attributes["d"] ?? "")
        #expect(past.map(\.count) == [12, 12])  // two sets, never joined
        let actual = subpaths(try #require(document.path("actual")).attributes["d"] ?? "")
        #expect(actual.map(\.count) == [24])
        #expect(document.path("past-interval") != nil)

        let marker = try #require(document.elements(class: "issued").first)
        let markerX = Double(marker.attributes["x1"] ?? "") ?? 0
        #expect(marker.name == "line" && markerX == historyPoints[0].last?.x)
        let legend = document.elements.drop { !$0.classes.contains("legend") }.filter { $0.name == "text" }.map(\.text)
        #expect(
            legend == ["readings", "forecast", "interval", "earlier forecasts", "their intervals", "actual", "issued"])
        let timeLabels = document.elements.drop { !$0.classes.contains("time-axis") }.prefix {
            !$0.classes.contains("legend")
        }
        .filter { $0.name == "text" }.map(\.text)
        #expect(
            timeLabels.starts(with: ["2024-01-01", "2024-01-02"]) && timeLabels.contains("2024-01-06"), "\(timeLabels)")
        #expect(document.elements.first { $0.name == "title" }?.text == "model · series (version 1)")
    }

    @Test func hostileNamesRenderAsText() throws {
        let hostile = "<script>alert(\"x\")</script>&amp; 'quoted' \u{1}\u{7}\u{1B}\u{85}]]><!--"
        var chart = Self.chart
        chart.title = hostile
        chart.subtitle = hostile
        chart.valueLabel = hostile
        let svg = SVGChart.render(chart)
        let document = try SVGDocument(parsing: svg)
        #expect(!document.elements.contains { $0.name == "script" })
        #expect(!svg.contains("<script") && !svg.contains("<!--"))
        let shown = "<script>alert(\"x\")</script>&amp; 'quoted' ]]><!--"
        #expect(document.elements(class: "title").first?.text == shown)
        #expect(document.elements(class: "subtitle").first?.text == shown)
        #expect(document.elements(class: "value-label").first?.text == shown)
        #expect(
            XMLText.escaped("<a href='x'>&\"</a>\u{0}\t\n") == "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;  ")
    }

    @Test func gapsBreakLinesInsteadOfDrawingToZero() throws {
        var chart = Self.chart
        for index in 30..<33 { chart.history[index].value = .nan }
        chart.forecast[5].value = .nan
        chart.past[3].actual = nil
        let document = try SVGDocument(parsing: SVGChart.render(chart))
        let history = subpaths(try #require(document.path("history")).attributes["d"] ?? "")
        #expect(history.map(\.count) == [30, 67])
        let forecast = subpaths(try #require(document.path("forecast")).attributes["d"] ?? "")
        #expect(forecast.map(\.count) == [5, 18])
        let actual = subpaths(try #require(document.path("actual")).attributes["d"] ?? "")
        #expect(actual.map(\.count) == [3, 20])
        // The line resumes four steps later: nothing was drawn through the gap.
        let gap = (history[1].first?.x ?? 0) - (history[0].last?.x ?? 0)
        #expect(abs(gap - 4 * (history[0][1].x - history[0][0].x)) < 0.5)
    }

    @Test func emptyDataSaysNoData() throws {
        for chart in [
            ForecastChart(title: "empty"),
            ForecastChart(title: "all NaN", history: [.init(time: Self.start, value: .nan)]),
        ] {
            let document = try SVGDocument(parsing: SVGChart.render(chart))
            #expect(document.elements(class: "no-data").first?.text == "no data")
            #expect(!document.elements.contains { $0.name == "path" })
        }
    }

    @Test func aSinglePointIsDrawnAsADot() throws {
        let chart = ForecastChart(title: "one", history: [.init(time: Self.start, value: 42)])
        let svg = SVGChart.render(chart)
        let document = try SVGDocument(parsing: svg)
        #expect(subpaths(document.path("history")?.attributes["d"] ?? "").map(\.count) == [1])
        let dot = try #require(document.elements(class: "history-point").first)
        #expect(dot.name == "circle" && Double(dot.attributes["cx"] ?? "") == 506)
        #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"))
        let labels = document.elements.drop { !$0.classes.contains("value-axis") }.filter { $0.name == "text" }
        #expect(labels.contains { $0.text == "42" })
    }

    /// 200,000 points (a random walk with one spike up and one down) become at most two
    /// per pixel column, and both spikes survive.
    @Test func thousandsOfPointsAreThinnedKeepingExtremes() throws {
        var generator = SplitMix64(seed: 7)
        var value = 0.0
        var history: [ForecastChart.Reading] = []
        for index in 0..<200_000 {
            value += Double(generator.next() % 2001) / 1000 - 1
            let spike = index == 123_457 ? 1_000.0 : index == 54_321 ? -1_000.0 : 0
            history.append(.init(time: Self.start + Int64(index) * 60_000_000, value: value + spike))
        }
        history[100_000].value = .nan
        let svg = SVGChart.render(ForecastChart(title: "many", history: history))
        #expect(svg.utf8.count < 100_000)
        let document = try SVGDocument(parsing: svg)
        let runs = subpaths(try #require(document.path("history")).attributes["d"] ?? "")
        #expect(runs.count == 2)
        let points = runs.flatMap { $0 }
        var perColumn: [Double: Int] = [:]
        for point in points { perColumn[point.x.rounded(.down), default: 0] += 1 }
        #expect(perColumn.values.allSatisfy { $0 <= 2 })
        #expect(points.count <= 2 * 870 + 2)
        // The spikes are the highest and lowest points: the plot's top and bottom edges.
        let ys = points.map(\.y)
        let finite = history.map(\.value).filter(\.isFinite)
        let scale = ChartTicks.values(finite.min()!, finite.max()!)
        let y = { (v: Double) in
            348 - (v - scale.domain.lowerBound) / (scale.domain.upperBound - scale.domain.lowerBound) * 312
        }
        #expect(abs((ys.min() ?? 0) - y(history[123_457].value)) < 0.11)
        #expect(abs((ys.max() ?? 0) - y(history[54_321].value)) < 0.11)
    }

    @Test func downsamplingKeepsMinimumMaximumAndGapsPerColumn() {
        typealias Point = ChartDownsampler.Point
        // One column: values 5, 1, NaN, 9, 3: the minimum (1) and maximum (9) with the gap
        // between them.
        let column = [5.0, 1, .nan, 9, 3].enumerated().map { Point(x: 10 + Double($0.offset) / 10, y: $0.element) }
        let thinned = ChartDownsampler.downsample(column + [Point(x: 11, y: 4)])
        #expect(thinned.map(\.y).map { $0.isNaN ? -1 : $0 } == [1, -1, 9, 4])
        #expect(ChartDownsampler.segments(thinned).map(\.count) == [1, 2])
        // Leading gaps are dropped, runs of gaps collapse.
        let gappy = [
            Point(x: 0, y: .nan), Point(x: 1, y: 2), Point(x: 2, y: .nan), Point(x: 3, y: .nan), Point(x: 4, y: 1),
        ]
        #expect(ChartDownsampler.downsample(gappy).map(\.y).map { $0.isNaN ? -1 : $0 } == [2, -1, 1])
    }
}

/// A small seeded generator (SplitMix64), so the test data is the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
