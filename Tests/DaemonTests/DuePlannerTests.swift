import Forecast
import Testing

@testable import DaemonCore

/// Which models the scheduler starts, decided without a database, a clock or waiting.
struct DuePlannerTests {
    /// A clock's instant the test sets by hand: whole seconds since the daemon started.
    struct TestInstant: InstantProtocol {
        var seconds: Int64
        func advanced(by duration: Duration) -> TestInstant {
            TestInstant(seconds: seconds + duration.components.seconds)
        }
        func duration(to other: TestInstant) -> Duration { .seconds(other.seconds - seconds) }
        static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.seconds < rhs.seconds }
    }

    /// Three leased models that all ran 10 s ago (poll interval 60 s), each reading its own
    /// relation, nothing notified, room for everyone: nothing is due.
    static let base = DueFacts(
        leased: ["a", "b", "c"], inFlight: [],
        lastRun: ["a": TestInstant(seconds: 90), "b": TestInstant(seconds: 90), "c": TestInstant(seconds: 90)],
        relations: ["a": 1, "b": 2, "c": 3], notifiedRelations: [], everyone: false, now: TestInstant(seconds: 100),
        pollInterval: .seconds(60), capacity: 10)

    @Test func modelsRunLessThanAPollIntervalAgoAndNotNotifiedAreNotDue() {
        #expect(DuePlanner.due(Self.base).isEmpty)
        var facts = Self.base
        facts.now = TestInstant(seconds: 149)
        #expect(DuePlanner.due(facts).isEmpty)
        facts.now = TestInstant(seconds: 150)  // exactly one poll interval
        #expect(DuePlanner.due(facts) == ["a", "b", "c"])
        facts.lastRun["b"] = TestInstant(seconds: 140)
        #expect(DuePlanner.due(facts) == ["a", "c"])
    }

    @Test func modelsThatNeverRanAreDue() {
        var facts = Self.base
        facts.lastRun["b"] = nil
        facts.relations["b"] = nil  // no worker yet: its source is not known either
        #expect(DuePlanner.due(facts) == ["b"])
        facts.leased.insert("d")  // a lease just claimed
        #expect(DuePlanner.due(facts) == ["b", "d"])
    }

    @Test func aModelNotifiedForItsRelationIsDue() {
        var facts = Self.base
        facts.notifiedRelations = [2, 99]
        #expect(DuePlanner.due(facts) == ["b"])
        facts.relations["c"] = 2  // two models on one source
        #expect(DuePlanner.due(facts) == ["b", "c"])
        facts.relations["b"] = nil  // source not resolved yet: a relation cannot name it
        #expect(DuePlanner.due(facts) == ["c"])
    }

    @Test func everyoneWakesAllModels() {
        var facts = Self.base
        facts.everyone = true
        facts.relations["c"] = nil
        #expect(DuePlanner.due(facts) == ["a", "b", "c"])
    }

    @Test func modelsInFlightAreNeverDue() {
        var facts = Self.base
        facts.everyone = true
        facts.notifiedRelations = [1, 2, 3]
        facts.lastRun["a"] = nil
        facts.now = TestInstant(seconds: 1000)
        facts.inFlight = ["a", "c"]
        #expect(DuePlanner.due(facts) == ["b"])
        facts.inFlight = ["a", "b", "c"]
        #expect(DuePlanner.due(facts).isEmpty)
    }

    @Test func capacityCapsTheList() {
        var facts = Self.base
        facts.everyone = true
        facts.capacity = 2
        #expect(DuePlanner.due(facts) == ["a", "b"])
        facts.capacity = 1
        facts.inFlight = ["a"]
        #expect(DuePlanner.due(facts) == ["b"])
        facts.capacity = 0
        #expect(DuePlanner.due(facts).isEmpty)
        facts.capacity = -1  // the pool shrank below the cycles still running
        #expect(DuePlanner.due(facts).isEmpty)
    }

    /// The same facts give the same list, in name order, whatever order the leases and
    /// the scheduler's dictionaries were built in.
    @Test func orderIsStableByName() {
        let names = (0..<50).map { "model-\(String($0, radix: 36))" }
        var facts = DueFacts<TestInstant>(
            leased: [], inFlight: [], lastRun: [:], relations: [:], notifiedRelations: [], everyone: true,
            now: TestInstant(seconds: 0), pollInterval: .seconds(60), capacity: 20)
        var lists: [[String]] = []
        for seed in 0..<5 {
            var generator = RandomGenerator(seed: UInt64(seed))
            facts.leased = Set(names.shuffled(using: &generator))
            facts.relations = Dictionary(uniqueKeysWithValues: names.shuffled(using: &generator).map { ($0, 7) })
            lists.append(DuePlanner.due(facts))
        }
        #expect(lists.allSatisfy { $0 == Array(names.sorted().prefix(20)) })
    }

    /// The daemon's own clock works too.
    @Test func worksWithTheContinuousClock() {
        let clock = ContinuousClock()
        let now = clock.now
        let facts = DueFacts(
            leased: ["a", "b"], inFlight: [], lastRun: ["a": now - .seconds(5), "b": now - .seconds(61)],
            relations: [:], notifiedRelations: [], everyone: false, now: now, pollInterval: .seconds(60), capacity: 2)
        #expect(DuePlanner.due(facts) == ["b"])
    }

    /// New rows announced while a model's cycle runs keep it due for the next decision.
    @Test func aModelNotifiedWhileInFlightStaysPending() {
        var facts = Self.base
        facts.inFlight = ["b"]
        facts.notifiedRelations = [2]
        #expect(DuePlanner.due(facts).isEmpty)
        let pending = DuePlanner.stillPending(facts, started: [])
        #expect(pending == ["b"])
        facts.inFlight = []
        facts.notifiedRelations = []
        facts.pending = pending
        #expect(DuePlanner.due(facts) == ["b"])
    }
}
