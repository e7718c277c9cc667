import ArgumentParser
import Foundation
import Ingest

/// `forecastd retrain MODEL`: the same request as `SELECT forecast.retrain(...)`.
struct RetrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain", abstract: "Ask the running daemon to retrain a model (full or fine-tune).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Model name.") var model: String
    @Option(help: "full (train from scratch) or finetune (continue the active version).") var mode: String = "full"
    @Flag(help: "Follow the request to its end, showing progress; exit nonzero if it fails.") var wait = false
    @Option(help: "With --wait: give up after this many seconds.") var timeout: Double = 3600

    func validate() throws {
        guard mode == "full" || mode == "finetune" else { throw ValidationError("--mode must be full or finetune") }
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
            print("request \(id): \(mode) retrain of \(model) queued")
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
                var latest: String?
                while let notification = try session.waitForNotification(timeout: .milliseconds(500)) {
                    if notification.payload.contains("\"request\":\(id),") { latest = notification.payload }
                    if latest != nil { break }
                }
                let row = try session.query("SELECT status, error FROM forecast.requests WHERE id = $1", [id])[0]
                return (try row.decode(String.self, at: 0), try row.decode(String?.self, at: 1), latest)
            }
            let elapsed = String(format: "%.0f s", (ContinuousClock.now - started).seconds)
            if let progress, let latest = Self.summarize(progress) { summary = latest }
            let line = summary.map { "\(status) \($0), \(elapsed)" } ?? "\(status) \(elapsed)"
            if line != shown {
                print(terminal ? "\r\u{1B}[K\(line)" : line, terminator: terminal ? "" : "\n")
                fflush(nil)  // all output streams
                shown = line
            }
            if status == "done" || status == "failed" {
                if terminal { print() }
                return status == "failed" ? (error ?? "unknown error") : nil
            }
        }
        if terminal { print() }
        return "still running after \(Int(timeout)) s (see forecast.requests)"
    }

    /// "epoch 3/50, loss 0.123, val 0.145" from a progress payload.
    static func summarize(_ payload: String) -> String? {
        guard let data = payload.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let epoch = object["epoch"] as? Int, let epochs = object["epochs"] as? Int
        else { return nil }
        var text = "epoch \(epoch)/\(epochs)"
        if let loss = object["loss"] as? Double { text += String(format: ", loss %.4g", loss) }
        if let validation = object["val_loss"] as? Double { text += String(format: ", val %.4g", validation) }
        return text
    }
}
