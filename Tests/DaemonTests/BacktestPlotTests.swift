import Foundation
import Ingest
import PostgresClient
import Testing

@testable import DaemonCore

/// Backtests keep a bounded sample of whole forecasts for charts, and `forecastd backtest
/// --plot DIR` draws one SVG per kept series from them.
struct BacktestPlotTests {
    /// Kept: every series (fewer than five), per series origins at least a horizon apart
    /// (here the stride's multiples: 10 steps for horizon 6 and stride 5), each a whole
    /// horizon of values, intervals and actuals.
    @Test func keptForecastsTileTheTestSpan() throws {
        let settings = try TinyModel.settings()
        let backtest = Backtest(
            settings: settings, validFrom: TinyModel.time(ofStep: 250), testFrom: TinyModel.time(ofStep: 300),
            testUntil: TinyModel.time(ofStep: 399), stride: 5)
        let result = try backtest.run(TinyModel.series(0..<400)) { _ in .continue }
        #expect(Set(result.forecasts.map(\.series)) == ["s0", "s1"])
        for key in ["s0", "s1"] {
            let kept = result.forecasts.filter { $0.series == key }
            let origins = result.origins.filter { $0.series == key }.map(\.issuedAt)
            #expect(kept.first?.issuedAt == origins.min())
            let gaps = zip(kept.dropFirst(), kept).map {
                ($0.issuedAt - $1.issuedAt) / TinyModel.frequency.microseconds
            }
            #expect(gaps.allSatisfy { $0 == 10 } && kept.count == 10, "\(gaps)")
            #expect(kept.allSatisfy { [$0.value, $0.lower, $0.upper, $0.actual].allSatisfy { $0.count == 6 } })
            let step = kept[0].issuedAt / TinyModel.frequency.microseconds + 1 - TinyModel.firstBucket
            #expect(kept[0].actual[0] == TinyModel.value(series: key == "s0" ? 0 : 1, step: Int(step)))
        }
    }

    @Test(.database) func backtestPlotWritesOneChartPerSeries() async throws {
        let harness = try await DaemonHarness.make("forecastd_backtest_plot")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<700)
        try await harness.createModel("m", epochs: 2)
        let folder = FileManager.default.temporaryDirectory.appending(path: "forecastd-plots-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        func text(_ hour: Int) -> String {
            ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: 1_467_331_200 + Double(hour) * 3600))
        }
        let outcome = try ForecastdProcess.run([
            "backtest", "m", "--database", harness.conninfo, "--valid-from", text(450), "--test-from", text(550),
            "--test-until", text(699), "--threads", "1", "--json", "--plot", folder.path,
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("wrote 2 chart(s)"))
        // Origins 549...687 (a whole horizon of 12 inside the span), kept 12 apart: 12 each.
        let kept = try await harness.sql { session in
            try session.query(
                """
                SELECT series, count(*), min(cardinality(value)), max(cardinality(value)), count(lower),
                       min(extract(epoch FROM issued_at))::int8, max(extract(epoch FROM issued_at))::int8
                FROM forecast.backtest_forecasts GROUP BY series ORDER BY series
                """
            ).map { row in
                [try row.decode(String.self, at: 0)] + (1...6).map { "\((try? row.decode(Int64.self, at: $0)) ?? -1)" }
            }
        }
        let first = String(1_467_331_200 + 549 * 3600)
        let last = String(1_467_331_200 + 681 * 3600)
        #expect(kept == [["HUFL", "12", "12", "12", "12", first, last], ["OT", "12", "12", "12", "12", first, last]])

        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        let id = try await harness.integer("SELECT max(id) FROM forecast.backtests")
        #expect(files == ["backtest-\(id)-1-HUFL.svg", "backtest-\(id)-2-OT.svg"])
        for (file, series) in zip(files, ["HUFL", "OT"]) {
            let document = try SVGDocument(
                parsing: try String(contentsOf: folder.appending(path: file), encoding: .utf8))
            #expect(document.elements(class: "title").first?.text == "backtest \(id) · m · \(series)")
            let past = subpaths(document.path("past-forecast")?.attributes["d"] ?? "").map(\.count)
            #expect(past == Array(repeating: 12, count: 12))
            #expect(subpaths(document.path("actual")?.attributes["d"] ?? "").map(\.count) == [144])
            // Readings from two lookbacks (96 hours) before the test span to its end.
            #expect(subpaths(document.path("history")?.attributes["d"] ?? "").map(\.count) == [96 + 150])
            #expect(document.path("past-interval") != nil)
        }
    }
}
