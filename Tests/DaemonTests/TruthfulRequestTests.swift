import Foundation
import Ingest
import PostgresClient
import Testing

/// `forecastd retrain --wait` and the states users read say what happened, and only that.
@Suite(.database, .serialized)
struct TruthfulRequestTests {
    /// A fine-tune with nothing new publishes nothing: `not applied` with its reason, exit 3;
    /// a full retrain prints the version and the validation loss as stored.
    @Test func waitSaysWhatWasPublished() async throws {
        let harness = try await DaemonHarness.make("forecastd_truthful_wait")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<600)
        try await harness.createModel("ett")
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'ett'")[0].decode(Int.self, at: 0)
                    == 24
            }, "\(daemon.log)")

        let finetune = try ForecastdProcess.run([
            "retrain", "ett", "--mode", "finetune", "--wait", "--database", harness.conninfo,
        ])
        #expect(finetune.status == 3, "\(finetune.stdout) \(finetune.stderr)")
        #expect(finetune.stdout.contains("not applied: no new complete windows"), "\(finetune.stdout)")
        let stored = try await harness.sql { session in
            try session.query("SELECT status, version, outcome FROM forecast.requests ORDER BY id DESC LIMIT 1")[0]
        }
        #expect(try stored.decode(String.self, at: 0) == "not_applied" && stored.decode(Int?.self, at: 1) == nil)

        let full = try ForecastdProcess.run(["retrain", "ett", "--wait", "--database", harness.conninfo])
        #expect(full.status == 0, "\(full.stdout) \(full.stderr)")
        let version = try await harness.sql { session in
            try session.query(
                """
                SELECT v.version, v.val_loss FROM forecast.requests AS r
                JOIN forecast.model_versions AS v ON v.model = r.model AND v.version = r.version
                WHERE r.status = 'done' ORDER BY r.id DESC LIMIT 1
                """)[0]
        }
        let number = try version.decode(Int.self, at: 0)
        let loss = try version.decode(Double.self, at: 1)
        #expect(full.stdout.contains("done: version \(number) (full), val_loss \(loss)"), "\(full.stdout)")
        #expect(number == 2)

        // A clean stop leaves no model `training` and no daemon announced.
        #expect(await daemon.stop().status == 0)
        let after = try await harness.sql { session in
            try session.query(
                """
                SELECT (SELECT state FROM forecast.model_status WHERE model = 'ett'),
                       (SELECT count(*) FROM forecast.instances)::int8
                """)[0]
        }
        #expect(try after.decode(String.self, at: 0) == "active" && after.decode(Int.self, at: 1) == 0)
    }

    /// Without a running daemon the request is queued and `--wait` says so within seconds;
    /// for a paused model it says the model is paused.
    @Test func waitSaysWhenNobodyCanServeTheRequest() async throws {
        let harness = try await DaemonHarness.make("forecastd_truthful_nobody")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<600)
        try await harness.createModel("ett")
        let started = ContinuousClock.now
        let nobody = try ForecastdProcess.run([
            "retrain", "ett", "--wait", "--daemon-grace", "2", "--database", harness.conninfo,
        ])
        #expect(nobody.status == 69, "\(nobody.stdout) \(nobody.stderr)")
        #expect(nobody.stdout.contains("no forecastd is running"))
        #expect(ContinuousClock.now - started < .seconds(30))

        try await harness.sql { session in _ = try session.query("SELECT forecast.pause('ett')") }
        let paused = try ForecastdProcess.run(["retrain", "ett", "--wait", "--database", harness.conninfo])
        #expect(paused.status == 75, "\(paused.stdout) \(paused.stderr)")
        #expect(paused.stdout.contains("is paused"))
    }

    /// A model in error fails its requests at once with the error, logs the error once, not
    /// on every retry, and another model's requests are served meanwhile.
    @Test func modelInErrorFailsRequestsAndOthersAreServed() async throws {
        let harness = try await DaemonHarness.make("forecastd_truthful_error")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<600)
        try await harness.sql { session in
            try session.execute("CREATE TABLE doomed (sensor text, ts timestamptz, value float8)")
        }
        try await harness.load(0..<600, into: "doomed")
        try await harness.createModel("ok")
        try await harness.createModel("broken", source: "doomed")
        try await harness.sql { session in try session.execute("DROP TABLE doomed") }
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT state = 'error' FROM forecast.models WHERE name = 'broken'")[0]
                    .decode(Bool.self, at: 0)
            }, "\(daemon.log)")

        let failed = try ForecastdProcess.run(["retrain", "broken", "--wait", "--database", harness.conninfo])
        #expect(failed.status == 1, "\(failed.stdout) \(failed.stderr)")
        #expect(failed.stdout.contains("failed:") && failed.stdout.contains("doomed"), "\(failed.stdout)")

        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'ok'")[0].decode(Int.self, at: 0)
                    == 24
            }, "\(daemon.log)")
        let served = try ForecastdProcess.run(["retrain", "ok", "--wait", "--database", harness.conninfo])
        #expect(served.status == 0, "\(served.stdout) \(served.stderr)")
        let errorLines = daemon.log.split(separator: "\n").filter { $0.contains("error") && $0.contains("broken") }
        #expect(errorLines.count <= 2, "\(daemon.log)")
        #expect(await daemon.stop().status == 0)
    }
}
