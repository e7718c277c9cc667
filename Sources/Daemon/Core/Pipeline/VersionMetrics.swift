/// Figures of one training run, stored as `forecast.model_versions.metrics` (JSON, snake_case
/// keys). Full trainings fill the first group, fine-tunes the second; absent means "not
/// applicable", never zero.
public struct VersionMetrics: Sendable, Hashable, Codable {
    // Full training.
    public var epochs: Int?
    /// Epoch (1-based) whose weights were kept, when an epoch beat the linear start.
    public var bestEpoch: Int?
    /// Why training ended.
    public var stopReason: TrainingStop?
    public var trainingWindows: Int?
    public var validationWindows: Int?
    public var series: Int?
    /// Whether the least-squares linear start beat every epoch on validation and was kept.
    public var keptLinearStart: Bool?
    /// Ridge strength of the linear start, as a multiple of `trace(XᵀX) / lookback`.
    public var linearRidge: Double?
    /// Split-conformal interval scale (`LinearStart.intervalScale`).
    public var intervalScale: Double?
    /// Point-forecast MSE (scaled units) on validation windows at training time: the
    /// yardstick of drift. Fine-tunes carry their full training's value.
    public var validationMSE: Double?
    // Both.
    public var steps: Int?
    public var seconds: Double?
    // Fine-tunes.
    public var newWindows: Int?
    public var replayWindows: Int?
    public var holdoutWindows: Int?
    public var holdoutLossBefore: Double?
    public var holdoutLossAfter: Double?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochs, steps, series, seconds
        case bestEpoch = "best_epoch"
        case stopReason = "stop_reason"
        case trainingWindows = "training_windows"
        case validationWindows = "validation_windows"
        case keptLinearStart = "kept_linear_start"
        case linearRidge = "linear_ridge"
        case intervalScale = "interval_scale"
        case validationMSE = "validation_mse"
        case newWindows = "new_windows"
        case replayWindows = "replay_windows"
        case holdoutWindows = "holdout_windows"
        case holdoutLossBefore = "holdout_loss_before"
        case holdoutLossAfter = "holdout_loss_after"
    }
}

/// Why a full training ended.
public enum TrainingStop: String, Sendable, Hashable, Codable {
    /// It ran every epoch of `max_epochs`.
    case maxEpochs = "max_epochs"
    /// The validation loss stopped improving (patience exhausted).
    case earlyStopping = "early_stopping"

    /// In words, for progress lines.
    public var description: String {
        switch self {
        case .maxEpochs: "ran all epochs"
        case .earlyStopping: "stopped early: validation loss no longer improving"
        }
    }
}
