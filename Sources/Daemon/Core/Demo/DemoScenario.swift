public import Foundation
import Ingest
public import Logging
public import PostgresClient

/// The demo's story: load history, let the daemon forecast, deliver the next day, compare.
/// It tells what happens through `narrate`; the tables at the end are returned for the
/// caller to print.
public struct DemoScenario {
    public let conninfo: String
    public let csv: URL
    /// Hours held back and delivered after the first forecasts.
    let heldBack = 24
    let sensors = ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]

    /// Sets up logging for the daemon the demo runs (the program decides how it logs).
    public let bootstrap: (DaemonConfiguration) -> (RuntimeConfiguration, Logger)

    public init(
        conninfo: String, csv: URL, bootstrap: @escaping (DaemonConfiguration) -> (RuntimeConfiguration, Logger)
    ) {
        self.conninfo = conninfo
        self.csv = csv
        self.bootstrap = bootstrap
    }

    /// Why the demo stopped.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What the demo shows at the end: the first OT forecast next to the actuals, accuracy
    /// against naive per sensor, and the model's versions; each a query result to print.
    public struct Report: Sendable {
        public var comparison: PostgresRows
        public var accuracy: PostgresRows
        public var versions: PostgresRows
    }

    /// Runs the story; `progress` sees each epoch of the first training as
    /// `forecast.model_status` shows it.
    public func run(narrate: (String) -> Void, progress: (TrainingProgress) -> Void = { _ in }) async throws
        -> Report
    {
        let rows = try readCSV()
        let connection = try await PostgresConnection.connect(conninfo)
        defer { Task { await connection.close() } }
        let history = rows.count - heldBack
        let sensors = self.sensors
        try await connection.withSession { session in
            _ = try Migrator().migrate(session)
            try session.executeScript(
                """
                DROP SCHEMA IF EXISTS demo CASCADE;
                CREATE SCHEMA demo;
                CREATE TABLE demo.transformer (sensor text NOT NULL, ts timestamptz NOT NULL, value float8);
                CREATE INDEX ON demo.transformer (ts);
                """)
            _ = try? session.execute("SELECT forecast.drop_model('transformer')")
            try Self.insert(rows[..<history], sensors: sensors, in: session)
            try session.execute(
                """
                SELECT forecast.create_model('transformer', 'demo.transformer', 'ts', 'value', 'sensor', '1 hour', 24,
                                             96, '{"hidden": 32, "max_epochs": 12, "max_history": 4000}')
                """)
        }
        narrate("loaded \(history) hours x \(sensors.count) sensors into demo.transformer; model 'transformer' created")
        narrate("running the daemon (training a 2-layer LSTM on all sensors at once) ...")

        var configuration = DaemonConfiguration()
        configuration.database = conninfo
        configuration.logLevel = .notice
        configuration.pollInterval = 2
        let (runtime, logger) = bootstrap(configuration)
        let context = DaemonContext(runtime: runtime, logger: logger)
        let daemon = Task { try await ForecastDaemon.serve(context) }
        defer { daemon.cancel() }
        let clock = ContinuousClock()
        let started = clock.now

        let firstIssued = rows[history - 1].time
        try await waitFor("first forecasts", connection, progress: progress) { session in
            try session.query(
                "SELECT count(DISTINCT series) FROM forecast.latest WHERE model = 'transformer' AND issued_at = $1",
                [firstIssued])[0].decode(Int.self, at: 0) == sensors.count
        }
        let trained = (clock.now - started).seconds
        narrate(String(format: "first forecasts written after %.0f s", trained))

        // The next day arrives; the trigger wakes the daemon.
        let delivered = clock.now
        try await connection.withSession { session in
            try Self.insert(rows[history...], sensors: sensors, in: session)
        }
        let lastTime = rows.last!.time
        try await waitFor("updated forecasts", connection) { session in
            try session.query(
                "SELECT count(DISTINCT series) FROM forecast.latest WHERE model = 'transformer' AND issued_at = $1",
                [lastTime])[0].decode(Int.self, at: 0) == sensors.count
        }
        narrate(
            String(
                format: "%d new hours delivered; updated forecasts written %.1f s later\n", heldBack,
                (clock.now - delivered).seconds))
        daemon.cancel()
        _ = try? await daemon.value

        return try await report(connection, firstIssued: firstIssued)
    }

    /// The first OT forecast next to the actuals, accuracy against naive, and the versions.
    func report(_ connection: PostgresConnection, firstIssued: Date) async throws -> Report {
        let (comparison, summary, versions) = try await connection.withSession { session in
            let comparison = try session.query(
                """
                SELECT to_char(p.target_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS target_time,
                       round(p.value::numeric, 2)::text AS forecast,
                       round(p.lower::numeric, 2)::text || ' .. ' || round(p.upper::numeric, 2)::text AS interval_80,
                       round(t.value::numeric, 2)::text AS actual
                FROM forecast.predictions AS p
                JOIN demo.transformer AS t ON t.sensor = p.series AND t.ts = p.target_time
                WHERE p.model = 'transformer' AND p.series = 'OT' AND p.issued_at = $1
                ORDER BY p.step
                """, [firstIssued])
            let summary = try session.query(
                """
                WITH last AS (SELECT sensor, value FROM demo.transformer WHERE ts = $1)
                SELECT p.series,
                       round(avg(abs(p.value - t.value))::numeric, 3)::text AS mae_lstm,
                       round(avg(abs(l.value - t.value))::numeric, 3)::text AS mae_naive,
                       round(100.0 * avg(CASE WHEN t.value BETWEEN p.lower AND p.upper THEN 1 ELSE 0 END), 0)::text
                           || '%' AS inside_80
                FROM forecast.predictions AS p
                JOIN demo.transformer AS t ON t.sensor = p.series AND t.ts = p.target_time
                JOIN last AS l ON l.sensor = p.series
                WHERE p.model = 'transformer' AND p.issued_at = $1
                GROUP BY p.series ORDER BY p.series
                """, [firstIssued])
            let versions = try session.query(
                """
                SELECT version::text, kind, round(val_loss::numeric, 4)::text AS val_loss,
                       round((metrics->>'seconds')::numeric, 1)::text AS train_s
                FROM forecast.model_versions WHERE model = 'transformer' ORDER BY version
                """)
            return (comparison, summary, versions)
        }
        return Report(comparison: comparison, accuracy: summary, versions: versions)
    }

    func waitFor(
        _ what: String, _ connection: PostgresConnection, timeout: Duration = .seconds(900),
        progress: (TrainingProgress) -> Void = { _ in },
        _ condition: @escaping @Sendable (PostgresSession) throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await connection.withSession(condition) { return }
            let (errors, training) = try await connection.withSession { session in
                (
                    try session.query("SELECT last_error FROM forecast.model_status WHERE state = 'error'")
                        .map { try $0.decode(String.self, at: 0) },
                    try session.query("SELECT training::text FROM forecast.models WHERE name = 'transformer'")
                        .first?.decode(String?.self, at: 0)
                )
            }
            if let error = errors.first { throw Failure(description: "the model failed: \(error)") }
            if let training, let decoded = try? JSONLine.decode(TrainingProgress.self, from: training) {
                progress(decoded)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw Failure(description: "timed out waiting for \(what)")
    }

    /// Rows of ETTh1: UTC time and the seven readings.
    func readCSV() throws -> [(time: Date, values: [Double])] {
        let text = try String(contentsOf: csv, encoding: .utf8)
        var rows: [(time: Date, values: [Double])] = []
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",")
            guard fields.count == 8, let time = formatter.date(from: String(fields[0])) else {
                throw Failure(description: "\(csv.path) is not the ETTh1 CSV (line: \(line.prefix(60)))")
            }
            rows.append((time, fields.dropFirst().compactMap { Double($0) }))
        }
        return rows
    }

    static func insert(
        _ rows: ArraySlice<(time: Date, values: [Double])>, sensors: [String], in session: PostgresSession
    ) throws {
        try session.copyIn("COPY demo.transformer (sensor, ts, value) FROM STDIN (FORMAT binary)") { writer in
            for row in rows {
                for (sensor, value) in zip(sensors, row.values) { try writer.appendRow([sensor, row.time, value]) }
            }
        }
    }
}
