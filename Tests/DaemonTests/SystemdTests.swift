import Foundation
import Testing

@testable import DaemonCore

/// The notify protocol, watchdog, reload and stop, with this test playing systemd.
@Suite(.database, .serialized)
struct SystemdTests {
    static func writeConfig(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "forecastd-test-\(UUID().uuidString.prefix(8)).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func readyWatchdogReloadAndStop() async throws {
        let harness = try await DaemonHarness.make("forecastd_systemd")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<600)
        try await harness.createModel("ett")
        let socket = try NotifySocket()
        let config = try Self.writeConfig("log_level: info\npoll_interval: 1\nworkers: 1\n")
        defer { try? FileManager.default.removeItem(atPath: config) }
        let daemon = try DaemonProcess(
            arguments: ["run", "--database", harness.conninfo, "--config", config, "--lease-seconds", "3"],
            environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "2000000"])

        #expect(await socket.waitFor("READY=1"), "\(daemon.log)")
        let ready = ContinuousClock.now
        // Pings every second (half of WATCHDOG_USEC) while the scheduler moves.
        #expect(await socket.waitFor("WATCHDOG=1", count: 2, since: ready), "\(daemon.log)")
        #expect(socket.messages.contains { $0.fields.contains { $0.hasPrefix("STATUS=") } })

        // SIGHUP: RELOADING=1 with MONOTONIC_USEC, then READY=1; the new level applies.
        try "log_level: debug\npoll_interval: 1\nworkers: 2\n".write(toFile: config, atomically: true, encoding: .utf8)
        let hangup = ContinuousClock.now
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(await socket.waitFor("RELOADING=1", since: hangup))
        let reloading = socket.messages.first { $0.at >= hangup && $0.fields.contains("RELOADING=1") }
        let monotonic = reloading?.fields.first { $0.hasPrefix("MONOTONIC_USEC=") }
        #expect(monotonic.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) } != nil)
        #expect(await socket.waitFor("READY=1", since: hangup))
        #expect(await daemon.waitForLog("configuration reloaded"), "\(daemon.log)")
        #expect(await daemon.waitForLog(" debug "), "\(daemon.log)")

        // An invalid file on reload keeps the old configuration and says why.
        try "workers: many\n".write(toFile: config, atomically: true, encoding: .utf8)
        let badHangup = ContinuousClock.now
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(await socket.waitFor("READY=1", since: badHangup))
        #expect(await daemon.waitForLog("reload failed, keeping the previous configuration"), "\(daemon.log)")
        #expect(daemon.log.contains("workers: must be an integer"))
        #expect(daemon.process.isRunning)

        // SIGTERM: STOPPING=1, exit 0 well within TimeoutStopSec.
        let stopping = ContinuousClock.now
        let stopped = await daemon.stop()
        #expect(socket.count("STOPPING=1", since: stopping) == 1)
        #expect(stopped.status == 0)
        #expect(stopped.elapsed < .seconds(10))
    }

    @Test func stalledSchedulerStopsThePings() async throws {
        let harness = try await DaemonHarness.make("forecastd_systemd_stall")
        defer { Task { try? await harness.drop() } }
        let socket = try NotifySocket()
        let daemon = try DaemonProcess(
            arguments: ["run", "--database", harness.conninfo, "--poll-interval", "0.2"],
            environment: [
                "NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "1000000", "FORECASTD_DEBUG_STALL_SCHEDULER_AFTER": "2",
            ])
        #expect(await socket.waitFor("READY=1"), "\(daemon.log)")
        // The scheduler started before READY, so it stalls by `stallBegan` and never turns
        // again: pings may follow until its last promised turn (0.2 s) plus the grace (half
        // the watchdog, 0.5 s) have passed, then every watchdog check (each 250 ms) withholds
        // the ping. Wait for five checks withheld after `stallBegan`.
        let stallBegan = ContinuousClock.now + .seconds(2)
        #expect(await socket.waitFor("WATCHDOG=1"))
        let withheld = "withholding the watchdog ping"
        var withheldBefore: Int?
        let stalled = await eventually {
            guard ContinuousClock.now >= stallBegan else { return false }
            let count = daemon.logCount(withheld)
            withheldBefore = withheldBefore ?? count
            return count >= (withheldBefore ?? count) + 5
        }
        #expect(stalled, "\(daemon.log)")
        #expect(socket.count("WATCHDOG=1", since: stallBegan + .seconds(1)) == 0)
        _ = await daemon.stop()
    }

    /// Liveness follows the loop's health, not the arrival of work: an idle daemon with an
    /// administrator's `WatchdogSec=4s` and no models pings every 2 s (the loop itself
    /// sleeps for the 10 s poll interval).
    @Test func idleDaemonKeepsPingingAShortWatchdog() async throws {
        let harness = try await DaemonHarness.make("forecastd_systemd_idle")
        defer { Task { try? await harness.drop() } }
        let socket = try NotifySocket()
        let daemon = try DaemonProcess(
            arguments: ["run", "--database", harness.conninfo],
            environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "4000000"])
        #expect(await socket.waitFor("READY=1"), "\(daemon.log)")
        let ready = ContinuousClock.now
        #expect(await socket.waitFor("WATCHDOG=1", count: 4, since: ready), "\(daemon.log)")
        let fourth = socket.messages.filter { $0.at >= ready && $0.fields.contains("WATCHDOG=1") }.dropFirst(3).first
        #expect(fourth.map { $0.at - ready <= .seconds(10) } == true)
        #expect(!daemon.log.contains("withholding"))
        _ = await daemon.stop()
    }

    @Test func notifierSpeaksToAbstractSocketsAndIsSilentWithoutOne() {
        #expect(!SystemdNotifier(environment: [:]).notify(["READY=1"]))
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "3000000"]) == .seconds(3))
        #expect(
            SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"]) == nil)
        // An abstract socket: bind one and receive through the notifier.
        let name = "forecastd-test-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: [0] + Array(name.utf8)) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + 1 + name.utf8.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        #expect(bound == 0)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name]).notify(["READY=1", "STATUS=ok"]))
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        #expect(count > 0 && String(decoding: buffer[..<max(0, count)], as: UTF8.self) == "READY=1\nSTATUS=ok")
    }
}

/// The configuration file, without a database.
struct DaemonConfigurationTests {
    @Test func validFileAndPrecedence() throws {
        let path = try SystemdTests.writeConfig(
            "database: \"host=/run/postgresql dbname=sensors\"\nlog_level: warning\nworkers: 3\npoll_interval: 2.5\n"
                + "keep_forecasts_days: 7\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = try DaemonConfiguration().applyingFile(path)
        #expect(fromFile.database == "host=/run/postgresql dbname=sensors")
        #expect(fromFile.logLevel == .warning && fromFile.workers == 3 && fromFile.pollInterval == 2.5)
        #expect(fromFile.keepForecastsDays == 7 && DaemonConfiguration().keepForecastsDays == 90)
        let fromEnvironment = fromFile.applyingEnvironment([
            "FORECASTD_DATABASE_URL": "dbname=other", "FORECASTD_WORKERS": "1",
        ])
        #expect(fromEnvironment.database == "dbname=other" && fromEnvironment.workers == 1)
    }

    @Test(arguments: [
        ("workers: 0\n", "workers"), ("bogus: 1\n", "bogus"), ("log_level: loud\n", "log_level"),
        ("database: \"host=x password=secret\"\n", "database"), ("poll_interval: fast\n", "poll_interval"),
        ("keep_forecasts_days: -1\n", "keep_forecasts_days"),
        ("- a list\n", nil),
    ])
    func invalidFilesNameTheKey(text: String, key: String?) throws {
        let path = try SystemdTests.writeConfig(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: DaemonConfiguration.Invalid.self) { try DaemonConfiguration().applyingFile(path) }
        #expect(error?.key == key)
        #expect(error?.description.contains("secret") == false)
    }

    @Test func checkConfigExitsNonzeroNamingTheKey() throws {
        let good = try SystemdTests.writeConfig("workers: 2\n")
        let bad = try SystemdTests.writeConfig("workers: 2\nlease_seconds: 1\n")
        defer {
            try? FileManager.default.removeItem(atPath: good)
            try? FileManager.default.removeItem(atPath: bad)
        }
        let ok = try ForecastdProcess.run(["check-config", good])
        #expect(ok.status == 0 && ok.stdout.contains("ok"))
        let failed = try ForecastdProcess.run(["check-config", bad])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("lease_seconds"))
    }

    @Test func credentialsDirectoryProvidesThePasswordFile() throws {
        let folder = NSTemporaryDirectory() + "forecastd-credentials-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(
            DaemonConfiguration().connectionSettings(environment: ["CREDENTIALS_DIRECTORY": folder]).defaults.isEmpty)
        _ = FileManager.default.createFile(atPath: folder + "/pgpass", contents: Data("*:*:*:*:pw\n".utf8))
        let settings = DaemonConfiguration().connectionSettings(environment: ["CREDENTIALS_DIRECTORY": folder])
        #expect(settings.defaults.first?.0 == "passfile")
        #expect(settings.defaults.first?.1 == folder + "/pgpass")
    }
}
