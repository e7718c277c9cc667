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
