/// The normal equations `ZᵀZ`, `ZᵀY` of a window set, Z = [X | 1] (X: channel 0 of each
/// window `[count, lookback]`, a column of ones for the intercept; Y: targets
/// `[count, horizon]`), accumulated once and solved for any ridge strength.
public struct NormalEquations {
    public let lookback: Int
    public let horizon: Int
    /// `ZᵀZ` [lookback + 1, lookback + 1], symmetric.
    public private(set) var gram: [Double]
    /// `ZᵀY` [lookback + 1, horizon].
    public private(set) var cross: [Double]

    public init(_ windows: WindowSet) {
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
    public var meanDiagonal: Double {
        let n = lookback + 1
        return (0..<lookback).reduce(0.0) { $0 + gram[$1 * n + $1] } / Double(max(1, lookback))
    }

    /// The ridge solution (`ridge` added to the diagonal of the weights, not the intercept) by
    /// Cholesky, or nil when not positive definite or not finite.
    public func solve(ridge: Double) -> LinearMap? {
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
