import Forecast
import Foundation
import Ingest
import PostgresClient
import Testing

@testable import DaemonCore

struct ModelSettingsTests {
    static func settings(options: [String: Any] = [:]) throws -> ModelSettings {
        try ModelSettings(
            name: "m",
            source: SourceDescription(relation: "r", timeColumn: "t", valueColumn: "v", frequency: .hours(1)),
            horizon: 24, lookback: 96, options: options, retrainEverySeconds: nil)
    }

    @Test func defaultsAreTheSameForEverySource() throws {
        let settings = try Self.settings()
        #expect(settings.layers == 2 && settings.hidden == 64 && settings.quantiles == [0.1, 0.5, 0.9])
        #expect(settings.updateEvery == 24 && settings.maxEpochs == 50 && settings.maxHistory == 20_000)
        #expect(settings.configuration.linearSkip && settings.windowOptions.relativeToLast)
    }

    /// A row changed behind `create_model`'s back fails with a message, never a trap.
    @Test(arguments: [
        (#"{"quantiles": [0.9, 0.1]}"#, "quantiles must be increasing"),
        (#"{"quantiles": ["a"]}"#, "quantiles must be an array of numbers"),
        (#"{"layers": 0}"#, "layers must be at least 1"),
        (#"{"update_every": 0}"#, "update_every must be at least 1"),
        (#"{"max_history": 10}"#, "max_history must be at least lookback + horizon"),
        (#"{"covariates": ["c", "c"]}"#, "covariates repeat a column"),
        (#"{"covariates": "c"}"#, "covariates must be an array of column names"),
    ])
    func invalidOptionsAreRejectedWithAMessage(json: String, message: String) throws {
        let options = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect {
            try Self.settings(options: options)
        } throws: { error in
            (error as? ModelSettings.InvalidOptions)?.message == message
        }
    }

    /// A model trained before its options changed asks for a retrain, naming what changed.
    @Test func changedOptionsAreMismatchesOfTheTrainedFacts() throws {
        let old = try Self.settings()
        let new = try Self.settings(options: ["quantiles": [0.05, 0.25, 0.5, 0.75, 0.95], "covariates": ["c"]])
        let model = try StackedLSTM(configuration: old.configuration, seed: 1)
        let trained = TrainedModel(
            model: model, scalers: [:], trainedThrough: 0, window: old.windowOptions, frequency: .hours(1),
            covariates: [], decoder: QuantileDecoder(levels: old.quantiles), trainLoss: nil, validationLoss: nil)
        #expect(trained.mismatches(old).isEmpty)
        #expect(
            trained.mismatches(new) == [
                "covariates [] -> [\"c\"]", "quantiles [0.1, 0.5, 0.9] -> [0.05, 0.25, 0.5, 0.75, 0.95]",
            ])
        let checkpoint = try trained.checkpoint()
        let loaded = try TrainedModel(checkpoint: checkpoint, trainLoss: nil, validationLoss: nil, legacy: new)
        #expect(loaded.covariates == [] && loaded.decoder == trained.decoder && loaded.frequency == .hours(1))
    }
}
