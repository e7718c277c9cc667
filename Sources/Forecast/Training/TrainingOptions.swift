/// How `Trainer` trains.
public struct TrainingOptions: Sendable, Hashable {
    /// Passes over the training windows in `fit`.
    public var epochs: Int
    /// Windows per mini-batch.
    public var batchSize: Int
    /// Base learning rate (scaled by `schedule`).
    public var learningRate: Float
    /// Adam or AdamW hyper-parameters.
    public var optimizer: AdamOptimizer.Options
    /// Learning-rate schedule over all steps of `fit`.
    public var schedule: LearningRateSchedule
    /// Rescales the gradient to at most this global L2 norm; nil disables clipping.
    public var gradientClipNorm: Float?
    /// The training (and validation) loss.
    public var loss: Loss
    /// Seed for shuffling and dropout. Same seed, data and `threads`: same weights.
    public var seed: UInt64
    /// Threads a mini-batch is split across (results depend on it, not on scheduling).
    public var threads: Int
    /// Epochs without a validation improvement before stopping; nil trains all epochs.
    public var patience: Int?
    /// A validation loss must beat the best by more than this to count as an improvement.
    public var minimumImprovement: Double
    /// Tensors kept as they are (e.g. a linear skip set by least squares while the LSTM learns
    /// the residual).
    public var frozen: Set<ParameterTensor> = []
    /// When set (one weight per quantile output), validation in `fit` (early stopping, the
    /// weights kept) scores the mean squared error of the point forecast
    /// `Σ_q weights[q] · output[q]` instead of `loss`: the model is chosen by how well it
    /// forecasts the value, while `loss` (e.g. pinball) still shapes the quantiles.
    public var validationPointWeights: [Float]? = nil

    public init(
        epochs: Int = 50, batchSize: Int = 64, learningRate: Float = 1e-3,
        optimizer: AdamOptimizer.Options = .adam(), schedule: LearningRateSchedule = .constant,
        gradientClipNorm: Float? = 1, loss: Loss = .mse, seed: UInt64 = 0, threads: Int = 1, patience: Int? = 10,
        minimumImprovement: Double = 0
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.optimizer = optimizer
        self.schedule = schedule
        self.gradientClipNorm = gradientClipNorm
        self.loss = loss
        self.seed = seed
        self.threads = threads
        self.patience = patience
        self.minimumImprovement = minimumImprovement
    }

    func validate() throws(TrainingError) {
        guard epochs >= 0, batchSize >= 1, threads >= 1 else {
            throw .invalidOptions("epochs must be >= 0, batchSize and threads >= 1")
        }
        guard learningRate > 0, learningRate.isFinite else { throw .invalidOptions("learningRate must be positive") }
        if let clip = gradientClipNorm, !(clip > 0) { throw .invalidOptions("gradientClipNorm must be positive") }
        if let patience, patience < 1 { throw .invalidOptions("patience must be at least 1") }
        if let weights = validationPointWeights, weights.isEmpty || !weights.allSatisfy(\.isFinite) {
            throw .invalidOptions("validationPointWeights must be finite, one per quantile output")
        }
    }
}

/// What `Trainer` reports to its progress callback.
public enum TrainingEvent: Sendable, Equatable {
    /// After each optimizer step: 1-based global step, epoch (0-based), mean mini-batch loss,
    /// learning rate used.
    case step(step: Int, epoch: Int, loss: Double, learningRate: Float)
    /// After each epoch: mean training loss, validation loss (if any), and whether it is the best
    /// so far (its weights are kept).
    case epoch(epoch: Int, trainingLoss: Double, validationLoss: Double?, isBest: Bool)
}

/// The callback's answer.
public enum TrainingControl: Sendable, Equatable {
    case `continue`
    /// Stop after this step; the best weights are restored as usual.
    case stop
}

/// How a training run went.
public struct TrainingReport: Sendable, Equatable {
    /// Why the run ended.
    public enum StopReason: Sendable, Equatable {
        case completed
        case earlyStopping
        case stoppedByCallback
        case cancelled
    }

    /// Optimizer steps taken in this run.
    public var steps: Int
    /// Epochs completed in this run.
    public var epochs: Int
    /// Mean training loss per completed epoch (for `fineTune`, one entry: the mean over its steps).
    public var trainingLosses: [Double]
    /// Validation loss per completed epoch, when validating.
    public var validationLosses: [Double]
    /// Best validation loss; the model holds its weights. Nil without validation.
    public var bestValidationLoss: Double?
    /// Epoch (0-based) of the best validation loss.
    public var bestEpoch: Int?
    /// Why the run ended.
    public var stopReason: StopReason
}
