import Foundation
import Ingest
import Logging
import PostgresClient
import ServiceLifecycle
import Synchronization

/// The daemon's main loop: holds leases on models (renewing them), and runs a cycle for
/// each model when it is due — new data or a request was notified, its poll interval
/// passed, or it has never run (`DuePlanner`) — at most `pool.size` at a time.
///
/// `progress` counts completed loop turns: systemd's watchdog is fed only while it moves.
struct Scheduler: Service {
    let context: DaemonContext
    let notifications: NotificationInbox
    let progress: SchedulerProgress

    func run() async throws {
        let logger = context.logger
        var workers: [String: ModelWorker] = [:]
        var lastRun: [String: ContinuousClock.Instant] = [:]
        var leases: [String: Lease] = [:]
        // Notified models still waiting for a slot: no wake-up is lost.
        var pending: Set<String> = []
        // Models whose source announced new rows since their last cycle started.
        var newData: Set<String> = []
        var lastRenewal: ContinuousClock.Instant?
        var leaseConnection: PostgresConnection?
        let started = ContinuousClock.now

        // A schema older than this binary (forecastd migrate not run yet) is waited for.
        try await ForecastDaemon.waitForSchema(context)
        let finished = FinishedCycles()
        let wake = context.wake
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                var inFlight = Set<String>()
                while !Task.isCancelledOrShuttingDown {
                    let now = ContinuousClock.now
                    let renewEvery = context.leaseRenewal
                    // Leases: claim new models and renew ours.
                    if lastRenewal.map({ now - $0 >= renewEvery }) ?? true {
                        do {
                            if leaseConnection == nil {
                                leaseConnection = try await PostgresConnection.connect(context.settings)
                            }
                            let owner = context.owner
                            let busy = inFlight
                            let held = try await leaseConnection!.withSession { session in
                                try ModelStore.heartbeat(
                                    owner: owner, seconds: context.instanceSeconds, in: session)
                                try ModelStore.releaseLeases(owner: owner, pausedOnly: true, in: session)
                                return try ModelStore.maintainLeases(
                                    owner: owner, seconds: context.leaseSeconds, busy: busy, in: session)
                            }
                            leases = Dictionary(uniqueKeysWithValues: held.map { ($0.model, $0) })
                            ProcessMetrics.modelsHeld.record(leases.count)
                            lastRenewal = now
                            context.database.reached()
                        } catch is CancellationError {
                            break
                        } catch {
                            if let postgres = error as? PostgresError, postgres.isConnectionLoss {
                                context.database.lost(postgres.message)
                            } else {
                                logger.error("cannot claim leases: \(ModelWorker.describe(error))")
                            }
                            await leaseConnection?.close()
                            leaseConnection = nil
                            leases = [:]
                            ProcessMetrics.modelsHeld.record(0)
                        }
                    }
                    // Forget models we no longer hold.
                    for name in workers.keys where leases[name] == nil && !inFlight.contains(name) {
                        workers[name] = nil
                        lastRun[name] = nil
                    }
                    // Which models are due: the workers' relations first (actor reads), then
                    // the decision itself, a pure function of what the scheduler knows.
                    let notified = notifications.take()
                    var relations: [String: Int64] = [:]
                    var backingOff: Set<String> = []
                    // Every leased model's relation, those in flight too: new rows announced while a
                    // cycle runs keep the model due for the next one (no lost wake-up).
                    for name in leases.keys {
                        relations[name] = await workers[name]?.relationOID
                        if inFlight.contains(name) { continue }
                        if await workers[name]?.isBackingOff(at: now) == true { backingOff.insert(name) }
                    }
                    let facts = DueFacts(
                        leased: Set(leases.keys), inFlight: inFlight, lastRun: lastRun, relations: relations,
                        notifiedRelations: notified.relations, everyone: notified.everyone, now: now,
                        pollInterval: context.pollInterval, capacity: context.pool.size - inFlight.count,
                        pending: pending, backingOff: backingOff)
                    let due = DuePlanner.due(facts)
                    pending = DuePlanner.stillPending(facts, started: due)
                    for (name, relation) in relations where notified.relations.contains(relation) {
                        newData.insert(name)
                    }
                    if notified.allData { newData.formUnion(leases.keys) }
                    for name in due {
                        guard let lease = leases[name] else { continue }
                        let worker = workers[name] ?? ModelWorker(name: name, context: context)
                        workers[name] = worker
                        inFlight.insert(name)
                        lastRun[name] = now
                        let announced = newData.remove(name) != nil
                        group.addTask {
                            finished.add(name, await worker.cycle(lease: lease, newData: announced))
                            wake.signal()
                        }
                    }
                    if let stall = context.stallSchedulerAfter, ContinuousClock.now - started > stall {
                        // Test aid: behave like a hung main loop (no progress, no work).
                        try? await Task.sleep(for: .seconds(1))
                        continue
                    }
                    // Sleep until a cycle finishes, a notification arrives, or the next poll/renewal.
                    let sleep = min(context.pollInterval, renewEvery)
                    progress.tick(nextTurnWithin: sleep)
                    await context.wake.wait(timeout: sleep)
                    for (name, outcome) in finished.take() {
                        inFlight.remove(name)
                        if outcome == .dropped {
                            workers[name] = nil
                        }
                    }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            wake.signal()
        }
        if let leaseConnection {
            let owner = context.owner
            _ = try? await leaseConnection.withSession { session in
                try ModelStore.releaseLeases(owner: owner, in: session)
                try ModelStore.retire(owner: owner, in: session)
            }
            await leaseConnection.close()
        }
        ProcessMetrics.modelsHeld.record(0)
        logger.info("scheduler stopped")
    }
}

/// Cycles that ended since the scheduler last looked.
final class FinishedCycles: Sendable {
    private let cycles = Mutex<[(String, ModelWorker.Outcome)]>([])
    func add(_ name: String, _ outcome: ModelWorker.Outcome) { cycles.withLock { $0.append((name, outcome)) } }
    func take() -> [(String, ModelWorker.Outcome)] {
        cycles.withLock { cycles in
            let taken = cycles
            cycles = []
            return taken
        }
    }
}

/// The scheduler loop's health for the watchdog: each turn promises the next one within a
/// bound (its longest sleep). The loop is healthy while that promise holds, give or take a
/// grace for its own work, however rarely there is work; a loop stuck anywhere breaks it.
final class SchedulerProgress: Sendable {
    private let turns = Atomic<Int>(0)
    private let deadline = Mutex<ContinuousClock.Instant?>(nil)

    /// A turn completed; the next one comes within `bound`.
    func tick(nextTurnWithin bound: Duration) {
        deadline.withLock { $0 = .now + bound }
        turns.add(1, ordering: .releasing)
    }

    /// Completed turns (0 before the first).
    var count: Int { turns.load(ordering: .acquiring) }

    /// Whether the loop kept its last promise at `now`, `grace` allowed for its own work.
    func isHealthy(at now: ContinuousClock.Instant, grace: Duration) -> Bool {
        deadline.withLock { $0.map { now <= $0 + grace } ?? false }
    }
}
