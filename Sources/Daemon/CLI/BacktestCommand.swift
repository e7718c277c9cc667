import ArgumentParser
import Forecast
import Foundation
import Ingest

/// `forecastd backtest MODEL`: how a model's configuration would have done on its history.
struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Train a fresh model of MODEL's configuration on history and score forecasts on a test span.",
        discussion: """
            Trains on data before --valid-from (early stopping on windows whose targets fall in \
            [--valid-from, --test-from)), then forecasts from every --stride-th origin whose whole \
            horizon lies in [--test-from, --test-until], without refitting unless --finetune-every N \
            asks to fine-tune every N origins. Stores per-origin errors and the summary in \
            forecast.backtests and forecast.backtest_origins; --json prints the summary as one line: \
            mse, mae (original units), mse_std, mae_std (errors divided by each series' training \
            standard deviation), coverage of [lower, upper], and the same for the naive (last value) \
            and seasonal-naive forecasts on identical origins.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Model name (its source and configuration are used; its versions are untouched).")
    var model: String
    @Option(help: "Start of the validation span (a timestamp PostgreSQL understands).") var validFrom: String
    @Option(help: "Start of the test span.") var testFrom: String
    @Option(help: "End of the test span (inclusive).") var testUntil: String
    @Option(help: "Steps between forecast origins.") var stride: Int = 1
    @Option(help: "Fine-tune the model every N origins (measures the incremental path).") var finetuneEvery: Int?
    @Option(help: "Threads to train with (default: the machine's cores, at most 8; results depend on it).")
    var threads: Int?
    @Flag(help: "Print the summary as one JSON line.") var json = false

    func validate() throws {
        guard stride >= 1 else { throw ValidationError("--stride must be at least 1") }
        if let finetuneEvery, finetuneEvery < 1 { throw ValidationError("--finetune-every must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        try await reportingFailures {
            let connection = try await global.connect()
            let (model, bounds) = (self.model, [validFrom, testFrom, testUntil])
            let (settings, times, series) = try await connection.withSession { session in
                guard let (settings, _) = try ModelStore.model(model, in: session) else {
                    throw CommandError("no model named '\(model)'")
                }
                let times = try bounds.map { text in
                    try session.query("SELECT $1::text::timestamptz", [text])[0]
                        .decode(PostgresTimestamp.self, at: 0).microsecondsSince1970
                }
                let source = try SourceCatalog.resolve(settings.source, in: session)
                var options = settings.readOptions
                options.maxHistory = 1_000_000
                var set = SeriesSet(frequency: settings.source.frequency, maxHistory: options.maxHistory)
                set.merge(try SeriesReader(source: source, options: options).read(in: session))
                return (settings, times, set)
            }
            guard times[0] < times[1], times[1] < times[2] else {
                throw CommandError("expected --valid-from < --test-from < --test-until")
            }
            let backtest = Backtest(
                settings: settings, validFrom: times[0], testFrom: times[1], testUntil: times[2], stride: stride,
                finetuneEvery: finetuneEvery,
                threads: threads ?? min(8, max(1, ProcessInfo.processInfo.activeProcessorCount)))
            let verbose = !json || isatty(STDERR_FILENO) == 1
            let result = try await TrainingPool(size: 1).run { _ in
                try backtest.run(series) { event in
                    if verbose, case .epoch(let epoch, let loss, let validation, _) = event {
                        let text = String(
                            format: "epoch %d: loss %.5f, val %.5f\n", epoch + 1, loss, validation ?? .nan)
                        FileHandle.standardError.write(Data(text.utf8))
                    }
                    return .continue
                }
            }
            guard !result.origins.isEmpty else {
                throw CommandError("no forecast origin has its whole horizon inside the test span")
            }
            var summary = result.summary(backtest)
            let stored = summary.text
            let id = try await connection.withSession { session in
                try Self.store(result, summary: stored, backtest: backtest, in: session)
            }
            await connection.close()
            summary.add("backtest", Int(id))
            if json {
                print(summary.text)
            } else {
                print(
                    String(
                        format:
                            "backtest %lld: %d origins, mse %.4g (std %.4g), mae %.4g; naive mse_std %.4g; seasonal naive mse_std %.4g; coverage %@; trained in %.0f s",
                        id, result.origins.count, result.model.squared / Double(result.model.count),
                        result.model.squaredStandardised / Double(result.model.count),
                        result.model.absolute / Double(result.model.count),
                        result.naive.squaredStandardised / Double(result.naive.count),
                        result.seasonalNaive.squaredStandardised / Double(result.seasonalNaive.count),
                        result.intervalCount > 0
                            ? String(format: "%.1f%%", 100 * Double(result.inside) / Double(result.intervalCount))
                            : "-",
                        result.trainSeconds))
            }
        }
    }

    static func store(_ result: Backtest.Result, summary: String, backtest: Backtest, in session: PostgresSession)
        throws
        -> Int64
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
            return id
        }
    }
}
