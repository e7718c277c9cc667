import Forecast

/// One epoch of a training in progress, sent as a NOTIFY payload (JSON) on
/// `DaemonContext.progressChannel` for `forecastd retrain --wait` and anyone listening.
public struct TrainingProgress: Sendable, Codable, Equatable {
    public var model: String
    /// The retrain request being served, if the training was requested.
    public var request: Int64?
    public var kind: VersionKind
    /// 1-based epoch just finished.
    public var epoch: Int
    /// At most this many epochs (fine-tunes: 1).
    public var epochs: Int
    public var loss: Double?
    public var validationLoss: Double?
    /// Seconds since the training started.
    public var elapsedSeconds: Double
    /// The epoch (1-based) with the best validation loss so far.
    public var bestEpoch: Int?
    /// Seconds left if every remaining epoch runs at the pace so far (an upper bound: early
    /// stopping may end sooner).
    public var etaSeconds: Double?

    public init(
        model: String, request: Int64? = nil, kind: VersionKind, epoch: Int, epochs: Int, loss: Double? = nil,
        validationLoss: Double? = nil, elapsedSeconds: Double, bestEpoch: Int? = nil, etaSeconds: Double? = nil
    ) {
        self.model = model
        self.request = request
        self.kind = kind
        self.epoch = epoch
        self.epochs = epochs
        self.loss = loss
        self.validationLoss = validationLoss
        self.elapsedSeconds = elapsedSeconds
        self.bestEpoch = bestEpoch
        self.etaSeconds = etaSeconds
    }

    enum CodingKeys: String, CodingKey {
        case model, request, kind, epoch, epochs, loss
        case validationLoss = "val_loss"
        case elapsedSeconds = "elapsed_s"
        case bestEpoch = "best_epoch"
        case etaSeconds = "eta_s"
    }
}

/// Turns a training's epoch events into `TrainingProgress`, tracking the best epoch and the
/// time left. One per training run; call `progress(after:)` from the training thread.
struct ProgressTracker {
    let model: String
    let request: Int64?
    let kind: VersionKind
    let epochs: Int
    let started: ContinuousClock.Instant
    private var best: Int?

    init(model: String, request: Int64?, kind: VersionKind, epochs: Int, started: ContinuousClock.Instant = .now) {
        self.model = model
        self.request = request
        self.kind = kind
        self.epochs = epochs
        self.started = started
    }

    /// Progress before the first epoch ends.
    var start: TrainingProgress {
        TrainingProgress(model: model, request: request, kind: kind, epoch: 0, epochs: epochs, elapsedSeconds: 0)
    }

    /// The progress after `event` when it ends an epoch; nil for other events.
    mutating func progress(after event: TrainingEvent) -> TrainingProgress? {
        guard case .epoch(let epoch, let loss, let validation, let isBest) = event else { return nil }
        let done = epoch + 1
        if isBest || best == nil { best = done }
        let elapsed = (ContinuousClock.now - started).seconds
        return TrainingProgress(
            model: model, request: request, kind: kind, epoch: done, epochs: epochs, loss: loss.finite,
            validationLoss: validation?.finite, elapsedSeconds: elapsed, bestEpoch: best,
            // At most the remaining epochs at the pace so far (early stopping may end sooner).
            etaSeconds: (elapsed / Double(done) * Double(max(0, epochs - done))).finite)
    }
}
