public import ArgumentParser
import DaemonCore
import Foundation
import Ingest
import PostgresClient

/// `forecastd retrain MODEL`: the same request as `SELECT forecast.retrain(...)`.
struct RetrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain", abstract: "Ask the running daemon to retrain a model (full or fine-tune).",
        discussion: """
            With --wait, follows the request to its end and exits with:
              0   done: a version was published (its number, kind and stored validation loss are printed)
              3   not applied: the daemon ran it but published nothing (a fine-tune with nothing new \
            to learn, or rejected on its holdout windows); the reason is printed
              1   failed (the model's error is printed), or still running at --timeout
              69  no forecastd is running (forecast.instances): the request stays queued
              75  the model is paused: the request stays queued until `forecastd model resume`
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Model name.") var model: String
    @Option(help: "full (train from scratch) or finetune (continue the active version).") var mode: RequestMode = .full
    @Flag(help: "Follow the request to its end, showing progress; the exit code says how it ended.") var wait = false
    @Option(help: "With --wait: give up after this many seconds.") var timeout: Double = 3600
    @Option(help: "With --wait: seconds to wait for a running forecastd to appear before giving up.")
    var daemonGrace: Double = 5

    /// How a followed request ended, as an exit code.
    enum Ending: Int32 {
        case done = 0
        case failed = 1
        case notApplied = 3
        case noDaemon = 69
        case paused = 75
    }

    func run() async throws {
        try await reportingFailures {
            let connection = try await global.connect()
            let (model, mode) = (self.model, self.mode)
            let id = try await connection.withSession { session in
                // Listen first, so no progress notification is missed.
                try session.listen(DaemonContext.progressChannel)
                return try session.query("SELECT forecast.retrain($1, $2)", [model, mode])[0].decode(Int64.self, at: 0)
            }
            print("request \(id): \(mode.rawValue) retrain of \(model) queued")
            guard wait else {
                await connection.close()
                return
            }
            let ending = try await follow(id, on: connection)
            await connection.close()
            if ending != .done { throw ExitCode(ending.rawValue) }
        }
    }

    /// Shows progress until the request ends, the model is paused or no daemon can take it.
    private func follow(_ id: Int64, on connection: PostgresConnection) async throws -> Ending {
        var display = ProgressDisplay()
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int(timeout * 1000))
        let noDaemonDeadline = started + .milliseconds(Int(daemonGrace * 1000))
        var latest: TrainingProgress?
        while ContinuousClock.now < deadline {
            let (snapshot, progress) = try await connection.withSession { session in
                var progress: TrainingProgress?
                while let notification = try session.waitForNotification(timeout: .milliseconds(500)) {
                    if let decoded = try? JSONLine.decode(TrainingProgress.self, from: notification.payload),
                        decoded.request == id
                    {
                        progress = decoded
                        break
                    }
                }
                return (try RequestSnapshot.read(id, in: session), progress)
            }
            guard let snapshot else { throw CommandError("request \(id) is gone (was the model dropped?)") }
            latest = progress ?? latest
            let elapsed = ProgressDisplay.duration((ContinuousClock.now - started).seconds)
            switch snapshot.status {
            case .done:
                let version = snapshot.version.map { "version \($0)" } ?? "a version"
                var line = "done: \(version) (\(snapshot.kind?.rawValue ?? "?"))"
                if let loss = snapshot.validationLoss { line += ", val_loss \(loss)" }
                if let epochs = snapshot.epochs { line += ", \(epochs) epochs" }
                if let best = snapshot.bestEpoch { line += " (best \(best))" }
                if let stop = snapshot.stopReason { line += ", \(stop.description)" }
                display.finish(line + ", \(elapsed)")
                return .done
            case .notApplied:
                display.finish("not applied: \(snapshot.outcome ?? "no reason recorded"), \(elapsed)")
                return .notApplied
            case .failed:
                display.finish("failed: \(snapshot.error ?? "no error recorded")")
                return .failed
            case .queued where snapshot.modelState == .paused:
                display.finish("model \(snapshot.model) is paused: request \(id) stays queued until it is resumed")
                return .paused
            case .queued where snapshot.liveInstances == 0 && ContinuousClock.now >= noDaemonDeadline:
                display.finish("no forecastd is running (forecast.instances is empty): request \(id) stays queued")
                return .noDaemon
            case .queued:
                display.show("queued, \(elapsed)")
            case .running:
                display.show(latest.map { "\(ProgressDisplay.line($0)), \(elapsed)" } ?? "running, \(elapsed)")
            }
        }
        display.finish("still running after \(Int(timeout)) s (see forecast.requests)")
        return .failed
    }
}

extension RequestMode: ExpressibleByArgument {}
