/// Trains a `StackedLSTM` with Adam/AdamW on shuffled mini-batches.
///
/// Each step splits the mini-batch into `options.threads` shards (see `ShardPlan`); every shard
/// runs forward and backward on its own workspace, shard gradients are summed in shard order,
/// clipped to `gradientClipNorm` (global L2 norm) and applied. Workspaces are allocated once
/// per mini-batch size. Results are deterministic for a given seed, data and thread count.
///
/// The trainer keeps its optimizer state and random generator between calls, so `fineTune`
/// after `fit` (or on a model loaded from a checkpoint) continues where it left off.
/// Not thread-safe: one trainer per model; run it off the cooperative pool for long jobs.
public final class Trainer {
    /// The model being trained; after `fit` with validation it holds the best weights.
    public private(set) var model: StackedLSTM
    /// Training options.
    public let options: TrainingOptions
    /// Optimizer state (moments and step count).
    public private(set) var optimizer: AdamOptimizer
    private var generator: RandomGenerator
    private var workspaces: [Int: [ModelWorkspace]] = [:]
    private let inference: InferenceSession
    /// Gradient accumulation target [parameters].
    private let gradient: FloatBuffer

    /// A trainer for `model`.
    public init(model: StackedLSTM, options: TrainingOptions) throws(TrainingError) {
        try options.validate()
        if let weights = options.validationPointWeights, weights.count != model.configuration.quantileCount {
            throw .invalidOptions(
                "validationPointWeights has \(weights.count) weights for \(model.configuration.quantileCount) outputs")
        }
        self.model = model
        self.options = options
        optimizer = AdamOptimizer(parameterCount: model.parameters.count, options: options.optimizer)
        generator = RandomGenerator(seed: options.seed)
        inference = InferenceSession(model: model, threads: options.threads)
        gradient = FloatBuffer(count: model.parameters.count)
    }

    /// Trains for up to `options.epochs` epochs.
    ///
    /// With `validation`, scores it after every epoch (`validationScore`), keeps the best weights, stops after
    /// `options.patience` epochs without improvement, and restores the best weights at the
    /// end (also when stopped by the callback or by task cancellation).
    /// - `progress`: called after every step and epoch; return `.stop` to end the run.
    public func fit(
        train: WindowSet, validation: WindowSet? = nil,
        progress: (TrainingEvent) -> TrainingControl = { _ in .continue }
    ) throws(TrainingError) -> TrainingReport {
        try train.check(against: model.configuration)
        try validation?.check(against: model.configuration)
        guard train.count > 0 else { throw .emptyTrainingSet }
        let batchesPerEpoch = (train.count + options.batchSize - 1) / options.batchSize
        let totalSteps = batchesPerEpoch * options.epochs
        var report = TrainingReport(
            steps: 0, epochs: 0, trainingLosses: [], validationLosses: [], bestValidationLoss: nil, bestEpoch: nil,
            stopReason: .completed)
        var best: [Float]? = nil
        var sinceBest = 0
        var order = Array(0..<train.count)
        epochs: for epoch in 0..<options.epochs {
            order.shuffle(using: &generator)
            var epochLoss = 0.0
            var epochBatches = 0
            for start in stride(from: 0, to: order.count, by: options.batchSize) {
                let indices = Array(order[start..<min(start + options.batchSize, order.count)])
                let rate = options.learningRate * options.schedule.factor(step: report.steps, totalSteps: totalSteps)
                let loss = try step(indices: indices, windows: train, learningRate: rate)
                report.steps += 1
                epochLoss += loss
                epochBatches += 1
                let event = TrainingEvent.step(step: report.steps, epoch: epoch, loss: loss, learningRate: rate)
                if progress(event) == .stop {
                    report.stopReason = .stoppedByCallback
                    break epochs
                }
                if Task.isCancelled {
                    report.stopReason = .cancelled
                    break epochs
                }
            }
            report.epochs += 1
            report.trainingLosses.append(epochLoss / Double(epochBatches))
            var validationLoss: Double? = nil
            var isBest = false
            if let validation, validation.count > 0 {
                let value = validationScore(validation)
                validationLoss = value
                report.validationLosses.append(value)
                if report.bestValidationLoss.map({ value < $0 - options.minimumImprovement }) ?? true {
                    report.bestValidationLoss = value
                    report.bestEpoch = epoch
                    best = model.parameters
                    sinceBest = 0
                    isBest = true
                } else {
                    sinceBest += 1
                }
            }
            let event = TrainingEvent.epoch(
                epoch: epoch, trainingLoss: report.trainingLosses.last!, validationLoss: validationLoss, isBest: isBest)
            if progress(event) == .stop {
                report.stopReason = .stoppedByCallback
                break
            }
            if let patience = options.patience, validation != nil, sinceBest >= patience {
                report.stopReason = .earlyStopping
                break
            }
        }
        if let best {
            model.parameters = best
        }
        return report
    }

    /// Continues training on `windows` for `steps` optimizer steps at `learningRate`
    /// (default `options.learningRate`, no schedule), cycling through shuffled mini-batches.
    ///
    /// Used for incremental updates: the optimizer state carries over from earlier calls.
    /// The report's `trainingLosses` has one entry, the mean step loss.
    public func fineTune(
        windows: WindowSet, steps: Int, learningRate: Float? = nil,
        progress: (TrainingEvent) -> TrainingControl = { _ in .continue }
    ) throws(TrainingError) -> TrainingReport {
        try windows.check(against: model.configuration)
        guard windows.count > 0 else { throw .emptyTrainingSet }
        let rate = learningRate ?? options.learningRate
        var report = TrainingReport(
            steps: 0, epochs: 0, trainingLosses: [], validationLosses: [], bestValidationLoss: nil, bestEpoch: nil,
            stopReason: .completed)
        var order = Array(0..<windows.count)
        var position = order.count
        var total = 0.0
        while report.steps < steps {
            if position >= order.count {
                order.shuffle(using: &generator)
                position = 0
            }
            let indices = Array(order[position..<min(position + options.batchSize, order.count)])
            position += indices.count
            let loss = try step(indices: indices, windows: windows, learningRate: rate)
            report.steps += 1
            total += loss
            if progress(.step(step: report.steps, epoch: 0, loss: loss, learningRate: rate)) == .stop {
                report.stopReason = .stoppedByCallback
                break
            }
            if Task.isCancelled {
                report.stopReason = .cancelled
                break
            }
        }
        report.trainingLosses = report.steps > 0 ? [total / Double(report.steps)] : []
        return report
    }

    /// What `fit` selects weights by: the point forecast's mean squared error when
    /// `options.validationPointWeights` is set, else `evaluate` (the mean loss).
    public func validationScore(_ windows: WindowSet) -> Double {
        guard let weights = options.validationPointWeights else { return evaluate(windows) }
        let configuration = model.configuration
        let quantiles = configuration.quantileCount
        precondition(weights.count == quantiles, "one point weight per quantile output")
        inference.update(parameters: model.parameters)
        let predictions = inference.predict(windows.inputs, count: windows.count)
        var sum = 0.0
        for index in 0..<(windows.count * configuration.horizon) {
            var point: Float = 0
            for q in 0..<quantiles { point += weights[q] * predictions[index * quantiles + q] }
            let error = Double(point - windows.targets[index])
            sum += error * error
        }
        return sum / Double(max(1, windows.count * configuration.horizon))
    }

    /// Mean loss (`options.loss`) of the current model on `windows`, without dropout.
    public func evaluate(_ windows: WindowSet) -> Double {
        inference.update(parameters: model.parameters)
        let predictions = inference.predict(windows.inputs, count: windows.count)
        let configuration = model.configuration
        let sum = predictions.withUnsafeBufferPointer { p in
            windows.targets.withUnsafeBufferPointer { y in
                options.loss.accumulate(
                    predictions: p.baseAddress!, targets: y.baseAddress!, batch: windows.count,
                    horizon: configuration.horizon, quantiles: configuration.quantiles, scale: 0, gradient: nil)
            }
        }
        return sum / Double(windows.count * configuration.outputSize)
    }

    /// One optimizer step on the windows at `indices`; returns the mean mini-batch loss.
    func step(indices: [Int], windows: WindowSet, learningRate: Float) throws(TrainingError) -> Double {
        let batch = indices.count
        let plan = ShardPlan(batch: batch, threads: options.threads)
        let shards = shardWorkspaces(plan)
        let dropoutSeeds = plan.ranges.map { _ in generator.next() }
        let useDropout = model.configuration.dropout > 0
        let normalizer = Float(batch * model.configuration.outputSize)
        let losses = SharedDoubles(count: plan.ranges.count)
        let model = self.model
        let loss = options.loss
        BLAS.useSingleThread()
        plan.run { shard in
            let ws = shards[shard]
            let range = plan.ranges[shard]
            windows.inputs.withUnsafeBufferPointer { x in
                windows.targets.withUnsafeBufferPointer { y in
                    ws.load(inputs: x.baseAddress!, targets: y.baseAddress!, indices: indices[range])
                }
            }
            var dropout: RandomGenerator? = useDropout ? RandomGenerator(seed: dropoutSeeds[shard]) : nil
            let value = model.parameters.withUnsafeBufferPointer { p in
                model.computeGradients(
                    workspace: ws, parameters: p.baseAddress!, loss: loss, normalizer: normalizer, dropout: &dropout)
            }
            losses.pointer[shard] = value
        }
        let g = gradient.pointer
        g.update(from: shards[0].gradients.pointer, count: gradient.count)
        for shard in shards.dropFirst() {
            BLAS.axpy(count: gradient.count, alpha: 1, x: shard.gradients.pointer, y: g)
        }
        let meanLoss = (0..<plan.ranges.count).reduce(0.0) { $0 + losses.pointer[$1] } / Double(normalizer)
        guard meanLoss.isFinite else { throw .nonFiniteLoss(step: optimizer.step + 1) }
        // Frozen tensors take no part: no gradient (so none in the clipping norm), no update.
        for tensor in options.frozen {
            if let range = model.layout.range(of: tensor) {
                for k in range { g[k] = 0 }
            }
        }
        let frozenValues = options.frozen.compactMap { tensor in
            model.layout.range(of: tensor).map { ($0, Array(model.parameters[$0])) }
        }
        if let clip = options.gradientClipNorm {
            var squares = 0.0
            for k in 0..<gradient.count { squares += Double(g[k]) * Double(g[k]) }
            let norm = squares.squareRoot()
            if norm > Double(clip) {
                let scale = Float(Double(clip) / (norm + 1e-6))
                for k in 0..<gradient.count { g[k] *= scale }
            }
        }
        optimizer.update(parameters: &self.model.parameters, gradients: g, learningRate: learningRate)
        // Decoupled weight decay would still shrink frozen values: put them back.
        for (range, values) in frozenValues { self.model.parameters.replaceSubrange(range, with: values) }
        return meanLoss
    }

    private func shardWorkspaces(_ plan: ShardPlan) -> [ModelWorkspace] {
        let batch = plan.ranges.last!.upperBound
        if let existing = workspaces[batch] { return existing }
        let created = plan.ranges.map {
            ModelWorkspace(configuration: model.configuration, batch: $0.count, training: true)
        }
        workspaces[batch] = created
        return created
    }
}

/// Per-shard results written by distinct threads at distinct indices.
final class SharedDoubles: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Double>

    init(count: Int) {
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    deinit { pointer.deallocate() }
}
