import Forecast
import Testing

@testable import DaemonCore
@testable import Ingest

/// Full training and fine-tuning on the tiny synthetic model, without a database.
struct TrainingPipelineTests {
    @Test func fullTrainingRecordsTheSettingsFactsInTheModel() throws {
        let settings = try TinyModel.settings()
        let trained = try TinyModel.trained()
        #expect(trained.window == settings.windowOptions)
        #expect(trained.frequency == .hours(1))
        #expect(trained.covariates == ["c"])
        #expect(trained.decoder.levels == settings.quantiles)
        #expect(trained.decoder.pointWeights == QuantileDecoder(levels: settings.quantiles).pointWeights)
        #expect(trained.model.configuration.hidden == 8 && trained.model.configuration.layers == 1)
        #expect(trained.model.configuration.featureCount == 2)  // target and covariate
        #expect(trained.mismatches(settings).isEmpty)
        #expect(trained.trainedThrough == TinyModel.time(ofStep: 299))
        #expect(trained.scalers.keys.sorted() == TinyModel.keys)
        #expect(trained.scalers.values.allSatisfy { $0.count == 2 })
        #expect(trained.trainLoss.map { $0.isFinite } == true)
        #expect(trained.validationLoss.map { $0.isFinite } == true)
        #expect(trained.metrics.series == 2 && (trained.metrics.trainingWindows ?? 0) > 0)
        #expect((1...3).contains(trained.metrics.epochs ?? 0))
    }

    @Test func theCheckpointRoundTripsEveryFact() throws {
        let trained = try TinyModel.trained()
        // Settings that changed since: a current checkpoint keeps its own facts.
        let legacy = try TinyModel.settings(covariates: [])
        let loaded = try TrainedModel(
            checkpoint: try trained.checkpoint(), trainLoss: trained.trainLoss, validationLoss: trained.validationLoss,
            legacy: legacy)
        #expect(loaded.model == trained.model)
        #expect(loaded.scalers == trained.scalers)
        #expect(loaded.trainedThrough == trained.trainedThrough)
        #expect(loaded.window == trained.window)
        #expect(loaded.frequency == trained.frequency)
        #expect(loaded.covariates == trained.covariates)
        #expect(loaded.decoder == trained.decoder)
        #expect(loaded.volatility == trained.volatility)
        #expect(loaded.trainLoss == trained.trainLoss && loaded.validationLoss == trained.validationLoss)
        let series = TinyModel.series(0..<300)
        #expect(
            try Forecaster.forecast(loaded, series: series).rows == Forecaster.forecast(trained, series: series).rows)
    }

    @Test func fineTuningOnNewStepsGivesAnOutcomeWithAReason() throws {
        let settings = try TinyModel.settings()
        let trained = try TinyModel.trained()
        var series = TinyModel.series(0..<300)
        series.merge(TinyModel.read(300..<348))
        let outcome = try TrainingPipeline(settings: settings).fineTune(trained, on: series) { _ in .continue }
        let candidate = try #require(outcome.candidate)
        #expect(!outcome.reason.isEmpty)
        #expect(outcome.reason.contains("holdout loss"))
        #expect(outcome.activeHoldoutLoss.map { $0.isFinite } == true)
        #expect(outcome.candidateHoldoutLoss.map { $0.isFinite } == true)
        #expect(candidate.trainedThrough == TinyModel.time(ofStep: 347))
        #expect(candidate.window == trained.window && candidate.covariates == trained.covariates)
        #expect(candidate.decoder == trained.decoder)
        #expect((candidate.metrics.newWindows ?? 0) > 0 && (candidate.metrics.holdoutWindows ?? 0) > 0)
    }

    @Test func fineTuningWithoutNewStepsHasNothingToLearn() throws {
        let trained = try TinyModel.trained()
        let outcome = try TrainingPipeline(settings: try TinyModel.settings()).fineTune(
            trained, on: TinyModel.series(0..<300)
        ) { _ in .continue }
        #expect(outcome.candidate == nil && !outcome.accepted)
        #expect(outcome.reason == "no new complete windows since the active version")
    }

    @Test func aTooShortSeriesIsNotEnoughDataWithAReadableMessage() throws {
        let pipeline = TrainingPipeline(settings: try TinyModel.settings())
        #expect(
            throws: PipelineError.notEnoughData(
                "series \"s0\": longest gap-free stretch is 20 steps; lookback + horizon needs 30")
        ) {
            try pipeline.fullTrain(TinyModel.series(0..<20)) { _ in .continue }
        }
        let error = PipelineError.notEnoughData(
            "series \"s0\": longest gap-free stretch is 20 steps; lookback + horizon needs 30")
        #expect(
            error.description
                == "not enough data to train: series \"s0\": longest gap-free stretch is 20 steps; "
                + "lookback + horizon needs 30")
    }

    @Test func aSetWithoutTheCovariateIsMissingColumns() throws {
        let pipeline = TrainingPipeline(settings: try TinyModel.settings())
        #expect(throws: PipelineError.missingColumns(["c"])) {
            try pipeline.fullTrain(TinyModel.series(0..<300, covariates: [])) { _ in .continue }
        }
    }
}
