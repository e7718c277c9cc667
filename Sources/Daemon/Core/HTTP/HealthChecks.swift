import PostgresClient

/// `/healthz` ("restart me?": is the scheduler loop turning) and `/readyz` ("send me work?":
/// database reachable, schema current, first scheduler turn done). Each answer is a status
/// and one line saying why.
struct HealthChecks: Sendable {
    struct Answer: Sendable, Equatable {
        var ok: Bool
        var reason: String
    }

    let progress: SchedulerProgress
    let database: StatusDatabase
    /// How late a scheduler turn may be beyond its promise before the loop counts as stuck.
    let grace: Duration

    func health(at now: ContinuousClock.Instant = .now) -> Answer {
        Self.health(turns: progress.count, healthy: progress.isHealthy(at: now, grace: grace))
    }

    func readiness() async -> Answer {
        Self.readiness(schema: await database.schemaVersion(), expected: Migration.newest, turns: progress.count)
    }

    static func health(turns: Int, healthy: Bool) -> Answer {
        if turns == 0 { return Answer(ok: false, reason: "the scheduler has not completed its first turn") }
        if !healthy { return Answer(ok: false, reason: "the scheduler loop is stuck: it missed its promised turn") }
        return Answer(ok: true, reason: "ok: the scheduler loop is turning (\(turns) turns)")
    }

    static func readiness(schema: Result<Int, PostgresError>, expected: Int, turns: Int) -> Answer {
        switch schema {
        case .failure(let error):
            return Answer(ok: false, reason: "database unreachable: \(oneLine(error.description))")
        case .success(let version) where version != expected:
            return Answer(
                ok: false, reason: ForecastDaemon.SchemaOutOfDate(current: version, expected: expected).description)
        case .success:
            if turns == 0 { return Answer(ok: false, reason: "the scheduler has not completed its first turn") }
            return Answer(
                ok: true, reason: "ready: database reachable, schema at version \(expected), scheduler running")
        }
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
