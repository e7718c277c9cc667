import Foundation
import Testing

@testable import Forecast

/// Pins the fused gate order (PyTorch's: input, forget, cell g, output) on a one-unit layer
/// whose weights are zero, so that each gate is set by its bias alone.
@Suite struct LSTMLayerTests {
    func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    @Test func gateOrderIsInputForgetCellOutput() throws {
        let configuration = ModelConfiguration(hidden: 1, layers: 1, lookback: 2, horizon: 1)
        var model = try StackedLSTM(configuration: configuration, seed: 1)
        model.parameters = [Float](repeating: 0, count: model.layout.count)
        let (bi, bf, bg, bo) = (0.3, -1.2, 0.8, 1.5)
        let biasRange = try #require(model.layout.range(of: .biasIH(layer: 0)))
        for (k, value) in [bi, bf, bg, bo].enumerated() { model.parameters[biasRange.lowerBound + k] = Float(value) }
        let headRange = try #require(model.layout.range(of: .headWeight))
        model.parameters[headRange.lowerBound] = 1  // prediction = h_T

        let c1 = sigmoid(bi) * tanh(bg)
        let c2 = sigmoid(bf) * c1 + sigmoid(bi) * tanh(bg)
        let h2 = sigmoid(bo) * tanh(c2)
        let prediction = model.predict(window: [5, -7])
        #expect(abs(Double(prediction[0]) - h2) < 1e-6)

        // Any other order gives a different answer, so the test can fail.
        let swapped = sigmoid(bi) * tanh(sigmoid(bg) * c1 + sigmoid(bi) * tanh(bf))
        #expect(abs(swapped - h2) > 1e-2)
    }
}

/// The fused step kernel (hidden a multiple of 16) against the GEMM + cell-kernel path.
@Suite struct FusedStepTests {
    @Test(arguments: [(16, 1), (32, 5), (48, 9)])
    func fusedStepMatchesTheGEMMPath(hidden: Int, batch: Int) throws {
        let configuration = ModelConfiguration(inputSize: 3, hidden: hidden, layers: 1, lookback: 6, horizon: 2)
        let model = try StackedLSTM(configuration: configuration, seed: 3)
        var generator = RandomGenerator(seed: 4)
        let inputs = (0..<(batch * 6 * 3)).map { _ in generator.nextGaussian() }
        let layer = model.lstmLayers[0]
        var results: [[Float]] = []
        for fused in [false, true] {
            for training in [false, true] {
                let ws = ModelWorkspace(
                    configuration: configuration, batch: batch, training: training, singleWindowPath: false)
                inputs.withUnsafeBufferPointer { ws.load(inputs: $0.baseAddress!, targets: nil, indices: 0..<batch) }
                model.parameters.withUnsafeBufferPointer { p in
                    layer.forward(
                        parameters: p.baseAddress!, input: ws.input.pointer, batch: batch, steps: 6,
                        state: ws.layers[0], combinedBias: ws.combinedBias.pointer,
                        packed: fused ? ws.packedRecurrent.pointer : nil)
                }
                let state = ws.layers[0]
                results.append(state.h.array + state.c.array + (training ? state.gates.array + state.tanhC.array : []))
            }
        }
        // Orders: [gemm infer, gemm train, fused infer, fused train].
        for (reference, fused) in [(results[0], results[2]), (results[1], results[3])] {
            #expect(reference.count == fused.count)
            let worst = zip(reference, fused).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 2e-6, "max difference \(worst)")
        }
    }
}
