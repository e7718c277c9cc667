/// An affine map `scaled = (value - center) / scale` (standard scaling), fitted on training data only and
/// stored with the model. A constant (or empty) series gets `scale = 1`, never a division by zero.
public struct Scaler: Sendable, Hashable, Codable {
    public var center: Float
    public var scale: Float

    public init(center: Float, scale: Float) {
        self.center = center
        self.scale = scale
    }

    /// The identity map.
    public static let identity = Scaler(center: 0, scale: 1)

    /// Fits on the non-NaN values of `values`: their mean and population standard deviation.
    public static func fit(_ values: some Sequence<Float>) -> Scaler {
        let present = values.filter { !$0.isNaN }
        guard !present.isEmpty else { return .identity }
        let mean = present.reduce(0.0) { $0 + Double($1) } / Double(present.count)
        let variance = present.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(present.count)
        let spread = variance.squareRoot()
        let safe = spread > 1e-6 * max(1, abs(mean)) ? spread : 1
        return Scaler(center: Float(mean), scale: Float(safe))
    }

    @inline(__always) public func apply(_ value: Float) -> Float { (value - center) / scale }
    @inline(__always) public func invert(_ value: Float) -> Float { value * scale + center }
}
