import Foundation

extension BenchContext {
    /// `instances`: `instances` daemons started together on one database with
    /// `instanceModels` models. After the first forecasts and 20 s to settle (two lease
    /// renewals), the live leases per daemon; then `kill -9` of the daemon holding most, a
    /// new hour for every table, and the time until all its models have a live lease by
    /// another daemon and forecasts issued at that hour.
    func instances() async -> DaemonBenchResult {
        let count = options.instanceModels
        let perModel = options.seriesPerModel
        return await attempt(DaemonBenchResult(scenario: "instances", series: perModel, models: count)) { result in
            result.instances = options.instances
            let start = try await database.historyStart(hours: options.hours, spare: 3)
            let sources = (1...count).map { index in
                SyntheticSource(
                    name: String(format: "instances_m%03d", index), series: perModel, hours: options.hours,
                    start: start)
            }
            try await create(sources, &result)
            try await withDaemons(options.instances, &result) { fleet, result in
                try await firstForecasts(sources, fleet: fleet, &result)
                progress("instances: settling for 20 s")
                try await Task.sleep(for: .seconds(20))
                let owners = try await database.leaseOwners()
                var held: [Int32: [String]] = [:]
                for (model, owner) in owners {
                    if let pid = Self.pid(ofOwner: owner) { held[pid, default: []].append(model) }
                }
                result.heldPerInstance = fleet.daemons.map { held[$0.pid]?.count ?? 0 }.sorted(by: >)
                guard
                    let victim = fleet.daemons.max(by: { (held[$0.pid]?.count ?? 0) < (held[$1.pid]?.count ?? 0) }),
                    let lost = held[victim.pid], let victimOwner = owners[lost[0]]
                else {
                    throw DaemonBenchmark.Failure(description: "no daemon holds a lease on any model")
                }
                progress(
                    "instances: leases \(result.heldPerInstance!); kill -9 of pid \(victim.pid) (\(lost.count) models)")
                fleet.killHard(victim)
                let killed = ContinuousClock.now
                try await takeover(
                    of: Set(lost), from: victimOwner, sources: sources, killed: killed, fleet: fleet, &result)
            }
        }
    }

    /// Delivers a new hour, then waits until the `lost` models have a live lease by an owner
    /// other than `victimOwner` and forecasts issued at that hour.
    private func takeover(
        of lost: Set<String>, from victimOwner: String, sources: [SyntheticSource], killed: ContinuousClock.Instant,
        fleet: DaemonFleet, _ result: inout DaemonBenchResult
    ) async throws {
        try await database.deliver(hour: options.hours, to: sources)
        guard let time = sources.first?.time(ofHour: options.hours) else { return }
        var remaining = sources.filter { lost.contains($0.model) }
        var leasesTaken: Double?
        var freshAt: Double?
        let deadline = killed + options.timeout
        while leasesTaken == nil || freshAt == nil {
            try fleet.checkRunning()
            let probed = ContinuousClock.now
            if leasesTaken == nil {
                let owners = try await database.leaseOwners()
                if lost.allSatisfy({ owners[$0].map { $0 != victimOwner } ?? false }) {
                    leasesTaken = (probed - killed).seconds
                    result.takeoverLeaseSeconds = leasesTaken
                }
            }
            if freshAt == nil {
                let fresh = try await database.fresh(remaining, issuedAt: time)
                remaining.removeAll { fresh.contains($0.model) }
                if remaining.isEmpty { freshAt = (probed - killed).seconds }
            }
            if let leasesTaken, let freshAt {
                result.takeoverSeconds = max(leasesTaken, freshAt)
                progress("instances: taken over after \(String(format: "%.1f", result.takeoverSeconds!)) s")
                return
            }
            if ContinuousClock.now > deadline { throw DaemonBenchmark.TimedOut(what: "the takeover") }
            try await Task.sleep(for: Self.probeInterval(models: lost.count))
        }
    }

    /// The pid in a lease owner `host:pid:random` (`DaemonContext.makeOwner`).
    static func pid(ofOwner owner: String) -> Int32? {
        let parts = owner.split(separator: ":")
        return parts.count >= 3 ? Int32(parts[parts.count - 2]) : nil
    }
}
