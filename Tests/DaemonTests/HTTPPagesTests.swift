import Foundation
import PostgresClient
import Testing

@testable import DaemonCore

/// The endpoint's pieces without a database or a socket: addresses, escaping, pages, probes
/// and metric names.
struct HTTPPagesTests {
    static let hostile = "<script>alert(\"x\")</script>&'"
    static let hostileEscaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"

    @Test(arguments: [
        ("off", HTTPListen.off), ("127.0.0.1:9464", .address(host: "127.0.0.1", port: 9464)),
        ("0.0.0.0:0", .address(host: "0.0.0.0", port: 0)), ("[::1]:9464", .address(host: "::1", port: 9464)),
        ("localhost:80", .address(host: "localhost", port: 80)),
    ])
    func listenAddressesParse(text: String, expected: HTTPListen) {
        #expect(HTTPListen(text) == expected)
        #expect(HTTPListen(expected.description) == expected)
    }

    @Test(arguments: ["", "9464", ":9464", "::1:9464", "host:65536", "host:-1", "a b:1", "[::1:9464", "on"])
    func badListenAddressesAreRejected(text: String) {
        #expect(HTTPListen(text) == nil)
    }

    @Test func configurationKeyAcceptsBareOffAndNamesItself() throws {
        #expect(DaemonConfiguration().httpListen == .address(host: "127.0.0.1", port: 9464))
        for (text, expected) in [
            ("http_listen: off\n", HTTPListen.off),
            ("http_listen: 0.0.0.0:9100\n", .address(host: "0.0.0.0", port: 9100)),
            ("http_listen: \"[::1]:9464\"\n", .address(host: "::1", port: 9464)),
        ] {
            let path = try SystemdTests.writeConfig(text)
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(try DaemonConfiguration().applyingFile(path).httpListen == expected, "\(text)")
        }
        let path = try SystemdTests.writeConfig("http_listen: everywhere\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: DaemonConfiguration.Invalid.self) { try DaemonConfiguration().applyingFile(path) }
        #expect(error?.key == "http_listen")
    }

    @Test func escapingKeepsHostileNamesText() {
        #expect(HTML.escape(Self.hostile) == Self.hostileEscaped)
        #expect(HTML.escape("a\u{1B}b\u{0}c\td") == "a&#xFFFD;b&#xFFFD;c\td")
        #expect(HTML.urlComponent("a/b?c&d=e f#g+h") == "a%2Fb%3Fc%26d%3De%20f%23g%2Bh")
        #expect(HTML.modelPath(Self.hostile, series: "x y", page: 2).hasPrefix("/models/%3Cscript%3E"))
        let query = HTML.queryParameters("series=x+y%21&page=3&series=ignored&empty")
        #expect(query == ["series": "x y!", "page": "3", "empty": ""])
        // A link's query decodes back to the name it was built from.
        let path = HTML.modelPath("m", series: Self.hostile + " + ü")
        let decoded = HTML.queryParameters(String(path.split(separator: "?")[1]))
        #expect(decoded["series"] == Self.hostile + " + ü")
    }

    static func overview(_ name: String, state: String = "active") -> ModelOverview {
        ModelOverview(
            model: name, state: state, lastError: state == "error" ? "<b>boom</b>" : nil, lastErrorAt: nil,
            activeVersion: 3, versions: 3, lastTrainingSeconds: 1.5, lastTrainingEpochs: 7,
            lastForecast: Date(timeIntervalSince1970: 1_700_000_000), newestData: nil, series: 10_000,
            staleSeries: 2, queuedRequests: 1, scored: 240, mae: 0.5, mase: 0.8, coverage: 0.81, workedOnBy: "host:1:2")
    }

    @Test func statusPageEscapesEveryName() {
        let page = StatusPage.render(
            [Self.overview(Self.hostile, state: "error"), Self.overview("plain")], owner: "host:1:<2>")
        #expect(page.contains(Self.hostileEscaped))
        #expect(!page.contains("<script") && !page.contains("<b>boom"))
        #expect(page.contains("&lt;b&gt;boom&lt;/b&gt;"))
        #expect(page.contains("href=\"/models/%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E%26%27\""))
        #expect(page.contains("2023-11-14T22:13:20Z"))
        #expect(page.contains(">0.8<") && page.contains("81.0%"))
    }

    @Test func modelPageListsOnePageOfSeriesWithOneChart() {
        var data = ModelPageData(name: Self.hostile, settings: [("source", "plant.<readings>")])
        data.overview = Self.overview(Self.hostile)
        data.matchingSeries = 10_000
        data.series = (0..<ModelPage.pageSize).map {
            SeriesRow(name: "s<\($0)>", newestReading: nil, reason: nil, bridged: 0)
        }
        data.chart = SeriesChart(series: "s<0>", svg: "<svg class=\"forecast-chart\"></svg>", notes: ["<i>note</i>"])
        data.events = [EventRow(at: Date(timeIntervalSince1970: 0), level: "error", message: "<img src=x onerror=1>")]
        let page = ModelPage.render(data, search: "\"><script>", page: 2)
        #expect(!page.contains("<script") && !page.contains("<img"))
        #expect(page.contains("<h1>\(Self.hostileEscaped)</h1>"))
        #expect(page.contains("value=\"&quot;&gt;&lt;script&gt;\""))
        #expect(page.contains("page 2 of 200"))
        #expect(page.components(separatedBy: "class=\"forecast-chart\"").count == 2, "one chart per page view")
        #expect(page.contains("<h3>s&lt;0&gt;</h3>") && page.contains("&lt;i&gt;note&lt;/i&gt;"))
        #expect(page.contains("← previous") && page.contains("next →"))
        #expect(page.contains("page=3") && page.contains("page=1") == false)
        #expect(page.components(separatedBy: "<tr><td><a href=").count - 1 == ModelPage.pageSize)
    }

    @Test func aChartThatCannotBeDrawnSaysWhyEscaped() {
        var data = ModelPageData(name: "m", settings: [])
        data.series = [SeriesRow(name: "a", newestReading: nil, reason: nil, bridged: 0)]
        data.matchingSeries = 1
        data.chart = SeriesChart(series: "a", problem: "model 'm' has no series '<b>'")
        let page = ModelPage.render(data, search: "", page: 1)
        #expect(page.contains("no chart: model &#39;m&#39; has no series &#39;&lt;b&gt;&#39;"))
        #expect(!page.contains("<svg"))
    }

    @Test func probesSayWhyInOneLine() {
        let ready = HealthChecks.readiness(schema: .success(Migration.newest), expected: Migration.newest, turns: 1)
        #expect(ready.ok)
        let firstTurn = HealthChecks.readiness(schema: .success(Migration.newest), expected: Migration.newest, turns: 0)
        #expect(!firstTurn.ok && firstTurn.reason.contains("first turn"))
        let old = HealthChecks.readiness(schema: .success(0), expected: 8, turns: 0)
        #expect(!old.ok && old.reason.contains("run 'forecastd migrate'"))
        let newer = HealthChecks.readiness(schema: .success(9), expected: 8, turns: 5)
        #expect(!newer.ok && newer.reason.contains("upgrade forecastd"))
        let down = HealthChecks.readiness(
            schema: .failure(PostgresError(.connection, "could not connect\nto server")), expected: 8, turns: 5)
        #expect(!down.ok && down.reason.hasPrefix("database unreachable") && !down.reason.contains("\n"))
        #expect(!HealthChecks.health(turns: 0, healthy: false).ok)
        #expect(!HealthChecks.health(turns: 3, healthy: false).ok)
        #expect(HealthChecks.health(turns: 3, healthy: true).ok)
        let progress = SchedulerProgress()
        progress.tick(nextTurnWithin: .seconds(1))
        #expect(progress.isHealthy(at: .now, grace: .seconds(1)))
        #expect(!progress.isHealthy(at: .now + .seconds(5), grace: .seconds(1)))
        #expect(SystemdService.healthGrace(watchdog: nil) == .seconds(30))
        #expect(SystemdService.healthGrace(watchdog: .seconds(60)) == .seconds(30))
    }

    @Test func cspAllowsNoScriptOrExternalResource() {
        let policy = HTTPEndpoint.contentSecurityPolicy
        #expect(policy.hasPrefix("default-src 'none';"))
        #expect(!policy.contains("script-src") && !policy.contains("http"))
    }

    @Test func statusGaugesAreOneHotAndOmitTheUnknown() {
        var model = Self.overview("m")
        model.mae = nil
        model.activeVersion = nil
        let values = StatusMetrics.values([model])
        let states = values[DaemonMetrics.modelState] ?? []
        #expect(states.count == 4 && states.map(\.value).reduce(0, +) == 1)
        #expect(states.first { $0.value == 1 }?.labels.last?.1 == "active")
        #expect(values[DaemonMetrics.modelMAE] == nil && values[DaemonMetrics.modelActiveVersion] == nil)
        #expect(values[DaemonMetrics.modelSeries]?.first?.value == 10_000)
        #expect(values[DaemonMetrics.modelCoverage]?.first?.value == 0.81)
        #expect(values[DaemonMetrics.modelLastForecast]?.first?.value == 1_700_000_000)
    }

    @Test func metricNamesFollowPrometheusConventions() {
        let names = DaemonMetrics.all.map(\.name)
        #expect(Set(names).count == names.count)
        for description in DaemonMetrics.all {
            let name = description.name
            #expect(name.hasPrefix("forecastd_"), "\(name)")
            #expect(name.allSatisfy { $0.isLowercase || $0 == "_" }, "\(name)")
            #expect(!description.help.isEmpty && !description.help.contains("\n"))
            #expect(!name.contains("millis") && !name.contains("_ms"), "base units: \(name)")
        }
        #expect(names.filter { $0.hasSuffix("_total") }.count == 4)
        #expect(DaemonMetrics.durationBuckets(for: "forecastd_cycle_duration_seconds")?.last == .seconds(1800))
        #expect(DaemonMetrics.help(for: "other_library_metric").contains("other_library_metric"))
    }
}
