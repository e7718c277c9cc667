import Forecast
import Foundation

@testable import DaemonCore
@testable import Ingest

/// A tiny model on synthetic data, trained in well under a second: two hourly series (a
/// daily sine, phase-shifted per series) with one covariate column `c` (a daily cosine).
enum TinyModel {
    static let frequency = Frequency.hours(1)
    /// Bucket of the first step (2024-01-01 00:00 UTC).
    static let firstBucket: Int64 = 1_704_067_200 / 3600
    static let keys = ["s0", "s1"]

    /// Hidden 8, one layer, lookback 24, horizon 6, three epochs, quantiles 0.1/0.5/0.9.
    static func settings(covariates: [String] = ["c"]) throws -> ModelSettings {
        try ModelSettings(
            name: "tiny",
            source: SourceDescription(relation: "r", timeColumn: "t", valueColumn: "v", frequency: frequency),
            horizon: 6, lookback: 24,
            options: ["hidden": 8, "layers": 1, "max_epochs": 3, "covariates": covariates],
            retrainEverySeconds: nil)
    }

    /// Step `step` of series `series` (0 or 1).
    static func value(series: Int, step: Int) -> Float {
        10 + 3 * Float(series) + 2 * Float(sin(2 * Double.pi * Double(step) / 24 + Double(series)))
    }

    static func covariate(step: Int) -> Float { Float(cos(2 * Double.pi * Double(step) / 24)) }

    /// Steps `steps` of both series, as a read of a source with covariate columns `covariates`
    /// (each the daily cosine).
    static func read(_ steps: Range<Int>, covariates: [String] = ["c"]) -> SeriesRead {
        let chunks = keys.enumerated().map { index, key in
            SeriesChunk(
                key: key, coversFrom: firstBucket + Int64(steps.lowerBound),
                startBucket: firstBucket + Int64(steps.lowerBound),
                target: steps.map { value(series: index, step: $0) },
                covariates: covariates.map { _ in steps.map { covariate(step: $0) } },
                watermark: frequency.start(of: firstBucket + Int64(steps.upperBound - 1)), quality: QualityReport())
        }
        return SeriesRead(chunks: chunks, rows: chunks.count * steps.count, seconds: 0)
    }

    /// A set holding `steps` of both series.
    static func series(_ steps: Range<Int>, covariates: [String] = ["c"]) -> SeriesSet {
        var set = SeriesSet(frequency: frequency, covariateColumns: covariates)
        set.merge(read(steps, covariates: covariates))
        return set
    }

    /// Time (µs) of step `step`.
    static func time(ofStep step: Int) -> Int64 { frequency.start(of: firstBucket + Int64(step)) }

    /// The tiny model fully trained on 300 steps.
    static func trained() throws -> TrainedModel {
        try TrainingPipeline(settings: settings()).fullTrain(series(0..<300)) { _ in .continue }
    }
}
