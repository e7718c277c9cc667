import Testing

@testable import Forecast

@Suite struct LossTests {
    /// Mean loss and gradient of predictions [1, 2, Q] against targets [1, 2].
    func evaluate(_ loss: Loss, _ predictions: [Float], _ targets: [Float], quantiles: [Float] = []) -> (
        Double, [Float]
    ) {
        var gradient = [Float](repeating: 0, count: predictions.count)
        let sum = loss.accumulate(
            predictions: predictions, targets: targets, batch: 1, horizon: targets.count, quantiles: quantiles,
            scale: 1 / Float(predictions.count), gradient: &gradient)
        return (sum / Double(predictions.count), gradient)
    }

    @Test func pointLosses() {
        let (mse, dMSE) = evaluate(.mse, [1, -2], [0.5, 1])
        #expect(abs(mse - (0.25 + 9) / 2) < 1e-9)
        #expect(dMSE == [0.5, -3])
        let (mae, dMAE) = evaluate(.mae, [1, -2], [0.5, 1])
        #expect(abs(mae - 1.75) < 1e-9)
        #expect(dMAE == [0.5, -0.5])
        let (huber, dHuber) = evaluate(.huber(delta: 1), [1, -2], [0.5, 1])
        #expect(abs(huber - (0.125 + 2.5) / 2) < 1e-9)
        #expect(dHuber == [0.25, -0.5])
    }

    @Test func pinballWeighsEachQuantile() {
        // One horizon step, quantiles 0.1 and 0.9, target 1: predictions 0 (under) and 3 (over).
        let (value, gradient) = evaluate(.pinball, [0, 3], [1], quantiles: [0.1, 0.9])
        #expect(abs(value - (0.1 * 1 + 0.1 * 2) / 2) < 1e-7)
        #expect(abs(gradient[0] - -0.05) < 1e-7 && abs(gradient[1] - 0.05) < 1e-7)
    }
}

@Suite struct DropoutTests {
    @Test func dropoutMasksAreScaledAndReproducible() throws {
        let configuration = ModelConfiguration(hidden: 16, layers: 2, lookback: 10, horizon: 2, dropout: 0.5)
        let model = try StackedLSTM(configuration: configuration, seed: 1)
        var generator = RandomGenerator(seed: 2)
        let inputs = (0..<(8 * 10)).map { _ in generator.nextGaussian() }
        func run(_ seed: UInt64?) -> ([Float], [Float]) {
            let ws = ModelWorkspace(configuration: configuration, batch: 8, training: true)
            inputs.withUnsafeBufferPointer { ws.load(inputs: $0.baseAddress!, targets: nil, indices: 0..<8) }
            var dropout = seed.map { RandomGenerator(seed: $0) }
            model.parameters.withUnsafeBufferPointer {
                model.forward(workspace: ws, parameters: $0.baseAddress!, dropout: &dropout)
            }
            return (ws.output.array, ws.layers[0].mask?.array ?? [])
        }
        let (plain, _) = run(nil)
        let (first, mask) = run(7)
        let (again, _) = run(7)
        #expect(first == again)
        #expect(first != plain)
        #expect(Set(mask) == [0, 2])
        let dropped = Double(mask.filter { $0 == 0 }.count) / Double(mask.count)
        #expect(abs(dropped - 0.5) < 0.05)
        #expect(model.predict(inputs, count: 8) == plain)
    }

    @Test func gradientWithAFixedMaskMatchesFiniteDifferences() throws {
        let configuration = ModelConfiguration(hidden: 3, layers: 3, lookback: 4, horizon: 2, dropout: 0.3)
        let model = try StackedLSTM(configuration: configuration, seed: 5)
        var generator = RandomGenerator(seed: 6)
        let inputs = (0..<(3 * 4)).map { _ in generator.nextGaussian() }
        let targets = (0..<(3 * 2)).map { _ in generator.nextGaussian() }
        func lossAndGradient(_ parameters: [Float]) -> (Double, [Float]) {
            let ws = ModelWorkspace(configuration: configuration, batch: 3, training: true)
            inputs.withUnsafeBufferPointer { x in
                targets.withUnsafeBufferPointer { y in
                    ws.load(inputs: x.baseAddress!, targets: y.baseAddress!, indices: 0..<3)
                }
            }
            var dropout: RandomGenerator? = RandomGenerator(seed: 9)
            let sum = parameters.withUnsafeBufferPointer {
                model.computeGradients(
                    workspace: ws, parameters: $0.baseAddress!, loss: .mse, normalizer: 6, dropout: &dropout)
            }
            return (sum / 6, ws.gradients.array)
        }
        let (_, gradient) = lossAndGradient(model.parameters)
        var worst = 0.0
        for k in 0..<model.parameters.count {
            var plus = model.parameters
            plus[k] += 1e-2
            var minus = model.parameters
            minus[k] -= 1e-2
            let numeric = (lossAndGradient(plus).0 - lossAndGradient(minus).0) / Double(plus[k] - minus[k])
            worst = max(worst, abs(numeric - Double(gradient[k])) / max(abs(numeric), 1e-2))
        }
        #expect(worst < 5e-3, "worst scaled difference \(worst)")
    }
}
