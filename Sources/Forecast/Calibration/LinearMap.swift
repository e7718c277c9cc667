/// A linear forecaster of the target channel: `y[h] = intercept[h] + Σ x[lag] weights[lag, h]`.
public struct LinearMap: Sendable, Equatable {
    /// [lookback, horizon] row-major.
    public var weights: [Double]
    /// [horizon].
    public var intercept: [Double]
    /// The ridge strength it was solved with, as a multiple of `trace(XᵀX) / lookback`.
    public var ridge: Double = 0

    public init(weights: [Double], intercept: [Double], ridge: Double = 0) {
        self.weights = weights
        self.intercept = intercept
        self.ridge = ridge
    }

    /// The forecast [horizon] of window `window` of `windows` (its channel 0).
    public func forecast(_ windows: WindowSet, window: Int, into forecast: inout [Double]) {
        let lookback = windows.lookback
        let horizon = windows.horizon
        for h in 0..<horizon { forecast[h] = intercept[h] }
        for step in 0..<lookback {
            let x = Double(windows.inputs[(window * lookback + step) * windows.features])
            if x == 0 { continue }
            let row = step * horizon
            for h in 0..<horizon { forecast[h] += x * weights[row + h] }
        }
    }

    /// Mean squared error on `windows` (channel 0 in, targets out).
    public func meanSquaredError(on windows: WindowSet) -> Double {
        let horizon = windows.horizon
        var values = [Double](repeating: 0, count: horizon)
        var sum = 0.0
        for window in 0..<windows.count {
            forecast(windows, window: window, into: &values)
            for h in 0..<horizon {
                let error = values[h] - Double(windows.targets[window * horizon + h])
                sum += error * error
            }
        }
        return sum / Double(max(1, windows.count * horizon))
    }
}
