/// Turns a network's outputs for one forecast step into a point forecast and quantiles in
/// original units. A trained model's decoder is part of its facts (stored with its
/// checkpoint), so forecasts never depend on today's settings.
///
/// Outputs are `[quantileCount]` per step, in scaled units relative to the window's anchor
/// (its last scaled value, 0 for absolute windows); `invert` maps scaled units back to the
/// series' own units.
public struct QuantileDecoder: Sendable, Hashable, Codable {
    /// Quantile levels of the outputs, increasing; empty for a single point output.
    public var levels: [Float]
    /// Weight of each output in the point forecast `[max(1, levels.count)]`, summing to 1.
    public var pointWeights: [Float]
    /// Quantile distances from the centre output are multiplied by this (split-conformal
    /// calibration, `LinearStart.intervalScale`).
    public var intervalScale: Double

    /// A decoder for `levels`; `pointWeights` default to `defaultPointWeights(levels)`.
    public init(levels: [Float], pointWeights: [Float]? = nil, intervalScale: Double = 1) {
        self.levels = levels
        self.pointWeights = pointWeights ?? Self.defaultPointWeights(levels)
        self.intervalScale = intervalScale
    }

    /// With P10, P50 and P90 the expected value by Swanson's rule (0.3 P10 + 0.4 P50 +
    /// 0.3 P90), which is what squared errors reward; else 1 on the level nearest the
    /// median; `[1]` for a single output.
    public static func defaultPointWeights(_ levels: [Float]) -> [Float] {
        guard levels.count > 1 else { return [1] }
        var weights = [Float](repeating: 0, count: levels.count)
        if let p10 = levels.firstIndex(of: 0.1), let p50 = levels.firstIndex(of: 0.5),
            let p90 = levels.firstIndex(of: 0.9)
        {
            weights[p10] = 0.3
            weights[p50] = 0.4
            weights[p90] = 0.3
        } else {
            weights[centreIndex(levels)] = 1
        }
        return weights
    }

    /// Index of the level nearest 0.5: the centre intervals are scaled around (0 for none).
    public static func centreIndex(_ levels: [Float]) -> Int {
        levels.indices.min { abs(levels[$0] - 0.5) < abs(levels[$1] - 0.5) } ?? 0
    }

    /// Index of the centre output (see `centreIndex`).
    public var centre: Int { Self.centreIndex(levels) }

    /// Outputs per step: `max(1, levels.count)`.
    public var outputCount: Int { max(1, levels.count) }

    /// One step from `scaled` (`outputCount` values starting at `offset`):
    /// - `quantiles`: every output, the interval scale (times `factor`, the window's volatility
    ///   factor) applied around the centre, then `invert`ed;
    /// - `value`: `pointWeights` applied to the unscaled outputs (widening or narrowing
    ///   intervals must not move it; it is what validation chose the model by), kept inside
    ///   `[first, last]` of `quantiles` when they were narrowed so far that it would fall outside.
    public func decode(
        _ scaled: [Float], offset: Int = 0, anchor: Float, factor: Double = 1, invert: (Float) -> Float
    ) -> (value: Double, quantiles: [Double]) {
        let count = outputCount
        let median = scaled[offset + (count > 1 ? centre : 0)]
        let scale = Float(intervalScale * factor)
        var quantiles = [Double](repeating: 0, count: count)
        for q in 0..<count {
            quantiles[q] = Double(invert(median + scale * (scaled[offset + q] - median) + anchor))
        }
        var weighted: Float = 0
        for (q, weight) in pointWeights.enumerated() { weighted += weight * scaled[offset + q] }
        let value = Double(invert(weighted + anchor))
        guard count > 1, let lower = quantiles.first, let upper = quantiles.last, lower <= upper else {
            return (value, quantiles)
        }
        return (min(max(value, lower), upper), quantiles)
    }
}
