import Foundation
import Ingest
import PostgresClient
import Testing

/// A database with the forecast schema, ETTh1 readings in chunks, and `forecastd run`
/// processes against it: the daemon as users run it.
struct DaemonHarness {
    let conninfo: String
    let databaseName: String

    /// ETTh1 (ETDataset, Zhou et al., AAAI 2021; CC BY-ND 4.0): hourly times and the
    /// `OT` and `HUFL` columns, read from the repository's unmodified copy, `data/ETTh1.csv`.
    /// Throws (failing the test that needs it) when the file cannot be read.
    static var etth1: [(time: Date, ot: Double, hufl: Double)] {
        get throws { try etth1Rows.get() }
    }

    /// `<package>/data/ETTh1.csv`, found from this source file (`<package>/Tests/DaemonTests/`).
    static var etth1URL: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "data/ETTh1.csv")
    }

    private static let etth1Rows = Result { () throws -> [(time: Date, ot: Double, hufl: Double)] in
        let text: String
        do {
            text = try String(contentsOf: etth1URL, encoding: .utf8)
        } catch {
            throw HarnessError(description: "cannot read ETTh1 at \(etth1URL.path): \(error)")
        }
        let start = 1_467_331_200.0  // 2016-07-01 00:00 UTC, the first row; rows are hourly
        return text.split(separator: "\n").dropFirst().enumerated().compactMap { index, line in
            let fields = line.split(separator: ",")
            guard fields.count == 8, let ot = Double(fields[7]), let hufl = Double(fields[1]) else { return nil }
            return (Date(timeIntervalSince1970: start + Double(index) * 3600), ot, hufl)
        }
    }

    /// A fresh database with the schema and an empty `readings (sensor, ts, value)` table.
    static func make(_ name: String) async throws -> DaemonHarness {
        let database = try await TestDatabase.createDatabase(name)
        let migrate = try ForecastdProcess.run(["migrate", "--database", database.conninfo])
        #expect(migrate.status == 0, "\(migrate.stderr)")
        let harness = DaemonHarness(conninfo: database.conninfo, databaseName: database.name)
        try await harness.sql { session in
            try session.execute("CREATE TABLE readings (sensor text, ts timestamptz, value float8)")
        }
        return harness
    }

    func drop() async throws { try await TestDatabase.dropDatabase(databaseName) }

    /// Runs `body` on a fresh connection to the harness database.
    @discardableResult
    func sql<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(conninfo)
        do {
            let value = try await connection.withSession(body)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Appends ETTh1 hours `range` as two sensors, OT and HUFL, into `table`.
    func load(_ range: Range<Int>, into table: String = "readings") async throws {
        let all = try Self.etth1
        guard range.upperBound <= all.count else {
            throw HarnessError(description: "\(Self.etth1URL.path) has \(all.count) rows, not \(range.upperBound)")
        }
        let rows = Array(all[range])
        try await sql { session in
            try session.copyIn("COPY \(table) (sensor, ts, value) FROM STDIN (FORMAT binary)") { writer in
                for row in rows {
                    try writer.appendRow(["OT", row.time, row.ot])
                    try writer.appendRow(["HUFL", row.time, row.hufl])
                }
            }
        }
    }

    /// Registers a small, fast model (the daemon tests run a debug build).
    func createModel(_ name: String, source: String = "readings", epochs: Int = 3, hidden: Int = 8) async throws {
        try await sql { session in
            try session.execute(
                """
                SELECT forecast.create_model($1, $2, 'ts', 'value', 'sensor', '1 hour', 12, 48, $3::jsonb)
                """, [name, source, "{\"hidden\": \(hidden), \"layers\": 2, \"max_epochs\": \(epochs)}"])
        }
    }

    /// Starts `forecastd run` with short poll and lease intervals.
    func startDaemon(_ extra: [String] = []) throws -> DaemonProcess {
        try DaemonProcess(
            arguments: [
                "run", "--database", conninfo, "--poll-interval", "1", "--lease-seconds", "6", "--workers", "2",
            ] + extra)
    }

    /// Polls `condition` every 200 ms until it holds or `timeout` passes; returns whether it held.
    func waitUntil(
        timeout: Duration = .seconds(120), every interval: Duration = .milliseconds(200),
        _ condition: @escaping @Sendable (PostgresSession) throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await sql(condition) { return true }
            try await Task.sleep(for: interval)
        }
        return false
    }

    func integer(_ query: String, _ parameters: [(any PostgresEncodable)?] = []) async throws -> Int {
        try await sql { session in try session.query(query, parameters)[0].decode(Int?.self, at: 0) ?? 0 }
    }
}

/// A running `forecastd run`, its log going to a temporary file (a pipe could fill up and
/// block it).
final class DaemonProcess: @unchecked Sendable {
    let process = Process()
    let logFile: URL

    init(arguments: [String], environment: [String: String] = [:]) throws {
        logFile = FileManager.default.temporaryDirectory.appending(path: "forecastd-test-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = ForecastdProcess.executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()
    }

    deinit {
        // A test that failed before stopping its daemon must not leave it running.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: logFile)
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// How many times `text` occurs in the log so far.
    func logCount(_ text: String) -> Int { log.components(separatedBy: text).count - 1 }

    /// Waits until the log holds `text` at least `count` times; false if it did not within
    /// `timeout`.
    func waitForLog(_ text: String, count: Int = 1, timeout: Duration = .seconds(60)) async -> Bool {
        await eventually(timeout: timeout) { logCount(text) >= count }
    }

    /// CPU time (user and system) the process has used so far, in seconds, from `/proc`.
    var cpuSeconds: Double {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        // Fields after the parenthesised command name start at field 3 (state); utime and
        // stime are fields 14 and 15, in clock ticks.
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Sends `signal` and waits (up to `timeout`) for the process to exit; returns the exit
    /// status (nil if it had to be killed) and how long it took.
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(20)) async -> (status: Int32?, elapsed: Duration) {
        let start = ContinuousClock.now
        kill(process.processIdentifier, signal)
        while process.isRunning && ContinuousClock.now - start < timeout {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = ContinuousClock.now - start
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (nil, elapsed)
        }
        return (process.terminationStatus, elapsed)
    }
}

/// A harness precondition that does not hold (e.g. the data file is missing), with the path.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
}
