import Foundation
import Ingest
import PostgresClient

/// A lease on one model: who holds it and the epoch that fences its writes.
struct Lease: Sendable, Hashable {
    var model: String
    var epoch: Int64
}

/// The active version of a model, as stored.
struct StoredVersion: Sendable {
    var version: Int
    var kind: VersionKind
    var checkpoint: [UInt8]
    var trainLoss: Double?
    var validationLoss: Double?
    /// When the version was created (µs since the Unix epoch).
    var createdAt: Int64
    /// Creation time of the newest full training (schedules `retrain_every`).
    var lastFullAt: Int64?
    /// Point-forecast MSE (scaled) on validation windows at training time, for drift.
    var validationMSE: Double?
}

/// One row of `forecast.series_state` to write: how far the series was read, its newest
/// read's quality (JSON; nil keeps the stored one), why it has no fresh forecast (nil: it
/// has one) and the steps bridged in its newest forecast's window.
struct SeriesStateRow: Sendable, Hashable {
    var series: String
    /// µs since the Unix epoch.
    var watermark: Int64
    var quality: String?
    var reason: String?
    var bridged: Int
}

/// A retrain request taken from `forecast.requests`.
struct TakenRequest: Sendable, Hashable {
    var id: Int64
    var mode: RequestMode
}

/// The daemon lost a model's lease: another process holds it now, so nothing is written.
struct LeaseLost: Error, CustomStringConvertible {
    var model: String
    var description: String { "lease on model \"\(model)\" was lost; its work is abandoned" }
}

/// What the daemon reads from and writes to the `forecast` schema about models, leases,
/// versions and requests (forecasts and their actuals: `ForecastStore`).
///
/// Writes that publish work (versions, forecasts) take the model row `FOR UPDATE` and check
/// the lease epoch in the same transaction, so a process that lost its lease cannot commit.
enum ModelStore {
    // MARK: Models

    /// Settings of model `name`, or nil if it does not exist.
    static func model(_ name: String, in session: PostgresSession) throws -> (
        settings: ModelSettings, state: ModelState
    )? {
        let rows = try session.query(
            """
            SELECT name, source, time_column, value_column, series_column,
                   (extract(epoch FROM frequency) * 1000000)::int8, horizon, lookback, options::text,
                   extract(epoch FROM (options->>'retrain_every')::interval)::float8, state
            FROM forecast.models WHERE name = $1
            """, [name])
        guard let row = rows.first else { return nil }
        let options =
            try JSONSerialization.jsonObject(with: Data(try row.decode(String.self, at: 8).utf8)) as? [String: Any]
            ?? [:]
        guard let frequency = Frequency(validating: try row.decode(Int64.self, at: 5)) else {
            throw ModelSettings.InvalidOptions(message: "frequency must be positive")
        }
        let source = SourceDescription(
            relation: try row.decode(String.self, at: 1), timeColumn: try row.decode(String.self, at: 2),
            valueColumn: try row.decode(String.self, at: 3), seriesColumn: try row.decode(String?.self, at: 4),
            frequency: frequency)
        let settings = try ModelSettings(
            name: try row.decode(String.self, at: 0), source: source, horizon: try row.decode(Int.self, at: 6),
            lookback: try row.decode(Int.self, at: 7), options: options,
            retrainEverySeconds: try row.decode(Double?.self, at: 9))
        return (settings, try row.decode(ModelState.self, at: 10))
    }

    /// Claims (or renews) leases on every model that is not paused and not held by another
    /// live process; returns the leases now held by `owner`.
    static func claimLeases(owner: String, seconds: Int, in session: PostgresSession) throws -> [Lease] {
        let rows = try session.query(
            """
            UPDATE forecast.models AS m
            SET lease_owner = $1, lease_expires_at = now() + $2 * interval '1 second',
                lease_epoch = CASE WHEN m.lease_owner = $1 THEN m.lease_epoch ELSE m.lease_epoch + 1 END
            WHERE m.name IN (
                SELECT name FROM forecast.models
                WHERE state <> 'paused'
                  AND (lease_owner IS NULL OR lease_owner = $1 OR lease_expires_at < now())
                ORDER BY name
                FOR UPDATE SKIP LOCKED)
            RETURNING m.name, m.lease_epoch
            """, [owner, Int32(seconds)])
        return try rows.map { Lease(model: try $0.decode(String.self, at: 0), epoch: try $0.decode(Int64.self, at: 1)) }
    }

    /// Gives up `owner`'s leases (all, or those on paused models only). Giving up all of
    /// them is a stop: a training it abandoned leaves the model `active`, not `training`.
    static func releaseLeases(owner: String, pausedOnly: Bool = false, in session: PostgresSession) throws {
        try session.execute(
            """
            UPDATE forecast.models
            SET lease_owner = NULL, lease_expires_at = NULL,
                state = CASE WHEN NOT $2 AND state = 'training' THEN 'active' ELSE state END
            WHERE lease_owner = $1 AND ($2 = false OR state = 'paused')
            """, [owner, pausedOnly])
    }

    /// Inside a transaction: locks the model row and checks that `lease` is still held.
    static func fence(_ lease: Lease, owner: String, in session: PostgresSession) throws {
        let rows = try session.query(
            """
            SELECT 1 FROM forecast.models
            WHERE name = $1 AND lease_owner = $2 AND lease_epoch = $3 AND lease_expires_at > now()
            FOR UPDATE
            """, [lease.model, owner, lease.epoch])
        guard !rows.isEmpty else { throw LeaseLost(model: lease.model) }
    }

    /// Sets the model's state; `error` also records the message (cleared otherwise).
    static func setState(_ model: String, _ state: ModelState, error: String? = nil, in session: PostgresSession) throws
    {
        try session.execute(
            """
            UPDATE forecast.models
            SET state = CASE WHEN state = 'paused' THEN state ELSE $2 END,
                last_error = CASE WHEN $2 = 'error' THEN $3 ELSE NULL END,
                last_error_at = CASE WHEN $2 = 'error' THEN now() ELSE NULL END,
                updated_at = now()
            WHERE name = $1 AND (state IS DISTINCT FROM $2 OR last_error IS DISTINCT FROM $3)
            """, [model, state, error])
    }

    /// Appends to `forecast.events`.
    static func event(_ model: String, _ level: EventLevel, _ message: String, in session: PostgresSession) throws {
        try session.execute(
            "INSERT INTO forecast.events (model, level, message) VALUES ($1, $2, $3)", [model, level, message])
    }

    // MARK: Versions

    static func activeVersion(_ model: String, in session: PostgresSession) throws -> StoredVersion? {
        let rows = try session.query(
            """
            SELECT v.version, v.kind, v.checkpoint, v.train_loss, v.val_loss, v.created_at,
                   (SELECT max(f.created_at) FROM forecast.model_versions AS f WHERE f.model = v.model AND f.kind = 'full'),
                   (v.metrics->>'validation_mse')::float8
            FROM forecast.model_versions AS v WHERE v.model = $1 AND v.active
            """, [model])
        guard let row = rows.first else { return nil }
        return StoredVersion(
            version: try row.decode(Int.self, at: 0), kind: try row.decode(VersionKind.self, at: 1),
            checkpoint: try row.decode([UInt8].self, at: 2), trainLoss: try row.decode(Double?.self, at: 3),
            validationLoss: try row.decode(Double?.self, at: 4),
            createdAt: try row.decode(PostgresTimestamp.self, at: 5).microsecondsSince1970,
            lastFullAt: try row.decode(PostgresTimestamp?.self, at: 6)?.microsecondsSince1970,
            validationMSE: try row.decode(Double?.self, at: 7))
    }

    /// Stores a trained version (fenced); `activate` makes it the active one. Returns its number.
    static func writeVersion(
        _ trained: TrainedModel, checkpoint: [UInt8], kind: VersionKind, parent: Int?, activate: Bool, lease: Lease,
        owner: String, in session: PostgresSession
    ) throws -> Int {
        try session.transaction {
            try fence(lease, owner: owner, in: session)
            if activate {
                try session.execute(
                    "UPDATE forecast.model_versions SET active = false WHERE model = $1 AND active", [lease.model])
            }
            let metrics = try JSONLine.encode(trained.metrics)
            let rows = try session.query(
                """
                INSERT INTO forecast.model_versions
                    (model, version, kind, parent_version, trained_through, train_loss, val_loss, metrics, active, checkpoint)
                SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9
                FROM forecast.model_versions WHERE model = $1
                RETURNING version
                """,
                [
                    lease.model, kind, parent.map { Int32($0) },
                    PostgresTimestamp(microsecondsSince1970: trained.trainedThrough),
                    trained.trainLoss.flatMap { $0.isFinite ? $0 : nil },
                    trained.validationLoss.flatMap { $0.isFinite ? $0 : nil },
                    metrics, activate, checkpoint,
                ])
            return try rows[0].decode(Int.self, at: 0)
        }
    }

    // MARK: Requests

    /// Puts requests left `running` by a process that died back in the queue (or fails them
    /// when an identical request is already queued).
    static func requeueInterrupted(_ model: String, in session: PostgresSession) throws {
        try session.execute(
            """
            UPDATE forecast.requests AS r
            SET status = CASE WHEN EXISTS (
                    SELECT 1 FROM forecast.requests AS q
                    WHERE q.model = r.model AND q.mode = r.mode AND q.status = 'queued') THEN 'failed' ELSE 'queued' END,
                error = CASE WHEN EXISTS (
                    SELECT 1 FROM forecast.requests AS q
                    WHERE q.model = r.model AND q.mode = r.mode AND q.status = 'queued')
                    THEN 'interrupted; an identical request is queued' END,
                started_at = NULL,
                finished_at = CASE WHEN EXISTS (
                    SELECT 1 FROM forecast.requests AS q
                    WHERE q.model = r.model AND q.mode = r.mode AND q.status = 'queued') THEN now() END
            WHERE r.model = $1 AND r.status = 'running'
            """, [model])
    }

    /// The oldest queued request of `model`, now marked running.
    static func takeRequest(_ model: String, in session: PostgresSession) throws -> TakenRequest? {
        let rows = try session.query(
            """
            UPDATE forecast.requests SET status = 'running', started_at = now()
            WHERE id = (
                SELECT id FROM forecast.requests WHERE model = $1 AND status = 'queued'
                ORDER BY requested_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, mode
            """, [model])
        return try rows.first.map {
            TakenRequest(id: try $0.decode(Int64.self, at: 0), mode: try $0.decode(RequestMode.self, at: 1))
        }
    }

    /// Ends request `id`: `done` with the published `version`, `notApplied` with the reason
    /// in `outcome`, or `failed` with `error`.
    static func finishRequest(
        _ id: Int64, _ status: RequestStatus, version: Int? = nil, outcome: String? = nil, error: String? = nil,
        in session: PostgresSession
    ) throws {
        try session.execute(
            """
            UPDATE forecast.requests SET status = $2, version = $3, outcome = $4, error = $5, finished_at = now()
            WHERE id = $1
            """, [id, status, version.map { Int32($0) }, outcome, error])
    }

    /// Fails every queued request of `model` with `error` (a model in error cannot serve
    /// them until it recovers; a request made later is tried again).
    static func failQueuedRequests(_ model: String, error: String, in session: PostgresSession) throws {
        try session.execute(
            """
            UPDATE forecast.requests SET status = 'failed', error = $2, finished_at = now()
            WHERE model = $1 AND status = 'queued'
            """, [model, error])
    }

    /// Publishes a trained version in one fenced transaction: the version becomes active,
    /// its event is recorded, `request` (if any) ends `done` with it and the model is
    /// `active` again. All of it commits, or none. Returns the version number.
    static func publishVersion(
        _ trained: TrainedModel, checkpoint: [UInt8], kind: VersionKind, parent: Int?, message: String,
        request: TakenRequest?, lease: Lease, owner: String, in session: PostgresSession
    ) throws -> Int {
        try session.transaction {
            let version = try writeVersion(
                trained, checkpoint: checkpoint, kind: kind, parent: parent, activate: true, lease: lease,
                owner: owner, in: session)
            try event(lease.model, .info, "version \(version): \(message)", in: session)
            if let request {
                try finishRequest(
                    request.id, .done, version: version, outcome: "version \(version) (\(kind.rawValue)): \(message)",
                    in: session)
            }
            try setState(lease.model, .active, in: session)
            return version
        }
    }

    // MARK: Instances

    /// Announces `owner` as a live daemon until `seconds` from now (renewed with its leases).
    static func heartbeat(owner: String, seconds: Int, in session: PostgresSession) throws {
        try session.execute(
            """
            INSERT INTO forecast.instances (owner, host, pid, expires_at)
            VALUES ($1, $2, $3, now() + $4 * interval '1 second')
            ON CONFLICT (owner) DO UPDATE SET heartbeat_at = now(), expires_at = EXCLUDED.expires_at
            """,
            [
                owner, ProcessInfo.processInfo.hostName, Int32(ProcessInfo.processInfo.processIdentifier),
                Int32(seconds),
            ])
    }

    /// Removes `owner`'s announcement (a clean stop) and forgets instances dead for an hour.
    static func retire(owner: String, in session: PostgresSession) throws {
        try session.execute(
            "DELETE FROM forecast.instances WHERE owner = $1 OR expires_at < now() - interval '1 hour'", [owner])
    }

    // MARK: Versions' checkpoints

    /// Clears the checkpoints of `model`'s versions older than its newest `keep` (at least
    /// 2), never the active version's or its parent's. Rows, metrics and forecasts stay.
    /// Returns how many were cleared.
    @discardableResult
    static func pruneCheckpoints(_ model: String, keep: Int, in session: PostgresSession) throws -> Int {
        try session.execute(
            """
            UPDATE forecast.model_versions AS v SET checkpoint = NULL
            WHERE v.model = $1 AND v.checkpoint IS NOT NULL AND NOT v.active
              AND v.version NOT IN (
                  SELECT version FROM forecast.model_versions WHERE model = $1 ORDER BY version DESC LIMIT $2)
              AND v.version IS DISTINCT FROM (
                  SELECT parent_version FROM forecast.model_versions WHERE model = $1 AND active)
            """, [model, Int64(max(2, keep))])
    }
}
