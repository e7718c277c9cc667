/// Training or validation windows: inputs [count, lookback, features] and targets
/// [count, horizon], both row-major `Float` arrays.
///
/// The engine does not know where windows come from (series, SQL); the caller cuts and
/// normalises them.
public struct WindowSet: Sendable, Equatable {
    /// Time steps per window.
    public let lookback: Int
    /// Input channels per time step (`ModelConfiguration.featureCount`).
    public let features: Int
    /// Target steps per window.
    public let horizon: Int
    /// [count, lookback, features], row-major.
    public let inputs: [Float]
    /// [count, horizon], row-major.
    public let targets: [Float]

    /// Number of windows.
    public var count: Int { targets.count / max(horizon, 1) }

    /// Checks the shapes and that every value is finite.
    public init(inputs: [Float], targets: [Float], lookback: Int, features: Int, horizon: Int) throws(TrainingError) {
        guard lookback > 0, features > 0, horizon > 0 else {
            throw .shapeMismatch("lookback, features and horizon must be positive")
        }
        guard targets.count % horizon == 0 else {
            throw .shapeMismatch("\(targets.count) targets are not a multiple of horizon \(horizon)")
        }
        let count = targets.count / horizon
        guard inputs.count == count * lookback * features else {
            throw .shapeMismatch("\(inputs.count) inputs for \(count) windows of [\(lookback), \(features)]")
        }
        guard inputs.allSatisfy(\.isFinite), targets.allSatisfy(\.isFinite) else {
            throw .nonFiniteData
        }
        self.inputs = inputs
        self.targets = targets
        self.lookback = lookback
        self.features = features
        self.horizon = horizon
    }

    /// Whether these windows fit `configuration`.
    func check(against configuration: ModelConfiguration) throws(TrainingError) {
        guard lookback == configuration.lookback, features == configuration.featureCount,
            horizon == configuration.horizon
        else {
            throw .shapeMismatch(
                "windows [\(lookback), \(features)] -> \(horizon) do not fit the model's "
                    + "[\(configuration.lookback), \(configuration.featureCount)] -> \(configuration.horizon)")
        }
    }
}

/// Why training could not run.
public enum TrainingError: Error, Sendable, Equatable {
    /// Window arrays do not have the declared or the model's shape.
    case shapeMismatch(String)
    /// Inputs or targets contain NaN or infinity.
    case nonFiniteData
    /// There are no training windows.
    case emptyTrainingSet
    /// The loss became NaN or infinite at this step (try a lower learning rate or clipping).
    case nonFiniteLoss(step: Int)
    /// Options out of range.
    case invalidOptions(String)
}
