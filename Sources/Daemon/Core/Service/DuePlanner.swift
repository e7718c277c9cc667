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
    /// Models notified earlier that did not get a slot: they stay due until they have run.
    var pending: Set<String> = []
    /// Models that failed recently and wait before retrying (`ModelWorker.isBackingOff`);
    /// a notification still runs them at once.
    var backingOff: Set<String> = []
}

/// Which leased models are due, decided from the scheduler's state alone (no I/O, no clock
/// of its own), so the policy is tested without a database or waiting.
enum DuePlanner {
    /// The models to start now, at most `capacity`: each leased model not in flight that was
    /// notified (now or before, `pending`), whose poll interval has passed since its last
    /// run (unless it is backing off), or that has never run. Notified models go first, then
    /// the longest waiting (never run first), then by name: a fair queue, nobody starves.
    static func due<Instant: InstantProtocol>(_ facts: DueFacts<Instant>) -> [String] {
        guard facts.capacity > 0 else { return [] }
        var candidates: [(notified: Bool, lastRun: Instant?, name: String)] = []
        for name in facts.leased where !facts.inFlight.contains(name) {
            let notified =
                facts.everyone || facts.pending.contains(name)
                || facts.relations[name].map { facts.notifiedRelations.contains($0) } ?? false
            let last = facts.lastRun[name]
            let stale =
                last.map { $0.duration(to: facts.now) >= facts.pollInterval && !facts.backingOff.contains(name) }
                ?? true
            if notified || stale { candidates.append((notified, last, name)) }
        }
        candidates.sort { a, b in
            if a.notified != b.notified { return a.notified }
            switch (a.lastRun, b.lastRun) {
            case (nil, .some): return true
            case (.some, nil): return false
            case (.some(let x), .some(let y)) where x != y: return x < y
            default: return a.name < b.name
            }
        }
        return candidates.prefix(facts.capacity).map(\.name)
    }

    /// Models notified in `facts` (their relation, or everyone) that are still waiting after
    /// `started` took the free slots: the scheduler keeps them due for the next decision.
    static func stillPending<Instant: InstantProtocol>(_ facts: DueFacts<Instant>, started: [String]) -> Set<String> {
        var waiting = facts.pending
        for name in facts.leased {
            let notified = facts.everyone || facts.relations[name].map { facts.notifiedRelations.contains($0) } ?? false
            if notified { waiting.insert(name) }
        }
        return waiting.subtracting(started).intersection(facts.leased)
    }
}
