import Testing

@testable import Forecast

/// The engine against PyTorch (float64) on the four fixture cases: relative error at most
/// 1e-4, absolute at most 1e-5 where the reference is below 0.1 in magnitude.
@Suite struct StackedLSTMReferenceTests {
    static let tolerance = 1e-4
    static let floor = 0.1
    static let names = ["tiny_one_layer", "stacked_two_layers", "three_layers_long_sequence", "quantile_head"]
    /// Loaded once; a missing or malformed fixture fails every test here, naming the file.
    static let cases = Result { try ReferenceCase.loadAll() }

    static func reference(_ name: String) throws -> ReferenceCase {
        try #require(try cases.get().first { $0.name == name }, "no case \(name) in \(ReferenceCase.fixtureURL.path)")
    }

    @Test func fixtureHasFourCases() throws {
        #expect(try Self.cases.get().map(\.name) == Self.names)
    }

    static func model(_ reference: ReferenceCase) throws -> StackedLSTM {
        try StackedLSTM(configuration: reference.configuration, parameters: reference.parameters.map(Float.init))
    }

    @Test(arguments: names)
    func forwardMatches(name: String) throws {
        let reference = try Self.reference(name)
        let model = try Self.model(reference)
        let configuration = reference.configuration
        let batch = reference.batch
        let steps = configuration.lookback
        let hidden = configuration.hidden
        let workspace = ModelWorkspace(configuration: configuration, batch: batch, training: true)
        let inputs = reference.inputs.map(Float.init)
        inputs.withUnsafeBufferPointer { workspace.load(inputs: $0.baseAddress!, targets: nil, indices: 0..<batch) }
        var noDropout: RandomGenerator? = nil
        model.parameters.withUnsafeBufferPointer {
            model.forward(workspace: workspace, parameters: $0.baseAddress!, dropout: &noDropout)
        }
        #expect(maxScaledError(workspace.output.array, reference.prediction, floor: Self.floor) <= Self.tolerance)

        // Top-layer outputs: ours time-major [T + 1, B, H] from slice 1, reference [B, T, H].
        let top = workspace.layers[configuration.layers - 1].h.array
        var outputs: [Float] = []
        for b in 0..<batch {
            for t in 0..<steps {
                let start = ((t + 1) * batch + b) * hidden
                outputs += top[start..<(start + hidden)]
            }
        }
        #expect(maxScaledError(outputs, reference.topLayerOutputs, floor: Self.floor) <= Self.tolerance)

        let last = steps * batch * hidden..<(steps + 1) * batch * hidden
        let hN = workspace.layers.flatMap { $0.h.array[last] }
        let cN = workspace.layers.flatMap { $0.c.array[last] }
        #expect(maxScaledError(hN, reference.hN, floor: Self.floor) <= Self.tolerance)
        #expect(maxScaledError(cN, reference.cN, floor: Self.floor) <= Self.tolerance)

        // The public batched path agrees with the workspace run.
        let predicted = model.predict(inputs, count: batch, threads: 2)
        #expect(maxScaledError(predicted, reference.prediction, floor: Self.floor) <= Self.tolerance)
    }

    @Test(arguments: names)
    func lossGradientsAndAdamStepMatch(name: String) throws {
        let reference = try Self.reference(name)
        var model = try Self.model(reference)
        let (loss, gradient) = model.lossAndGradient(
            inputs: reference.inputs.map(Float.init), targets: reference.targets.map(Float.init),
            count: reference.batch, loss: reference.loss)
        #expect(abs(loss - reference.lossValue) / abs(reference.lossValue) <= Self.tolerance)
        let gradientError = maxScaledError(gradient, reference.gradients, floor: Self.floor)
        #expect(gradientError <= Self.tolerance, "gradient error \(gradientError)")
        for tensor in tensors(model.layout) {
            let range = try #require(model.layout.range(of: tensor))
            let error = maxScaledError(Array(gradient[range]), Array(reference.gradients[range]), floor: Self.floor)
            #expect(error <= Self.tolerance, "\(tensor): \(error)")
        }

        var optimizer = AdamOptimizer(parameterCount: model.parameters.count, options: reference.adamOptions)
        optimizer.update(parameters: &model.parameters, gradients: gradient, learningRate: reference.adamLearningRate)
        let adamError = maxScaledError(model.parameters, reference.weightsAfterAdam, floor: Self.floor)
        #expect(adamError <= Self.tolerance, "weights after Adam: \(adamError)")
    }

    func tensors(_ layout: ParameterLayout) -> [ParameterTensor] {
        layout.layers.indices.flatMap { l -> [ParameterTensor] in
            [.weightIH(layer: l), .weightHH(layer: l), .biasIH(layer: l), .biasHH(layer: l)]
        } + [.headWeight, .headBias]
    }
}
