/// Training losses over predictions [B, horizon, Q] (quantile fastest) and targets [B, horizon].
///
/// Every loss is the mean over all `B * horizon * Q` prediction entries; point losses compare
/// every quantile output with the target.
public enum Loss: Sendable, Hashable, Codable {
    /// Mean squared error `(p - y)^2`.
    case mse
    /// Mean absolute error `|p - y|`.
    case mae
    /// Huber: `0.5 e^2` for `|e| <= delta`, else `delta * (|e| - 0.5 delta)`, with `e = p - y`.
    case huber(delta: Float)
    /// Pinball (quantile) loss `max(q (y - p), (q - 1)(y - p))` at each output's quantile level
    /// (0.5 for a point forecast).
    case pinball

    /// Sum of the element losses of `batch` windows; writes `scale * d element / d prediction`
    /// into `gradient` [batch, horizon, Q] when given.
    ///
    /// `quantiles`: the model's levels (empty for a point forecast).
    func accumulate(
        predictions: UnsafePointer<Float>, targets: UnsafePointer<Float>, batch: Int, horizon: Int,
        quantiles: [Float], scale: Float, gradient: UnsafeMutablePointer<Float>?
    ) -> Double {
        let q = max(1, quantiles.count)
        let levels = quantiles.isEmpty ? [Float(0.5)] : quantiles
        var total = 0.0
        for row in 0..<(batch * horizon) {
            let y = targets[row]
            for k in 0..<q {
                let index = row * q + k
                let e = predictions[index] - y
                let value: Float
                let derivative: Float
                switch self {
                case .mse:
                    value = e * e
                    derivative = 2 * e
                case .mae:
                    value = abs(e)
                    derivative = e > 0 ? 1 : (e < 0 ? -1 : 0)
                case .huber(let delta):
                    if abs(e) <= delta {
                        value = 0.5 * e * e
                        derivative = e
                    } else {
                        value = delta * (abs(e) - 0.5 * delta)
                        derivative = e > 0 ? delta : -delta
                    }
                case .pinball:
                    let level = levels[k]
                    // y - p = -e
                    value = max(level * -e, (level - 1) * -e)
                    derivative = e < 0 ? -level : 1 - level
                }
                total += Double(value)
                gradient?[index] = scale * derivative
            }
        }
        return total
    }
}
