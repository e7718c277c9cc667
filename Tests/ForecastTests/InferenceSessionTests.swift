import Testing

@testable import Forecast

@Suite struct InferenceSessionTests {
    static let configuration = ModelConfiguration(
        inputSize: 2, covariates: 1, hidden: 12, layers: 2, lookback: 20, horizon: 5, quantiles: [0.1, 0.5, 0.9],
        linearSkip: true)

    func windows(_ count: Int) -> [Float] {
        var generator = RandomGenerator(seed: 42)
        return (0..<(count * 20 * 3)).map { _ in generator.nextGaussian() }
    }

    @Test func shardedBatchesMatchOneThread() throws {
        let model = try StackedLSTM(configuration: Self.configuration, seed: 5)
        let inputs = windows(61)
        let reference = model.predict(inputs, count: 61, threads: 1)
        let session = InferenceSession(model: model, threads: 2, maxShardBatch: 7)
        for _ in 0..<20 {
            let sharded = session.predict(inputs, count: 61)
            #expect(zip(sharded, reference).allSatisfy { abs($0 - $1) <= 1e-6 })
        }
    }

    @Test func singleWindowMatchesItsBatchRow() throws {
        let model = try StackedLSTM(configuration: Self.configuration, seed: 6)
        let inputs = windows(4)
        let batched = model.predict(inputs, count: 4)
        let session = InferenceSession(model: model)
        let outputs = Self.configuration.outputSize
        for w in 0..<4 {
            let single = session.predict(window: Array(inputs[(w * 60)..<((w + 1) * 60)]))
            #expect(zip(single, batched[(w * outputs)..<((w + 1) * outputs)]).allSatisfy { abs($0 - $1) <= 1e-6 })
        }
    }

    /// Shapes of the single-window path (`fk_lstm_layer_single`): hidden a multiple of 16; a
    /// lookback that is not a multiple of the 8-row projection tile, one shorter than a tile,
    /// one exactly a tile, and a single layer (no next layer to project for).
    @Test(arguments: [(32, 3, 21), (16, 2, 5), (32, 2, 8), (16, 1, 13)])
    func pipelinedSingleWindowMatchesBatchedPath(hidden: Int, layers: Int, lookback: Int) throws {
        let configuration = ModelConfiguration(
            inputSize: 3, hidden: hidden, layers: layers, lookback: lookback, horizon: 4, quantiles: [0.1, 0.5, 0.9],
            linearSkip: true)
        let first = try StackedLSTM(configuration: configuration, seed: 11)
        let second = try StackedLSTM(configuration: configuration, seed: 12)
        var generator = RandomGenerator(seed: 3)
        let inputs = (0..<(3 * lookback * 3)).map { _ in 2 * generator.nextGaussian() }
        let session = InferenceSession(model: first)
        let outputs = configuration.outputSize
        for model in [first, second] {
            // The session must repack both weight sets after `update`.
            session.update(parameters: model.parameters)
            let batched = model.predict(inputs, count: 3)
            for w in 0..<3 {
                let single = session.predict(window: Array(inputs[(w * lookback * 3)..<((w + 1) * lookback * 3)]))
                let expected = batched[(w * outputs)..<((w + 1) * outputs)]
                #expect(zip(single, expected).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) })
            }
        }
        #expect(first.parameters != second.parameters)
    }

    @Test func sortedQuantilesNeverCross() throws {
        let model = try StackedLSTM(configuration: Self.configuration, seed: 7)
        let predictions = model.predict(windows(30), count: 30)
        for group in stride(from: 0, to: predictions.count, by: 3) {
            #expect(predictions[group] <= predictions[group + 1] && predictions[group + 1] <= predictions[group + 2])
        }
        var unconstrained = Self.configuration
        unconstrained.quantileOrdering = .unconstrained
        let raw = try StackedLSTM(configuration: unconstrained, parameters: model.parameters).predict(
            windows(30), count: 30)
        // Sorting only reorders each group of raw outputs.
        for group in stride(from: 0, to: raw.count, by: 3) {
            #expect(raw[group..<(group + 3)].sorted() == Array(predictions[group..<(group + 3)]))
        }
    }

    @Test func updatedParametersAreUsedAfterRepacking() throws {
        // hidden 16: the fused kernel with packed weights, cached per parameter generation.
        let configuration = ModelConfiguration(hidden: 16, layers: 2, lookback: 6, horizon: 2)
        let first = try StackedLSTM(configuration: configuration, seed: 1)
        let second = try StackedLSTM(configuration: configuration, seed: 2)
        var generator = RandomGenerator(seed: 3)
        let inputs = (0..<(5 * 6)).map { _ in generator.nextGaussian() }
        func close(_ a: [Float], _ b: [Float]) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= 1e-6 } }
        let session = InferenceSession(model: first, threads: 2)
        #expect(close(session.predict(inputs, count: 5), first.predict(inputs, count: 5)))
        #expect(close(session.predict(inputs, count: 5), first.predict(inputs, count: 5)))
        session.update(parameters: second.parameters)
        #expect(close(session.predict(inputs, count: 5), second.predict(inputs, count: 5)))
        #expect(!close(session.predict(inputs, count: 5), first.predict(inputs, count: 5)))
    }
}

@Suite struct WorkspaceSizeTests {
    @Test(arguments: [false, true])
    func estimateMatchesTheAllocation(training: Bool) throws {
        let configurations = [
            ModelConfiguration(hidden: 3, layers: 1, lookback: 4, horizon: 2),
            ModelConfiguration(
                inputSize: 2, covariates: 3, hidden: 16, layers: 3, lookback: 50, horizon: 7, quantiles: [0.2, 0.8],
                dropout: 0.1, linearSkip: true),
        ]
        for configuration in configurations {
            for batch in [1, 9, 64] {
                let workspace = ModelWorkspace(configuration: configuration, batch: batch, training: training)
                let model = try StackedLSTM(configuration: configuration, seed: 0)
                #expect(model.workspaceBytes(batch: batch, training: training) == 4 * workspace.allocatedFloats)
            }
        }
    }
}
