/// Empirical quantiles of sorted samples.
public enum Quantile {
    /// Linear-interpolated quantile `q` (0...1) of `sorted` (ascending, not empty): the value at
    /// position `q * (count - 1)`, interpolated between its neighbours (R's type 7, NumPy's default).
    public static func linear<Value: BinaryFloatingPoint>(_ sorted: [Value], at q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        return Double(sorted[lower]) * (1 - fraction) + Double(sorted[upper]) * fraction
    }
}
