/// The error of issued forecasts as their targets arrive (scaled units), for drift.
///
/// The rule: drift is judged only when every series forecast has at least a horizon of
/// matured steps and ten horizons have matured in all. Steps of one forecast are strongly
/// correlated, so the effective sample is about `count / horizon` forecasts; at ten the
/// relative standard error of a mean squared error is about `sqrt(2 / 10) = 0.45`, so the
/// planner's limit (live error 4x the validation error) is more than six standard errors
/// above "no change": a few bad hours cannot trigger a retrain.
struct LiveError: Sendable, Equatable {
    private(set) var sum = 0.0
    private(set) var count = 0
    private(set) var perSeries: [String: Int] = [:]

    /// A matured step's error (forecast minus actual, scaled) for `series`.
    mutating func add(_ error: Double, series: String) {
        guard error.isFinite else { return }
        sum += error * error
        count += 1
        perSeries[series, default: 0] += 1
    }

    /// Live MSE over `reference` (the validation MSE at training time), or nil until the
    /// rule above says there is enough to judge.
    func ratio(to reference: Double, horizon: Int) -> Double? {
        guard reference > 0, count >= 10 * max(1, horizon),
            let fewest = perSeries.values.min(), fewest >= horizon
        else { return nil }
        return (sum / Double(count)) / max(reference, 1e-4)
    }
}
