/// Starting points that make training converge fast and intervals honest.
public enum LinearStart {
    /// Ridge strengths tried, as multiples of the mean diagonal of `XᵀX` (`trace / lookback`).
    public static let ridgeGrid: [Double] = [1e-3, 1e-2, 0.1, 0.3, 1, 3]

    /// Ridge least-squares map with intercept from each window's target channel to its targets:
    /// X `[count, lookback]` (channel 0), Y `[count, horizon]`, the intercept unpenalised (the
    /// mean drift of windows relative to their last value is real signal: at long horizons it
    /// is worth more than the ridge). With `validation`, λ is the value of `ridgeGrid` (times
    /// `trace(XᵀX) / lookback`) whose map has the lowest mean squared error on the validation
    /// windows (the same rule for every data set: more shrinkage where the past says less
    /// about the future); without, the smallest. Nil when no system can be solved.
    public static func solve(_ windows: WindowSet, validation: WindowSet? = nil) -> LinearMap? {
        let normal = NormalEquations(windows)
        let grid = validation == nil ? [ridgeGrid[0]] : ridgeGrid
        var best: (error: Double, map: LinearMap)? = nil
        for factor in grid {
            guard var map = normal.solve(ridge: max(1e-9, factor * normal.meanDiagonal)) else { continue }
            map.ridge = factor
            let error = validation.map { map.meanSquaredError(on: $0) } ?? 0
            guard error.isFinite else { continue }
            if best.map({ error < $0.error }) ?? true { best = (error, map) }
        }
        return best?.map
    }

    /// Sets the model's linear skip to `map`'s weights and the head bias to its intercept, for
    /// every quantile output, and zeroes the head weights, so the untrained model is exactly
    /// the linear forecaster (a random head would add noise of the order of the targets); the
    /// LSTM then learns only what improves on it.
    /// `offsets` ([horizon, quantiles], from `residualOffsets`) are added to the intercept per
    /// quantile output, so the start also has intervals; without, every quantile output starts
    /// at the same value.
    public static func apply(_ map: LinearMap, offsets: [Double]? = nil, to model: inout StackedLSTM) {
        guard let range = model.layout.range(of: .skipWeight) else { return }
        if let head = model.layout.range(of: .headWeight) {
            for index in head { model.parameters[index] = 0 }
        }
        let configuration = model.configuration
        let quantiles = configuration.quantileCount
        let lookback = configuration.lookback
        let bias = model.layout.range(of: .headBias)
        for step in 0..<configuration.horizon {
            for quantile in 0..<quantiles {
                let output = step * quantiles + quantile
                for lag in 0..<lookback {
                    model.parameters[range.lowerBound + output * lookback + lag] =
                        Float(map.weights[lag * configuration.horizon + step])
                }
                if let bias {
                    let offset = offsets.flatMap { $0.count == configuration.outputSize ? $0[output] : nil } ?? 0
                    model.parameters[bias.lowerBound + output] = Float(map.intercept[step] + offset)
                }
            }
        }
    }

    /// Per horizon step and quantile level, the empirical quantile of `map`'s residuals
    /// (target - forecast) on `windows`, shifted so that their `pointWeights`-weighted sum is
    /// zero: [horizon, quantiles.count]. Added to the map by `apply`, they make the start a
    /// forecaster with intervals whose point forecast is still the map's.
    public static func residualOffsets(
        _ map: LinearMap, on windows: WindowSet, quantiles: [Float], pointWeights: [Float]
    ) -> [Double] {
        let horizon = windows.horizon
        let count = quantiles.count
        guard count > 1, windows.count > 0 else { return [Double](repeating: 0, count: horizon * max(1, count)) }
        var residuals = [[Double]](repeating: [], count: horizon)
        var forecast = [Double](repeating: 0, count: horizon)
        for window in 0..<windows.count {
            map.forecast(windows, window: window, into: &forecast)
            for h in 0..<horizon { residuals[h].append(Double(windows.targets[window * horizon + h]) - forecast[h]) }
        }
        var offsets = [Double](repeating: 0, count: horizon * count)
        for h in 0..<horizon {
            residuals[h].sort()
            for (q, level) in quantiles.enumerated() {
                offsets[h * count + q] = Quantile.linear(residuals[h], at: Double(level))
            }
            let centre = (0..<count).reduce(0.0) { $0 + Double(pointWeights[$1]) * offsets[h * count + $1] }
            for q in 0..<count { offsets[h * count + q] -= centre }
        }
        return offsets
    }

    /// Split-conformal interval calibration: the factor `s` by which every quantile's distance
    /// from the point forecast is scaled so that a share `nominal` of the validation targets
    /// fall between the outer quantiles. 1 when there is nothing to calibrate.
    public static func intervalScale(
        _ model: StackedLSTM, on windows: WindowSet, point: Int, volatility: Volatility? = nil
    ) -> Double {
        let configuration = model.configuration
        let quantiles = configuration.quantiles
        guard quantiles.count >= 2, windows.count > 0, let first = quantiles.first, let last = quantiles.last else {
            return 1
        }
        let nominal = Double(last - first)
        let outputs = InferenceSession(model: model, threads: 1).predict(windows.inputs, count: windows.count)
        let count = quantiles.count
        var needed: [Double] = []
        needed.reserveCapacity(windows.count * configuration.horizon)
        for index in 0..<(windows.count * configuration.horizon) {
            let factor = volatility?.factor(windows, window: index / configuration.horizon) ?? 1
            let target = Double(windows.targets[index])
            let median = Double(outputs[index * count + point])
            let low = Double(outputs[index * count])
            let high = Double(outputs[index * count + count - 1])
            let width = factor * (target >= median ? high - median : median - low)
            needed.append(width > 1e-9 ? abs(target - median) / width : (abs(target - median) < 1e-12 ? 0 : 1e6))
        }
        needed.sort()
        let rank = min(needed.count - 1, Int((Double(needed.count + 1) * nominal).rounded(.up)) - 1)
        let scale = needed[max(0, rank)]
        return scale.isFinite && scale > 0 ? min(scale, 10) : 1
    }
}
