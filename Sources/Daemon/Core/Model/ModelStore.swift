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
                   extract(epoch FROM (options->>'retrain_every')::interval)::float8, state, notify_trigger
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
        var settings = try ModelSettings(
            name: try row.decode(String.self, at: 0), source: source, horizon: try row.decode(Int.self, at: 6),
            lookback: try row.decode(Int.self, at: 7), options: options,
            retrainEverySeconds: try row.decode(Double?.self, at: 9))
        settings.notifiesNewData = try row.decode(Bool.self, at: 11)
        return (settings, try row.decode(ModelState.self, at: 10))
    }

    /// One round of lease upkeep for `owner`, each step its own short statement:
    /// 1. renews every lease it holds (never blocked by a write in flight: see `fence`);
    /// 2. gives back leases above its fair share (`ceil(models / live instances)`, models not
    ///    paused), never one in `busy` (a cycle is running on it), so a new instance gets
    ///    work and the instances end up balanced;
    /// 3. claims free leases up to that share: never held, expired, or held by an instance
    ///    that stopped announcing itself (`forecast.instances`), bumping their epoch.
    /// Returns the leases `owner` holds now.
    static func maintainLeases(owner: String, seconds: Int, busy: Set<String>, in session: PostgresSession) throws
        -> [Lease]
    {
        var held = try session.query(
            """
            UPDATE forecast.leases AS l SET expires_at = now() + $2 * interval '1 second'
            FROM forecast.models AS m
            WHERE l.owner = $1 AND m.name = l.model AND m.state <> 'paused'
            RETURNING l.model, l.epoch
            """, [owner, Int32(seconds)]
        ).map { Lease(model: try $0.decode(String.self, at: 0), epoch: try $0.decode(Int64.self, at: 1)) }
        let share = try session.query(
            """
            SELECT ceil((SELECT count(*) FROM forecast.models WHERE state <> 'paused')::float8
                        / greatest(1, (SELECT count(*) FROM forecast.instances WHERE expires_at > now())))::int8
            """)[0].decode(Int.self, at: 0)
        if held.count > share {
            let surplus = held.filter { !busy.contains($0.model) }.sorted { $0.model > $1.model }
                .prefix(held.count - share).map(\.model)
            for model in surplus {
                try session.execute(
                    "UPDATE forecast.leases SET owner = NULL, expires_at = NULL WHERE owner = $1 AND model = $2",
                    [owner, model])
            }
            held.removeAll { surplus.contains($0.model) }
        }
        guard held.count < share else { return held }
        held += try session.query(
            """
            WITH free AS (
                SELECT l.model FROM forecast.leases AS l
                JOIN forecast.models AS m ON m.name = l.model
                WHERE m.state <> 'paused' AND l.owner IS DISTINCT FROM $1
                  AND (l.owner IS NULL OR l.expires_at IS NULL OR l.expires_at < now()
                       OR NOT EXISTS (
                           SELECT 1 FROM forecast.instances AS i WHERE i.owner = l.owner AND i.expires_at > now()))
                ORDER BY hashtext(l.model || $1)
                LIMIT $3
                FOR UPDATE OF l SKIP LOCKED)
            UPDATE forecast.leases AS l
            SET owner = $1, expires_at = now() + $2 * interval '1 second', epoch = l.epoch + 1
            FROM free WHERE l.model = free.model
            RETURNING l.model, l.epoch
            """, [owner, Int32(seconds), Int64(share - held.count)]
        ).map { Lease(model: try $0.decode(String.self, at: 0), epoch: try $0.decode(Int64.self, at: 1)) }
        return held
    }

    /// Gives up `owner`'s leases (all, or those on paused models only). Giving up all of
    /// them is a stop: a training it abandoned leaves the model `active`, not `training`.
    static func releaseLeases(owner: String, pausedOnly: Bool = false, in session: PostgresSession) throws {
        try session.transaction {
            if !pausedOnly {
                try session.execute(
                    """
                    UPDATE forecast.models SET state = 'active', training = NULL
                    WHERE state = 'training' AND name IN (SELECT model FROM forecast.leases WHERE owner = $1)
                    """, [owner])
            }
            try session.execute(
                """
                UPDATE forecast.leases AS l SET owner = NULL, expires_at = NULL
                FROM forecast.models AS m
                WHERE l.owner = $1 AND m.name = l.model AND ($2 = false OR m.state = 'paused')
                """, [owner, pausedOnly])
        }
    }

    /// Inside a publishing transaction: checks that `lease` is still held, and keeps it from
    /// being taken over until the transaction ends. `FOR KEY SHARE` on the lease row blocks
    /// a takeover (`FOR UPDATE`) but not the holder's own renewal, so a long write never
    /// costs the lease.
    static func fence(_ lease: Lease, owner: String, in session: PostgresSession) throws {
        let rows = try session.query(
            """
            SELECT 1 FROM forecast.leases
            WHERE model = $1 AND owner = $2 AND epoch = $3 AND expires_at > now()
            FOR KEY SHARE
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
                training = CASE WHEN $2 = 'training' THEN training ELSE NULL END,
                updated_at = now()
            WHERE name = $1 AND (state IS DISTINCT FROM $2 OR last_error IS DISTINCT FROM $3)
            """, [model, state, error])
    }

    /// Records the progress (a `TrainingProgress` as JSON) of the training running on `model`,
    /// for `forecast.model_status`; `setState` clears it when the state leaves `training`.
    static func setTrainingProgress(_ model: String, json: String, in session: PostgresSession) throws {
        try session.execute(
            "UPDATE forecast.models SET training = $2::jsonb WHERE name = $1 AND state = 'training'", [model, json])
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
