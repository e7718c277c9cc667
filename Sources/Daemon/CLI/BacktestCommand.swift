import ArgumentParser
import DaemonCore
import Forecast
import Foundation

/// `forecastd backtest MODEL`: how a model's configuration would have done on its history.
struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Train a fresh model of MODEL's configuration on history and score forecasts on a test span.",
        discussion: """
            Trains on data before --valid-from (early stopping on windows whose targets fall in \
            [--valid-from, --test-from)), then forecasts from every --stride-th origin whose whole \
            horizon lies in [--test-from, --test-until], without refitting unless --finetune-every N \
            asks to fine-tune every N origins. Stores per-origin errors and the summary in \
            forecast.backtests and forecast.backtest_origins; --json prints the summary as one line: \
            mse, mae (original units), mse_std, mae_std (errors divided by each series' training \
            standard deviation), coverage of [lower, upper], and the same for the naive (last value) \
            and seasonal-naive forecasts on identical origins. A bounded sample of whole forecasts is \
            kept in forecast.backtest_forecasts (the first 5 series by name; per series, origins at \
            least a horizon apart, at most 500); --plot DIR draws them, one SVG per series.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Model name (its source and configuration are used; its versions are untouched).")
    var model: String
    @Option(help: "Start of the validation span (a timestamp PostgreSQL understands).") var validFrom: String
    @Option(help: "Start of the test span.") var testFrom: String
    @Option(help: "End of the test span (inclusive).") var testUntil: String
    @Option(help: "Steps between forecast origins.") var stride: Int = 1
    @Option(help: "Fine-tune the model every N origins (measures the incremental path).") var finetuneEvery: Int?
    @Option(help: "Threads to train with (default: the machine's cores, at most 8; results depend on it).")
    var threads: Int?
    @Option(help: "Write one SVG chart per kept series (the first 5 by name) into this directory.")
    var plot: String?
    @Flag(help: "Print the summary as one JSON line.") var json = false

    func validate() throws {
        guard stride >= 1 else { throw ValidationError("--stride must be at least 1") }
        if let finetuneEvery, finetuneEvery < 1 { throw ValidationError("--finetune-every must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        try await reportingFailures {
            let connection = try await global.connect()
            let spec = BacktestSpec(
                model: model, validFrom: validFrom, testFrom: testFrom, testUntil: testUntil, stride: stride,
                finetuneEvery: finetuneEvery,
                threads: threads ?? min(8, max(1, ProcessInfo.processInfo.activeProcessorCount)), plotDirectory: plot)
            // Progress goes to stderr, so `--json` keeps stdout to the one line.
            let display = ProgressBox(ProgressDisplay(output: .standardError))
            let summary = try await BacktestJob.run(spec, on: connection) { progress in
                display.show(ProgressDisplay.line(progress))
            }
            display.finish("trained: \(summary.epochs) epochs in \(ProgressDisplay.duration(summary.trainSeconds))")
            await connection.close()
            if !summary.plots.isEmpty {
                FileHandle.standardError.write(
                    Data("wrote \(summary.plots.count) chart(s): \(summary.plots.joined(separator: " "))\n".utf8))
            }
            if json {
                print(try JSONLine.encode(summary))
            } else {
                func text(_ value: Double?) -> String { value.map { String(format: "%.4g", $0) } ?? "-" }
                print(
                    "backtest \(summary.backtest ?? 0): \(summary.origins) origins, mse \(text(summary.mse)) "
                        + "(std \(text(summary.mseStd))), mae \(text(summary.mae)); "
                        + "naive mse_std \(text(summary.naiveMSEStd)); "
                        + "seasonal naive mse_std \(text(summary.seasonalNaiveMSEStd)); "
                        + "coverage \(summary.coverage.map { String(format: "%.1f%%", 100 * $0) } ?? "-"); "
                        + "trained in \(String(format: "%.0f", summary.trainSeconds)) s")
            }
        }
    }
}
