import Testing

@testable import Forecast

/// Frozen tensors keep their values while the rest trains.
struct TrainerFrozenTests {
    @Test(arguments: [AdamOptimizer.Options.adam(), .adamW(weightDecay: 0.1)])
    func frozenSkipStaysWhileTheLSTMTrains(optimizer: AdamOptimizer.Options) throws {
        let configuration = ModelConfiguration(hidden: 4, layers: 1, lookback: 6, horizon: 2, linearSkip: true)
        var model = try StackedLSTM(configuration: configuration, seed: 3)
        let skip = try #require(model.layout.range(of: .skipWeight))
        for index in skip { model.parameters[index] = Float(index % 7) * 0.01 }
        let before = model.parameters
        let count = 32
        let inputs = (0..<(count * 6)).map { Float(($0 * 37) % 11) / 11 - 0.5 }
        let targets = (0..<(count * 2)).map { Float(($0 * 13) % 5) / 5 - 0.5 }
        let windows = try WindowSet(inputs: inputs, targets: targets, lookback: 6, features: 1, horizon: 2)
        var options = TrainingOptions(epochs: 2, batchSize: 8, optimizer: optimizer, patience: nil)
        options.frozen = [.skipWeight]
        let trainer = try Trainer(model: model, options: options)
        _ = try trainer.fit(train: windows)
        let after = trainer.model.parameters
        #expect(Array(after[skip]) == Array(before[skip]))
        let head = try #require(model.layout.range(of: .headWeight))
        #expect(Array(after[head]) != Array(before[head]))
    }
}
