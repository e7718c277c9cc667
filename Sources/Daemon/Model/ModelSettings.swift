import Forecast
import Foundation
import Ingest

/// A model as registered in `forecast.models`, with its options resolved to defaults.
///
/// The defaults are the same for every data set (no tuning per source inside forecastd).
struct ModelSettings: Sendable, Hashable {
    var name: String
    var source: SourceDescription
    var horizon: Int
    var lookback: Int
    var layers = 2
    var hidden = 64
    var quantiles: [Float] = [0.1, 0.5, 0.9]
    var calendar = false
    var timeZone = "UTC"
    var learningRate: Float = 1e-3
    var maxEpochs = 50
    /// New steps per incremental update; the horizon when not set.
    var updateEvery: Int
    /// Seconds between scheduled full retrains, or nil.
    var retrainEvery: Double?
    var maxHistory = 20_000

    /// Options of `forecast.create_model` that this daemon understands.
    struct InvalidOptions: Error, CustomStringConvertible {
        var message: String
        var description: String { "invalid model options: \(message)" }
    }

    init(
        name: String, source: SourceDescription, horizon: Int, lookback: Int, options: [String: Any],
        retrainEverySeconds: Double?
    ) throws {
        self.name = name
        self.source = source
        self.horizon = horizon
        self.lookback = lookback
        updateEvery = horizon
        func integer(_ key: String) throws -> Int? {
            guard let value = options[key] else { return nil }
            guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded() else {
                throw InvalidOptions(message: "\(key) must be an integer")
            }
            return number.intValue
        }
        layers = try integer("layers") ?? layers
        hidden = try integer("hidden") ?? hidden
        maxEpochs = try integer("max_epochs") ?? maxEpochs
        updateEvery = try integer("update_every") ?? updateEvery
        maxHistory = try integer("max_history") ?? maxHistory
        if let rate = options["learning_rate"] as? NSNumber { learningRate = rate.floatValue }
        if let quantiles = options["quantiles"] as? [NSNumber] { self.quantiles = quantiles.map(\.floatValue) }
        if let covariates = options["covariates"] as? [String] { self.source.covariateColumns = covariates }
        if let calendar = options["calendar"] as? Bool { self.calendar = calendar }
        if let zone = options["timezone"] as? String { timeZone = zone }
        retrainEvery = retrainEverySeconds
    }

    /// The network: target, covariates and calendar inputs per step; a linear skip from
    /// the raw lookback window helps long horizons.
    var configuration: ModelConfiguration {
        let windowOptions = self.windowOptions
        return ModelConfiguration(
            inputSize: 1, covariates: windowOptions.featureCount(covariates: source.covariateColumns.count) - 1,
            hidden: hidden, layers: layers, lookback: lookback, horizon: horizon, quantiles: quantiles,
            dropout: layers > 1 ? 0.1 : 0, linearSkip: true)
    }

    var windowOptions: WindowOptions {
        WindowOptions(
            lookback: lookback, horizon: horizon,
            calendar: calendar ? CalendarFeatures(timeZone: timeZone) : nil)
    }

    var readOptions: ReadOptions { ReadOptions(maxHistory: maxHistory) }

    /// Weight of each quantile output in the point forecast `value` (they sum to 1): with P10,
    /// P50 and P90 the expected value by Swanson's rule (0.3 P10 + 0.4 P50 + 0.3 P90), which is
    /// what squared errors reward; else 1 on the quantile nearest the median; `[1]` for a
    /// single output.
    var pointWeights: [Float] {
        guard quantiles.count > 1 else { return [1] }
        var weights = [Float](repeating: 0, count: quantiles.count)
        if let p10 = quantiles.firstIndex(of: 0.1), let p50 = quantiles.firstIndex(of: 0.5),
            let p90 = quantiles.firstIndex(of: 0.9)
        {
            weights[p10] = 0.3
            weights[p50] = 0.4
            weights[p90] = 0.3
        } else {
            weights[pointQuantile] = 1
        }
        return weights
    }

    /// Index of the median (or the middle) quantile: the centre of the intervals.
    var pointQuantile: Int {
        quantiles.indices.min { abs(quantiles[$0] - 0.5) < abs(quantiles[$1] - 0.5) } ?? 0
    }
}
