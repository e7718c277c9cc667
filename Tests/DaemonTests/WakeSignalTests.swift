import Synchronization
import Testing

@testable import DaemonCore

/// The scheduler's wake-up: timeouts are long (a minute) where the test expects a signal to
/// end the wait, so a lost signal shows as a slow, failing test rather than a hang, and no
/// test depends on timing closer than half a minute, except that a timeout never ends early.
struct WakeSignalTests {
    static let long = Duration.seconds(60)

    /// How long `body` took.
    static func elapsed(_ body: () async -> Void) async -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        await body()
        return clock.now - start
    }

    @Test func aSignalBeforeTheWaitIsNotLost() async {
        let wake = WakeSignal()
        wake.signal()
        #expect(await Self.elapsed { await wake.wait(timeout: Self.long) } < Self.long / 2)
    }

    /// Signals while nobody waits coalesce into one: the second wait runs to its timeout.
    @Test func signalsWhileNobodyWaitsCoalesce() async {
        let wake = WakeSignal()
        wake.signal()
        wake.signal()
        await wake.wait(timeout: Self.long)
        #expect(await Self.elapsed { await wake.wait(timeout: .milliseconds(20)) } >= .milliseconds(20))
    }

    /// A signal from another task ends the wait, whether it comes before or after the waiter
    /// parks (both orders happen over the rounds).
    @Test func waitReturnsOnSignal() async {
        let wake = WakeSignal()
        for _ in 0..<100 {
            let waited = await withTaskGroup(of: Duration?.self) { group in
                group.addTask { await Self.elapsed { await wake.wait(timeout: Self.long) } }
                group.addTask {
                    wake.signal()
                    return nil
                }
                var waited: Duration?
                for await result in group where result != nil { waited = result }
                return waited
            }
            #expect(waited.map { $0 < Self.long / 2 } == true)
        }
    }

    @Test func waitTimesOutWhenNothingComes() async {
        let wake = WakeSignal()
        let waited = await Self.elapsed { await wake.wait(timeout: .milliseconds(50)) }
        #expect(waited >= .milliseconds(50) && waited < Self.long / 2)
    }

    /// A task cancelled before it waits returns at once, not at the next signal.
    @Test func aCancelledTaskDoesNotWait() async {
        let wake = WakeSignal()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await Self.elapsed { await wake.wait(timeout: Self.long) }
        }
        let waited = await task.value
        #expect(waited < Self.long / 2)
    }
}
