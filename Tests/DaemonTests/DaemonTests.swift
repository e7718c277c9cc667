import Foundation
import Ingest
import PostgresClient
import Testing

/// `forecastd run` end to end against a real PostgreSQL.
@Suite(.database, .serialized)
struct DaemonTests {
    static let hour: Int64 = 3_600_000_000

    /// Rows of the newest forecast set per series: (series, count, issued_at µs).
    static let latestSets = """
        SELECT count(DISTINCT series)::int8, count(*)::int8, min(issued_at), max(issued_at),
               bool_and(lower <= value AND value <= upper), bool_and(target_time = issued_at + step * interval '1 hour'),
               min(step)::int8, max(step)::int8
        FROM forecast.latest WHERE model = $1
        """

    @Test func forecastsThenIncrementalUpdateThenRetrainThenStop() async throws {
        let harness = try await DaemonHarness.make("forecastd_daemon_flow")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<1200)
        try await harness.createModel("ett")
        let daemon = try harness.startDaemon()

        // First forecasts: every series, 12 steps, issued at the last observation.
        let firstIssued = try DaemonHarness.etth1[1199].time
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'ett'")[0].decode(Int.self, at: 0)
                    == 24
            }, "\(daemon.log)")
        let first = try await harness.sql { session in try session.query(Self.latestSets, ["ett"])[0] }
        #expect(try first.decode(Int.self, at: 0) == 2)
        #expect(try first.decode(Int.self, at: 1) == 24)
        #expect(try first.decode(Date.self, at: 2) == firstIssued)
        #expect(try first.decode(Date.self, at: 3) == firstIssued)
        #expect(try first.decode(Bool.self, at: 4))
        #expect(try first.decode(Bool.self, at: 5))
        #expect(try first.decode(Int.self, at: 6) == 1 && first.decode(Int.self, at: 7) == 12)

        // A new chunk: an incremental update, and forecasts from the new last timestamp.
        try await harness.load(1200..<1248)
        let secondIssued = try DaemonHarness.etth1[1247].time
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT min(issued_at) FROM forecast.latest WHERE model = 'ett'")[0]
                    .decode(Date?.self, at: 0) == secondIssued
            }, "\(daemon.log)")
        let incremental = try await harness.sql { session in
            try session.query(
                """
                SELECT (SELECT count(*) FROM forecast.model_versions WHERE model = 'ett' AND kind = 'finetune')
                     + (SELECT count(*) FROM forecast.events WHERE model = 'ett' AND message LIKE 'incremental update not applied%')
                """)[0].decode(Int.self, at: 0)
        }
        #expect(incremental == 1)

        // The first set has matured: forecast.accuracy scores every series and step.
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.accuracy WHERE model = 'ett'")[0]
                    .decode(Int.self, at: 0) == 24
            }, "\(daemon.log)")
        let accuracy = try await harness.sql { session in
            try session.query(
                """
                SELECT min(forecasts), bool_and(mae >= 0 AND rmse >= mae AND mase > 0 AND coverage BETWEEN 0 AND 1)
                FROM forecast.accuracy WHERE model = 'ett'
                """)[0]
        }
        #expect(try accuracy.decode(Int.self, at: 0) >= 1)
        #expect(try accuracy.decode(Bool.self, at: 1))
        let status = try ForecastdProcess.run(["status", "--database", harness.conninfo])
        #expect(status.status == 0 && status.stdout.contains("mase"))

        // A full retrain from the command line, followed to its end.
        let retrain = try ForecastdProcess.run(["retrain", "ett", "--wait", "--database", harness.conninfo])
        #expect(retrain.status == 0, "\(retrain.stderr)")
        #expect(retrain.stdout.contains("done"))
        let fullVersions = try await harness.integer(
            "SELECT count(*) FROM forecast.model_versions WHERE model = 'ett' AND kind = 'full'")
        #expect(fullVersions == 2)
        let active = try await harness.integer(
            "SELECT version FROM forecast.model_versions WHERE model = 'ett' AND active")
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT min(version) FROM forecast.latest WHERE model = 'ett'")[0]
                    .decode(Int?.self, at: 0) == active
            })

        // SIGTERM: exit 0 within 10 s, leases released.
        let stopped = await daemon.stop()
        #expect(stopped.status == 0)
        #expect(stopped.elapsed < .seconds(10))
        let held = try await harness.integer("SELECT count(*) FROM forecast.leases WHERE owner IS NOT NULL")
        #expect(held == 0)
    }

    @Test func killedDuringTrainingThenRestartedCompletesTheRequest() async throws {
        let harness = try await DaemonHarness.make("forecastd_daemon_kill")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<4000)
        try await harness.createModel("ett", epochs: 40)
        let request = try await harness.integer("SELECT forecast.retrain('ett')")
        // A reader watching for partial sets the whole time.
        let partialSeen = Task {
            var partial = false
            var looks = 0
            while !Task.isCancelled {
                guard
                    let counts = try? await harness.sql({ session in
                        try session.query(
                            "SELECT count(*) FROM forecast.predictions WHERE model = 'ett' GROUP BY series, issued_at"
                        ).map { try $0.decode(Int.self, at: 0) }
                    })
                else { break }
                looks += 1
                if counts.contains(where: { $0 != 12 }) { partial = true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return (partial, looks)
        }
        let first = try harness.startDaemon()
        #expect(
            try await harness.waitUntil(timeout: .seconds(60), every: .milliseconds(20)) { session in
                try session.query("SELECT status FROM forecast.requests WHERE id = 1")[0].decode(String.self, at: 0)
                    == "running"
            })
        _ = await first.stop(signal: SIGKILL)
        let afterKill = try await harness.integer(
            "SELECT (SELECT count(*) FROM forecast.model_versions) + (SELECT count(*) FROM forecast.predictions)")
        #expect(afterKill == 0)

        // The restarted daemon takes the interrupted request up again and completes it.
        let second = try harness.startDaemon()
        #expect(
            try await harness.waitUntil(timeout: .seconds(300)) { session in
                try session.query("SELECT status FROM forecast.requests WHERE id = $1", [Int64(request)])[0]
                    .decode(String.self, at: 0) == "done"
            }, "\(second.log)")
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'ett'")[0].decode(Int.self, at: 0)
                    == 24
            })
        #expect(try await harness.integer("SELECT count(*) FROM forecast.model_versions") == 1)
        partialSeen.cancel()
        let (partial, looks) = await partialSeen.value
        #expect(!partial)
        #expect(looks > 10)
        let stopped = await second.stop()
        #expect(stopped.status == 0)
    }

    @Test func twoDaemonsNeverTrainTheSameModel() async throws {
        let harness = try await DaemonHarness.make("forecastd_daemon_two")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<1000)
        for name in ["a", "b", "c"] { try await harness.createModel(name) }
        let daemons = [try harness.startDaemon(), try harness.startDaemon()]
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(DISTINCT model) FROM forecast.latest")[0].decode(Int.self, at: 0) == 3
            })
        // One full training per model, never two, whichever daemon did it.
        let versions = try await harness.sql { session in
            try session.query("SELECT model, count(*)::int8 FROM forecast.model_versions GROUP BY model ORDER BY model")
                .map { "\(try $0.decode(String.self, at: 0))=\(try $0.decode(Int.self, at: 1))" }
        }
        #expect(versions == ["a=1", "b=1", "c=1"])
        let trainings = try await harness.integer(
            "SELECT count(*) FROM forecast.events WHERE message LIKE 'version%full training done%'")
        #expect(trainings == 3)
        for daemon in daemons { #expect(await daemon.stop().status == 0) }
    }

    @Test func brokenSourcePutsOnlyItsModelInErrorUntilFixed() async throws {
        let harness = try await DaemonHarness.make("forecastd_daemon_broken")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<1000)
        try await harness.sql { session in
            try session.execute("CREATE TABLE doomed (sensor text, ts timestamptz, value float8)")
            try session.execute("CREATE TABLE nans AS SELECT sensor, ts, 'NaN'::float8 AS value FROM readings")
        }
        try await harness.load(0..<1000, into: "doomed")
        try await harness.createModel("good")
        try await harness.createModel("doomed", source: "doomed")
        try await harness.createModel("nans", source: "nans")
        try await harness.sql { session in try session.execute("DROP TABLE doomed") }
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                let rows = try session.query("SELECT model, state, coalesce(last_error, '') FROM forecast.model_status")
                let states = Dictionary(
                    uniqueKeysWithValues: try rows.map {
                        (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1))
                    })
                return states == ["good": "active", "doomed": "error", "nans": "error"]
            }, "\(daemon.log)")
        let errors = try await harness.sql { session in
            try session.query(
                "SELECT model, last_error FROM forecast.model_status WHERE state = 'error' ORDER BY model"
            )
            .map { try $0.decode(String.self, at: 1) }
        }
        #expect(errors.first?.contains("relation \"doomed\" does not exist") == true)
        #expect(errors.last?.contains("no valid readings") == true)
        #expect(try await harness.integer("SELECT count(*) FROM forecast.latest WHERE model = 'good'") == 24)

        // Fixed: the model recovers by itself.
        try await harness.sql { session in
            try session.execute("CREATE TABLE doomed (sensor text, ts timestamptz, value float8)")
        }
        try await harness.load(0..<1000, into: "doomed")
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'doomed'")[0]
                    .decode(Int.self, at: 0) == 24
            }, "\(daemon.log)")
        let state = try await harness.sql { session in
            try session.query("SELECT state FROM forecast.model_status WHERE model = 'doomed'")[0]
                .decode(String.self, at: 0)
        }
        #expect(state == "active")
        #expect(await daemon.stop().status == 0)
    }

    @Test func sigtermDuringTrainingExitsCleanlyWithoutWriting() async throws {
        let harness = try await DaemonHarness.make("forecastd_daemon_term")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<4000)
        // Wide enough that one epoch takes far longer than the test waits (no early finish).
        try await harness.createModel("ett", epochs: 200, hidden: 256)
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT state FROM forecast.models WHERE name = 'ett'")[0].decode(String.self, at: 0)
                    == "training"
            })
        // The state is set just before training starts on the pool, and little else runs:
        // half a second of CPU used since then means SIGTERM lands in the middle of training.
        let cpuAtTraining = daemon.cpuSeconds
        #expect(await eventually { daemon.cpuSeconds - cpuAtTraining >= 0.5 }, "\(daemon.log)")
        let stopped = await daemon.stop()
        #expect(stopped.status == 0, "\(daemon.log)")
        #expect(stopped.elapsed < .seconds(10))
        #expect(try await harness.integer("SELECT count(*) FROM forecast.model_versions") == 0)
    }
}
