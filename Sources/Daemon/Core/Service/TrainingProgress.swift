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

    enum CodingKeys: String, CodingKey {
        case model, request, kind, epoch, epochs, loss
        case validationLoss = "val_loss"
        case elapsedSeconds = "elapsed_s"
    }
}
