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

/// Forecasts every series from its latest window in one batched forward pass, with the
/// trained model's own facts (grid, window, covariates, decoder), never today's settings.
enum Forecaster {
    /// Rows for every series whose latest window is newer than `after[key]` (µs), or all
    /// when `after` is empty. Series without a full latest window are skipped.
    static func forecast(_ trained: TrainedModel, series: SeriesSet, after: [String: Int64] = [:]) throws
        -> [ForecastRow]
    {
        guard
            let filled = TrainingPipeline.filled(
                series, covariates: trained.covariates, maxGap: trained.window.maxGap)
        else { throw PipelineError.missingColumns(trained.covariates) }
        let windows = try SeriesWindows(forecasting: filled, scalers: trained.scalers, options: trained.window)
        let references = windows.latest.compactMap { $0 }.filter { reference in
            let key = windows.series[reference.series].key
            return after[key].map { windows.issuedAt(reference) > $0 } ?? true
        }
        guard !references.isEmpty else { return [] }
        let batch = windows.batch(references, targets: false)
        let session = InferenceSession(model: trained.model, threads: 1)
        let outputs = session.predict(batch.inputs, count: references.count)
        let horizon = trained.window.horizon
        let quantileCount = trained.decoder.outputCount
        let frequency = trained.frequency.microseconds
        var rows: [ForecastRow] = []
        rows.reserveCapacity(references.count * horizon)
        for (index, reference) in references.enumerated() {
            let scaler = windows.scalers[reference.series][0]
            let anchor = windows.anchor(reference)
            let key = windows.series[reference.series].key
            let issuedAt = windows.issuedAt(reference)
            let factor = trained.volatilityFactor(batch.inputs, window: index)
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
        }
        return rows
    }
}
