import Forecast
import Foundation
import Ingest
import PostgresClient

/// One forecast step of one series, in original units.
struct ForecastRow: Sendable, Hashable {
    var series: String
    /// Time (µs since the Unix epoch) of the last observation used.
    var issuedAt: Int64
    var targetTime: Int64
    var step: Int
    var value: Double
    var lower: Double?
    var upper: Double?
    var quantiles: [Double]
}

/// What one forecasting pass produced: rows for the series it could forecast, and for every
/// other series the reason it could not.
struct ForecastSet: Sendable {
    var rows: [ForecastRow] = []
    /// Per series key: why it has no fresh forecast (too little recent data, a non-finite
    /// network output, ...).
    var reasons: [String: String] = [:]
    /// Per series key forecast across a gap longer than the training limit: the steps
    /// interpolated in its window.
    var bridged: [String: Int] = [:]
}

/// Forecasts every series from its latest window in one batched forward pass, with the
/// trained model's own facts (grid, window, covariates, decoder), never today's settings.
///
/// A series whose newest gap-free stretch is shorter than the lookback is still forecast
/// when the gaps in its last `lookback` steps are bridgeable: each at most a quarter of the
/// lookback (and at least the training limit `maxGap`), interpolated linearly for this
/// forecast only (training never sees them); `ForecastSet.bridged` says how many steps.
/// Rows with a non-finite number are never returned: that series gets a reason instead.
enum Forecaster {
    /// Longest gap (steps) bridged to forecast a series: a quarter of the lookback, at least
    /// the training limit.
    static func bridgeableGap(_ window: WindowOptions) -> Int { max(window.maxGap, window.lookback / 4) }

    /// Forecasts for every series whose latest window is newer than `after[key]` (µs), or all
    /// when `after` is empty.
    static func forecast(_ trained: TrainedModel, series: SeriesSet, after: [String: Int64] = [:]) throws
        -> ForecastSet
    {
        // Only the newest steps matter: a lookback, and room for gaps at its start to be
        // interpolated exactly as on the whole history.
        let lookback = trained.window.lookback
        guard
            let filled = series.filled(
                covariates: trained.covariates, maxGap: trained.window.maxGap,
                lastSteps: lookback + 2 * trained.window.maxGap + 2)
        else { throw PipelineError.missingColumns(trained.covariates) }
        var result = ForecastSet()
        let windows = try SeriesWindows(forecasting: filled, scalers: trained.scalers, options: trained.window)
        let short = Set(zip(windows.series, windows.latest).filter { $0.1 == nil }.map(\.0.key))
            .union(windows.insufficient.map(\.key))
        try forecast(trained, windows, after: after, into: &result)
        guard !short.isEmpty else { return result }
        // Bridge bounded gaps for the series that have no window otherwise.
        let gap = bridgeableGap(trained.window)
        let candidates =
            series.filled(covariates: trained.covariates, maxGap: gap, lastSteps: lookback + 2 * gap + 2)?
            .filter { short.contains($0.key) } ?? []
        let bridgedWindows = try SeriesWindows(
            forecasting: candidates, scalers: trained.scalers, options: trained.window)
        for (index, reference) in bridgedWindows.latest.enumerated() {
            guard let reference else { continue }
            // Steps of the window without a reading of their own: the bridged ones.
            let candidate = bridgedWindows.series[index]
            let raw = series.series[candidate.key]
            let start = reference.start
            result.bridged[candidate.key] =
                (start..<(start + lookback)).filter { step in
                    raw?.value(at: candidate.time(at: step)) == nil
                }.count
        }
        for key in short.subtracting(result.bridged.keys) {
            if let candidate = candidates.first(where: { $0.key == key }) {
                let newest = candidate.segments.last?.count ?? 0
                result.reasons[key] =
                    "its newest stretch is \(newest) steps with gaps of up to \(gap) steps bridged; "
                    + "the lookback needs \(lookback)"
            } else {
                result.reasons[key] = "no valid readings to forecast from"
            }
        }
        try forecast(trained, bridgedWindows, after: after, into: &result)
        return result
    }

    /// Rows for every latest window of `windows` newer than `after`, appended to `result`.
    private static func forecast(
        _ trained: TrainedModel, _ windows: SeriesWindows, after: [String: Int64], into result: inout ForecastSet
    ) throws {
        let references = windows.latest.compactMap { $0 }.filter { reference in
            let key = windows.series[reference.series].key
            return after[key].map { windows.issuedAt(reference) > $0 } ?? true
        }
        guard !references.isEmpty else { return }
        let batch = windows.batch(references, targets: false)
        let session = InferenceSession(model: trained.model, threads: 1)
        let outputs = session.predict(batch.inputs, count: references.count)
        let horizon = trained.window.horizon
        let quantileCount = trained.decoder.outputCount
        let frequency = trained.frequency.microseconds
        result.rows.reserveCapacity(result.rows.count + references.count * horizon)
        for (index, reference) in references.enumerated() {
            let scaler = windows.scalers[reference.series][0]
            let anchor = windows.anchor(reference)
            let key = windows.series[reference.series].key
            let issuedAt = windows.issuedAt(reference)
            let factor = trained.volatilityFactor(batch.inputs, window: index)
            var rows: [ForecastRow] = []
            rows.reserveCapacity(horizon)
            for step in 0..<horizon {
                let (value, values) = trained.step(
                    outputs, offset: (index * horizon + step) * quantileCount, anchor: anchor, scaler: scaler,
                    factor: factor)
                rows.append(
                    ForecastRow(
                        series: key, issuedAt: issuedAt, targetTime: issuedAt + Int64(step + 1) * frequency,
                        step: step + 1, value: value,
                        lower: quantileCount > 1 ? values.first : nil,
                        upper: quantileCount > 1 ? values.last : nil, quantiles: quantileCount > 1 ? values : []))
            }
            if rows.allSatisfy(\.isFinite) {
                result.rows += rows
            } else {
                result.reasons[key] =
                    "the network produced a non-finite forecast from its newest window; its previous forecasts are kept"
            }
        }
    }
}

extension ForecastRow {
    /// Whether every number of the row is finite (nothing else is ever written).
    var isFinite: Bool {
        value.isFinite && (lower?.isFinite ?? true) && (upper?.isFinite ?? true) && quantiles.allSatisfy(\.isFinite)
    }
}
