/// Adam and AdamW over a flat parameter vector, matching `torch.optim.Adam` / `AdamW`.
///
/// Per step `t` (from 1), with gradient `g`:
///
///     Adam:  g += weightDecay * w            AdamW: w *= 1 - lr * weightDecay
///     m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
///     w -= (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
public struct AdamOptimizer: Sendable, Equatable {
    /// Hyper-parameters of Adam.
    public struct Options: Sendable, Hashable, Codable {
        /// Exponential decay of the first moment.
        public var beta1: Float
        /// Exponential decay of the second moment.
        public var beta2: Float
        /// Added to the denominator.
        public var epsilon: Float
        /// L2 penalty (Adam) or decoupled decay rate (AdamW).
        public var weightDecay: Float
        /// Decoupled weight decay (AdamW) instead of an L2 term in the gradient (Adam).
        public var decoupled: Bool

        public init(
            beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
            decoupled: Bool = false
        ) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
            self.decoupled = decoupled
        }

        /// Adam with an optional L2 term.
        public static func adam(weightDecay: Float = 0) -> Options { Options(weightDecay: weightDecay) }
        /// AdamW with decoupled weight decay (PyTorch's default 0.01).
        public static func adamW(weightDecay: Float = 0.01) -> Options {
            Options(weightDecay: weightDecay, decoupled: true)
        }
    }

    /// Hyper-parameters.
    public var options: Options
    /// First moment estimate, one per parameter.
    public private(set) var firstMoment: [Float]
    /// Second moment estimate, one per parameter.
    public private(set) var secondMoment: [Float]
    /// Steps taken so far.
    public private(set) var step: Int

    /// A fresh optimizer for `parameterCount` parameters.
    public init(parameterCount: Int, options: Options = Options()) {
        self.options = options
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
        step = 0
    }

    /// One update of `parameters` with `gradients` [parameters.count] at `learningRate`.
    public mutating func update(parameters: inout [Float], gradients: UnsafePointer<Float>, learningRate: Float) {
        precondition(parameters.count == firstMoment.count, "parameter count differs from the optimizer's")
        step += 1
        let b1 = options.beta1
        let b2 = options.beta2
        let correction1 = 1 - pow(Double(b1), step)
        let correction2 = 1 - pow(Double(b2), step)
        let stepSize = Float(Double(learningRate) / correction1)
        let rootCorrection2 = Float(correction2.squareRoot())
        let epsilon = options.epsilon
        let decay = options.weightDecay
        let decoupled = options.decoupled
        let shrink = 1 - learningRate * decay
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                parameters.withUnsafeMutableBufferPointer { w in
                    for k in 0..<w.count {
                        var g = gradients[k]
                        if decay != 0 {
                            if decoupled { w[k] *= shrink } else { g += decay * w[k] }
                        }
                        m[k] += (g - m[k]) * (1 - b1)
                        v[k] = b2 * v[k] + (1 - b2) * g * g
                        let denominator = v[k].squareRoot() / rootCorrection2 + epsilon
                        w[k] -= stepSize * (m[k] / denominator)
                    }
                }
            }
        }
    }

    /// `update` with gradients from an array.
    public mutating func update(parameters: inout [Float], gradients: [Float], learningRate: Float) {
        gradients.withUnsafeBufferPointer {
            update(parameters: &parameters, gradients: $0.baseAddress!, learningRate: learningRate)
        }
    }
}

/// `base^exponent` by repeated squaring.
private func pow(_ base: Double, _ exponent: Int) -> Double {
    var result = 1.0
    var factor = base
    var remaining = exponent
    while remaining > 0 {
        if remaining & 1 == 1 { result *= factor }
        factor *= factor
        remaining >>= 1
    }
    return result
}
