public import PostgresClient

/// `forecast.models.state`: what a model is doing, as users read it in `forecast.model_status`.
public enum ModelState: String, Sendable, Hashable, Codable, PostgresTextEnum {
    /// Serving forecasts (or waiting for data to train on).
    case active
    /// Paused by a user: no daemon holds it.
    case paused
    /// A training or update is running right now.
    case training
    /// The last cycle failed; `last_error` says why.
    case error
}

/// `forecast.model_versions.kind`: how a version was made.
public enum VersionKind: String, Sendable, Hashable, Codable, PostgresTextEnum {
    /// Trained from scratch.
    case full
    /// The previous version updated on new data.
    case finetune
}

/// `forecast.requests.mode`: what a retrain request asks for.
public enum RequestMode: String, Sendable, Hashable, Codable, PostgresTextEnum, CaseIterable {
    case full
    case finetune
}

/// `forecast.requests.status`: where a retrain request is.
public enum RequestStatus: String, Sendable, Hashable, Codable, PostgresTextEnum {
    case queued
    case running
    /// A version was published for it (`forecast.requests.version`).
    case done
    /// Run, but nothing was published (`forecast.requests.outcome` says why).
    case notApplied = "not_applied"
    case failed
}

/// `forecast.events.level`.
public enum EventLevel: String, Sendable, Hashable, Codable, PostgresTextEnum {
    case info
    case warning
    case error
}
