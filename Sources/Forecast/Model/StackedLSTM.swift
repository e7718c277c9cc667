/// A stacked-LSTM direct multi-horizon forecaster: `layers` LSTM layers, optional dropout
/// between them while training, and a linear head from the top layer's last hidden state to
/// `horizon x quantileCount` outputs, plus the optional linear skip from the raw lookback.
///
/// A value type: the configuration and one flat parameter vector (see `ParameterLayout` for
/// the order). Running it needs a workspace; `predict` makes one per call, `InferenceSession`
/// and `Trainer` keep theirs.
public struct StackedLSTM: Sendable, Equatable {
    /// Shape and options.
    public let configuration: ModelConfiguration
    /// Where each tensor sits in `parameters`.
    public let layout: ParameterLayout
    /// All weights and biases, in `layout` order.
    public var parameters: [Float]

    /// A freshly initialised model: LSTM and head weights and biases uniform in
    /// [-1/sqrt(H), 1/sqrt(H)] as in PyTorch, the skip weights zero, from `seed`.
    public init(configuration: ModelConfiguration, seed: UInt64) throws(ConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        layout = ParameterLayout(configuration)
        var generator = RandomGenerator(seed: seed)
        let bound = 1 / Float(configuration.hidden).squareRoot()
        var values = [Float](repeating: 0, count: layout.count)
        for k in 0..<(layout.skipWeight ?? layout.count) {
            values[k] = generator.nextFloat(in: -bound, bound)
        }
        parameters = values
    }

    /// A model with the given parameters ([`ParameterLayout(configuration).count`]).
    public init(configuration: ModelConfiguration, parameters: [Float]) throws(ConfigurationError) {
        try configuration.validate()
        let layout = ParameterLayout(configuration)
        guard parameters.count == layout.count else {
            throw ConfigurationError(message: "expected \(layout.count) parameters, got \(parameters.count)")
        }
        self.configuration = configuration
        self.layout = layout
        self.parameters = parameters
    }

    /// Predictions for `count` windows.
    ///
    /// - `inputs`: [count, lookback, featureCount], row-major.
    /// - Returns: [count, horizon, quantileCount], quantile fastest.
    /// - `threads`: batch shards run in parallel (results do not depend on it).
    public func predict(_ inputs: [Float], count: Int, threads: Int = 1) -> [Float] {
        InferenceSession(model: self, threads: threads).predict(inputs, count: count)
    }

    /// The forecast for one window `[lookback, featureCount]`: [horizon, quantileCount].
    public func predict(window: [Float]) -> [Float] {
        predict(window, count: 1)
    }

    /// Bytes of workspace needed to run `batch` windows at once (training keeps every time
    /// step's activations for backward; inference keeps one projection block of gates). A
    /// `Trainer` with `threads` shards holds about this for `batch / threads` per shard, plus the
    /// optimizer's two moments (8 bytes per parameter). For capacity planning.
    public func workspaceBytes(batch: Int, training: Bool) -> Int {
        ModelWorkspace.floatCount(configuration: configuration, batch: batch, training: training)
            * MemoryLayout<Float>.stride
    }

    /// Loss of the model on `count` windows and its gradient with respect to `parameters`.
    ///
    /// - `inputs`: [count, lookback, featureCount]; `targets`: [count, horizon].
    /// - Dropout is not applied (deterministic evaluation of the training graph).
    public func lossAndGradient(inputs: [Float], targets: [Float], count: Int, loss: Loss) -> (
        loss: Double, gradient: [Float]
    ) {
        precondition(inputs.count == count * configuration.lookback * configuration.featureCount, "inputs shape")
        precondition(targets.count == count * configuration.horizon, "targets shape")
        let workspace = ModelWorkspace(configuration: configuration, batch: count, training: true)
        inputs.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { y in
                workspace.load(inputs: x.baseAddress!, targets: y.baseAddress!, indices: 0..<count)
            }
        }
        let normalizer = Float(count * configuration.outputSize)
        var noDropout: RandomGenerator? = nil
        let value = parameters.withUnsafeBufferPointer { p in
            computeGradients(
                workspace: workspace, parameters: p.baseAddress!, loss: loss, normalizer: normalizer,
                dropout: &noDropout)
        }
        return (value / Double(normalizer), workspace.gradients.array)
    }
}

/// A named tensor of a model's parameters.
public enum ParameterTensor: Sendable, Hashable {
    case weightIH(layer: Int)
    case weightHH(layer: Int)
    case biasIH(layer: Int)
    case biasHH(layer: Int)
    case headWeight
    case headBias
    case skipWeight
}

extension ParameterLayout {
    /// The range of `tensor` in the flat parameter vector, nil if the model has no such tensor.
    public func range(of tensor: ParameterTensor) -> Range<Int>? {
        func layer(_ l: Int) -> Layer? { layers.indices.contains(l) ? layers[l] : nil }
        switch tensor {
        case .weightIH(let l): return layer(l).map { $0.weightIH..<$0.weightHH }
        case .weightHH(let l): return layer(l).map { $0.weightHH..<$0.biasIH }
        case .biasIH(let l): return layer(l).map { $0.biasIH..<$0.biasHH }
        case .biasHH(let l): return layer(l).map { $0.biasHH..<($0.biasHH + 4 * hidden) }
        case .headWeight: return headWeight..<headBias
        case .headBias:
            return headBias..<(skipWeight ?? count)
        case .skipWeight: return skipWeight.map { $0..<count }
        }
    }
}
