import Forecast
import Foundation
import Ingest

/// A trained network with every fact needed to use it on new data, all stored in its
/// checkpoint: how windows are cut (`window`), the grid (`frequency`), which covariate
/// columns feed which input channel, each series' scalers, the quantile levels, point
/// weights and interval calibration (`decoder`). Code that uses a model asks the model,
/// never today's settings: a model whose settings changed keeps serving with its own facts
/// until a retrained version replaces it (`mismatches(_:)` says when).
struct TrainedModel: Sendable {
    var model: StackedLSTM
    /// Per series key: target scaler, then one per covariate.
    var scalers: [String: [Scaler]]
    /// Time (µs since the Unix epoch) of the newest observation used in training.
    var trainedThrough: Int64
    /// How windows were cut for this network (inference must cut them the same way).
    var window: WindowOptions
    /// The grid the series were read on.
    var frequency: Frequency
    /// Covariate columns, in input channel order (after the target, before calendar inputs).
    var covariates: [String]
    /// From outputs to point forecast and quantiles (levels, point weights, interval scale).
    var decoder: QuantileDecoder
    /// Scales intervals with each window's recent volatility (nil: constant width).
    var volatility: Volatility?
    var trainLoss: Double?
    var validationLoss: Double?
    /// Figures for `forecast.model_versions.metrics` (not stored in the checkpoint).
    var metrics = VersionMetrics()

    /// The caller data stored in the checkpoint's metadata (JSON). Format 1 (before the
    /// checkpoint carried every fact) lacks `frequency`, `covariates` and `pointWeights`.
    struct Metadata: Codable {
        var format = 2
        var scalers: [String: [Scaler]]
        var trainedThrough: Int64
        var window: WindowOptions
        var intervalScale: Double?
        var volatility: Volatility?
        var frequency: Frequency?
        var covariates: [String]?
        var pointWeights: [Float]?
    }

    /// A checkpoint whose facts do not fit together (a damaged or foreign checkpoint).
    struct InvalidCheckpoint: Error, CustomStringConvertible {
        var message: String
        var description: String { "invalid checkpoint: \(message)" }
    }

    /// One forecast step in original units from the model's outputs `scaled` (its
    /// `quantileCount` values from `offset`), relative to `anchor` in `scaler`'s units;
    /// `factor` is the window's volatility factor (see `QuantileDecoder.decode`).
    func step(
        _ scaled: [Float], offset: Int = 0, anchor: Float, scaler: Scaler, factor: Double = 1
    ) -> (value: Double, quantiles: [Double]) {
        decoder.decode(scaled, offset: offset, anchor: anchor, factor: factor, invert: scaler.invert)
    }

    /// The volatility factor of window `window` in `inputs` ([count, lookback, features]).
    func volatilityFactor(_ inputs: [Float], window: Int) -> Double {
        guard let volatility else { return 1 }
        let configuration = model.configuration
        return volatility.factor(
            inputs: inputs, window: window, lookback: configuration.lookback, features: configuration.featureCount)
    }

    /// How `settings` differ from this model's facts in ways that need a new network
    /// ("horizon 24 -> 48"); empty when the model serves `settings` as they are.
    func mismatches(_ settings: ModelSettings) -> [String] {
        var changes: [String] = []
        func compare<Value: Equatable>(_ name: String, _ old: Value, _ new: Value) {
            if old != new { changes.append("\(name) \(old) -> \(new)") }
        }
        let configuration = model.configuration
        let wanted = settings.configuration
        compare("lookback", window.lookback, settings.lookback)
        compare("horizon", window.horizon, settings.horizon)
        compare("frequency", frequency, settings.source.frequency)
        compare("covariates", covariates, settings.source.covariateColumns)
        compare("calendar", window.calendar, settings.windowOptions.calendar)
        compare("quantiles", configuration.quantiles, wanted.quantiles)
        compare("layers", configuration.layers, wanted.layers)
        compare("hidden", configuration.hidden, wanted.hidden)
        return changes
    }

    /// The checkpoint stored in `forecast.model_versions.checkpoint`.
    func checkpoint() throws -> [UInt8] {
        let metadata = Metadata(
            scalers: scalers, trainedThrough: trainedThrough, window: window, intervalScale: decoder.intervalScale,
            volatility: volatility, frequency: frequency, covariates: covariates, pointWeights: decoder.pointWeights)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Checkpoint(model: model, metadata: Array(try encoder.encode(metadata))).serialized()
    }

    /// Loads a checkpoint written by `checkpoint()`. A format-1 checkpoint lacks its grid and
    /// covariate names: `legacy` (the model's settings when it is loaded) supplies them once,
    /// and only if they fit the network's shape.
    init(checkpoint bytes: [UInt8], trainLoss: Double?, validationLoss: Double?, legacy: ModelSettings) throws {
        let checkpoint = try Checkpoint(bytes: bytes)
        let metadata = try JSONDecoder().decode(Metadata.self, from: Data(checkpoint.metadata))
        let configuration = checkpoint.model.configuration
        let covariates = metadata.covariates ?? legacy.source.covariateColumns
        guard metadata.window.featureCount(covariates: covariates.count) == configuration.featureCount else {
            throw InvalidCheckpoint(
                message: "\(configuration.featureCount) input channels, but its window options and "
                    + "\(covariates.count) covariates make \(metadata.window.featureCount(covariates: covariates.count))"
            )
        }
        guard metadata.window.lookback == configuration.lookback, metadata.window.horizon == configuration.horizon
        else { throw InvalidCheckpoint(message: "window options do not match the network's lookback and horizon") }
        let decoder = QuantileDecoder(
            levels: configuration.quantiles, pointWeights: metadata.pointWeights,
            intervalScale: metadata.intervalScale ?? 1)
        guard decoder.pointWeights.count == decoder.outputCount else {
            throw InvalidCheckpoint(
                message: "\(decoder.pointWeights.count) point weights for \(decoder.outputCount) outputs per step")
        }
        self.init(
            model: checkpoint.model, scalers: metadata.scalers, trainedThrough: metadata.trainedThrough,
            window: metadata.window, frequency: metadata.frequency ?? legacy.source.frequency,
            covariates: covariates, decoder: decoder, volatility: metadata.volatility, trainLoss: trainLoss,
            validationLoss: validationLoss)
    }

    init(
        model: StackedLSTM, scalers: [String: [Scaler]], trainedThrough: Int64, window: WindowOptions,
        frequency: Frequency, covariates: [String], decoder: QuantileDecoder, volatility: Volatility? = nil,
        trainLoss: Double?, validationLoss: Double?, metrics: VersionMetrics = VersionMetrics()
    ) {
        self.model = model
        self.scalers = scalers
        self.trainedThrough = trainedThrough
        self.window = window
        self.frequency = frequency
        self.covariates = covariates
        self.decoder = decoder
        self.volatility = volatility
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.metrics = metrics
    }
}
