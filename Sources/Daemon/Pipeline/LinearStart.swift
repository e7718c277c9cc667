import Forecast
import Ingest

/// Starting points that make training converge fast and intervals honest.
enum LinearStart {
    /// Ridge strengths tried, as multiples of the mean diagonal of `XᵀX` (`trace / lookback`).
    static let ridgeGrid: [Double] = [1e-3, 1e-2, 0.1, 0.3, 1, 3]

    /// Ridge least-squares map with intercept from each window's target channel to its targets:
    /// X `[count, lookback]` (channel 0), Y `[count, horizon]`, the intercept unpenalised (the
    /// mean drift of windows relative to their last value is real signal: at long horizons it
    /// is worth more than the ridge). With `validation`, λ is the value of `ridgeGrid` (times
    /// `trace(XᵀX) / lookback`) whose map has the lowest mean squared error on the validation
    /// windows (the same rule for every data set: more shrinkage where the past says less
    /// about the future); without, the smallest. Nil when no system can be solved.
    static func solve(_ windows: WindowSet, validation: WindowSet? = nil) -> LinearMap? {
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
    static func apply(_ map: LinearMap, offsets: [Double]? = nil, to model: inout StackedLSTM) {
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
    static func residualOffsets(
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
                offsets[h * count + q] = Scaler.quantile(residuals[h], Double(level))
            }
            let centre = (0..<count).reduce(0.0) { $0 + Double(pointWeights[$1]) * offsets[h * count + $1] }
            for q in 0..<count { offsets[h * count + q] -= centre }
        }
        return offsets
    }

    /// Split-conformal interval calibration: the factor `s` by which every quantile's distance
    /// from the point forecast is scaled so that a share `nominal` of the validation targets
    /// fall between the outer quantiles. 1 when there is nothing to calibrate.
    static func intervalScale(
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

/// How calm or turbulent a window's recent past is, relative to training: the RMS of the
/// last `steps` one-step changes of the target channel, divided by the median of that over
/// training windows. Intervals scale with (the square root of) it, so they narrow in calm
/// stretches and widen in turbulent ones instead of keeping the width of the data they were
/// calibrated on.
struct Volatility: Sendable, Codable, Equatable {
    var steps: Int
    var reference: Double

    /// Fitted on (a sample of) training windows.
    init?(_ windows: WindowSet) {
        let steps = min(windows.lookback - 1, 72)
        guard steps >= 2, windows.count > 0 else { return nil }
        var values = (0..<min(windows.count, 4096)).map { index in
            Self.raw(
                windows.inputs, window: index * max(1, windows.count / 4096), lookback: windows.lookback,
                features: windows.features, steps: steps)
        }
        self.steps = steps
        values.sort()
        reference = values[values.count / 2]
        guard reference > 1e-9 else { return nil }
    }

    static func raw(_ inputs: [Float], window: Int, lookback: Int, features: Int, steps: Int) -> Double {
        let base = window * lookback * features
        var sum = 0.0
        for step in (lookback - steps)..<lookback {
            let change = Double(inputs[base + step * features] - inputs[base + (step - 1) * features])
            sum += change * change
        }
        return (sum / Double(steps)).squareRoot()
    }

    /// The factor for window `window` of `windows`: the square root of the volatility ratio
    /// (half-way, on a log scale, between constant and fully proportional widths, which
    /// under- and overshoot on shifting data respectively), between 0.5 and 2.
    func factor(_ windows: WindowSet, window: Int) -> Double {
        factor(inputs: windows.inputs, window: window, lookback: windows.lookback, features: windows.features)
    }

    func factor(inputs: [Float], window: Int, lookback: Int, features: Int) -> Double {
        let value = Self.raw(inputs, window: window, lookback: lookback, features: features, steps: steps)
        return min(2, max(0.5, (value / reference).squareRoot()))
    }
}

/// A linear forecaster of the target channel: `y[h] = intercept[h] + Σ x[lag] weights[lag, h]`.
struct LinearMap: Sendable, Equatable {
    /// [lookback, horizon] row-major.
    var weights: [Double]
    /// [horizon].
    var intercept: [Double]
    /// The ridge strength it was solved with, as a multiple of `trace(XᵀX) / lookback`.
    var ridge: Double = 0

    /// The forecast [horizon] of window `window` of `windows` (its channel 0).
    func forecast(_ windows: WindowSet, window: Int, into forecast: inout [Double]) {
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
    func meanSquaredError(on windows: WindowSet) -> Double {
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

/// The normal equations `ZᵀZ`, `ZᵀY` of a window set, Z = [X | 1] (X: channel 0 of each
/// window `[count, lookback]`, a column of ones for the intercept; Y: targets
/// `[count, horizon]`), accumulated once and solved for any ridge strength.
struct NormalEquations {
    let lookback: Int
    let horizon: Int
    /// `ZᵀZ` [lookback + 1, lookback + 1], symmetric.
    private(set) var gram: [Double]
    /// `ZᵀY` [lookback + 1, horizon].
    private(set) var cross: [Double]

    init(_ windows: WindowSet) {
        lookback = windows.lookback
        horizon = windows.horizon
        let n = lookback + 1
        gram = [Double](repeating: 0, count: n * n)
        cross = [Double](repeating: 0, count: n * horizon)
        var row = [Double](repeating: 1, count: n)
        for window in 0..<windows.count {
            for step in 0..<lookback {
                row[step] = Double(windows.inputs[(window * lookback + step) * windows.features])
            }
            for i in 0..<n {
                let zi = row[i]
                if zi == 0 { continue }
                for j in i..<n { gram[i * n + j] += zi * row[j] }
                for h in 0..<horizon { cross[i * horizon + h] += zi * Double(windows.targets[window * horizon + h]) }
            }
        }
        for i in 0..<n {
            for j in 0..<i { gram[i * n + j] = gram[j * n + i] }
        }
    }

    /// `trace(XᵀX) / lookback`: the scale ridge strengths are given in.
    var meanDiagonal: Double {
        let n = lookback + 1
        return (0..<lookback).reduce(0.0) { $0 + gram[$1 * n + $1] } / Double(max(1, lookback))
    }

    /// The ridge solution (`ridge` added to the diagonal of the weights, not the intercept) by
    /// Cholesky, or nil when not positive definite or not finite.
    func solve(ridge: Double) -> LinearMap? {
        let n = lookback + 1
        var lower = gram
        for i in 0..<lookback { lower[i * n + i] += ridge }
        // Cholesky: lower Lᵀ, then two triangular solves per target column.
        for j in 0..<n {
            var diagonal = lower[j * n + j]
            for k in 0..<j { diagonal -= lower[j * n + k] * lower[j * n + k] }
            guard diagonal > 1e-12 * max(1, gram[j * n + j]) else { return nil }
            let root = diagonal.squareRoot()
            lower[j * n + j] = root
            for i in (j + 1)..<max(j + 1, n) {
                var value = lower[i * n + j]
                for k in 0..<j { value -= lower[i * n + k] * lower[j * n + k] }
                lower[i * n + j] = value / root
            }
        }
        var solution = [Double](repeating: 0, count: n * horizon)
        var column = [Double](repeating: 0, count: n)
        for h in 0..<horizon {
            for i in 0..<n {
                var value = cross[i * horizon + h]
                for k in 0..<i { value -= lower[i * n + k] * column[k] }
                column[i] = value / lower[i * n + i]
            }
            for i in stride(from: n - 1, through: 0, by: -1) {
                var value = column[i]
                for k in (i + 1)..<max(i + 1, n) { value -= lower[k * n + i] * solution[k * horizon + h] }
                solution[i * horizon + h] = value / lower[i * n + i]
            }
        }
        guard solution.allSatisfy(\.isFinite) else { return nil }
        return LinearMap(
            weights: Array(solution[..<(lookback * horizon)]), intercept: Array(solution[(lookback * horizon)...]))
    }
}
