/// How a series is scaled before it reaches the network.
public enum ScalingMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// Subtract the mean, divide by the population standard deviation.
    case standard
    /// Subtract the median, divide by the interquartile range (robust to outliers).
    case robust
}

/// An affine map `scaled = (value - center) / scale`, fitted on training data only and
/// stored with the model. A constant (or empty) series gets `scale = 1`, never a division by zero.
public struct Scaler: Sendable, Hashable, Codable {
    public var method: ScalingMethod
    public var center: Float
    public var scale: Float

    public init(method: ScalingMethod, center: Float, scale: Float) {
        self.method = method
        self.center = center
        self.scale = scale
    }

    /// The identity map.
    public static let identity = Scaler(method: .standard, center: 0, scale: 1)

    /// Fits on the non-NaN values of `values`.
    public static func fit(_ values: some Sequence<Float>, method: ScalingMethod) -> Scaler {
        let present = values.filter { !$0.isNaN }
        guard !present.isEmpty else { return Scaler(method: method, center: 0, scale: 1) }
        let center: Double
        let spread: Double
        switch method {
        case .standard:
            let mean = present.reduce(0.0) { $0 + Double($1) } / Double(present.count)
            let variance =
                present.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(present.count)
            center = mean
            spread = variance.squareRoot()
        case .robust:
            let sorted = present.sorted()
            center = quantile(sorted, 0.5)
            spread = quantile(sorted, 0.75) - quantile(sorted, 0.25)
        }
        let safe = spread > 1e-6 * max(1, abs(center)) ? spread : 1
        return Scaler(method: method, center: Float(center), scale: Float(safe))
    }

    /// Linear-interpolated quantile `q` (0...1) of `sorted` (ascending, not empty).
    public static func quantile<Value: BinaryFloatingPoint>(_ sorted: [Value], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return Double(sorted[lower]) * (1 - fraction) + Double(sorted[upper]) * fraction
    }

    @inline(__always) public func apply(_ value: Float) -> Float { (value - center) / scale }
    @inline(__always) public func invert(_ value: Float) -> Float { value * scale + center }
}
