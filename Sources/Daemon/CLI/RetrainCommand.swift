public import ArgumentParser
import DaemonCore
import Foundation
import Ingest
import PostgresClient

/// `forecastd retrain MODEL`: the same request as `SELECT forecast.retrain(...)`.
struct RetrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain", abstract: "Ask the running daemon to retrain a model (full or fine-tune).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Model name.") var model: String
    @Option(help: "full (train from scratch) or finetune (continue the active version).") var mode: RequestMode = .full
    @Flag(help: "Follow the request to its end, showing progress; exit nonzero if it fails.") var wait = false
    @Option(help: "With --wait: give up after this many seconds.") var timeout: Double = 3600

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
            let outcome = try await follow(id, on: connection)
            await connection.close()
            if let error = outcome { throw CommandError("request \(id) failed: \(error)") }
        }
    }

    /// Shows progress until the request is done (nil) or failed (its error).
    private func follow(_ id: Int64, on connection: PostgresConnection) async throws -> String? {
        let terminal = isatty(STDOUT_FILENO) == 1
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        let started = ContinuousClock.now
        var shown = ""
        var summary: String?
        while ContinuousClock.now < deadline {
            let (status, error, progress) = try await connection.withSession { session in
                var latest: TrainingProgress?
                while let notification = try session.waitForNotification(timeout: .milliseconds(500)) {
                    let progress = try? JSONLine.decode(TrainingProgress.self, from: notification.payload)
                    if let progress, progress.request == id {
                        latest = progress
                        break
                    }
                }
                let row = try session.query("SELECT status, error FROM forecast.requests WHERE id = $1", [id])[0]
                return (try row.decode(RequestStatus.self, at: 0), try row.decode(String?.self, at: 1), latest)
            }
            let elapsed = String(format: "%.0f s", (ContinuousClock.now - started).seconds)
            if let progress { summary = Self.summarize(progress) }
            let line = summary.map { "\(status.rawValue) \($0), \(elapsed)" } ?? "\(status.rawValue) \(elapsed)"
            if line != shown {
                print(terminal ? "\r\u{1B}[K\(line)" : line, terminator: terminal ? "" : "\n")
                fflush(nil)  // all output streams
                shown = line
            }
            switch status {
            case .done:
                if terminal { print() }
                return nil
            case .failed:
                if terminal { print() }
                return error ?? "unknown error"
            case .queued, .running: continue
            }
        }
        if terminal { print() }
        return "still running after \(Int(timeout)) s (see forecast.requests)"
    }

    /// "epoch 3/50, loss 0.123, val 0.145".
    static func summarize(_ progress: TrainingProgress) -> String {
        var text = "epoch \(progress.epoch)/\(progress.epochs)"
        if let loss = progress.loss { text += String(format: ", loss %.4g", loss) }
        if let validation = progress.validationLoss { text += String(format: ", val %.4g", validation) }
        return text
    }
}

extension RequestMode: ExpressibleByArgument {}
