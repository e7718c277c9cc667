/// What a model needs next, decided from its state alone (no I/O), so the policy is
/// tested without a database.
enum ModelAction: Sendable, Equatable {
    /// Train a new network from scratch.
    case fullTrain(reason: String)
    /// Fine-tune the active version on new data.
    case fineTune(reason: String)
    /// Nothing to train; forecast if there is newer data than the last forecast.
    case none
}

/// The facts `ModelPlanner` decides on. Times are µs since the Unix epoch.
struct ModelFacts: Sendable, Equatable {
    var hasActiveVersion: Bool
    /// Mode of a queued retrain request, if any.
    var requestedMode: RequestMode?
    /// How the settings differ from the active version's facts (`TrainedModel.mismatches`):
    /// a new network is needed, trained from scratch.
    var settingsChanges: [String] = []
    /// Newest observation over all series.
    var newestData: Int64
    /// Newest observation the active version was trained on.
    var trainedThrough: Int64?
    var frequency: Int64
    /// New steps that trigger an incremental update.
    var updateEvery: Int
    /// Scheduled full retrain interval (µs), and when the last full training happened.
    var retrainEvery: Int64?
    var lastFullAt: Int64?
    var now: Int64
    /// Live error of matured forecasts divided by the error at training time, when enough
    /// forecasts have matured to say.
    var driftRatio: Double?
}

enum ModelPlanner {
    /// Live error this many times the training-time error triggers a full retrain.
    static let driftLimit = 4.0

    static func next(_ facts: ModelFacts) -> ModelAction {
        guard facts.hasActiveVersion else { return .fullTrain(reason: "no trained version yet") }
        switch facts.requestedMode {
        case .full: return .fullTrain(reason: "retrain requested")
        case .finetune where !facts.settingsChanges.isEmpty: break
        case .finetune: return .fineTune(reason: "fine-tune requested")
        case nil: break
        }
        if !facts.settingsChanges.isEmpty {
            return .fullTrain(reason: "settings changed: " + facts.settingsChanges.joined(separator: ", "))
        }
        if let every = facts.retrainEvery, let last = facts.lastFullAt, facts.now - last >= every {
            return .fullTrain(reason: "scheduled retrain (retrain_every)")
        }
        if let ratio = facts.driftRatio, ratio > driftLimit {
            return .fullTrain(reason: "drift: live error is \(Int(ratio.rounded()))x the error at training time")
        }
        if let through = facts.trainedThrough, facts.frequency > 0 {
            let newSteps = (facts.newestData - through) / facts.frequency
            if newSteps >= Int64(facts.updateEvery) {
                return .fineTune(reason: "\(newSteps) new steps since the active version")
            }
        }
        return .none
    }
}
