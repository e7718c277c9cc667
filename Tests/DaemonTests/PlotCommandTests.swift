import Foundation
import PostgresClient
import Testing

/// `forecastd plot` run as the built binary against forecasts inserted directly: the SVG
/// parses and holds a horizon of forecast points, the readings of the span, the earlier
/// forecasts and their actuals; wrong arguments exit 64.
@Suite(.database) struct PlotCommandTests {
    /// ETTh1 hour `hour` (0 is 2016-07-01 00:00 UTC), µs since the Unix epoch.
    static func time(_ hour: Int) -> Int64 { (1_467_331_200 + Int64(hour) * 3600) * 1_000_000 }

    static func text(_ hour: Int) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(time(hour)) / 1e6))
    }

    /// Sets issued (hours) for each sensor; the last is the newest.
    static let origins = [251, 263, 275, 287, 299]

    /// ETTh1 hours 0..<300 of both sensors, model `m` (hourly, horizon 12, lookback 48) with
    /// version 1 and a forecast set issued at each of `origins` for both sensors (the actual
    /// plus 0.5, an interval of ±1, actuals filled where they arrived), and model `fresh` on
    /// the same readings without any forecast.
    static func withForecasts(_ body: (DaemonHarness) async throws -> Void) async throws {
        let harness = try await DaemonHarness.make("forecastd_plot")
        do {
            try await harness.load(0..<300)
            try await harness.createModel("m")
            try await harness.createModel("fresh")
            let rows = try DaemonHarness.etth1
            try await harness.sql { session in
                try session.execute(
                    "INSERT INTO forecast.model_versions (model, version, kind, checkpoint, active) VALUES ('m', 1, 'full', '\\x00', true)"
                )
                for sensor in ["OT", "HUFL"] {
                    for origin in origins {
                        for step in 1...12 {
                            let hour = origin + step
                            let truth = sensor == "OT" ? rows[hour].ot : rows[hour].hufl
                            let parameters: [(any PostgresEncodable)?] = [
                                sensor, PostgresTimestamp(microsecondsSince1970: time(origin)),
                                PostgresTimestamp(microsecondsSince1970: time(hour)), Int32(step), truth + 0.5,
                                truth - 1, truth + 1, hour < 300 ? truth : nil,
                            ]
                            try session.execute(
                                """
                                INSERT INTO forecast.predictions
                                    (model, series, issued_at, target_time, step, value, lower, upper, actual, version)
                                VALUES ('m', $1, $2, $3, $4, $5, $6, $7, $8, 1)
                                """, parameters)
                        }
                    }
                }
            }
            try await body(harness)
        } catch {
            try? await harness.drop()
            throw error
        }
        try await harness.drop()
    }

    /// Points of each subpath of the path of class `name`.
    static func counts(_ document: SVGDocument, _ name: String) -> [Int] {
        subpaths(document.path(name)?.attributes["d"] ?? "").map(\.count)
    }

    @Test func plotDrawsReadingsForecastAndEarlierForecasts() async throws {
        try await Self.withForecasts { harness in
            let outcome = try ForecastdProcess.run(["plot", "m", "--database", harness.conninfo])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            // Both series have the newest forecast: the first by name, and stderr says so.
            #expect(outcome.stderr.contains("plotting series 'HUFL'") && outcome.stderr.contains("'OT'"))
            let document = try SVGDocument(parsing: outcome.stdout)
            #expect(document.elements(class: "title").first?.text == "m · HUFL")
            #expect(Self.counts(document, "forecast") == [12])  // the horizon
            // Three lookbacks (144 hours) before the issue time, through the newest reading.
            #expect(Self.counts(document, "history") == [145])
            // Going back from the newest: the four earlier sets, each whole, never joined.
            #expect(Self.counts(document, "past-forecast") == [12, 12, 12, 12])
            #expect(Self.counts(document, "actual") == [48])
            #expect(document.path("interval") != nil && document.elements(class: "issued").count == 1)
            // The first reading at the left edge, the last forecast step at the right edge.
            let history = subpaths(document.path("history")?.attributes["d"] ?? "").flatMap { $0 }
            let forecast = subpaths(document.path("forecast")?.attributes["d"] ?? "").flatMap { $0 }
            #expect(history.first?.x == 72 && forecast.last?.x == 940)
            #expect((history.last?.x ?? 0) < (forecast.first?.x ?? 0))
        }
    }

    @Test func seriesSpanOutputAndVersionAreHonoured() async throws {
        try await Self.withForecasts { harness in
            let file = FileManager.default.temporaryDirectory.appending(path: "plot-\(UUID().uuidString).svg")
            defer { try? FileManager.default.removeItem(at: file) }
            let outcome = try ForecastdProcess.run([
                "plot", "m", "--series", "OT", "--from", Self.text(251), "--to", Self.text(305), "--version", "1",
                "--output", file.path, "--database", harness.conninfo,
            ])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.isEmpty && outcome.stderr.isEmpty)
            let document = try SVGDocument(parsing: try String(contentsOf: file, encoding: .utf8))
            #expect(document.elements(class: "title").first?.text == "m · OT")
            #expect(Self.counts(document, "history") == [49])  // hours 251...299
            #expect(Self.counts(document, "forecast") == [6])  // cut at --to
            #expect(Self.counts(document, "past-forecast") == [12, 12, 12, 12])

            // A model without forecasts: its readings, the first series by name.
            let fresh = try ForecastdProcess.run(["plot", "fresh", "--database", harness.conninfo])
            #expect(fresh.status == 0, "\(fresh.stderr)")
            #expect(fresh.stderr.contains("no forecast yet; plotting series 'HUFL'"))
            let readings = try SVGDocument(parsing: fresh.stdout)
            #expect(Self.counts(readings, "history") == [144] && readings.path("forecast") == nil)
            // Only --to: three lookbacks up to it.
            let earlier = try ForecastdProcess.run([
                "plot", "fresh", "--series", "OT", "--to", Self.text(200), "--database", harness.conninfo,
            ])
            #expect(earlier.status == 0, "\(earlier.stderr)")
            let earlierHistory = subpaths(
                try SVGDocument(parsing: earlier.stdout).path("history")?.attributes["d"] ?? "")
            #expect(earlierHistory.map(\.count) == [144])  // hours 57...200

            for (arguments, message) in [
                (["plot", "m", "--version", "2"], "version 2 of model 'm' issued no forecast"),
                (["plot", "m", "--series", "nope"], "model 'm' has no series 'nope'; it has 'HUFL', 'OT'"),
                (["plot", "m", "--from", "not a time"], "invalid time 'not a time'"),
                (["plot", "m", "--from", Self.text(290), "--to", Self.text(280)], "--from must be before --to"),
                (["plot", "nothing"], "no model named 'nothing'"),
            ] {
                let failed = try ForecastdProcess.run(arguments + ["--database", harness.conninfo])
                #expect(failed.status == 64, "\(arguments): \(failed.stderr)")
                #expect(failed.stderr.contains(message), "\(arguments): \(failed.stderr)")
                #expect(failed.stdout.isEmpty)
            }
        }
    }

    /// The same from forecasts a short daemon run wrote and scored: two sets, the first
    /// matured into actuals.
    @Test func plotDrawsWhatTheDaemonWrote() async throws {
        let harness = try await DaemonHarness.make("forecastd_plot_daemon")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<600)
        try await harness.createModel("m")
        let daemon = try harness.startDaemon()
        let firstSet = try await harness.waitUntil { session in
            try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'm'")[0].decode(Int.self, at: 0) == 24
        }
        #expect(firstSet, "\(daemon.log)")
        try await harness.load(600..<612)
        let scored = try await harness.waitUntil { session in
            try session.query("SELECT count(*) FROM forecast.accuracy WHERE model = 'm'")[0].decode(Int.self, at: 0)
                == 24
                && session.query("SELECT min(issued_at) FROM forecast.latest WHERE model = 'm'")[0]
                    .decode(PostgresTimestamp?.self, at: 0)?.microsecondsSince1970 == Self.time(611)
        }
        #expect(scored, "\(daemon.log)")
        _ = await daemon.stop()

        let outcome = try ForecastdProcess.run(["plot", "m", "--series", "OT", "--database", harness.conninfo])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let document = try SVGDocument(parsing: outcome.stdout)
        #expect(Self.counts(document, "forecast") == [12])
        #expect(Self.counts(document, "history") == [145])  // hours 467...611
        #expect(Self.counts(document, "past-forecast") == [12])  // issued at 599
        #expect(Self.counts(document, "actual") == [12])
        // Issued at the newest reading, by the version that wrote it (the first or its fine-tune).
        let subtitle = document.elements(class: "subtitle").first?.text ?? ""
        #expect(
            subtitle.contains("issued 2016-07-26 11:00 UTC") && subtitle.hasPrefix("forecast of version "),
            "\(subtitle)")
    }
}
