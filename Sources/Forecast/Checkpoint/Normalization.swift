/// Per-channel affine normalisation of model inputs: `normalised = (raw - shift) / scale`.
///
/// The engine does not apply it; it stores it with the model so that whoever cuts windows
/// for inference scales them exactly as the training windows were. Targets use channel 0.
public struct Normalization: Sendable, Equatable {
    /// Subtracted per channel, [featureCount] (or empty for none).
    public var shift: [Float]
    /// Divided by per channel, [featureCount] (or empty for none).
    public var scale: [Float]

    public init(shift: [Float] = [], scale: [Float] = []) {
        precondition(shift.count == scale.count, "shift and scale must have one entry per channel")
        self.shift = shift
        self.scale = scale
    }

    /// No normalisation.
    public static let identity = Normalization()
}
