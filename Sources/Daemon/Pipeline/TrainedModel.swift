import Forecast
import Foundation
import Ingest

/// A trained network with what is needed to use it on new data: each series' scalers and
/// the time of the newest observation it was trained on.
struct TrainedModel: Sendable {
    var model: StackedLSTM
    /// Per series key: target scaler, then one per covariate.
    var scalers: [String: [Scaler]]
    /// Time (µs since the Unix epoch) of the newest observation used in training.
    var trainedThrough: Int64
    /// How windows were cut for this network (inference must cut them the same way).
    var window: WindowOptions
    /// Quantile distances from the point forecast are multiplied by this (calibrated on the
    /// validation windows so the outer quantiles hold their nominal share of actuals).
    var intervalScale: Double = 1
    /// Scales intervals with each window's recent volatility (nil: constant width).
    var volatility: Volatility?
    var trainLoss: Double?
    var validationLoss: Double?
    /// Figures for `forecast.model_versions.metrics` (epochs, windows, seconds, ...).
    var metrics: [String: Double] = [:]

    /// The caller data stored in the checkpoint's metadata (JSON).
    struct Metadata: Codable {
        var format = 1
        var scalers: [String: [Scaler]]
        var trainedThrough: Int64
        var window: WindowOptions
        var intervalScale: Double?
        var volatility: Volatility?
    }

    /// One forecast step in original units from the model's outputs `scaled` [quantiles]
    /// (relative to `anchor`, in `scaler`'s units):
    /// - `quantiles`: every quantile, the interval scale (times `factor`, the window's
    ///   volatility factor, 1 without volatility scaling) applied around the median;
    /// - `value`: the point forecast, `settings.pointWeights` applied to the unscaled outputs
    ///   (widening or narrowing intervals must not move it; it is what validation chose the
    ///   model by), kept inside `[first, last]` of `quantiles` when those were narrowed around
    ///   the median so far that it would fall outside.
    func step(
        _ scaled: [Float], anchor: Float, scaler: Scaler, settings: ModelSettings, factor: Double = 1
    ) -> (value: Double, quantiles: [Double]) {
        let median = scaled[scaled.count > 1 ? settings.pointQuantile : 0]
        let scale = Float(intervalScale * factor)
        let quantiles = scaled.map { value in Double(scaler.invert(median + scale * (value - median) + anchor)) }
        var weighted: Float = 0
        for (q, weight) in settings.pointWeights.enumerated() { weighted += weight * scaled[q] }
        let value = Double(scaler.invert(weighted + anchor))
        guard quantiles.count > 1, let lower = quantiles.first, let upper = quantiles.last, lower <= upper else {
            return (value, quantiles)
        }
        return (min(max(value, lower), upper), quantiles)
    }

    /// The volatility factor of window `window` in `inputs` ([count, lookback, features]).
    func volatilityFactor(_ inputs: [Float], window: Int) -> Double {
        guard let volatility else { return 1 }
        let configuration = model.configuration
        return volatility.factor(
            inputs: inputs, window: window, lookback: configuration.lookback, features: configuration.featureCount)
    }

    /// The checkpoint stored in `forecast.model_versions.checkpoint`, with `window` in its metadata.
    func checkpoint() throws -> [UInt8] {
        let metadata = Metadata(
            scalers: scalers, trainedThrough: trainedThrough, window: window, intervalScale: intervalScale,
            volatility: volatility)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Checkpoint(model: model, metadata: Array(try encoder.encode(metadata))).serialized()
    }

    /// Loads a checkpoint written by `checkpoint(window:)`.
    init(checkpoint bytes: [UInt8], trainLoss: Double?, validationLoss: Double?) throws {
        let checkpoint = try Checkpoint(bytes: bytes)
        let metadata = try JSONDecoder().decode(Metadata.self, from: Data(checkpoint.metadata))
        self.init(
            model: checkpoint.model, scalers: metadata.scalers, trainedThrough: metadata.trainedThrough,
            window: metadata.window, intervalScale: metadata.intervalScale ?? 1, volatility: metadata.volatility,
            trainLoss: trainLoss, validationLoss: validationLoss)
    }

    init(
        model: StackedLSTM, scalers: [String: [Scaler]], trainedThrough: Int64, window: WindowOptions,
        intervalScale: Double = 1, volatility: Volatility? = nil, trainLoss: Double?, validationLoss: Double?,
        metrics: [String: Double] = [:]
    ) {
        self.window = window
        self.intervalScale = intervalScale
        self.volatility = volatility
        self.model = model
        self.scalers = scalers
        self.trainedThrough = trainedThrough
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.metrics = metrics
    }
}
