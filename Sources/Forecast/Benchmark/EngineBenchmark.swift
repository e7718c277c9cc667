/// The engine benchmark behind `forecastd bench engine`, defined exactly as
/// the PyTorch benchmark it is compared with (docs/benchmarks.md) defines its own: an `inputSize -> hidden` LSTM of
/// `layers` layers on `lookback` steps, a linear head from the top layer's last hidden state
/// to `horizon` outputs, fixed Gaussian data x [batch, lookback, inputSize], y [batch, horizon].
///
/// - `train`: Adam (lr 1e-3) + MSE, one optimizer step per call (no clipping, no dropout);
///   windows/s = batch * steps / block time.
/// - `infer`: forward only on the same batch; windows/s likewise.
/// - `latency`: forward of one window, each call timed; per repeat the median in ms.
///
/// Three warm-up calls, then `repeats` timed blocks of `steps` calls (`steps == 0`: calibrated
/// so that a block takes about `targetSeconds`). FLOPs are counted as the script does: matmuls
/// only, `2 B 4H (I_l + H)` per layer and step plus `2 B H horizon` for the head, three times
/// that for a training step.
public struct EngineBenchmark: Sendable {
    /// What is measured.
    public enum Mode: String, Sendable, CaseIterable {
        case train
        case infer
        case latency
    }

    public var inputSize: Int
    public var hidden: Int
    public var layers: Int
    public var lookback: Int
    public var horizon: Int
    /// Windows per batch (ignored in latency mode, which always uses 1).
    public var batch: Int
    /// Threads: batch shards for train and infer; latency always runs one thread.
    public var threads: Int
    public var mode: Mode
    /// Calls per timed repeat; 0 calibrates to `targetSeconds`.
    public var steps: Int
    public var repeats: Int
    public var targetSeconds: Double
    public var seed: UInt64

    public init(
        inputSize: Int, hidden: Int, layers: Int, lookback: Int, horizon: Int, batch: Int, threads: Int = 1,
        mode: Mode, steps: Int = 0, repeats: Int = 5, targetSeconds: Double = 0.5, seed: UInt64 = 0
    ) {
        self.inputSize = inputSize
        self.hidden = hidden
        self.layers = layers
        self.lookback = lookback
        self.horizon = horizon
        self.batch = batch
        self.threads = threads
        self.mode = mode
        self.steps = steps
        self.repeats = repeats
        self.targetSeconds = targetSeconds
        self.seed = seed
    }

    /// Measurements of one run.
    public struct Result: Sendable {
        /// The benchmark that was run.
        public var benchmark: EngineBenchmark
        /// Calls per timed repeat.
        public var steps: Int
        /// Per repeat: windows/s (train, infer) or median latency in ms (latency).
        public var perRepeat: [Double]
        /// Seconds per call during warm-up.
        public var warmupCallSeconds: Double
        /// Analytic matmul FLOPs per window.
        public var flopsPerWindow: Double

        /// min, median, max of `perRepeat`.
        public var summary: (min: Double, median: Double, max: Double) {
            let sorted = perRepeat.sorted()
            let n = sorted.count
            let median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
            return (sorted.first ?? 0, median, sorted.last ?? 0)
        }

        /// GFLOP/s at the median rate.
        public var achievedGFLOPS: Double {
            let rate = benchmark.mode == .latency ? 1000 / summary.median : summary.median
            return flopsPerWindow * rate / 1e9
        }

        /// One JSON line with the same fields as the PyTorch anchor script; `extraFields` (key,
        /// JSON value text) are appended, for example per-repeat host load.
        public func jsonLine(name: String = "", extraFields: [(String, String)] = []) -> String {
            let b = benchmark
            let s = summary
            var fields: [(String, String)] = [
                ("name", "\"\(name.filter { $0 != "\"" && $0 != "\\" })\""), ("engine", "\"forecastd\""),
                ("kernels", "\"\(ForecastEngine.kernelLevel)\""),
                ("mode", "\"\(b.mode.rawValue)\""), ("input_size", "\(b.inputSize)"), ("hidden", "\(b.hidden)"),
                ("layers", "\(b.layers)"), ("lookback", "\(b.lookback)"), ("horizon", "\(b.horizon)"),
                ("batch", "\(b.mode == .latency ? 1 : b.batch)"), ("threads", "\(b.mode == .latency ? 1 : b.threads)"),
                ("steps", "\(steps)"), ("repeats", "\(b.repeats)"), ("warmup_call_s", format(warmupCallSeconds, 6)),
                ("flops_per_window", format(flopsPerWindow, 1)),
            ]
            if b.mode == .latency {
                fields += [
                    ("latency_ms_min", format(s.min, 4)), ("latency_ms_median", format(s.median, 4)),
                    ("latency_ms_max", format(s.max, 4)), ("windows_per_s_median", format(1000 / s.median, 2)),
                ]
            } else {
                fields += [
                    ("windows_per_s_min", format(s.min, 2)), ("windows_per_s_median", format(s.median, 2)),
                    ("windows_per_s_max", format(s.max, 2)),
                ]
            }
            let slowest = b.mode == .latency ? 1000 / s.max : s.min
            let fastest = b.mode == .latency ? 1000 / s.min : s.max
            fields +=
                [
                    ("achieved_gflops", format(achievedGFLOPS, 3)),
                    ("achieved_gflops_min", format(flopsPerWindow * slowest / 1e9, 3)),
                    ("achieved_gflops_max", format(flopsPerWindow * fastest / 1e9, 3)),
                    ("per_repeat", "[" + perRepeat.map { format($0, 4) }.joined(separator: ", ") + "]"),
                ] + extraFields
            return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        }
    }

    /// Analytic matmul FLOPs of one forward pass over `batch` windows.
    public static func forwardFlops(
        batch: Int, inputSize: Int, hidden: Int, layers: Int, lookback: Int, horizon: Int
    ) -> Double {
        var flops = 0.0
        for l in 0..<layers {
            let input = l == 0 ? inputSize : hidden
            flops += Double(lookback) * 2 * Double(batch) * 4 * Double(hidden) * Double(input + hidden)
        }
        return flops + 2 * Double(batch) * Double(hidden) * Double(horizon)
    }

    /// Runs the benchmark (seconds to a minute, depending on the size).
    ///
    /// `aroundRepeat` wraps each timed repeat (for example to wait for an idle host first and to
    /// measure other processes' CPU use during it); it must call its argument exactly once.
    public func run(aroundRepeat: (_ timed: () throws -> Void) throws -> Void = { try $0() }) throws -> Result {
        let windows = mode == .latency ? 1 : batch
        let configuration = ModelConfiguration(
            inputSize: inputSize, hidden: hidden, layers: layers, lookback: lookback, horizon: horizon)
        let model = try StackedLSTM(configuration: configuration, seed: seed)
        var generator = RandomGenerator(seed: seed &+ 1)
        let x = (0..<(windows * lookback * inputSize)).map { _ in generator.nextGaussian() }
        let y = (0..<(windows * horizon)).map { _ in generator.nextGaussian() }
        let call: () throws -> Void
        switch mode {
        case .train:
            let trainer = try Trainer(
                model: model,
                options: TrainingOptions(
                    batchSize: windows, learningRate: 1e-3, gradientClipNorm: nil, threads: threads))
            let data = try WindowSet(inputs: x, targets: y, lookback: lookback, features: inputSize, horizon: horizon)
            let indices = Array(0..<windows)
            call = { _ = try trainer.step(indices: indices, windows: data, learningRate: 1e-3) }
        case .infer, .latency:
            let session = InferenceSession(model: model, threads: mode == .latency ? 1 : threads)
            let output = FloatBuffer(count: windows * configuration.outputSize)
            call = {
                x.withUnsafeBufferPointer {
                    session.predict(inputs: $0.baseAddress!, count: windows, into: output.pointer)
                }
            }
        }
        let clock = ContinuousClock()
        func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
        }
        var start = clock.now
        for _ in 0..<3 { try call() }
        let warmup = seconds(clock.now - start) / 3
        var calls = steps
        if calls <= 0 {
            start = clock.now
            try call()
            let perCall = seconds(clock.now - start)
            calls = max(1, Int((targetSeconds / max(perCall, 1e-6)).rounded()))
        }
        var perRepeat: [Double] = []
        for _ in 0..<max(1, repeats) {
            try aroundRepeat {
                if mode == .latency {
                    var times: [Double] = []
                    times.reserveCapacity(calls)
                    for _ in 0..<calls {
                        let t0 = clock.now
                        try call()
                        times.append(seconds(clock.now - t0) * 1000)
                    }
                    times.sort()
                    let n = times.count
                    perRepeat.append(n % 2 == 1 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2)
                } else {
                    let t0 = clock.now
                    for _ in 0..<calls { try call() }
                    perRepeat.append(Double(windows * calls) / seconds(clock.now - t0))
                }
            }
        }
        let forward = Self.forwardFlops(
            batch: windows, inputSize: inputSize, hidden: hidden, layers: layers, lookback: lookback, horizon: horizon)
        let perWindow = (mode == .train ? 3 * forward : forward) / Double(windows)
        return Result(
            benchmark: self, steps: calls, perRepeat: perRepeat, warmupCallSeconds: warmup, flopsPerWindow: perWindow)
    }
}

/// `value` rounded to `digits` decimals, as a JSON number (Swift's shortest round-trip form,
/// which JSON accepts, exponent included).
private func format(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "null" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return "\((value * scale).rounded() / scale)"
}
