import Testing

@testable import Forecast

/// Windows cut from a noisy sine of period 24 (noise sd 0.1).
func noisySineWindows(
    count: Int, lookback: Int, horizon: Int, seed: UInt64, offset: Int = 0
) throws -> WindowSet {
    var generator = RandomGenerator(seed: seed)
    let length = offset + count + lookback + horizon
    let series = (0..<length).map { t in
        Float(sinTable(Double(t) * 2 * Double.pi / 24)) + 0.1 * generator.nextGaussian()
    }
    var inputs: [Float] = []
    var targets: [Float] = []
    for w in offset..<(offset + count) {
        inputs += series[w..<(w + lookback)]
        targets += series[(w + lookback)..<(w + lookback + horizon)]
    }
    return try WindowSet(inputs: inputs, targets: targets, lookback: lookback, features: 1, horizon: horizon)
}

/// sin(x) by its Taylor series after reduction to [-pi, pi] (tests avoid Foundation here).
func sinTable(_ x: Double) -> Double {
    var r = x.truncatingRemainder(dividingBy: 2 * Double.pi)
    if r > Double.pi { r -= 2 * Double.pi }
    if r < -Double.pi { r += 2 * Double.pi }
    var term = r
    var sum = r
    for n in 1..<12 {
        term *= -r * r / Double((2 * n) * (2 * n + 1))
        sum += term
    }
    return sum
}

@Suite struct TrainerTests {
    static let lookback = 36
    static let horizon = 12

    func naiveMSE(_ windows: WindowSet) -> Double {
        var total = 0.0
        for w in 0..<windows.count {
            let last = Double(windows.inputs[(w + 1) * windows.lookback - 1])
            for k in 0..<windows.horizon {
                let e = Double(windows.targets[w * windows.horizon + k]) - last
                total += e * e
            }
        }
        return total / Double(windows.count * windows.horizon)
    }

    @Test func learnsNoisySineFarBetterThanTheNaiveForecast() throws {
        let train = try noisySineWindows(count: 480, lookback: Self.lookback, horizon: Self.horizon, seed: 1)
        let validation = try noisySineWindows(
            count: 120, lookback: Self.lookback, horizon: Self.horizon, seed: 2, offset: 500)
        let configuration = ModelConfiguration(hidden: 16, layers: 2, lookback: Self.lookback, horizon: Self.horizon)
        let model = try StackedLSTM(configuration: configuration, seed: 3)
        let options = TrainingOptions(
            epochs: 30, batchSize: 32, learningRate: 1e-2,
            schedule: .cosine(warmupSteps: 10, minimumFactor: 0.05), seed: 4, threads: 2, patience: 8)
        let trainer = try Trainer(model: model, options: options)
        var epochEvents = 0
        let report = try trainer.fit(train: train, validation: validation) { event in
            if case .epoch = event { epochEvents += 1 }
            return .continue
        }
        let naive = naiveMSE(validation)
        let best = try #require(report.bestValidationLoss)
        #expect(best < 0.1 * naive, "validation MSE \(best) vs naive \(naive)")
        #expect(epochEvents == report.epochs)
        // The model holds the best weights.
        #expect(abs(trainer.evaluate(validation) - best) <= 1e-6 * best)
    }

    @Test func sameSeedGivesIdenticalWeights() throws {
        let train = try noisySineWindows(count: 40, lookback: 12, horizon: 4, seed: 5)
        let configuration = ModelConfiguration(hidden: 6, layers: 2, lookback: 12, horizon: 4, dropout: 0.2)
        func run(seed: UInt64) throws -> [Float] {
            let model = try StackedLSTM(configuration: configuration, seed: seed)
            let trainer = try Trainer(
                model: model, options: TrainingOptions(epochs: 2, batchSize: 8, seed: seed, threads: 2))
            _ = try trainer.fit(train: train)
            return trainer.model.parameters
        }
        let first = try run(seed: 9)
        #expect(try run(seed: 9) == first)
        #expect(try run(seed: 10) != first)
    }

    @Test func earlyStoppingRestoresTheBestWeights() throws {
        let train = try noisySineWindows(count: 32, lookback: 8, horizon: 2, seed: 6)
        let validation = try noisySineWindows(count: 16, lookback: 8, horizon: 2, seed: 7, offset: 40)
        let configuration = ModelConfiguration(hidden: 4, layers: 1, lookback: 8, horizon: 2)
        let model = try StackedLSTM(configuration: configuration, seed: 1)
        // A huge learning rate makes validation loss jump around, so the last epoch is rarely best.
        let trainer = try Trainer(
            model: model,
            options: TrainingOptions(epochs: 12, batchSize: 8, learningRate: 0.3, gradientClipNorm: nil, patience: 3))
        let report = try trainer.fit(train: train, validation: validation)
        let bestEpoch = try #require(report.bestEpoch)
        let best = try #require(report.bestValidationLoss)
        // One score per epoch; the best is their minimum, first reached at `bestEpoch` (the
        // default minimum improvement is 0: a tie is no improvement).
        #expect(report.validationLosses.count == report.epochs)
        #expect(report.validationLosses.min() == best)
        #expect(report.validationLosses.firstIndex(of: best) == bestEpoch)
        #expect(abs(trainer.evaluate(validation) - best) <= 1e-6)
        if report.stopReason == .earlyStopping {
            #expect(report.epochs == bestEpoch + 1 + 3)
        } else {
            #expect(report.stopReason == .completed && report.epochs == 12)
            #expect(report.epochs - 1 - bestEpoch < 3, "patience 3 would have stopped it")
        }
    }

    /// With point weights, validation scores the weighted point forecast's MSE, and the weights
    /// `fit` keeps are the best by that score.
    @Test func validationByPointForecastError() throws {
        let train = try noisySineWindows(count: 32, lookback: 8, horizon: 2, seed: 6)
        let validation = try noisySineWindows(count: 16, lookback: 8, horizon: 2, seed: 7, offset: 40)
        let configuration = ModelConfiguration(
            hidden: 4, layers: 1, lookback: 8, horizon: 2, quantiles: [0.1, 0.5, 0.9])
        var options = TrainingOptions(epochs: 6, batchSize: 8, learningRate: 0.05, loss: .pinball, patience: 3)
        options.validationPointWeights = [0.3, 0.4, 0.3]
        let trainer = try Trainer(model: try StackedLSTM(configuration: configuration, seed: 1), options: options)
        let report = try trainer.fit(train: train, validation: validation)
        let predictions = trainer.model.predict(validation.inputs, count: validation.count)
        var sum = 0.0
        for index in 0..<(validation.count * 2) {
            let point =
                0.3 * predictions[3 * index] + 0.4 * predictions[3 * index + 1] + 0.3 * predictions[3 * index + 2]
            sum += Double((point - validation.targets[index]) * (point - validation.targets[index]))
        }
        let expected = sum / Double(validation.count * 2)
        #expect(abs(trainer.validationScore(validation) - expected) <= 1e-6 * max(1, expected))
        #expect(abs(report.bestValidationLoss! - expected) <= 1e-6 * max(1, expected))
        #expect(report.validationLosses.min() == report.bestValidationLoss)
        // The pinball loss is a different number: the score really is the point MSE.
        #expect(abs(trainer.evaluate(validation) - expected) > 1e-4)

        options.validationPointWeights = []
        #expect(throws: TrainingError.self) { try Trainer(model: trainer.model, options: options) }
        options.validationPointWeights = [0.5, 0.5]  // two weights for three outputs
        #expect(throws: TrainingError.self) { try Trainer(model: trainer.model, options: options) }
    }

    @Test func callbackStopsTraining() throws {
        let train = try noisySineWindows(count: 64, lookback: 8, horizon: 2, seed: 6)
        let model = try StackedLSTM(
            configuration: ModelConfiguration(hidden: 4, layers: 1, lookback: 8, horizon: 2), seed: 1)
        let trainer = try Trainer(model: model, options: TrainingOptions(epochs: 5, batchSize: 8))
        var steps = 0
        let report = try trainer.fit(train: train) { event in
            if case .step = event { steps += 1 }
            return steps == 3 ? .stop : .continue
        }
        #expect(report.steps == 3)
        #expect(report.stopReason == .stoppedByCallback)
    }

    @Test func fineTuneTakesTheStepBudgetAndLowersTheLoss() throws {
        let windows = try noisySineWindows(count: 64, lookback: 12, horizon: 3, seed: 8)
        let model = try StackedLSTM(
            configuration: ModelConfiguration(hidden: 8, layers: 1, lookback: 12, horizon: 3), seed: 2)
        let trainer = try Trainer(model: model, options: TrainingOptions(batchSize: 16, learningRate: 1e-2))
        let before = trainer.evaluate(windows)
        let report = try trainer.fineTune(windows: windows, steps: 40)
        #expect(report.steps == 40)
        #expect(trainer.optimizer.step == 40)
        #expect(trainer.evaluate(windows) < 0.7 * before)
    }

    @Test func rejectsWindowsOfAnotherShape() throws {
        let windows = try noisySineWindows(count: 4, lookback: 10, horizon: 3, seed: 8)
        let model = try StackedLSTM(
            configuration: ModelConfiguration(hidden: 2, layers: 1, lookback: 12, horizon: 3), seed: 2)
        let trainer = try Trainer(model: model, options: TrainingOptions())
        #expect(throws: TrainingError.self) { try trainer.fit(train: windows) }
        #expect(throws: TrainingError.nonFiniteData) {
            try WindowSet(inputs: [.nan, 1], targets: [1], lookback: 2, features: 1, horizon: 1)
        }
    }
}

@Suite struct TrainerCancellationTests {
    @Test func taskCancellationStopsBetweenSteps() async throws {
        let train = try noisySineWindows(count: 64, lookback: 8, horizon: 2, seed: 6)
        let model = try StackedLSTM(
            configuration: ModelConfiguration(hidden: 4, layers: 1, lookback: 8, horizon: 2), seed: 1)
        let task = Task { () throws(TrainingError) -> TrainingReport in
            let trainer = try Trainer(model: model, options: TrainingOptions(epochs: 1000, batchSize: 8))
            return try trainer.fit(train: train) { event in
                if case .step(let step, _, _, _) = event, step == 5 { withUnsafeCurrentTask { $0?.cancel() } }
                return .continue
            }
        }
        let report = try await task.value
        #expect(report.stopReason == .cancelled)
        #expect(report.steps == 5)
    }
}

@Suite struct GradientClippingTests {
    /// With epsilon 1 dominating Adam's denominator, the first update is about `lr * g`, so its
    /// norm shows the clipped gradient norm.
    @Test func firstUpdateHasTheClippedNorm() throws {
        let windows = try noisySineWindows(count: 16, lookback: 6, horizon: 2, seed: 3)
        let model = try StackedLSTM(
            configuration: ModelConfiguration(hidden: 4, layers: 1, lookback: 6, horizon: 2), seed: 4)
        func updateNorm(clip: Float?) throws -> Double {
            let options = TrainingOptions(
                batchSize: 16, learningRate: 0.5, optimizer: AdamOptimizer.Options(epsilon: 1), gradientClipNorm: clip)
            let trainer = try Trainer(model: model, options: options)
            _ = try trainer.fineTune(windows: windows, steps: 1)
            return zip(trainer.model.parameters, model.parameters).reduce(0.0) {
                $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1)
            }.squareRoot()
        }
        let unclipped = try updateNorm(clip: nil)
        #expect(unclipped > 0.5 * 2e-3 * 10)  // the raw gradient norm is well above the clip
        let clipped = try updateNorm(clip: 2e-3)
        #expect(abs(clipped - 0.5 * 2e-3) < 0.02 * 0.5 * 2e-3, "update norm \(clipped)")
    }
}
