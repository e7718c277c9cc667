/// What the scheduler knows when it decides which models start a cycle, at one instant of
/// its clock (`Instant` is `ContinuousClock.Instant` in the daemon; tests pass their own).
struct DueFacts<Instant: InstantProtocol> {
    /// Models this daemon holds a lease on.
    var leased: Set<String>
    /// Models whose cycle is still running.
    var inFlight: Set<String>
    /// When each model's last cycle started; a model without an entry has never run.
    var lastRun: [String: Instant]
    /// `pg_class.oid` of each model's source, for the models whose source is known.
    var relations: [String: Int64]
    /// Relations with new data notified since the last decision.
    var notifiedRelations: Set<Int64>
    /// Whether a request or model change was notified: every model looks.
    var everyone: Bool
    var now: Instant
    var pollInterval: Instant.Duration
    /// Cycles that may start now (free slots in the training pool); at most this many are due.
    var capacity: Int
}

/// Which leased models are due, decided from the scheduler's state alone (no I/O, no clock
/// of its own), so the policy is tested without a database or waiting.
enum DuePlanner {
    /// The models to start now, by name, at most `capacity`: each leased model not in flight
    /// that was notified (its relation, or everyone), whose poll interval has passed since its
    /// last run, or that has never run.
    static func due<Instant: InstantProtocol>(_ facts: DueFacts<Instant>) -> [String] {
        guard facts.capacity > 0 else { return [] }
        var due: [String] = []
        for name in facts.leased.sorted() where !facts.inFlight.contains(name) {
            let notified = facts.everyone || facts.relations[name].map { facts.notifiedRelations.contains($0) } ?? false
            let stale = facts.lastRun[name].map { $0.duration(to: facts.now) >= facts.pollInterval } ?? true
            guard notified || stale else { continue }
            due.append(name)
            if due.count == facts.capacity { break }
        }
        return due
    }
}
