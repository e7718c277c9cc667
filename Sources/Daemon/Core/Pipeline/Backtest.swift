import Forecast
import Foundation
import Ingest
import PostgresClient

/// A walk-forward evaluation of a model's configuration on history:
/// train on everything before `validFrom` (early stopping on windows whose targets fall in
/// `[validFrom, testFrom)`), then forecast from every `stride`-th origin whose whole
/// horizon lies in `[testFrom, testUntil]`, without refitting (or fine-tuning every
/// `finetuneEvery` origins). Errors are compared with the naive (last value) and
/// seasonal-naive forecasts on identical origins. Times are µs since the Unix epoch.
struct Backtest {
    let settings: ModelSettings
    var validFrom: Int64
    var testFrom: Int64
    var testUntil: Int64
    var stride = 1
    var finetuneEvery: Int?
    /// Training threads (see `TrainingPipeline.threads`).
    var threads = 1

    /// Errors of one forecast (one series, one origin), in original units.
    struct Origin: Sendable {
        var series: String
        var issuedAt: Int64
        var mse: Double
        var mae: Double
        var coverage: Double?
        var naiveMSE: Double
        var seasonalNaiveMSE: Double
    }

    /// Sums over all forecast steps of a method.
    struct Totals: Sendable {
        var squared = 0.0
        var absolute = 0.0
        var squaredStandardised = 0.0
        var absoluteStandardised = 0.0
        var count = 0

        mutating func add(error: Double, sigma: Double) {
            squared += error * error
            absolute += abs(error)
            squaredStandardised += (error / sigma) * (error / sigma)
            absoluteStandardised += abs(error / sigma)
            count += 1
        }
    }

    /// One whole forecast kept for charts (see `keptSeries`), in original units, `[horizon]`
    /// each; `lower` and `upper` empty without intervals, `actual` the (gap-filled) values
    /// the forecast was scored against.
    struct KeptForecast: Sendable, Equatable {
        var series: String
        var issuedAt: Int64
        var value: [Float]
        var lower: [Float]
        var upper: [Float]
        var actual: [Float]
    }

    /// Which forecasts a backtest keeps for charts (`forecast.backtest_forecasts`): those of
    /// the first `keptSeries` series by name; per series, walking forward from its first
    /// scored origin, each origin at least a horizon after the previous kept one (so the
    /// kept forecasts tile the test span without overlapping, whatever the stride), at most
    /// `keptOriginsPerSeries`. At most 5 × 500 forecasts of a horizon each.
    static let keptSeries = 5
    static let keptOriginsPerSeries = 500

    struct Result: Sendable {
        var origins: [Origin]
        /// The forecasts kept for charts (see `KeptForecast`).
        var forecasts: [KeptForecast] = []
        var model = Totals()
        var naive = Totals()
        var seasonalNaive = Totals()
        var inside = 0
        var intervalCount = 0
        var trainSeconds: Double
        var epochs: Int
        var fineTunes = 0
        /// Training metrics worth a look next to the errors (`TrainedModel.metrics`).
        var training = VersionMetrics()
    }

    func run(_ series: SeriesSet, progress: (TrainingEvent) -> TrainingControl) throws -> Result {
        let frequency = settings.source.frequency
        var pipeline = TrainingPipeline(settings: settings)
        let filled = try pipeline.filled(series).map { $0.prefix(before: testUntil + frequency.microseconds) }
        pipeline.threads = threads
        let clock = ContinuousClock()
        let started = clock.now
        var trained = try pipeline.fullTrain(
            filled.map { $0.prefix(before: testFrom) }, split: .from(validFrom), newest: testFrom - 1,
            progress: progress)
        let trainSeconds = (clock.now - started).seconds
        let epochs = trained.metrics.epochs ?? 0
        let trainingMetrics = trained.metrics

        // Every window whose targets lie in the test span, scaled as in training.
        let windows = try SeriesWindows(series: filled, options: trained.window, split: .none, scalers: trained.scalers)
        let horizon = settings.horizon
        let lookback = settings.lookback
        var references: [WindowReference] = []
        for reference in windows.training {
            let origin = reference.start + lookback - 1
            let series = windows.series[reference.series]
            let first = series.time(at: origin + 1)
            let last = series.time(at: origin + horizon)
            guard first >= testFrom, last <= testUntil else { continue }
            let step = Int((first - testFrom) / frequency.microseconds)
            if step % stride == 0 { references.append(reference) }
        }
        // Forecast origin by origin in time order, fine-tuning every `finetuneEvery` origins.
        let originTimes = Array(Set(references.map { windows.issuedAt($0) })).sorted()
        var fineTunes = 0
        var outputs: [WindowReference: [Float]] = [:]
        var factors: [WindowReference: Double] = [:]
        var batchStart = 0
        while batchStart < originTimes.count {
            let batchEnd = finetuneEvery.map { min(originTimes.count, batchStart + $0) } ?? originTimes.count
            if finetuneEvery != nil, batchStart > 0 {
                let cut = originTimes[batchStart] + frequency.microseconds
                let outcome = try pipeline.fineTune(
                    trained, on: filled.map { $0.prefix(before: cut) }, newest: originTimes[batchStart],
                    progress: progress)
                if outcome.accepted, let candidate = outcome.candidate {
                    trained = candidate
                    fineTunes += 1
                } else {
                    trained.trainedThrough = originTimes[batchStart]
                }
            }
            let times = Set(originTimes[batchStart..<batchEnd])
            let chosen = references.filter { times.contains(windows.issuedAt($0)) }
            let session = InferenceSession(model: trained.model, threads: 1)
            for chunk in Swift.stride(from: 0, to: chosen.count, by: 512) {
                let part = Array(chosen[chunk..<min(chunk + 512, chosen.count)])
                let inputs = windows.batch(part, targets: false).inputs
                let predicted = session.predict(inputs, count: part.count)
                let width = horizon * trained.model.configuration.quantileCount
                for (index, reference) in part.enumerated() {
                    outputs[reference] = Array(predicted[(index * width)..<((index + 1) * width)])
                    factors[reference] = trained.volatilityFactor(inputs, window: index)
                }
            }
            batchStart = batchEnd
        }
        var result = score(
            windows, references, outputs, factors, trained, trainSeconds: trainSeconds, epochs: epochs,
            fineTunes: fineTunes)
        result.training = trainingMetrics
        return result
    }

    private func score(
        _ windows: SeriesWindows, _ references: [WindowReference], _ outputs: [WindowReference: [Float]],
        _ factors: [WindowReference: Double], _ trained: TrainedModel, trainSeconds: Double, epochs: Int, fineTunes: Int
    ) -> Result {
        let horizon = settings.horizon
        let lookback = settings.lookback
        let quantiles = trained.model.configuration.quantileCount
        let season = settings.source.frequency.seasonalPeriod
        // Population standard deviation of each series' training portion (before validFrom).
        var sigmas: [Int: Double] = [:]
        for (index, series) in windows.series.enumerated() {
            let end = max(0, min(series.target.count, series.index(of: validFrom)))
            let values = series.target[..<end].filter { !$0.isNaN }.map(Double.init)
            let mean = values.reduce(0, +) / Double(max(values.count, 1))
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count, 1))
            sigmas[index] = variance > 0 ? variance.squareRoot() : 1
        }
        var result = Result(origins: [], trainSeconds: trainSeconds, epochs: epochs, fineTunes: fineTunes)
        let keptKeys = Set(Set(references.map { windows.series[$0.series].key }).sorted().prefix(Self.keptSeries))
        var lastKept: [String: Int64] = [:]
        var keptCount: [String: Int] = [:]
        let spacing = Int64(horizon) * settings.source.frequency.microseconds
        for reference in references.sorted(by: { ($0.series, $0.start) < ($1.series, $1.start) }) {
            guard let output = outputs[reference] else { continue }
            let series = windows.series[reference.series]
            let scaler = windows.scalers[reference.series][0]
            let anchor = windows.anchor(reference)
            let sigma = sigmas[reference.series] ?? 1
            let origin = reference.start + lookback - 1
            let last = Double(series.target[origin])
            var forecast = Totals()
            var naive = Totals()
            var seasonal = Totals()
            var inside = 0
            let issuedAt = windows.issuedAt(reference)
            let keep =
                keptKeys.contains(series.key) && keptCount[series.key, default: 0] < Self.keptOriginsPerSeries
                && lastKept[series.key].map { issuedAt - $0 >= spacing } ?? true
            var kept = KeptForecast(series: series.key, issuedAt: issuedAt, value: [], lower: [], upper: [], actual: [])
            for step in 1...horizon {
                let actual = Double(series.target[origin + step])
                let offset = (step - 1) * quantiles
                let (value, values) = trained.step(
                    output, offset: offset, anchor: anchor, scaler: scaler, factor: factors[reference] ?? 1)
                let lag = season * ((step + season - 1) / season)
                let seasonalValue = origin + step - lag >= 0 ? Double(series.target[origin + step - lag]) : last
                forecast.add(error: value - actual, sigma: sigma)
                naive.add(error: last - actual, sigma: sigma)
                seasonal.add(error: seasonalValue - actual, sigma: sigma)
                if quantiles > 1, let lower = values.first, let upper = values.last, lower <= actual, actual <= upper {
                    inside += 1
                }
                if keep {
                    kept.value.append(Float(value))
                    kept.actual.append(Float(actual))
                    if quantiles > 1, let lower = values.first, let upper = values.last {
                        kept.lower.append(Float(lower))
                        kept.upper.append(Float(upper))
                    }
                }
            }
            if keep {
                result.forecasts.append(kept)
                lastKept[series.key] = issuedAt
                keptCount[series.key, default: 0] += 1
            }
            result.model.add(forecast)
            result.naive.add(naive)
            result.seasonalNaive.add(seasonal)
            if quantiles > 1 {
                result.inside += inside
                result.intervalCount += horizon
            }
            result.origins.append(
                Origin(
                    series: series.key, issuedAt: issuedAt,
                    mse: forecast.squared / Double(horizon), mae: forecast.absolute / Double(horizon),
                    coverage: quantiles > 1 ? Double(inside) / Double(horizon) : nil,
                    naiveMSE: naive.squared / Double(horizon), seasonalNaiveMSE: seasonal.squared / Double(horizon)))
        }
        return result
    }
}

extension Backtest.Totals {
    mutating func add(_ other: Backtest.Totals) {
        squared += other.squared
        absolute += other.absolute
        squaredStandardised += other.squaredStandardised
        absoluteStandardised += other.absoluteStandardised
        count += other.count
    }
}
