import Testing

@testable import Forecast

@Suite struct AdamOptimizerTests {
    /// Two steps by hand, in Double, for Adam with L2 and for AdamW (decoupled decay).
    @Test(arguments: [false, true])
    func matchesTheTorchUpdateRule(decoupled: Bool) {
        let options = AdamOptimizer.Options(
            beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.1, decoupled: decoupled)
        var optimizer = AdamOptimizer(parameterCount: 3, options: options)
        var weights: [Float] = [0.5, -1.0, 2.0]
        let gradients: [[Float]] = [[0.1, -0.2, 0.0], [-0.3, 0.05, 1.0]]
        var w = weights.map(Double.init)
        var m = [0.0, 0.0, 0.0]
        var v = [0.0, 0.0, 0.0]
        let lr = 0.01
        for (t, g) in gradients.enumerated() {
            optimizer.update(parameters: &weights, gradients: g, learningRate: Float(lr))
            let step = Double(t + 1)
            for k in 0..<3 {
                var grad = Double(g[k])
                if decoupled { w[k] *= 1 - lr * 0.1 } else { grad += 0.1 * w[k] }
                m[k] = 0.8 * m[k] + 0.2 * grad
                v[k] = 0.95 * v[k] + 0.05 * grad * grad
                let correction1 = 1 - pow(0.8, step)
                let correction2 = 1 - pow(0.95, step)
                w[k] -= lr / correction1 * m[k] / (v[k].squareRoot() / correction2.squareRoot() + 1e-6)
            }
        }
        #expect(optimizer.step == 2)
        for k in 0..<3 { #expect(abs(Double(weights[k]) - w[k]) < 1e-6) }
    }

    func pow(_ base: Double, _ exponent: Double) -> Double {
        exponent == 1 ? base : base * base
    }
}

@Suite struct LearningRateScheduleTests {
    @Test func schedulesFollowTheirDefinitions() {
        #expect(LearningRateSchedule.constant.factor(step: 99, totalSteps: 100) == 1)
        let cosine = LearningRateSchedule.cosine(warmupSteps: 4, minimumFactor: 0.1)
        #expect(cosine.factor(step: 0, totalSteps: 100) == 0.25)
        #expect(cosine.factor(step: 3, totalSteps: 100) == 1)
        #expect(abs(cosine.factor(step: 4, totalSteps: 100) - 1) < 1e-6)
        #expect(abs(cosine.factor(step: 99, totalSteps: 100) - 0.1) < 1e-6)
        let decay = LearningRateSchedule.stepDecay(every: 10, factor: 0.5)
        #expect(decay.factor(step: 9, totalSteps: 0) == 1)
        #expect(decay.factor(step: 25, totalSteps: 0) == 0.25)
    }
}
