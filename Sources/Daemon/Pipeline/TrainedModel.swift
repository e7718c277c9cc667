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
    }

    /// The checkpoint stored in `forecast.model_versions.checkpoint`.
    func checkpoint(window: WindowOptions) throws -> [UInt8] {
        let metadata = Metadata(scalers: scalers, trainedThrough: trainedThrough, window: window)
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
            trainLoss: trainLoss, validationLoss: validationLoss)
    }

    init(
        model: StackedLSTM, scalers: [String: [Scaler]], trainedThrough: Int64, trainLoss: Double?,
        validationLoss: Double?, metrics: [String: Double] = [:]
    ) {
        self.model = model
        self.scalers = scalers
        self.trainedThrough = trainedThrough
        self.trainLoss = trainLoss
        self.validationLoss = validationLoss
        self.metrics = metrics
    }
}
