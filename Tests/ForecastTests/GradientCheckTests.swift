import Testing

@testable import Forecast

/// Central finite differences (in Double, around Float parameters) against the hand-written
/// backward pass, on tiny models covering every option: several layers, covariates, the linear
/// skip, sorted quantiles and each loss.
@Suite struct GradientCheckTests {
    struct Case: Sendable, CustomStringConvertible {
        let configuration: ModelConfiguration
        let loss: Loss
        var description: String { "\(loss) layers \(configuration.layers) q \(configuration.quantiles)" }
    }

    static let cases: [Case] = [
        Case(configuration: ModelConfiguration(hidden: 3, layers: 2, lookback: 5, horizon: 2), loss: .mse),
        Case(
            configuration: ModelConfiguration(
                inputSize: 2, covariates: 1, hidden: 4, layers: 1, lookback: 4, horizon: 3, linearSkip: true),
            loss: .huber(delta: 0.3)),
        Case(
            configuration: ModelConfiguration(
                hidden: 3, layers: 2, lookback: 4, horizon: 2, quantiles: [0.1, 0.5, 0.9], linearSkip: true),
            loss: .pinball),
        Case(configuration: ModelConfiguration(hidden: 2, layers: 3, lookback: 3, horizon: 2), loss: .mae),
    ]

    @Test(arguments: cases)
    func backwardMatchesFiniteDifferences(_ testCase: Case) throws {
        let configuration = testCase.configuration
        var model = try StackedLSTM(configuration: configuration, seed: 7)
        var generator = RandomGenerator(seed: 11)
        // Give the skip weights non-zero values so that their path is exercised too.
        if let skip = model.layout.range(of: .skipWeight) {
            for k in skip { model.parameters[k] = generator.nextFloat(in: -0.3, 0.3) }
        }
        let batch = 3
        let inputs = (0..<(batch * configuration.lookback * configuration.featureCount)).map { _ in
            generator.nextGaussian()
        }
        let targets = (0..<(batch * configuration.horizon)).map { _ in generator.nextGaussian() }
        let (_, gradient) = model.lossAndGradient(inputs: inputs, targets: targets, count: batch, loss: testCase.loss)

        let step: Float = 1e-2
        var worst = 0.0
        for k in 0..<model.parameters.count {
            var plus = model
            plus.parameters[k] += step
            var minus = model
            minus.parameters[k] -= step
            let up = plus.lossAndGradient(inputs: inputs, targets: targets, count: batch, loss: testCase.loss).loss
            let down = minus.lossAndGradient(inputs: inputs, targets: targets, count: batch, loss: testCase.loss).loss
            let numeric = (up - down) / Double(plus.parameters[k] - minus.parameters[k])
            worst = max(worst, abs(numeric - Double(gradient[k])) / max(abs(numeric), 1e-2))
        }
        // Kinks (MAE, pinball, Huber, sorting) are rarely straddled with random data; a
        // difference step of 1e-2 keeps Float32 rounding noise near 1e-5; measured worst 1.2e-3.
        #expect(worst < 5e-3, "worst scaled difference \(worst)")
    }
}
