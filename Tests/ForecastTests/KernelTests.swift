import CKernels
import Foundation
import Testing

/// The C element-wise kernels: activation accuracy and the fused cell step.
@Suite struct KernelTests {
    @Test func sigmoidAndTanhAreAccurateToOneMillionth() {
        // Dense grid over [-30, 30] plus the extremes, against Double libm.
        var xs: [Float] = stride(from: -30.0, through: 30.0, by: 0.000_37).map { Float($0) }
        xs += [-1e-6, 1e-6, 0, -90, 90, -1e4, 1e4, .leastNormalMagnitude]
        var sigmoid = [Float](repeating: 0, count: xs.count)
        var tangent = [Float](repeating: 0, count: xs.count)
        fk_sigmoid(xs.count, xs, &sigmoid)
        fk_tanh(xs.count, xs, &tangent)
        var worstSigmoid = 0.0
        var worstTanh = 0.0
        for (k, x) in xs.enumerated() {
            let d = Double(x)
            worstSigmoid = max(worstSigmoid, abs(Double(sigmoid[k]) - 1 / (1 + exp(-d))))
            worstTanh = max(worstTanh, abs(Double(tangent[k]) - tanh(d)))
        }
        #expect(worstSigmoid <= 1e-6, "sigmoid \(worstSigmoid)")
        #expect(worstTanh <= 1e-6, "tanh \(worstTanh)")
    }

    @Test func tanhKeepsRelativeAccuracyNearZero() {
        let xs: [Float] = [1e-4, -3e-3, 0.01, 0.2, -0.6, 0.624, 0.626]
        var out = [Float](repeating: 0, count: xs.count)
        fk_tanh(xs.count, xs, &out)
        for (x, y) in zip(xs, out) {
            #expect(abs(Double(y) - tanh(Double(x))) <= 4e-7 * abs(tanh(Double(x))))
        }
    }

    @Test func cellForwardComputesTheLSTMEquations() {
        let hidden = 3
        var gates: [Float] = [0.1, -0.2, 0.3, 1.0, -1.0, 0.5, 0.7, -0.8, 0.2, 2.0, 0.0, -2.0]
        let raw = gates.map(Double.init)
        let cPrev: [Float] = [0.5, -0.25, 1.5]
        var c = [Float](repeating: 0, count: hidden)
        var tanhC = c
        var h = c
        fk_lstm_cell_forward(1, hidden, &gates, cPrev, &c, &tanhC, &h)
        func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
        for j in 0..<hidden {
            let i = sigmoid(raw[j])
            let f = sigmoid(raw[hidden + j])
            let g = tanh(raw[2 * hidden + j])
            let o = sigmoid(raw[3 * hidden + j])
            let cell = f * Double(cPrev[j]) + i * g
            #expect(abs(Double(c[j]) - cell) < 1e-6)
            #expect(abs(Double(h[j]) - o * tanh(cell)) < 1e-6)
            #expect(abs(Double(gates[2 * hidden + j]) - g) < 1e-6)
        }
    }
}
