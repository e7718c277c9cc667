/// Where each tensor lives in a model's flat parameter vector.
///
/// Order (and checkpoint order): for each layer `l`, `weight_ih` [4H, I_l], `weight_hh` [4H, H],
/// `bias_ih` [4H], `bias_hh` [4H]; then `head.weight` [outputs, H], `head.bias` [outputs]; then,
/// with `linearSkip`, `skip.weight` [outputs, lookback]. `I_0 = featureCount`, `I_l = H` above.
/// Rows of the fused gate tensors are in PyTorch's gate order: input, forget, cell (g), output,
/// `H` rows each.
public struct ParameterLayout: Sendable, Hashable {
    /// Offsets of one LSTM layer's tensors.
    public struct Layer: Sendable, Hashable {
        /// Input width of this layer.
        public let inputSize: Int
        /// Offset of `weight_ih` [4H, inputSize].
        public let weightIH: Int
        /// Offset of `weight_hh` [4H, H].
        public let weightHH: Int
        /// Offset of `bias_ih` [4H].
        public let biasIH: Int
        /// Offset of `bias_hh` [4H].
        public let biasHH: Int
    }

    /// Hidden width H.
    public let hidden: Int
    /// One entry per LSTM layer, bottom first.
    public let layers: [Layer]
    /// Offset of `head.weight` [outputs, H].
    public let headWeight: Int
    /// Offset of `head.bias` [outputs].
    public let headBias: Int
    /// Offset of `skip.weight` [outputs, lookback], when the model has a linear skip.
    public let skipWeight: Int?
    /// Total number of parameters.
    public let count: Int

    /// The layout of `configuration`.
    public init(_ configuration: ModelConfiguration) {
        let h = configuration.hidden
        hidden = h
        var offset = 0
        var layers: [Layer] = []
        for l in 0..<configuration.layers {
            let inputSize = l == 0 ? configuration.featureCount : h
            let layer = Layer(
                inputSize: inputSize, weightIH: offset, weightHH: offset + 4 * h * inputSize,
                biasIH: offset + 4 * h * inputSize + 4 * h * h, biasHH: offset + 4 * h * inputSize + 4 * h * h + 4 * h)
            layers.append(layer)
            offset = layer.biasHH + 4 * h
        }
        self.layers = layers
        headWeight = offset
        headBias = offset + configuration.outputSize * h
        offset = headBias + configuration.outputSize
        if configuration.linearSkip {
            skipWeight = offset
            offset += configuration.outputSize * configuration.lookback
        } else {
            skipWeight = nil
        }
        count = offset
    }
}
