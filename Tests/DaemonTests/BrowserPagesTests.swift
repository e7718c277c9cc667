import Foundation
import PostgresClient
import Testing

/// The status page and a model page as a browser shows them: headless Chromium (Debian's
/// `chromium`) loads them from a running daemon, dumps the DOM it built and takes
/// screenshots. With `FORECASTD_SCREENSHOTS=DIR` the screenshots are kept there (the
/// README's picture is made this way: `FORECASTD_SCREENSHOTS=docs/images scripts/test
/// --filter BrowserPages`).
struct BrowserPagesTests {
    typealias Endpoint = HTTPEndpointTests

    @Test func pagesRenderInChromiumWithTheChart() async throws {
        let (harness, daemon, port) = try await Endpoint.servingTwoModels("forecastd_browser_pages")
        defer { Task { try? await harness.drop() } }
        // A day more, an hour at a time: earlier forecasts meet their actuals.
        for hour in 600..<624 { try await harness.load(hour..<(hour + 1)) }
        let scored = try await harness.waitUntil { session in
            try session.query(
                """
                SELECT (SELECT count(*) FROM forecast.actuals) > 0
                   AND (SELECT count(*) FROM forecast.latest WHERE model = 'ett'
                        AND issued_at = (SELECT max(ts) FROM readings)) = 24
                """)[0].decode(Bool.self, at: 0)
        }
        #expect(scored, "\(daemon.log)")
        // What the chart of OT must span: the newest forecast's targets, and readings up to
        // its issue time.
        let expected = try await harness.sql { session in
            let row = try session.query(
                """
                SELECT to_char(min(target_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       to_char(max(target_time) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       to_char(max(issued_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), count(*)
                FROM forecast.latest WHERE model = 'ett' AND series = 'OT'
                """)[0]
            return (
                from: try row.decode(String.self, at: 0), to: try row.decode(String.self, at: 1),
                issued: try row.decode(String.self, at: 2), steps: try row.decode(Int.self, at: 3)
            )
        }
        #expect(expected.steps == 12)

        // The model page's DOM as Chromium built it: one chart, its forecast line and
        // interval band spanning exactly the newest forecast, the readings up to its issue.
        let base = "http://127.0.0.1:\(port)"
        let dom = try HeadlessChromium.dom("\(base)/models/ett?series=OT")
        #expect(dom.contains("<h1>ett</h1>"))
        #expect(dom.components(separatedBy: "<svg").count == 2, "one chart per page view")
        let svgStart = try #require(dom.range(of: "<svg"))
        let svgEnd = try #require(dom.range(of: "</svg>"))
        let chart = try SVGDocument(
            parsing: String(dom[svgStart.lowerBound..<svgEnd.upperBound]).replacingOccurrences(
                of: "&nbsp;", with: "&#160;"))
        let line = try #require(chart.path("forecast"), "no forecast path")
        #expect(line.attributes["data-from"] == expected.from && line.attributes["data-to"] == expected.to)
        #expect(Self.points(line) == expected.steps, "\(line.attributes["d"] ?? "")")
        let band = try #require(chart.path("interval"), "no interval band")
        #expect(band.attributes["data-from"] == expected.from && band.attributes["data-to"] == expected.to)
        let history = try #require(chart.path("history"), "no readings")
        #expect(history.attributes["data-to"] == expected.issued)
        // Earlier forecasts and the actuals they met.
        #expect(chart.path("past-forecast") != nil && chart.path("actual") != nil)
        // The forecast is drawn right of the readings.
        #expect(Self.xRange(line).lowerBound > Self.xRange(history).lowerBound)
        #expect(Self.xRange(line).upperBound > Self.xRange(history).upperBound)

        // The status page: the hostile name as text, no script element anywhere.
        let status = try HeadlessChromium.dom("\(base)/")
        #expect(status.contains("&lt;script&gt;alert(\"x\")&lt;/script&gt;&amp;'"), "\(status)")
        #expect(!status.contains("<script"))
        let encoded = Endpoint.hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let hostile = try HeadlessChromium.dom("\(base)/models/\(encoded)")
        #expect(hostile.contains("<h1>&lt;script&gt;alert(\"x\")&lt;/script&gt;&amp;'</h1>"))
        #expect(!hostile.contains("<script"))

        // Screenshots: not blank (a blank page of the same size compresses to a few KB).
        let directory =
            ProcessInfo.processInfo.environment["FORECASTD_SCREENSHOTS"]
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("forecastd-screenshots-\(port)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let blank = try HeadlessChromium.screenshot("about:blank", to: "\(directory)/blank.png")
        try? FileManager.default.removeItem(atPath: "\(directory)/blank.png")
        let statusShot = try HeadlessChromium.screenshot("\(base)/", to: "\(directory)/status-page.png")
        let modelShot = try HeadlessChromium.screenshot(
            "\(base)/models/ett?series=OT", to: "\(directory)/model-page.png")
        #expect(statusShot > 3 * blank, "status page \(statusShot) bytes, blank \(blank)")
        #expect(modelShot > 5 * blank, "model page \(modelShot) bytes, blank \(blank)")
        _ = await daemon.stop()
    }

    /// The points of a path's `d` (`M` and `L` commands).
    static func points(_ path: SVGDocument.Element) -> Int {
        (path.attributes["d"] ?? "").split(separator: " ").filter { $0.hasPrefix("M") || $0.hasPrefix("L") }.count
    }

    /// The x pixel range a path covers.
    static func xRange(_ path: SVGDocument.Element) -> ClosedRange<Double> {
        let xs = (path.attributes["d"] ?? "").split(separator: " ").compactMap { token -> Double? in
            guard token.hasPrefix("M") || token.hasPrefix("L") else { return nil }
            return Double(token.dropFirst())
        }
        return (xs.min() ?? 0)...(xs.max() ?? 0)
    }
}
