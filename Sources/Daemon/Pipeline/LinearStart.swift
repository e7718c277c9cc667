import Forecast

/// Starting points that make training converge fast and intervals honest.
enum LinearStart {
    /// Ridge least-squares map from each window's target channel to its targets:
    /// `W = (XᵀX + λI)⁻¹ XᵀY`, X `[count, lookback]` (channel 0), Y `[count, horizon]`,
    /// λ = 1e-3 · trace(XᵀX) / lookback. Returns W `[lookback, horizon]` row-major, or nil when
    /// the system cannot be solved.
    static func solve(_ windows: WindowSet) -> [Double]? {
        let lookback = windows.lookback
        let horizon = windows.horizon
        let features = windows.features
        var gram = [Double](repeating: 0, count: lookback * lookback)
        var cross = [Double](repeating: 0, count: lookback * horizon)
        var row = [Double](repeating: 0, count: lookback)
        for window in 0..<windows.count {
            for step in 0..<lookback { row[step] = Double(windows.inputs[(window * lookback + step) * features]) }
            for i in 0..<lookback {
                let xi = row[i]
                if xi == 0 { continue }
                for j in i..<lookback { gram[i * lookback + j] += xi * row[j] }
                for h in 0..<horizon { cross[i * horizon + h] += xi * Double(windows.targets[window * horizon + h]) }
            }
        }
        var trace = 0.0
        for i in 0..<lookback {
            for j in 0..<i { gram[i * lookback + j] = gram[j * lookback + i] }
            trace += gram[i * lookback + i]
        }
        let ridge = max(1e-9, 1e-3 * trace / Double(lookback))
        for i in 0..<lookback { gram[i * lookback + i] += ridge }
        // Cholesky: gram = L Lᵀ, then two triangular solves per target column.
        var lower = gram
        for j in 0..<lookback {
            var diagonal = lower[j * lookback + j]
            for k in 0..<j { diagonal -= lower[j * lookback + k] * lower[j * lookback + k] }
            guard diagonal > 0 else { return nil }
            let root = diagonal.squareRoot()
            lower[j * lookback + j] = root
            for i in (j + 1)..<max(j + 1, lookback) {
                var value = lower[i * lookback + j]
                for k in 0..<j { value -= lower[i * lookback + k] * lower[j * lookback + k] }
                lower[i * lookback + j] = value / root
            }
        }
        var solution = [Double](repeating: 0, count: lookback * horizon)
        var column = [Double](repeating: 0, count: lookback)
        for h in 0..<horizon {
            for i in 0..<lookback {
                var value = cross[i * horizon + h]
                for k in 0..<i { value -= lower[i * lookback + k] * column[k] }
                column[i] = value / lower[i * lookback + i]
            }
            for i in stride(from: lookback - 1, through: 0, by: -1) {
                var value = column[i]
                for k in (i + 1)..<max(i + 1, lookback) { value -= lower[k * lookback + i] * solution[k * horizon + h] }
                solution[i * horizon + h] = value / lower[i * lookback + i]
            }
        }
        return solution.allSatisfy(\.isFinite) ? solution : nil
    }

    /// Sets the model's linear skip to `solution` for every quantile output and zeroes the
    /// head, so the untrained model is exactly the linear forecaster (a random head would add
    /// noise of the order of the targets); the LSTM then learns only what improves on it.
    static func apply(_ solution: [Double], to model: inout StackedLSTM) {
        guard let range = model.layout.range(of: .skipWeight) else { return }
        for tensor in [ParameterTensor.headWeight, .headBias] {
            if let head = model.layout.range(of: tensor) {
                for index in head { model.parameters[index] = 0 }
            }
        }
        let configuration = model.configuration
        let quantiles = configuration.quantileCount
        let lookback = configuration.lookback
        for step in 0..<configuration.horizon {
            for quantile in 0..<quantiles {
                let output = step * quantiles + quantile
                for lag in 0..<lookback {
                    model.parameters[range.lowerBound + output * lookback + lag] =
                        Float(solution[lag * configuration.horizon + step])
                }
            }
        }
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
