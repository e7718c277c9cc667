import Foundation
import Testing

/// `forecastd run --http-listen`: probes, metrics and pages as an operator and Prometheus see
/// them, against a real PostgreSQL, over real sockets.
@Suite(.database, .serialized)
struct HTTPEndpointTests {
    static let hostile = "<script>alert(\"x\")</script>&'"
    static let hostileEscaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"

    /// Started against a database whose schema was never migrated, the daemon waits: both
    /// probes answer 503 with the reason; once `forecastd migrate` ran, both answer 200.
    @Test func probesAnswer503UntilTheSchemaIsMigratedThen200() async throws {
        let database = try await TestDatabase.createDatabase("forecastd_http_ready")
        defer { Task { try? await TestDatabase.dropDatabase(database.name) } }
        let daemon = try DaemonProcess(arguments: [
            "run", "--database", database.conninfo, "--poll-interval", "1", "--http-listen", "127.0.0.1:0",
        ])
        let port = try #require(await HTTPProbe.port(in: daemon), "\(daemon.log)")

        let notReady = await HTTPProbe.poll(port: port, "/readyz", timeout: .seconds(30)) { $0.status == 503 }
        #expect(notReady?.body.contains("run 'forecastd migrate'") == true, "\(String(describing: notReady))")
        #expect(notReady?.body.split(separator: "\n").count == 1)
        let unhealthy = try HTTPProbe.get(port: port, "/healthz")
        #expect(unhealthy.status == 503 && unhealthy.body.contains("first turn"), "\(unhealthy.body)")
        #expect(await daemon.waitForLog("run 'forecastd migrate'; waiting"), "\(daemon.log)")

        let migrate = try ForecastdProcess.run(["migrate", "--database", database.conninfo])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        let ready = await HTTPProbe.poll(port: port, "/readyz", timeout: .seconds(60)) { $0.status == 200 }
        #expect(ready?.body.hasPrefix("ready") == true, "\(daemon.log)")
        let healthy = await HTTPProbe.poll(port: port, "/healthz", timeout: .seconds(30)) { $0.status == 200 }
        #expect(healthy != nil, "\(daemon.log)")
        #expect(healthy?.header("content-type")?.hasPrefix("text/plain") == true)
        let stopped = await daemon.stop()
        #expect(stopped.status == 0, "\(daemon.log)")
    }

    /// Two models (one with a hostile name) forecast; then `/metrics` passes promtool and holds
    /// the named series, and the pages show both models with every name escaped.
    @Test func metricsAndPagesForRunningModels() async throws {
        let (harness, daemon, port) = try await Self.servingTwoModels("forecastd_http_metrics")
        defer { Task { try? await harness.drop() } }

        // Metrics: the gauges from SQL are cached for a few seconds, so poll until they show
        // the forecasts.
        let metrics = try #require(
            await HTTPProbe.poll(port: port, "/metrics", timeout: .seconds(30)) {
                $0.body.contains("forecastd_model_last_forecast_timestamp_seconds{model=\"ett\"}")
            }, "\(daemon.log)")
        #expect(metrics.status == 200)
        #expect(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = metrics.body
        for series in [
            "forecastd_model_state{model=\"ett\",state=\"active\"} 1",
            "forecastd_model_state{model=\"ett\",state=\"error\"} 0",
            "forecastd_model_series{model=\"ett\"} 2",
            "forecastd_model_stale_series{model=\"ett\"} 0",
            "forecastd_model_versions{model=\"ett\"} 1",
            "forecastd_model_active_version{model=\"ett\"} 1",
            "forecastd_model_last_training_seconds{model=\"ett\"}",
            "forecastd_model_last_training_epochs{model=\"ett\"}",
            "forecastd_model_queued_requests{model=\"ett\"} 0",
            "forecastd_forecasts_written_total{model=\"ett\"}",
            "forecastd_rows_read_total{model=\"ett\"}",
            "forecastd_cycle_duration_seconds_bucket{model=\"ett\",le=",
            "forecastd_cycle_duration_seconds_count{model=\"ett\"}",
            "forecastd_versions_published_total{model=\"ett\",kind=\"full\"} 1",
            "forecastd_errors_total{model=\"ett\",kind=\"read\"} 0",
            "forecastd_models_held 2",
            "forecastd_db_connections_in_use",
            "forecastd_build_info{version=",
            "# HELP forecastd_cycle_duration_seconds ",
            "# TYPE forecastd_cycle_duration_seconds histogram",
            "# TYPE forecastd_forecasts_written_total counter",
            // The hostile name as an escaped label value.
            "forecastd_model_series{model=\"<script>alert(\\\"x\\\")</script>&'\"} 2",
        ] {
            #expect(text.contains(series), "missing \(series)")
        }
        #expect(!text.contains("series=\""), "a series name must never be a label")
        for line in text.split(separator: "\n") where line.hasPrefix("forecastd_forecasts_written_total{model=\"ett\"}")
        {
            #expect((Double(line.split(separator: " ").last ?? "") ?? 0) >= 24, "\(line)")
        }
        try Self.promtoolAccepts(text)

        // The status page: both models, the hostile one escaped, under a strict CSP.
        let page = try HTTPProbe.get(port: port, "/")
        #expect(page.status == 200)
        #expect(page.header("content-type") == "text/html; charset=utf-8")
        #expect(page.header("content-security-policy")?.hasPrefix("default-src 'none'") == true)
        #expect(page.body.contains(">ett</a>"))
        #expect(page.body.contains(Self.hostileEscaped), "\(page.body)")
        #expect(!page.body.contains("<script"), "\(page.body)")
        #expect(!page.body.contains("alert(\"x\")"))

        // The model pages, the hostile one by its percent-encoded name.
        let ett = try HTTPProbe.get(port: port, "/models/ett")
        #expect(ett.status == 200)
        for part in [
            "<h1>ett</h1>", "Versions", "Events", "class=\"forecast-chart\"", ">OT</a>", ">HUFL</a>", "2 series",
        ] {
            #expect(ett.body.contains(part), "missing \(part)")
        }
        let searched = try HTTPProbe.get(port: port, "/models/ett?series=hu&page=1")
        #expect(searched.body.contains("1 series matching") && searched.body.contains("<h3>HUFL</h3>"))
        #expect(!searched.body.contains(">OT</a>"))
        let encoded = Self.hostile.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let hostilePage = try HTTPProbe.get(port: port, "/models/" + encoded)
        #expect(hostilePage.status == 200, "\(hostilePage.body)")
        #expect(hostilePage.body.contains("<h1>\(Self.hostileEscaped)</h1>"))
        #expect(!hostilePage.body.contains("<script"))
        #expect(try HTTPProbe.get(port: port, "/models/nosuchmodel").status == 404)
        _ = await daemon.stop()
    }

    /// A database with ETTh1 hours 0..<600 of OT and HUFL, models `ett` and `hostile`, and
    /// `forecastd run` serving HTTP on a free port; returns once both models have forecast.
    static func servingTwoModels(_ database: String) async throws
        -> (harness: DaemonHarness, daemon: DaemonProcess, port: Int)
    {
        let harness = try await DaemonHarness.make(database)
        try await harness.load(0..<600)
        try await harness.createModel("ett")
        try await harness.createModel(hostile)
        let daemon = try harness.startDaemon(["--http-listen", "127.0.0.1:0"])
        let port = try #require(await HTTPProbe.port(in: daemon), "\(daemon.log)")
        let forecast = try await harness.waitUntil { session in
            try session.query("SELECT count(DISTINCT model) FROM forecast.latest")[0].decode(Int.self, at: 0) == 2
        }
        #expect(forecast, "\(daemon.log)")
        return (harness, daemon, port)
    }

    /// `http_listen` in the file, changed on SIGHUP: `off` closes the endpoint, a new
    /// address opens it again.
    @Test func reloadRebindsTheEndpoint() async throws {
        let harness = try await DaemonHarness.make("forecastd_http_reload")
        defer { Task { try? await harness.drop() } }
        let config = try SystemdTests.writeConfig("http_listen: 127.0.0.1:0\npoll_interval: 1\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let daemon = try DaemonProcess(arguments: ["run", "--database", harness.conninfo, "--config", config])
        let first = try #require(await HTTPProbe.port(in: daemon), "\(daemon.log)")
        #expect(await HTTPProbe.poll(port: first, "/healthz") { $0.status == 200 } != nil, "\(daemon.log)")

        try "http_listen: off\npoll_interval: 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(await daemon.waitForLog("closing the HTTP endpoint"), "\(daemon.log)")
        let closed = await eventually(timeout: .seconds(30)) { (try? HTTPProbe.get(port: first, "/healthz")) == nil }
        #expect(closed, "the endpoint still answers after http_listen: off")

        try "http_listen: 127.0.0.1:0\npoll_interval: 1\n".write(toFile: config, atomically: true, encoding: .utf8)
        kill(daemon.process.processIdentifier, SIGHUP)
        let second = try #require(await HTTPProbe.port(in: daemon, count: 2), "\(daemon.log)")
        #expect(await HTTPProbe.poll(port: second, "/healthz") { $0.status == 200 } != nil, "\(daemon.log)")
        let stopped = await daemon.stop()
        #expect(stopped.status == 0, "\(daemon.log)")
    }

    /// `promtool check metrics` (Debian's prometheus package, which scripts/test installs)
    /// accepts `text`.
    static func promtoolAccepts(_ text: String) throws {
        let promtool = try #require(
            ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "promtool is not installed (Debian package prometheus; scripts/test installs it)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: promtool)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "promtool check metrics: \(said)")
    }
}
