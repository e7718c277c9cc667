/// The learning rate as a function of the step, as a factor of the base rate.
public enum LearningRateSchedule: Sendable, Hashable, Codable {
    /// Always the base rate.
    case constant
    /// Linear warm-up over `warmupSteps`, then cosine decay to `minimumFactor` at the last step.
    case cosine(warmupSteps: Int, minimumFactor: Float)
    /// Multiplied by `factor` every `every` steps.
    case stepDecay(every: Int, factor: Float)

    /// Factor for `step` (0-based) of `totalSteps`.
    public func factor(step: Int, totalSteps: Int) -> Float {
        switch self {
        case .constant:
            return 1
        case .cosine(let warmup, let minimum):
            if step < warmup { return Float(step + 1) / Float(warmup) }
            let span = max(1, totalSteps - warmup - 1)
            let progress = min(1, Double(step - warmup) / Double(span))
            let wave: Double = 0.5 * (1 + LibM.cos(Double.pi * progress))
            return minimum + (1 - minimum) * Float(wave)
        case .stepDecay(let every, let factor):
            var result: Float = 1
            for _ in 0..<(step / max(1, every)) { result *= factor }
            return result
        }
    }
}
