/// How calm or turbulent a window's recent past is, relative to training: the RMS of the
/// last `steps` one-step changes of the target channel, divided by the median of that over
/// training windows. Intervals scale with (the square root of) it, so they narrow in calm
/// stretches and widen in turbulent ones instead of keeping the width of the data they were
/// calibrated on.
public struct Volatility: Sendable, Codable, Equatable {
    public var steps: Int
    public var reference: Double

    /// Fitted on (a sample of) training windows.
    public init?(_ windows: WindowSet) {
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

    public static func raw(_ inputs: [Float], window: Int, lookback: Int, features: Int, steps: Int) -> Double {
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
    public func factor(_ windows: WindowSet, window: Int) -> Double {
        factor(inputs: windows.inputs, window: window, lookback: windows.lookback, features: windows.features)
    }

    public func factor(inputs: [Float], window: Int, lookback: Int, features: Int) -> Double {
        let value = Self.raw(inputs, window: window, lookback: lookback, features: features, steps: steps)
        return min(2, max(0.5, (value / reference).squareRoot()))
    }
}
