import DaemonCore
import Foundation

/// Shows a training's progress: on a terminal one line redrawn in place, with a bar, epoch
/// of epochs, losses, best epoch and time left; otherwise a plain line per epoch (logs and
/// pipes get no control characters).
struct ProgressDisplay {
    let terminal: Bool
    /// Where lines go (stdout for `retrain --wait` and the demo, stderr for `backtest --json`).
    let output: FileHandle
    private var shown = ""

    init(output: FileHandle = .standardOutput) {
        self.output = output
        terminal = isatty(output.fileDescriptor) == 1
    }

    /// "[#######-------------] epoch 7/20, loss 0.0512, val 0.0623, best 5, about 1m 05s left".
    static func line(_ progress: TrainingProgress) -> String {
        let width = 20
        let filled = progress.epochs > 0 ? min(width, width * progress.epoch / progress.epochs) : 0
        var text = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
        text += " epoch \(progress.epoch)/\(progress.epochs)"
        if let loss = progress.loss { text += String(format: ", loss %.4g", loss) }
        if let validation = progress.validationLoss { text += String(format: ", val %.4g", validation) }
        if let best = progress.bestEpoch { text += ", best \(best)" }
        if let eta = progress.etaSeconds, progress.epoch > 0, progress.epoch < progress.epochs {
            text += ", at most \(duration(eta)) left"
        }
        return text
    }

    /// "45s", "3m 07s", "1h 02m".
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3600 { return String(format: "%dm %02ds", total / 60, total % 60) }
        return String(format: "%dh %02dm", total / 3600, (total % 3600) / 60)
    }

    /// Shows `line` (redrawn in place on a terminal; printed once otherwise).
    mutating func show(_ line: String) {
        guard line != shown else { return }
        shown = line
        write(terminal ? "\r\u{1B}[K\(line)" : "\(line)\n")
    }

    /// Ends with `line` on a line of its own.
    mutating func finish(_ line: String) {
        if terminal {
            write("\r\u{1B}[K\(line)\n")
        } else if line != shown {
            write("\(line)\n")
        }
        shown = ""
    }

    /// Standard output goes through `print` (its buffer keeps lines in order with the
    /// command's other output), flushed so a redrawn line shows at once.
    private func write(_ text: String) {
        if output.fileDescriptor == STDOUT_FILENO {
            print(text, terminator: "")
            fflush(nil)  // all output streams
        } else {
            output.write(Data(text.utf8))
        }
    }
}

/// A `ProgressDisplay` shared with a callback on another thread.
final class ProgressBox: @unchecked Sendable {
    private var display: ProgressDisplay
    private let lock = NSLock()

    init(_ display: ProgressDisplay) { self.display = display }

    func show(_ line: String) { lock.withLock { display.show(line) } }
    func finish(_ line: String) { lock.withLock { display.finish(line) } }
}
