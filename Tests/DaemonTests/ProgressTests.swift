import Foundation
import Ingest
import PostgresClient
import Testing

/// Training shows its progress: in `forecast.model_status` (a first training too) and in
/// `forecastd retrain --wait`.
@Suite(.database, .serialized)
struct ProgressTests {
    @Test func modelStatusShowsAFirstTrainingInProgress() async throws {
        let harness = try await DaemonHarness.make("forecastd_progress_status")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<2000)
        // Slow enough (debug build, wide) that several epochs can be watched.
        try await harness.createModel("ett", epochs: 40, hidden: 96)
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil(timeout: .seconds(300)) { session in
                try session.query(
                    """
                    SELECT state = 'training' AND training_epoch >= 1 AND training_epochs = 40
                           AND training_best_epoch >= 1 AND training_eta_seconds > 0
                    FROM forecast.model_status WHERE model = 'ett'
                    """)[0].decode(Bool?.self, at: 0) == true
            }, "\(daemon.log)")
        #expect(await daemon.stop().status == 0)
        // A stop clears it with the state.
        let after = try await harness.sql { session in
            try session.query("SELECT state, training_epoch FROM forecast.model_status WHERE model = 'ett'")[0]
        }
        #expect(try after.decode(String.self, at: 0) == "active" && after.decode(Int?.self, at: 1) == nil)
    }

    @Test func retrainWaitPrintsEpochsThenHowTrainingEnded() async throws {
        let harness = try await DaemonHarness.make("forecastd_progress_wait")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<600)
        try await harness.createModel("ett", epochs: 3)
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'ett'")[0].decode(Int.self, at: 0)
                    == 24
            }, "\(daemon.log)")
        let retrain = try ForecastdProcess.run(["retrain", "ett", "--wait", "--database", harness.conninfo])
        #expect(retrain.status == 0, "\(retrain.stdout) \(retrain.stderr)")
        // Not a terminal: plain lines, no control characters.
        #expect(retrain.stdout.contains("epoch 1/3") || retrain.stdout.contains("epoch 2/3"), "\(retrain.stdout)")
        #expect(!retrain.stdout.contains("\u{1B}"))
        let last = retrain.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("done: version 2 (full), val_loss "), "\(last)")
        #expect(
            last.contains("epochs") && (last.contains("ran all epochs") || last.contains("stopped early")), "\(last)")
        #expect(await daemon.stop().status == 0)
    }
}
