import ArgumentParser
import Forecast

/// `forecastd bench engine`: the LSTM engine's training, inference and latency benchmark,
/// flag for flag the same as `shared/anchors/torch_lstm_bench.py` so runs compare side by side.
struct BenchEngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Benchmark the LSTM engine (same model, data and flags as the PyTorch anchor script).",
        discussion: """
            Model: stacked LSTM (input -> hidden, --layers layers) on --lookback steps, then a linear \
            head from the top layer's last hidden state to --horizon outputs, on fixed random data. \
            train = Adam(lr 1e-3) + MSE steps; infer = forward passes; latency = single-window forward \
            calls (batch 1, one thread), each timed. 3 warm-up calls, then --repeats timed blocks of \
            --steps calls. achieved_gflops counts matmul FLOPs as the anchor script does.
            """)

    @Option(help: "Input channels per time step.") var inputSize: Int
    @Option(help: "Hidden width of every LSTM layer.") var hidden: Int
    @Option(help: "Number of stacked LSTM layers.") var layers: Int
    @Option(help: "Sequence length T (time steps per window).") var lookback: Int
    @Option(help: "Outputs per window.") var horizon: Int
    @Option(help: "Windows per batch (ignored in latency mode, which uses 1).") var batch: Int
    @Option(help: "Threads: the batch is split into this many shards (latency always uses 1).") var threads: Int = 1
    @Option(help: "train, infer or latency.") var mode: Mode
    @Option(help: "Calls per timed repeat; 0 calibrates to --target-s.") var steps: Int = 0
    @Option(help: "Timed repeats (min/median/max are over these).") var repeats: Int = 5
    @Option(name: .customLong("target-s"), help: "Seconds per repeat when --steps is 0.") var targetSeconds: Double =
        0.5
    @Option(help: "Seed for weights and data.") var seed: UInt64 = 0
    @Option(help: "Free-form label copied into the JSON line.") var name: String = ""
    @Flag(help: "Print one JSON line (fields as in torch_lstm_bench.py) instead of text.") var json = false

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case train, infer, latency
    }

    func validate() throws {
        for (flag, value) in [
            ("--input-size", inputSize), ("--hidden", hidden), ("--layers", layers), ("--lookback", lookback),
            ("--horizon", horizon), ("--batch", batch), ("--threads", threads), ("--repeats", repeats),
        ] where value < 1 {
            throw ValidationError("\(flag) must be at least 1")
        }
        if steps < 0 { throw ValidationError("--steps must not be negative") }
        if !(targetSeconds > 0) { throw ValidationError("--target-s must be positive") }
    }

    func run() throws {
        let benchmark = EngineBenchmark(
            inputSize: inputSize, hidden: hidden, layers: layers, lookback: lookback, horizon: horizon, batch: batch,
            threads: threads, mode: EngineBenchmark.Mode(rawValue: mode.rawValue)!, steps: steps, repeats: repeats,
            targetSeconds: targetSeconds, seed: seed)
        let result = try benchmark.run()
        if json {
            print(result.jsonLine(name: name))
            return
        }
        let s = result.summary
        let unit = mode == .latency ? "ms per window" : "windows/s"
        print(
            "\(mode.rawValue): median \(s.median) \(unit) (min \(s.min), max \(s.max)) over \(repeats) repeats of "
                + "\(result.steps) calls; \(result.achievedGFLOPS) GFLOP/s")
    }
}
