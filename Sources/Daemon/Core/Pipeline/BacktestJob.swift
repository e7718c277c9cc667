import Forecast
import Foundation
import Ingest
public import PostgresClient

/// What `forecastd backtest` asks for: a model's configuration and the spans, as text
/// PostgreSQL parses (`'2017-10-24 00:00+00'`).
public struct BacktestSpec: Sendable {
    public var model: String
    public var validFrom: String
    public var testFrom: String
    public var testUntil: String
    public var stride: Int
    public var finetuneEvery: Int?
    public var threads: Int
    /// Where to write one SVG chart per series whose forecasts were kept; nil: none.
    public var plotDirectory: String?

    public init(
        model: String, validFrom: String, testFrom: String, testUntil: String, stride: Int, finetuneEvery: Int?,
        threads: Int, plotDirectory: String? = nil
    ) {
        self.model = model
        self.validFrom = validFrom
        self.testFrom = testFrom
        self.testUntil = testUntil
        self.stride = stride
        self.finetuneEvery = finetuneEvery
        self.threads = threads
        self.plotDirectory = plotDirectory
    }
}

/// The one-line result of a backtest: what `forecastd backtest --json` prints and
/// `forecast.backtests.summary` stores. Errors in original units, `_std` divided by each
/// series' training standard deviation; the same for the naive and seasonal-naive forecasts
/// on identical origins.
public struct BacktestSummary: Sendable, Codable, Equatable {
    public var backtest: Int64?
    public var model: String
    public var horizon: Int
    public var lookback: Int
    public var origins: Int
    public var mse: Double?
    public var mae: Double?
    public var mseStd: Double?
    public var maeStd: Double?
    /// Share of actuals inside `[lower, upper]`, nil without intervals.
    public var coverage: Double?
    public var naiveMSE: Double?
    public var naiveMAE: Double?
    public var naiveMSEStd: Double?
    public var naiveMAEStd: Double?
    public var seasonalNaiveMSE: Double?
    public var seasonalNaiveMAE: Double?
    public var seasonalNaiveMSEStd: Double?
    public var seasonalNaiveMAEStd: Double?
    public var season: Int
    public var trainSeconds: Double
    public var epochs: Int
    public var fineTunes: Int
    public var threads: Int
    public var bestEpoch: Int?
    public var keptLinearStart: Bool?
    public var linearRidge: Double?
    /// The chart files written (`BacktestSpec.plotDirectory`); neither printed nor stored.
    public var plots: [String] = []

    enum CodingKeys: String, CodingKey {
        case backtest, model, horizon, lookback, origins, mse, mae, coverage, season, epochs, threads
        case mseStd = "mse_std"
        case maeStd = "mae_std"
        case naiveMSE = "naive_mse"
        case naiveMAE = "naive_mae"
        case naiveMSEStd = "naive_mse_std"
        case naiveMAEStd = "naive_mae_std"
        case seasonalNaiveMSE = "seasonal_naive_mse"
        case seasonalNaiveMAE = "seasonal_naive_mae"
        case seasonalNaiveMSEStd = "seasonal_naive_mse_std"
        case seasonalNaiveMAEStd = "seasonal_naive_mae_std"
        case trainSeconds = "train_seconds"
        case fineTunes = "fine_tunes"
        case bestEpoch = "best_epoch"
        case keptLinearStart = "kept_linear_start"
        case linearRidge = "linear_ridge"
    }

    init(_ result: Backtest.Result, of backtest: Backtest) {
        func mean(_ sum: Double, _ totals: Backtest.Totals) -> Double? { (sum / Double(max(totals.count, 1))).finite }
        model = backtest.settings.name
        horizon = backtest.settings.horizon
        lookback = backtest.settings.lookback
        origins = result.origins.count
        mse = mean(result.model.squared, result.model)
        mae = mean(result.model.absolute, result.model)
        mseStd = mean(result.model.squaredStandardised, result.model)
        maeStd = mean(result.model.absoluteStandardised, result.model)
        coverage = result.intervalCount > 0 ? Double(result.inside) / Double(result.intervalCount) : nil
        naiveMSE = mean(result.naive.squared, result.naive)
        naiveMAE = mean(result.naive.absolute, result.naive)
        naiveMSEStd = mean(result.naive.squaredStandardised, result.naive)
        naiveMAEStd = mean(result.naive.absoluteStandardised, result.naive)
        seasonalNaiveMSE = mean(result.seasonalNaive.squared, result.seasonalNaive)
        seasonalNaiveMAE = mean(result.seasonalNaive.absolute, result.seasonalNaive)
        seasonalNaiveMSEStd = mean(result.seasonalNaive.squaredStandardised, result.seasonalNaive)
        seasonalNaiveMAEStd = mean(result.seasonalNaive.absoluteStandardised, result.seasonalNaive)
        season = backtest.settings.source.frequency.seasonalPeriod
        trainSeconds = result.trainSeconds
        epochs = result.epochs
        fineTunes = result.fineTunes
        threads = backtest.threads
        bestEpoch = result.training.bestEpoch
        keptLinearStart = result.training.keptLinearStart
        linearRidge = result.training.linearRidge
    }
}

/// Runs a backtest end to end: reads the model's whole history, trains and scores off the
/// cooperative pool, and stores the summary and per-origin errors in `forecast.backtests`
/// and `forecast.backtest_origins`, and a bounded sample of whole forecasts for charts in
/// `forecast.backtest_forecasts` (see `Backtest.keptSeries`); with a plot directory, writes
/// one SVG chart per kept series there.
public enum BacktestJob {
    /// Why a backtest cannot run.
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unknownModel(String)
        case spansOutOfOrder
        case noOrigins

        public var description: String {
            switch self {
            case .unknownModel(let name): "no model named '\(name)'"
            case .spansOutOfOrder: "expected --valid-from < --test-from < --test-until"
            case .noOrigins: "no forecast origin has its whole horizon inside the test span"
            }
        }
    }

    /// Runs `spec` on `connection`; `progress` sees every epoch of the training (from a pool
    /// thread).
    public static func run(
        _ spec: BacktestSpec, on connection: PostgresConnection,
        progress: @escaping @Sendable (TrainingProgress) -> Void
    ) async throws -> BacktestSummary {
        let model = spec.model
        let bounds = [spec.validFrom, spec.testFrom, spec.testUntil]
        let (settings, times, series) = try await connection.withSession { session in
            guard let settings = try ModelStore.model(model, in: session)?.settings else {
                throw Failure.unknownModel(model)
            }
            let times = try bounds.map { text in
                try session.query("SELECT $1::text::timestamptz", [text])[0]
                    .decode(PostgresTimestamp.self, at: 0).microsecondsSince1970
            }
            let source = try SourceCatalog.resolve(settings.source, in: session)
            var options = settings.readOptions
            options.maxHistory = 1_000_000
            var set = SeriesSet(
                frequency: settings.source.frequency, maxHistory: options.maxHistory,
                covariateColumns: settings.source.covariateColumns)
            set.merge(try SeriesReader(source: source, options: options).read(in: session))
            return (settings, times, set)
        }
        guard times[0] < times[1], times[1] < times[2] else { throw Failure.spansOutOfOrder }
        let backtest = Backtest(
            settings: settings, validFrom: times[0], testFrom: times[1], testUntil: times[2], stride: spec.stride,
            finetuneEvery: spec.finetuneEvery, threads: spec.threads)
        let result = try await TrainingPool(size: 1).run { _ in
            var tracker = ProgressTracker(
                model: settings.name, request: nil, kind: .full, epochs: settings.maxEpochs)
            progress(tracker.start)
            return try backtest.run(series) { event in
                if let epoch = tracker.progress(after: event) { progress(epoch) }
                return .continue
            }
        }
        guard !result.origins.isEmpty else { throw Failure.noOrigins }
        var summary = BacktestSummary(result, of: backtest)
        let stored = try JSONLine.encode(summary)
        let id = try await connection.withSession { session in
            try store(result, summary: stored, backtest: backtest, in: session)
        }
        summary.backtest = id
        if let directory = spec.plotDirectory {
            let charts = try await ChartData.backtestCharts(id, history: series, on: connection)
            summary.plots = try ChartFiles.write(charts, prefix: "backtest-\(id)", to: directory)
        }
        return summary
    }

    static func store(_ result: Backtest.Result, summary: String, backtest: Backtest, in session: PostgresSession)
        throws -> Int64
    {
        try session.transaction {
            let id = try session.query(
                """
                INSERT INTO forecast.backtests (model, valid_from, test_from, test_until, stride, finetune_every, summary)
                VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb) RETURNING id
                """,
                [
                    backtest.settings.name, PostgresTimestamp(microsecondsSince1970: backtest.validFrom),
                    PostgresTimestamp(microsecondsSince1970: backtest.testFrom),
                    PostgresTimestamp(microsecondsSince1970: backtest.testUntil), Int32(backtest.stride),
                    backtest.finetuneEvery.map { Int32($0) }, summary,
                ])[0].decode(Int64.self, at: 0)
            try session.copyIn(
                """
                COPY forecast.backtest_origins (backtest, series, issued_at, mse, mae, coverage, naive_mse, seasonal_naive_mse)
                FROM STDIN (FORMAT binary)
                """
            ) { writer in
                for origin in result.origins {
                    try writer.appendRow([
                        id, origin.series, PostgresTimestamp(microsecondsSince1970: origin.issuedAt), origin.mse,
                        origin.mae, origin.coverage, origin.naiveMSE, origin.seasonalNaiveMSE,
                    ])
                }
            }
            try ChartData.storeBacktestForecasts(
                result.forecasts, backtest: id, frequency: backtest.settings.source.frequency, in: session)
            return id
        }
    }
}
