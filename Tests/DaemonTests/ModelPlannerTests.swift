import Testing

@testable import DaemonCore

/// The daemon's policy, decided without a database.
struct ModelPlannerTests {
    static let hour: Int64 = 3_600_000_000
    static let base = ModelFacts(
        hasActiveVersion: true, requestedMode: nil, newestData: 1000 * hour, trainedThrough: 1000 * hour,
        frequency: hour, updateEvery: 24, retrainEvery: nil, lastFullAt: 0, now: 2000 * hour, driftRatio: nil)

    @Test func firstVersionIsAFullTraining() {
        var facts = Self.base
        facts.hasActiveVersion = false
        facts.requestedMode = .finetune
        #expect(ModelPlanner.next(facts) == .fullTrain(reason: "no trained version yet"))
    }

    @Test func requestsWinOverEverythingElse() {
        var facts = Self.base
        facts.requestedMode = .full
        #expect(ModelPlanner.next(facts) == .fullTrain(reason: "retrain requested"))
        facts.requestedMode = .finetune
        #expect(ModelPlanner.next(facts) == .fineTune(reason: "fine-tune requested"))
    }

    @Test func newStepsTriggerAnIncrementalUpdateAtUpdateEvery() {
        var facts = Self.base
        facts.newestData = facts.trainedThrough! + 23 * Self.hour
        #expect(ModelPlanner.next(facts) == .none)
        facts.newestData = facts.trainedThrough! + 24 * Self.hour
        #expect(ModelPlanner.next(facts) == .fineTune(reason: "24 new steps since the active version"))
    }

    @Test func scheduledRetrain() {
        var facts = Self.base
        facts.retrainEvery = 168 * Self.hour
        facts.lastFullAt = facts.now - 167 * Self.hour
        #expect(ModelPlanner.next(facts) == .none)
        facts.lastFullAt = facts.now - 168 * Self.hour
        #expect(ModelPlanner.next(facts) == .fullTrain(reason: "scheduled retrain (retrain_every)"))
    }

    @Test func driftFarAboveTrainingErrorRetrains() {
        var facts = Self.base
        facts.driftRatio = 3.9
        #expect(ModelPlanner.next(facts) == .none)
        facts.driftRatio = 6
        #expect(ModelPlanner.next(facts) == .fullTrain(reason: "drift: live error is 6x the error at training time"))
    }
}

/// Drift is judged only on enough matured forecasts.
struct LiveErrorTests {
    @Test func driftNeedsAHorizonPerSeriesAndTenHorizonsInAll() {
        var live = LiveError()
        for _ in 0..<72 { live.add(5, series: "a") }
        // 72 steps of a 24-step horizon: too few to judge, however large the error.
        #expect(live.ratio(to: 1, horizon: 24) == nil)
        for _ in 0..<200 { live.add(5, series: "a") }
        #expect(live.ratio(to: 1, horizon: 24) == 25)
        live.add(5, series: "b")  // a series with less than a horizon matured
        #expect(live.ratio(to: 1, horizon: 24) == nil)
        live.add(.nan, series: "a")
        #expect(live.count == 273)
    }
}
