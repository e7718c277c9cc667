import ArgumentParser
import DaemonCore
import Forecast
import Foundation

/// `forecastd bench engine`: the LSTM engine's training, inference and latency benchmark,
/// flag for flag the same as the PyTorch benchmark docs/benchmarks.md compares it with, so runs compare side by side.
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
    @Option(
        name: .customLong("quiet-wait"),
        help: "Before each repeat wait up to this many seconds for other processes to go idle (shared hosts).")
    var quietWait: Double = 0
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
        if quietWait < 0 { throw ValidationError("--quiet-wait must not be negative") }
    }

    func run() throws {
        let benchmark = EngineBenchmark(
            inputSize: inputSize, hidden: hidden, layers: layers, lookback: lookback, horizon: horizon, batch: batch,
            threads: threads, mode: EngineBenchmark.Mode(rawValue: mode.rawValue)!, steps: steps, repeats: repeats,
            targetSeconds: targetSeconds, seed: seed)
        var foreign: [Double] = []
        var waited = 0.0
        let result = try benchmark.run { timed in
            if quietWait > 0 { waited += HostLoad.waitUntilQuiet(maximumSeconds: quietWait) }
            let meter = HostLoad.start()
            try timed()
            foreign.append(meter.foreignCores())
        }
        if json {
            let extra = [
                (
                    "foreign_cores_per_repeat",
                    "[" + foreign.map { String(format: "%.3f", $0) }.joined(separator: ", ") + "]"
                ),
                ("quiet_waited_s", String(format: "%.1f", waited)),
            ]
            print(result.jsonLine(name: name, extraFields: extra))
            return
        }
        let s = result.summary
        let unit = mode == .latency ? "ms per window" : "windows/s"
        print(
            "\(mode.rawValue): median \(s.median) \(unit) (min \(s.min), max \(s.max)) over \(repeats) repeats of "
                + "\(result.steps) calls; \(result.achievedGFLOPS) GFLOP/s")
    }
}

/// CPU used by other processes while a block runs, as `torch_lstm_bench.py` measures it:
/// (host busy CPU seconds - own CPU seconds) / wall seconds, from `/proc/stat` and
/// `getrusage`. Values below about 0.05 are clock-tick noise; above 0.1 the block was contended.
private struct HostLoad {
    let hostBusy: Double
    let own: Double
    let start: Date

    static func start() -> HostLoad {
        HostLoad(hostBusy: busySeconds(), own: ownSeconds(), start: Date())
    }

    func foreignCores() -> Double {
        let wall = Date().timeIntervalSince(start)
        guard wall > 0 else { return 0 }
        return max(0, ((Self.busySeconds() - hostBusy) - (Self.ownSeconds() - own)) / wall)
    }

    /// Samples half-second windows until other processes use under 0.15 cores or the time is
    /// up; returns the seconds waited.
    static func waitUntilQuiet(maximumSeconds: Double) -> Double {
        let begin = Date()
        while Date().timeIntervalSince(begin) < maximumSeconds {
            let meter = start()
            Thread.sleep(forTimeInterval: 0.5)
            if meter.foreignCores() < 0.15 { break }
        }
        return Date().timeIntervalSince(begin)
    }

    /// Busy CPU seconds of the whole host (user, nice, system, irq, softirq), or 0 without /proc.
    private static func busySeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first
        else { return 0 }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 7 else { return 0 }
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]) / hertz
    }

    /// CPU seconds used by this process (all threads).
    private static func ownSeconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
