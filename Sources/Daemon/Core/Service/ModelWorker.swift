import Forecast
import Foundation
import Ingest
import Logging
import PostgresClient

/// One model's life inside the daemon: reads new data, trains or fine-tunes when the
/// planner says so, and publishes forecasts. Holds the model's series and active network
/// in memory between cycles; after a restart it loads the active version from the
/// database instead of training again.
///
/// One cycle runs at a time per model (the scheduler guarantees it). Errors put only this
/// model in `error`, with a message users can read in `forecast.model_status`.
actor ModelWorker {
    let name: String
    private let context: DaemonContext
    private var logger: Logger
    private var connection: PostgresConnection?
    private var settings: ModelSettings?
    private var series: SeriesSet?
    private var active: ActiveModel?
    private var lastIssued: [String: Int64] = [:]
    private var loaded = false
    /// Forecasts not yet compared with actuals (for drift detection), and the running error.
    private var pending = PendingForecasts()
    private var liveError = LiveError()
    private var lastError: String?
    /// Consecutive failed cycles, and when the next attempt is due (backoff up to minutes).
    private var failures = 0
    private var retryAt: ContinuousClock.Instant?
    /// A request was taken by a cycle that failed before it could record the request's end
    /// (the connection broke): the next cycle puts it back in the queue.
    private var requestOrphaned = false
    /// When old forecasts were last pruned (`pruneOldForecasts`).
    private var lastPruned: ContinuousClock.Instant?
    /// `pg_class.oid` of the source, to match new-data notifications.
    private(set) var relationOID: Int64?
    /// This model's counters and cycle histogram (`forecastd_*{model=...}`).
    private let metrics: ModelMetrics
    /// The step the current cycle is in: a failure's `kind` in `forecastd_errors_total`.
    private var phase = ModelMetrics.ErrorKind.read

    struct ActiveModel: Sendable {
        var version: Int
        var trained: TrainedModel
        var lastFullAt: Int64?
        var validationMSE: Double?
    }

    /// How a cycle ended.
    enum Outcome: Sendable, Equatable {
        case done
        case dropped
        case paused
        case failed(String)
        case cancelled
    }

    init(name: String, context: DaemonContext) {
        self.name = name
        self.context = context
        var logger = context.logger
        logger[metadataKey: "model"] = "\(name)"
        self.logger = logger
        metrics = ModelMetrics(model: name)
    }

    /// Whether the model failed recently and waits before trying again (`retryAt`); a
    /// notification (new data, a request) tries at once.
    func isBackingOff(at now: ContinuousClock.Instant) -> Bool { retryAt.map { now < $0 } ?? false }

    /// Runs one cycle under `lease` on a connection borrowed from the daemon's pool for the
    /// cycle's length.
    /// `newData`: the source's trigger announced new rows since the last cycle.
    func cycle(lease: Lease, newData: Bool = true) async -> Outcome {
        let started = ContinuousClock.now
        let outcome: Outcome
        do {
            connection = try await context.connections.acquire()
            outcome = await run(lease: lease, newData: newData)
        } catch {
            context.database.lost(Self.describe(error))
            metrics.failed(.database)
            return .failed(Self.describe(error))
        }
        switch outcome {
        case .done, .failed: metrics.cycle(took: .now - started)
        case .dropped, .paused, .cancelled: break
        }
        if let connection {
            await context.connections.release(connection, healthy: connectionHealthy)
        }
        connection = nil
        connectionHealthy = true
        HeapPolicy.trim()
        logger.debug("heap", metadata: ["in_use_mb": "\((HeapPolicy.inUse ?? 0) / 1_000_000)"])
        return outcome
    }

    /// Whether the borrowed connection may go back to the pool (false after a lost connection).
    private var connectionHealthy = true

    /// Polls that skipped reading in a row; every `rereadEvery`-th poll reads anyway, a
    /// safety net for rows a trigger could not announce (e.g. loaded with triggers disabled).
    private var pollsWithoutRead = 0
    static let rereadEvery = 30

    private func run(lease: Lease, newData: Bool) async -> Outcome {
        var request: TakenRequest?
        phase = .read
        do {
            let connection = try connected()
            let name = self.name
            let requeue = requestOrphaned
            let found = try await connection.withSession { session in
                if requeue { try ModelStore.requeueInterrupted(name, in: session) }
                return try ModelStore.model(name, in: session)
            }
            requestOrphaned = false
            context.database.reached()
            guard let (settings, state) = found else { return .dropped }
            if state == .paused { return .paused }
            if settings != self.settings { adopt(settings) }
            if !loaded { try await load(connection, settings) }

            // A source whose trigger announces new rows has nothing new without an
            // announcement: the poll reads and writes (almost) nothing.
            let quiet = settings.notifiesNewData && !newData && pollsWithoutRead < Self.rereadEvery
            let set: SeriesSet
            var readNews = false
            if quiet, let cached = series, readingSource == readSource(settings) {
                set = cached
                pollsWithoutRead += 1
            } else {
                set = try await ingest(connection, settings)
                pollsWithoutRead = 0
                scoreMaturedForecasts(set)
                readNews = true
            }
            request = try await connection.withSession { [name] in try ModelStore.takeRequest(name, in: $0) }
            let facts = ModelFacts(
                hasActiveVersion: active != nil, requestedMode: request?.mode,
                settingsChanges: active?.trained.mismatches(settings) ?? [],
                newestData: TrainingPipeline.newest(set), trainedThrough: active?.trained.trainedThrough,
                frequency: settings.source.frequency.microseconds, updateEvery: settings.updateEvery,
                retrainEvery: settings.retrainEvery.map { Int64($0 * 1e6) }, lastFullAt: active?.lastFullAt,
                now: Int64(Date().timeIntervalSince1970 * 1e6), driftRatio: driftRatio)
            switch ModelPlanner.next(facts) {
            case .fullTrain(let reason): try await train(full: true, reason: reason, settings, set, lease, request)
            case .fineTune(let reason): try await train(full: false, reason: reason, settings, set, lease, request)
            case .none:
                if let request {
                    try await context.writer.write {
                        try ModelStore.finishRequest(request.id, .notApplied, outcome: "nothing to train", in: $0)
                    }
                }
            }
            request = nil
            try await publish(settings, set, lease)
            // Scoring (the actuals of matured targets) after the new forecasts are out: it
            // costs about 0.1 ms per matured set and must not delay them.
            if readNews {
                phase = .write
                try await recordActuals(connection, set)
                phase = .read
            }
            await pruneOldForecasts()
            if lastError != nil || state != .active {
                try await context.writer.write { [name] in try ModelStore.setState(name, .active, in: $0) }
                if lastError != nil { logger.notice("recovered") }
                lastError = nil
            }
            failures = 0
            retryAt = nil
            return .done
        } catch is CancellationError {
            return .cancelled
        } catch let error as LeaseLost {
            logger.warning("\(error)")
            metrics.failed(.lease)
            return .failed(error.description)
        } catch let error as PostgresError where error.isConnectionLoss {
            // The daemon's condition, not the model's: its state stays; a taken request is
            // requeued once the database is back.
            context.database.lost(error.message)
            if request != nil { requestOrphaned = true }
            connectionHealthy = false
            metrics.failed(.database)
            return .failed(error.message)
        } catch {
            metrics.failed(phase)
            let message = Self.describe(error)
            await record(message, request: request)
            failures += 1
            let delay = min(300.0, 2 * pow(2, Double(min(failures, 10) - 1)))
            retryAt = .now + .milliseconds(Int(delay * 1000))
            return .failed(message)
        }
    }

    // MARK: Steps

    /// The connection borrowed for this cycle.
    private func connected() throws -> PostgresConnection {
        guard let connection else { throw PostgresError(.usage, "no connection borrowed for this cycle") }
        return connection
    }

    /// New settings (or first sight). The active version stays (it serves with its own
    /// facts until the planner's retrain replaces it); the series are read again when what
    /// is read changed: the source, its columns, the grid or the covariates (the settings'
    /// and the active version's, so both can be served and trained).
    private func adopt(_ settings: ModelSettings) {
        if self.settings != nil { logger.info("model settings changed") }
        self.settings = settings
        let source = readSource(settings)
        if series != nil, source != readingSource {
            series = nil
            qualityToWrite = [:]
            warnedSeveralSensors = false
        }
    }

    /// What is read for `settings`: their source with the covariates of the settings, then
    /// those only the active version uses.
    private func readSource(_ settings: ModelSettings) -> SourceDescription {
        var source = settings.source
        for column in active?.trained.covariates ?? [] where !source.covariateColumns.contains(column) {
            source.covariateColumns.append(column)
        }
        return source
    }

    /// The source the in-memory series were read from.
    private var readingSource: SourceDescription?

    /// Loads the active version and what was already forecast; requeues requests a dead
    /// process left running.
    private func load(_ connection: PostgresConnection, _ settings: ModelSettings) async throws {
        let (stored, issued) = try await connection.withSession { [name] session in
            try ModelStore.requeueInterrupted(name, in: session)
            return (try ModelStore.activeVersion(name, in: session), try ForecastStore.lastIssued(name, in: session))
        }
        if let stored {
            let trained = try TrainedModel(
                checkpoint: stored.checkpoint, trainLoss: stored.trainLoss, validationLoss: stored.validationLoss,
                legacy: settings)
            active = ActiveModel(
                version: stored.version, trained: trained, lastFullAt: stored.lastFullAt,
                validationMSE: stored.validationMSE)
            logger.info("loaded active version", metadata: ["version": "\(stored.version)"])
        }
        lastIssued = issued
        loaded = true
    }

    /// Reads new rows and merges them into the in-memory series.
    private func ingest(_ connection: PostgresConnection, _ settings: ModelSettings) async throws -> SeriesSet {
        let source = readSource(settings)
        if source != readingSource { series = nil }
        let watermarks = series?.watermarks ?? [:]
        let (resolved, read) = try await connection.withSession { session in
            let resolved = try SourceCatalog.resolve(source, in: session)
            let read = try SeriesReader(source: resolved, options: settings.readOptions)
                .read(in: session, after: watermarks)
            return (resolved, read)
        }
        relationOID = resolved.oid
        metrics.rowsRead.increment(by: read.rows)
        var set =
            series
            ?? SeriesSet(
                frequency: source.frequency, maxHistory: settings.maxHistory, covariateColumns: source.covariateColumns)
        let reports = set.merge(read)
        series = set
        readingSource = source
        if settings.source.seriesColumn == nil, let report = reports.values.first {
            try await warnIfSeveralSensors(report)
        }
        qualityToWrite.merge(reports.mapValues(\.json)) { $1 }
        guard !set.series.isEmpty else { throw PipelineError.noSeries }
        if read.rows > 0 {
            logger.debug("read", metadata: ["rows": "\(read.rows)", "series": "\(set.series.count)"])
        }
        return set
    }

    /// Whether the "several sensors in one series" warning was recorded for this source.
    private var warnedSeveralSensors = false

    /// A source without a series column where at least half the rows share their timestamp holds
    /// several sensors averaged into one series: say so once, as an event and a log line.
    private func warnIfSeveralSensors(_ report: QualityReport) async throws {
        guard !warnedSeveralSensors, report.rowsRead >= 10, 2 * report.rowsSharingTimestamp >= report.rowsRead
        else { return }
        warnedSeveralSensors = true
        let message =
            "\(report.rowsSharingTimestamp) of \(report.rowsRead) rows share their timestamp with another row: "
            + "the source seems to hold several sensors, averaged into one series; set series_column "
            + "(forecast.alter_model) to forecast each on its own"
        logger.warning("\(message)")
        try await context.writer.write { [name] session in try ModelStore.event(name, .warning, message, in: session) }
    }

    /// Quality reports of reads not yet written to `forecast.series_state`.
    private var qualityToWrite: [String: String] = [:]
    /// Per series, the reason (nil: none) and bridged steps last written to `forecast.series_state`.
    private var writtenReasons: [String: String?] = [:]
    private var writtenBridged: [String: Int] = [:]

    /// Trains (on the pool) and publishes a new version; a rejected fine-tune is recorded.
    private func train(
        full: Bool, reason: String, _ settings: ModelSettings, _ set: SeriesSet, _ lease: Lease,
        _ request: TakenRequest?
    ) async throws {
        let kind: VersionKind = full ? .full : .finetune
        logger.info("training", metadata: ["kind": "\(kind)", "reason": "\(reason)"])
        phase = .write
        try await context.writer.write { [name] in try ModelStore.setState(name, .training, in: $0) }
        let pipeline = TrainingPipeline(settings: settings)
        let current = active
        let started = ContinuousClock.now
        let (progress, progressSink) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(16))
        phase = .train
        let outcome: FineTuneOutcome = try await withThrowingTaskGroup(of: Void.self) { group in
            let connection = try connected()
            let model = name
            // Each epoch: a NOTIFY for `retrain --wait` and the model's row for
            // `forecast.model_status` (cleared when the state leaves `training`).
            group.addTask {
                for await payload in progress {
                    _ = try? await connection.withSession { session in
                        try session.execute("SELECT pg_notify($1, $2)", [DaemonContext.progressChannel, payload])
                        try ModelStore.setTrainingProgress(model, json: payload, in: session)
                    }
                }
            }
            defer { progressSink.finish() }
            let tracking = ProgressTracker(
                model: model, request: request?.id, kind: kind, epochs: full || current == nil ? settings.maxEpochs : 1,
                started: started)
            if let line = try? JSONLine.encode(tracking.start) { progressSink.yield(line) }
            return try await context.pool.run { flag in
                var tracker = tracking
                let callback: (TrainingEvent) -> TrainingControl = { event in
                    if flag.isCancelled { return .stop }
                    if let progress = tracker.progress(after: event), let line = try? JSONLine.encode(progress) {
                        progressSink.yield(line)
                    }
                    return .continue
                }
                let result: FineTuneOutcome
                if let current, !full {
                    result = try pipeline.fineTune(current.trained, on: set, progress: callback)
                } else {
                    let trained = try pipeline.fullTrain(set, progress: callback)
                    result = FineTuneOutcome(candidate: trained, accepted: true, reason: reason)
                }
                if flag.isCancelled { throw CancellationError() }
                return result
            }
        }
        phase = .write
        guard let candidate = outcome.candidate, outcome.accepted else {
            // The active version stays; say why.
            let message = "incremental update not applied: \(outcome.reason)"
            logger.notice("\(message)")
            try await context.writer.write { [name] session in
                try session.transaction {
                    try ModelStore.event(name, outcome.candidate == nil ? .info : .warning, message, in: session)
                    try ModelStore.setState(name, .active, in: session)
                    if let request {
                        try ModelStore.finishRequest(request.id, .notApplied, outcome: outcome.reason, in: session)
                    }
                }
            }
            if let current {
                active?.trained.trainedThrough = max(current.trained.trainedThrough, TrainingPipeline.newest(set))
            }
            return
        }
        var trained = candidate
        let validationMSE = full ? trained.metrics.validationMSE : current?.validationMSE
        if !full { trained.metrics.validationMSE = validationMSE }
        let checkpoint = try trained.checkpoint()
        let parent = current?.version
        let owner = context.owner
        let message = "\(kind) training done: \(outcome.reason)"
        let keep = context.keepVersions
        let version = try await context.writer.write { [trained] session in
            let version = try ModelStore.publishVersion(
                trained, checkpoint: checkpoint, kind: kind, parent: parent, message: message, request: request,
                lease: lease, owner: owner, in: session)
            do {
                try ModelStore.pruneCheckpoints(lease.model, keep: keep, in: session)
            } catch let error as PostgresError where !error.isConnectionLoss {
                // Pruning is housekeeping: the version is out whatever happens here.
            }
            return version
        }
        metrics.versions[kind]?.increment()
        active = ActiveModel(
            version: version, trained: trained,
            lastFullAt: full ? Int64(Date().timeIntervalSince1970 * 1e6) : current?.lastFullAt,
            validationMSE: validationMSE)
        pending = PendingForecasts()
        liveError = LiveError()
        // Re-issue the newest forecasts with the new version (they replace the old rows).
        lastIssued = [:]
        logger.info(
            "new active version",
            metadata: [
                "version": "\(version)", "kind": "\(kind)",
                "val_loss": "\(trained.validationLoss.map { TrainingPipeline.format($0) } ?? "-")",
                "seconds": "\(String(format: "%.1f", (ContinuousClock.now - started).seconds))",
            ])
    }

    /// Forecasts every series that has newer data than its last forecast and writes the set,
    /// with the series' watermarks and quality, in one transaction.
    private func publish(_ settings: ModelSettings, _ set: SeriesSet, _ lease: Lease) async throws {
        var rows: [ForecastRow] = []
        var version = 0
        // A forecast is issued at a series' last gap-free step, never after its last bucket:
        // when no series has a bucket newer than its last forecast, there is nothing to do
        // (and no need to copy every series into windows on each poll).
        let hasNewData = set.series.values.contains { series in
            lastIssued[series.key].map { series.lastBucketTime > $0 } ?? true
        }
        // A version trained on another grid cannot read this one: its forecasts stay as they
        // are until the retrain the planner scheduled replaces it.
        var reasons: [String: String?] = [:]
        var bridged: [String: Int] = [:]
        if let active, hasNewData, active.trained.frequency == set.frequency {
            phase = .forecast
            let trained = active.trained
            let issued = lastIssued
            let result = try await context.pool.run { _ in
                try Forecaster.forecast(trained, series: set, after: issued)
            }
            rows = result.rows
            version = active.version
            for row in rows where row.step == 1 {
                reasons[row.series] = .some(nil)
                bridged[row.series] = result.bridged[row.series] ?? 0
            }
            for (key, reason) in result.reasons { reasons[key] = reason }
        } else if let active, active.trained.frequency != set.frequency {
            let reason = "the active version was trained on a \(active.trained.frequency) grid; a retrain is under way"
            for key in set.keys { reasons[key] = reason }
        }
        // Series states to write: new quality reports, and reasons or bridging that changed.
        var changed = Set(qualityToWrite.keys)
        for (key, reason) in reasons where writtenReasons[key] != reason || writtenBridged[key] != bridged[key] {
            changed.insert(key)
        }
        guard !rows.isEmpty || !changed.isEmpty else { return }
        let watermarks = set.watermarks
        let states = changed.sorted().compactMap { key -> SeriesStateRow? in
            guard let watermark = watermarks[key] else { return nil }
            let reason = reasons[key] ?? writtenReasons[key] ?? nil
            return SeriesStateRow(
                series: key, watermark: watermark, quality: qualityToWrite[key], reason: reason,
                bridged: bridged[key] ?? writtenBridged[key] ?? 0)
        }
        let owner = context.owner
        phase = .write
        try await context.writer.write { [rows, version] session in
            try ForecastStore.writeForecasts(
                rows, version: version, states: states, lease: lease, owner: owner, in: session)
        }
        metrics.forecastsWritten.increment(by: rows.count)
        qualityToWrite = [:]
        for state in states {
            if state.reason != writtenReasons[state.series] ?? nil, let reason = state.reason {
                logger.warning(
                    "series without a fresh forecast", metadata: ["series": "\(state.series)", "reason": "\(reason)"])
            }
            writtenReasons[state.series] = .some(state.reason)
            writtenBridged[state.series] = state.bridged
        }
        for row in rows where row.step == 1 { lastIssued[row.series] = row.issuedAt }
        pending.add(rows)
        if !rows.isEmpty {
            logger.info(
                "forecasts written",
                metadata: [
                    "series": "\(Set(rows.map(\.series)).count)", "rows": "\(rows.count)", "version": "\(version)",
                ])
        }
    }

    /// At most hourly, after a successful cycle: creates the coming weeks' forecast
    /// partitions and drops those older than the configured retention
    /// (`keep_forecasts_days`; whole partitions, see `ForecastStore.pruneForecasts`). A
    /// failure is logged and retried an hour later; it never puts the model in error.
    private func pruneOldForecasts() async {
        let now = ContinuousClock.now
        if let last = lastPruned, now - last < .seconds(3600) { return }
        lastPruned = now
        let keep = context.keepForecastsSeconds
        do {
            let dropped = try await context.writer.write { session in
                try ForecastStore.ensurePartitions(in: session)
                return try keep.map { try ForecastStore.pruneForecasts(keepSeconds: $0, in: session) } ?? 0
            }
            if dropped > 0 { logger.info("old forecast partitions dropped", metadata: ["partitions": "\(dropped)"]) }
        } catch is CancellationError {
            return
        } catch {
            logger.warning("could not drop old forecasts: \(Self.describe(error))")
        }
    }

    /// Records the actuals (and seasonal-naive values) of forecast targets that have arrived,
    /// so `forecast.accuracy` shows how good issued forecasts were.
    private func recordActuals(_ connection: PostgresConnection, _ set: SeriesSet) async throws {
        guard let newest = set.watermarks.values.max() else { return }
        let name = self.name
        let due = try await connection.withSession { session in
            try ForecastStore.unscored(name, through: newest, in: session)
        }
        var actuals: [ActualRow] = []
        var through: [String: Int64] = [:]
        for series in due {
            guard let values = set.series[series.series], let (rows, last) = series.actuals(in: values) else {
                continue
            }
            actuals += rows
            through[series.series] = last
        }
        guard !through.isEmpty else { return }
        try await context.writer.write { [actuals, through] session in
            try ForecastStore.score(name, actuals, through: through, in: session)
        }
    }

    /// Compares forecasts whose targets have arrived with the actuals (in scaled units).
    private func scoreMaturedForecasts(_ set: SeriesSet) {
        guard let active, pending.count > 0 else { return }
        pending.scoreMatured(watermarks: set.watermarks) { series, target, forecast in
            guard let actual = set.series[series]?.value(at: target),
                let scaler = active.trained.scalers[series]?.first
            else { return }
            liveError.add((Double(forecast) - Double(actual)) / Double(scaler.scale), series: series)
        }
    }

    /// Live MSE over validation MSE, once enough forecasts have matured to say
    /// (`LiveError.ratio`).
    private var driftRatio: Double? {
        guard let active, let reference = active.validationMSE, reference > 0 else { return nil }
        return liveError.ratio(to: reference, horizon: active.trained.window.horizon)
    }

    /// Puts the model in `error` and fails its taken and queued requests with the message
    /// (they would wait for a model that cannot serve them). Logged and recorded as an event
    /// when the message changes, not on every retry.
    private func record(_ message: String, request: TakenRequest?) async {
        let changed = message != lastError
        if changed {
            logger.error("\(message)")
        } else {
            logger.debug("still failing: \(message)")
        }
        lastError = message
        do {
            try await context.writer.write { [name] session in
                try session.transaction {
                    try ModelStore.setState(name, .error, error: message, in: session)
                    if changed { try ModelStore.event(name, .error, message, in: session) }
                    if let request { try ModelStore.finishRequest(request.id, .failed, error: message, in: session) }
                    try ModelStore.failQueuedRequests(name, error: message, in: session)
                }
            }
        } catch {
            if request != nil { requestOrphaned = true }
            logger.error("could not record the error: \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
