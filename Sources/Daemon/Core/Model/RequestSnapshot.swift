public import PostgresClient

/// Where a retrain request stands, with what decides whether waiting for it makes sense:
/// read in one query by `forecastd retrain --wait` (and anyone else following a request).
public struct RequestSnapshot: Sendable, Equatable {
    public var id: Int64
    public var model: String
    public var status: RequestStatus
    /// The model's state as the daemon recorded it.
    public var modelState: ModelState
    /// Daemons alive now (`forecast.instances` not expired).
    public var liveInstances: Int
    /// The version published for the request (status `done`), its kind and stored validation loss.
    public var version: Int?
    public var kind: VersionKind?
    public var validationLoss: Double?
    /// The published version's training: epochs run, best epoch, why it stopped.
    public var epochs: Int?
    public var bestEpoch: Int?
    public var stopReason: TrainingStop?
    /// Why nothing was published (`notApplied`), or the error (`failed`).
    public var outcome: String?
    public var error: String?

    /// Request `id` as stored now; nil when there is no such request.
    public static func read(_ id: Int64, in session: PostgresSession) throws -> RequestSnapshot? {
        let rows = try session.query(
            """
            SELECT r.model, r.status, m.state,
                   (SELECT count(*) FROM forecast.instances WHERE expires_at > now())::int8,
                   r.version, v.kind, v.val_loss, r.outcome, r.error,
                   (v.metrics->>'epochs')::int8, (v.metrics->>'best_epoch')::int8, v.metrics->>'stop_reason'
            FROM forecast.requests AS r
            JOIN forecast.models AS m ON m.name = r.model
            LEFT JOIN forecast.model_versions AS v ON v.model = r.model AND v.version = r.version
            WHERE r.id = $1
            """, [id])
        guard let row = rows.first else { return nil }
        return RequestSnapshot(
            id: id, model: try row.decode(String.self, at: 0), status: try row.decode(RequestStatus.self, at: 1),
            modelState: try row.decode(ModelState.self, at: 2), liveInstances: try row.decode(Int.self, at: 3),
            version: try row.decode(Int?.self, at: 4), kind: try row.decode(VersionKind?.self, at: 5),
            validationLoss: try row.decode(Double?.self, at: 6), epochs: try row.decode(Int?.self, at: 9),
            bestEpoch: try row.decode(Int?.self, at: 10),
            stopReason: try row.decode(String?.self, at: 11).flatMap(TrainingStop.init(rawValue:)),
            outcome: try row.decode(String?.self, at: 7), error: try row.decode(String?.self, at: 8))
    }
}
