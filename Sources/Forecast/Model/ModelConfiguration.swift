/// Shape and options of a stacked-LSTM forecaster.
///
/// Inputs per window: `[lookback, inputSize + covariates]`, channel 0 being the series to
/// forecast (the optional linear skip reads it), channels `1..<inputSize` further series
/// features, and the last `covariates` channels covariates (calendar features, exogenous
/// series) observed over the lookback window. Outputs per window: `[horizon, quantileCount]`,
/// quantile fastest.
public struct ModelConfiguration: Sendable, Hashable, Codable {
    /// Series features per time step (at least 1; channel 0 is the forecast target).
    public var inputSize: Int
    /// Covariate channels per time step, appended after the series features.
    public var covariates: Int
    /// Hidden (and cell) state width of every LSTM layer.
    public var hidden: Int
    /// Number of stacked LSTM layers.
    public var layers: Int
    /// Time steps per input window.
    public var lookback: Int
    /// Forecast steps per window (direct multi-horizon output).
    public var horizon: Int
    /// Quantile levels in (0, 1), strictly increasing; empty for a point forecast.
    public var quantiles: [Float]
    /// Dropout probability between LSTM layers while training (0 disables it).
    public var dropout: Float
    /// Adds a linear map from the raw lookback window of channel 0 to the outputs.
    ///
    /// `outputs += skipWeight [outputs, lookback] * x[:, :, 0]`. The LSTM then only has to
    /// learn the residual of a linear autoregression, which is known to help long horizons
    /// (as in LSTNet's highway component and the DLinear results). Initialised to zero.
    public var linearSkip: Bool
    /// How quantile outputs are kept from crossing.
    public var quantileOrdering: QuantileOrdering

    /// Creates a configuration; call `validate()` before use (models do).
    public init(
        inputSize: Int = 1, covariates: Int = 0, hidden: Int, layers: Int, lookback: Int, horizon: Int,
        quantiles: [Float] = [], dropout: Float = 0, linearSkip: Bool = false,
        quantileOrdering: QuantileOrdering = .sorted
    ) {
        self.inputSize = inputSize
        self.covariates = covariates
        self.hidden = hidden
        self.layers = layers
        self.lookback = lookback
        self.horizon = horizon
        self.quantiles = quantiles
        self.dropout = dropout
        self.linearSkip = linearSkip
        self.quantileOrdering = quantileOrdering
    }

    /// Input channels per time step: `inputSize + covariates`.
    public var featureCount: Int { inputSize + covariates }
    /// Outputs per horizon step: `max(1, quantiles.count)`.
    public var quantileCount: Int { max(1, quantiles.count) }
    /// Outputs per window: `horizon * quantileCount`.
    public var outputSize: Int { horizon * quantileCount }

    /// Checks every field; throws the first problem found.
    public func validate() throws(ConfigurationError) {
        func check(_ ok: Bool, _ message: String) throws(ConfigurationError) {
            if !ok { throw ConfigurationError(message: message) }
        }
        try check(inputSize >= 1, "inputSize must be at least 1")
        try check(covariates >= 0, "covariates must not be negative")
        try check(hidden >= 1, "hidden must be at least 1")
        try check(layers >= 1, "layers must be at least 1")
        try check(lookback >= 1, "lookback must be at least 1")
        try check(horizon >= 1, "horizon must be at least 1")
        try check(dropout >= 0 && dropout < 1, "dropout must be in [0, 1)")
        try check(quantiles.allSatisfy { $0 > 0 && $0 < 1 }, "quantiles must lie in (0, 1)")
        try check(zip(quantiles, quantiles.dropFirst()).allSatisfy { $0 < $1 }, "quantiles must be increasing")
        let sizes = [featureCount, hidden, layers, lookback, horizon, quantileCount]
        try check(sizes.allSatisfy { $0 <= 1 << 20 }, "a dimension exceeds 2^20")
    }
}

/// How a multi-quantile head keeps its outputs ordered.
public enum QuantileOrdering: UInt8, Sendable, Hashable, Codable {
    /// Each horizon step's quantile outputs are sorted ascending (gradients flow through the
    /// permutation). Outputs never cross. The default.
    case sorted = 0
    /// Raw linear outputs, which may cross. Only for parity with reference models.
    case unconstrained = 1
}

/// A model configuration that cannot be used.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    public var description: String { "invalid model configuration: \(message)" }
}
