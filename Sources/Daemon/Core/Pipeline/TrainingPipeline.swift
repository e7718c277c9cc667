import Forecast
import Foundation
import Ingest
import PostgresClient

/// Why a model could not be trained, in words for `forecast.models.last_error`.
enum PipelineError: Error, CustomStringConvertible, Equatable {
    case notEnoughData(String)
    case noSeries
    case missingColumns([String])

    var description: String {
        switch self {
        case .notEnoughData(let detail): "not enough data to train: \(detail)"
        case .noSeries: "the source has no valid readings"
        case .missingColumns(let columns): "the series were not read with covariates \(columns)"
        }
    }
}

/// What an incremental update did.
struct FineTuneOutcome: Sendable {
    /// The fine-tuned model, or nil when there was nothing new to learn from.
    var candidate: TrainedModel?
    /// Loss of the active and the candidate model on the most recent holdout windows.
    var activeHoldoutLoss: Double?
    var candidateHoldoutLoss: Double?
    /// Whether the candidate may replace the active version.
    var accepted: Bool
    var reason: String
}

/// Turns series into trained models: full training with early stopping, and incremental
/// updates. Pure computation (no database); run it off the cooperative pool.
struct TrainingPipeline {
    let settings: ModelSettings
    /// At most this many training (and a quarter as many validation) windows are used per
    /// full training, sampled evenly across series and time: memory and time stay bounded
    /// for sources with thousands of series.
    var maxTrainingWindows = 32_768
    /// Windows per training step.
    static let batchSize = 64
    /// Most steps (batches) of one fine-tune.
    static let maxFineTuneSteps = 200
    /// A fine-tuned model is accepted when its holdout loss is at most this much worse.
    var tolerance = 0.05
    /// Threads each mini-batch is split across (`TrainingOptions.threads`). The daemon trains
    /// one model per pool thread and keeps 1; a one-off `forecastd backtest` may use the
    /// machine's cores. Results are deterministic for a given seed and thread count.
    var threads = 1

    /// The series as the settings' network sees them: gap-free stretches (gaps up to the
    /// window's `maxGap` interpolated) with the settings' covariate channels, in key order.
    func filled(_ series: SeriesSet) throws -> [FilledSeries] {
        guard
            let filled = series.filled(
                covariates: settings.source.covariateColumns, maxGap: settings.windowOptions.maxGap)
        else { throw PipelineError.missingColumns(settings.source.covariateColumns) }
        return filled
    }

    /// Options for training a network with `outputs` outputs per step (pinball loss for
    /// several quantiles, else MSE).
    func trainingOptions(outputs: Int) -> TrainingOptions {
        TrainingOptions(
            epochs: settings.maxEpochs, batchSize: Self.batchSize, learningRate: settings.learningRate,
            schedule: .cosine(warmupSteps: 50, minimumFactor: 0.05), gradientClipNorm: 1,
            loss: outputs > 1 ? .pinball : .mse, seed: Self.seed(settings.name), threads: threads,
            patience: 6)
    }

    /// A stable seed per model name (FNV-1a), so retraining the same data is reproducible.
    static func seed(_ name: String) -> UInt64 {
        name.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    /// Trains a new network on everything in `series`; the newest 20% of each series'
    /// steps are validation for early stopping.
    func fullTrain(_ series: SeriesSet, progress: (TrainingEvent) -> TrainingControl) throws -> TrainedModel {
        try fullTrain(try filled(series), split: .fraction(0.2), newest: Self.newest(series), progress: progress)
    }

    /// Trains on `filled` with `split` deciding the validation windows (early stopping);
    /// `newest` (µs) is recorded as the newest observation used.
    func fullTrain(
        _ filled: [FilledSeries], split: ValidationSplit, newest: Int64, progress: (TrainingEvent) -> TrainingControl
    ) throws -> TrainedModel {
        let clock = ContinuousClock()
        let started = clock.now
        guard !filled.isEmpty else { throw PipelineError.noSeries }
        let windows = try SeriesWindows(series: filled, options: settings.windowOptions, split: split)
        guard !windows.training.isEmpty else { throw notEnoughData(windows) }
        let train = try materialize(
            windows, Self.sample(windows.training, limit: maxTrainingWindows), window: settings.windowOptions)
        let validationReferences = Self.sample(windows.validation, limit: maxTrainingWindows / 4)
        let validation =
            validationReferences.isEmpty
            ? nil : try materialize(windows, validationReferences, window: settings.windowOptions)
        var initial = try StackedLSTM(configuration: settings.configuration, seed: Self.seed(settings.name))
        // Start from the best linear forecaster (ridge least squares with intercept on the
        // lookback window, the ridge chosen on validation): the LSTM then learns what the
        // linear map misses, and converges in few epochs.
        var options = trainingOptions(outputs: settings.configuration.quantileCount)
        // Epochs (and the start) are chosen by the point forecast's validation error, the
        // number users judge forecasts by; the pinball loss still trains the quantiles.
        let decoder = QuantileDecoder(levels: settings.quantiles)
        options.validationPointWeights = decoder.pointWeights
        var ridge: Double? = nil
        if settings.configuration.linearSkip, let solution = LinearStart.solve(train, validation: validation) {
            let offsets = LinearStart.residualOffsets(
                solution, on: train, quantiles: decoder.levels, pointWeights: decoder.pointWeights)
            LinearStart.apply(solution, offsets: offsets, to: &initial)
            ridge = solution.ridge
            // Adam would move the least-squares weights by ~learning rate per step, far more
            // than they are worth: keep them, and let the LSTM learn the residual.
            options.frozen = [.skipWeight]
        }
        let trainer = try Trainer(model: initial, options: options)
        // The starting point competes too: if no epoch beats it on validation, it is kept.
        let initialScore = validation.map { trainer.validationScore($0) }
        // The training loss too, so `val_loss` is the same kind of number for every version.
        let initialLoss = validation.map { trainer.evaluate($0) }
        let report = try trainer.fit(train: train, validation: validation, progress: progress)
        if report.stopReason == .cancelled { throw CancellationError() }
        var model = trainer.model
        var keptStart = false
        if let initialScore, let best = report.bestValidationLoss, initialScore <= best {
            model = initial
            keptStart = true
        }
        let volatility = Volatility(train)
        let intervalScale =
            validation.map {
                LinearStart.intervalScale(model, on: $0, point: decoder.centre, volatility: volatility)
            } ?? 1
        var scalers: [String: [Scaler]] = [:]
        for (index, series) in windows.series.enumerated() { scalers[series.key] = windows.scalers[index] }
        // The point forecast's validation MSE (scaled units): the yardstick the live error of
        // issued forecasts is compared with to detect drift.
        let validationMSE = keptStart ? initialScore : report.bestValidationLoss
        var metrics = VersionMetrics()
        metrics.epochs = report.epochs
        metrics.steps = report.steps
        metrics.trainingWindows = train.count
        metrics.validationWindows = validation?.count ?? 0
        metrics.series = windows.series.count
        metrics.seconds = (clock.now - started).seconds
        metrics.validationMSE = validationMSE?.finite
        metrics.intervalScale = intervalScale
        metrics.keptLinearStart = keptStart
        metrics.linearRidge = ridge
        metrics.bestEpoch = report.bestEpoch.map { $0 + 1 }
        metrics.stopReason = report.stopReason == .earlyStopping ? .earlyStopping : .maxEpochs
        return TrainedModel(
            model: model, scalers: scalers, trainedThrough: newest, window: settings.windowOptions,
            frequency: settings.source.frequency, covariates: settings.source.covariateColumns,
            decoder: QuantileDecoder(
                levels: decoder.levels, pointWeights: decoder.pointWeights, intervalScale: intervalScale),
            volatility: volatility, trainLoss: report.trainingLosses.last,
            validationLoss: keptStart ? initialLoss : validation.map { trainer.evaluate($0) }, metrics: metrics)
    }

    /// Fine-tunes `active` on windows whose targets reach into data it has not seen, plus a replay
    /// sample of older windows, for a bounded number of steps. The newest quarter of the new
    /// windows is held out: the candidate is accepted only if its loss there is not worse
    /// than the active model's by more than `tolerance`.
    func fineTune(
        _ active: TrainedModel, on series: SeriesSet, progress: (TrainingEvent) -> TrainingControl
    ) throws -> FineTuneOutcome {
        guard
            let filled = series.filled(covariates: active.covariates, maxGap: active.window.maxGap)
        else { throw PipelineError.missingColumns(active.covariates) }
        return try fineTune(active, on: filled, newest: Self.newest(series), progress: progress)
    }

    /// Fine-tunes on `filled`, whose newest observation is `newest` (µs).
    func fineTune(
        _ active: TrainedModel, on filled: [FilledSeries], newest: Int64, progress: (TrainingEvent) -> TrainingControl
    ) throws -> FineTuneOutcome {
        let frequency = active.frequency
        // New windows are those whose targets reach past what the active version saw: their
        // targets start at most horizon - 1 steps before its last observation.
        let firstNewTarget = frequency.start(
            of: frequency.bucket(of: active.trainedThrough) + 2 - Int64(active.window.horizon))
        let windows = try SeriesWindows(
            series: filled, options: active.window, split: .from(firstNewTarget), scalers: active.scalers)
        // New windows per series, oldest first; the newest quarter of them is the holdout.
        var fresh: [WindowReference] = []
        var holdout: [WindowReference] = []
        let bySeries = Dictionary(grouping: windows.validation, by: \.series)
        for key in bySeries.keys.sorted() {
            let references = bySeries[key]!.sorted { $0.start < $1.start }
            let held = max(1, references.count / 4)
            fresh += references.dropLast(held)
            holdout += references.suffix(held)
        }
        guard !fresh.isEmpty else {
            return FineTuneOutcome(accepted: false, reason: "no new complete windows since the active version")
        }
        // A fine-tune draws at most `maxFineTuneSteps` batches: materialize no more windows
        // than those can use (a third new, two thirds replay) and a bounded holdout, whatever
        // the number of series (at 10,000 series a day of new data was 540,000 windows,
        // 155 MB, of which at most 12,800 were ever drawn).
        let newWindows = fresh.count
        fresh = Self.sample(fresh, limit: Self.maxFineTuneSteps * Self.batchSize / 3)
        holdout = Self.sample(holdout, limit: maxTrainingWindows / 4)
        // Replay windows are sampled with a generator seeded by the model and the data's
        // newest time: the same update of the same data gives the same candidate.
        var generator = RandomGenerator(seed: Self.seed(settings.name) ^ UInt64(bitPattern: newest))
        let replay =
            windows.training.isEmpty
            ? []
            : (0..<min(windows.training.count, 2 * fresh.count)).map { _ in
                windows.training[Int.random(in: 0..<windows.training.count, using: &generator)]
            }
        let tuneSet = try materialize(windows, fresh + replay, window: active.window)
        let holdoutSet = try materialize(windows, holdout, window: active.window)
        var options = trainingOptions(outputs: active.decoder.outputCount)
        options.epochs = 1
        // Unlike full training, the skip is not frozen here: letting it follow recent data
        // measured better (ETTh1, horizon 336, weekly fine-tunes: mse_std 0.0779 vs 0.0801).
        let trainer = try Trainer(model: active.model, options: options)
        let activeLoss = trainer.evaluate(holdoutSet)
        let steps = min(Self.maxFineTuneSteps, max(10, 3 * tuneSet.count / options.batchSize))
        let report = try trainer.fineTune(
            windows: tuneSet, steps: steps, learningRate: settings.learningRate * 0.3, progress: progress)
        if report.stopReason == .cancelled { throw CancellationError() }
        let candidateLoss = trainer.evaluate(holdoutSet)
        var scalers = active.scalers
        for (index, series) in windows.series.enumerated() where scalers[series.key] == nil {
            scalers[series.key] = windows.scalers[index]
        }
        var metrics = VersionMetrics()
        metrics.steps = report.steps
        metrics.newWindows = newWindows
        metrics.replayWindows = replay.count
        metrics.holdoutWindows = holdout.count
        metrics.holdoutLossBefore = activeLoss.finite
        metrics.holdoutLossAfter = candidateLoss.finite
        metrics.validationMSE = active.metrics.validationMSE
        var candidate = active
        candidate.model = trainer.model
        candidate.scalers = scalers
        candidate.trainedThrough = newest
        candidate.trainLoss = report.trainingLosses.last
        candidate.validationLoss = candidateLoss
        candidate.metrics = metrics
        let accepted = candidateLoss <= activeLoss * (1 + tolerance)
        let reason =
            accepted
            ? "holdout loss \(Self.format(activeLoss)) -> \(Self.format(candidateLoss))"
            : "rejected: holdout loss would rise from \(Self.format(activeLoss)) to \(Self.format(candidateLoss))"
        return FineTuneOutcome(
            candidate: candidate, activeHoldoutLoss: activeLoss, candidateHoldoutLoss: candidateLoss,
            accepted: accepted, reason: reason)
    }

    static func format(_ value: Double) -> String { String(format: "%.5g", value) }

    /// Newest observation over all series (µs since the Unix epoch).
    static func newest(_ series: SeriesSet) -> Int64 { series.watermarks.values.max() ?? 0 }

    /// At most `limit` of `references`, evenly spread over them (all when there are fewer).
    static func sample<References: RandomAccessCollection<WindowReference>>(_ references: References, limit: Int)
        -> [WindowReference] where References.Index == Int
    {
        guard references.count > limit else { return Array(references) }
        let step = Double(references.count) / Double(limit)
        return (0..<limit).map { references[references.startIndex + Int(Double($0) * step)] }
    }

    func materialize(_ windows: SeriesWindows, _ references: [WindowReference], window: WindowOptions) throws
        -> Forecast.WindowSet
    {
        let batch = windows.batch(references)
        return try Forecast.WindowSet(
            inputs: batch.inputs, targets: batch.targets, lookback: window.lookback,
            features: windows.featureCount, horizon: window.horizon)
    }

    func notEnoughData(_ windows: SeriesWindows) -> PipelineError {
        let span = settings.lookback + settings.horizon
        if let first = windows.insufficient.first {
            let key = first.key.isEmpty ? "the series" : "series \"\(first.key)\""
            return .notEnoughData("\(key): \(first.reason)")
        }
        return .notEnoughData("no gap-free stretch of \(span) steps (lookback + horizon) before the validation split")
    }
}
