/// Runs a model's forward pass repeatedly, keeping its workspaces between calls.
///
/// Batches are split into shards of at most `maxShardBatch` windows per thread; workspaces are
/// allocated once per shard size and reused. Not thread-safe: one session per caller.
public final class InferenceSession {
    /// The model being run.
    public private(set) var model: StackedLSTM
    /// Threads used for batched prediction.
    public let threads: Int
    /// Largest number of windows one shard runs at once (bounds workspace memory).
    public let maxShardBatch: Int
    /// Shard workspaces per chunk size (each shard has its own, even when sizes coincide).
    private var workspaces: [Int: [ModelWorkspace]] = [:]
    /// Bumped whenever the parameters change; workspaces repack weights only then.
    private var generation = 0

    /// A session for `model`, running batches on `threads` threads.
    public init(model: StackedLSTM, threads: Int = 1, maxShardBatch: Int = 256) {
        self.model = model
        self.threads = max(1, threads)
        self.maxShardBatch = max(1, maxShardBatch)
    }

    /// Replaces the parameters (same configuration), keeping the workspaces.
    public func update(parameters: [Float]) {
        precondition(parameters.count == model.parameters.count, "parameter count differs")
        model.parameters = parameters
        generation += 1
    }

    /// Predictions for `count` windows.
    ///
    /// - `inputs`: [count, lookback, featureCount], row-major.
    /// - Returns: [count, horizon, quantileCount], quantile fastest.
    public func predict(_ inputs: [Float], count: Int) -> [Float] {
        let configuration = model.configuration
        precondition(inputs.count == count * configuration.lookback * configuration.featureCount, "inputs shape")
        var result = [Float](repeating: 0, count: count * configuration.outputSize)
        inputs.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { y in
                predict(inputs: x.baseAddress!, count: count, into: y.baseAddress!)
            }
        }
        return result
    }

    /// The forecast of one window [lookback, featureCount]: [horizon, quantileCount].
    public func predict(window: [Float]) -> [Float] {
        predict(window, count: 1)
    }

    /// Pointer form of `predict(_:count:)`: `inputs` [count, lookback, F] into `output`
    /// [count, horizon, Q].
    public func predict(inputs: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) {
        let outputs = model.configuration.outputSize
        let chunk = threads * maxShardBatch
        var start = 0
        while start < count {
            let size = min(chunk, count - start)
            let plan = ShardPlan(batch: size, threads: threads)
            let shardWorkspaces = workspaces(plan)
            let model = self.model
            let inputsAddress = UInt(bitPattern: inputs)
            let outputAddress = UInt(bitPattern: output)
            let base = start
            let generation = self.generation
            model.parameters.withUnsafeBufferPointer { p in
                let parameters = UInt(bitPattern: p.baseAddress!)
                plan.run { shard in
                    let range = plan.ranges[shard]
                    let ws = shardWorkspaces[shard]
                    let x = UnsafePointer<Float>(bitPattern: inputsAddress)!
                    ws.load(inputs: x, targets: nil, indices: (base + range.lowerBound)..<(base + range.upperBound))
                    var noDropout: RandomGenerator? = nil
                    model.forward(
                        workspace: ws, parameters: UnsafePointer(bitPattern: parameters)!, dropout: &noDropout,
                        generation: generation)
                    let y = UnsafeMutablePointer<Float>(bitPattern: outputAddress)!
                    (y + (base + range.lowerBound) * outputs).update(
                        from: ws.output.pointer, count: range.count * outputs)
                }
            }
            start += size
        }
    }

    private func workspaces(_ plan: ShardPlan) -> [ModelWorkspace] {
        let size = plan.ranges.last!.upperBound
        if let existing = workspaces[size] { return existing }
        let created = plan.ranges.map {
            ModelWorkspace(configuration: model.configuration, batch: $0.count, training: false)
        }
        workspaces[size] = created
        return created
    }
}
