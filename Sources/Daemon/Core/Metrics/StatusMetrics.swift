import Foundation
import Metrics
import Synchronization

/// The per-model gauges that come from the database (`forecast.model_status`,
/// `forecast.model_versions`, `forecast.recent_accuracy`), set from one overview query when
/// `/metrics` is scraped. They describe the database, so every instance on one database
/// reports the same values. A model that is gone, or a figure that became unknown (no
/// matured forecasts yet), loses its series instead of keeping a stale value.
final class StatusMetrics: Sendable {
    private struct Key: Hashable {
        var name: String
        var labels: [String]

        var dimensions: [(String, String)] {
            stride(from: 0, to: labels.count, by: 2).map { (labels[$0], labels[$0 + 1]) }
        }
    }

    private let exported = Mutex<Set<Key>>([])

    /// The states a model can be in (`forecast.models.state`).
    static let states = ["active", "paused", "training", "error"]

    /// The values `models` give, by metric and labels.
    static func values(_ models: [ModelOverview]) -> [String: [(labels: [(String, String)], value: Double)]] {
        var values: [String: [(labels: [(String, String)], value: Double)]] = [:]
        for model in models {
            let label = [("model", model.model)]
            func set(_ name: String, _ value: Double?, _ extra: [(String, String)] = []) {
                if let value, value.isFinite { values[name, default: []].append((label + extra, value)) }
            }
            for state in states { set(DaemonMetrics.modelState, model.state == state ? 1 : 0, [("state", state)]) }
            set(DaemonMetrics.modelSeries, Double(model.series))
            set(DaemonMetrics.modelStaleSeries, Double(model.staleSeries))
            set(DaemonMetrics.modelVersions, Double(model.versions))
            set(DaemonMetrics.modelActiveVersion, model.activeVersion.map(Double.init))
            set(DaemonMetrics.modelLastTrainingSeconds, model.lastTrainingSeconds)
            set(DaemonMetrics.modelLastTrainingEpochs, model.lastTrainingEpochs.map(Double.init))
            set(DaemonMetrics.modelLastForecast, model.lastForecast?.timeIntervalSince1970)
            set(DaemonMetrics.modelQueuedRequests, Double(model.queuedRequests))
            set(DaemonMetrics.modelScoredForecasts, model.scored.map(Double.init))
            set(DaemonMetrics.modelMAE, model.mae)
            set(DaemonMetrics.modelMASE, model.mase)
            set(DaemonMetrics.modelCoverage, model.coverage)
        }
        return values
    }

    /// Sets every gauge `models` give and removes those they no longer give.
    func update(_ models: [ModelOverview]) {
        exported.withLock { exported in
            var now: Set<Key> = []
            for (name, series) in Self.values(models) {
                for (labels, value) in series {
                    let key = Key(name: name, labels: labels.flatMap { [$0.0, $0.1] })
                    now.insert(key)
                    Gauge(label: name, dimensions: labels).record(value)
                }
            }
            for key in exported.subtracting(now) { Gauge(label: key.name, dimensions: key.dimensions).destroy() }
            exported = now
        }
    }
}
