import Dispatch
import Foundation
import Synchronization
import Testing

@testable import DaemonCore

/// The bounded pool for CPU-heavy jobs, with jobs that block on a gate the test opens.
struct TrainingPoolTests {
    /// Jobs currently inside their body, the most ever seen at once, and how many finished.
    final class Concurrency: Sendable {
        private let running = Atomic<Int>(0)
        private let peak = Atomic<Int>(0)
        private let finished = Atomic<Int>(0)
        var current: Int { running.load(ordering: .sequentiallyConsistent) }
        var maximum: Int { peak.load(ordering: .sequentiallyConsistent) }
        var done: Int { finished.load(ordering: .sequentiallyConsistent) }

        func enter() {
            let now = running.add(1, ordering: .sequentiallyConsistent).newValue
            var seen = peak.load(ordering: .sequentiallyConsistent)
            while now > seen {
                let (exchanged, original) = peak.compareExchange(
                    expected: seen, desired: now, ordering: .sequentiallyConsistent)
                if exchanged { break }
                seen = original
            }
        }

        func leave() {
            running.subtract(1, ordering: .sequentiallyConsistent)
            finished.add(1, ordering: .sequentiallyConsistent)
        }
    }

    struct JobFailed: Error, Equatable {
        var job: Int
    }

    @Test func atMostSizeJobsRunAtOnce() async throws {
        let pool = TrainingPool(size: 2)
        let concurrency = Concurrency()
        let gate = DispatchSemaphore(value: 0)
        let jobs = 6
        try await withThrowingTaskGroup(of: Int.self) { group in
            for job in 0..<jobs {
                group.addTask {
                    try await pool.run { _ in
                        concurrency.enter()
                        defer { concurrency.leave() }
                        gate.wait()
                        return job
                    }
                }
            }
            // Two jobs start and block; the others wait for a slot.
            #expect(await eventually { concurrency.current == 2 })
            // Each job let through frees a slot for exactly one more.
            for released in 1...jobs {
                gate.signal()
                #expect(await eventually { concurrency.done == released })
                #expect(await eventually { concurrency.current == min(2, jobs - released) })
            }
            var results: [Int] = []
            for try await result in group { results.append(result) }
            #expect(results.sorted() == Array(0..<jobs))
        }
        #expect(concurrency.maximum == 2)
    }

    @Test func resultsAndErrorsAreReturned() async throws {
        let pool = TrainingPool(size: 1)
        #expect(try await pool.run { _ in 6 * 7 } == 42)
        await #expect(throws: JobFailed(job: 3)) {
            try await pool.run { _ -> Int in throw JobFailed(job: 3) }
        }
        // A failed job gives its slot back.
        #expect(try await pool.run { _ in "next" } == "next")
    }

    /// Cancelling the task that awaits a job sets the job's flag; the job sees it and returns.
    @Test func cancellingTheAwaitingTaskSetsTheJobsFlag() async throws {
        let pool = TrainingPool(size: 1)
        let concurrency = Concurrency()
        let task = Task {
            try await pool.run { flag -> Bool in
                concurrency.enter()
                defer { concurrency.leave() }
                let deadline = ContinuousClock.now + .seconds(30)
                while !flag.isCancelled, ContinuousClock.now < deadline {
                    Thread.sleep(forTimeInterval: 0.001)
                }
                return flag.isCancelled
            }
        }
        #expect(await eventually { concurrency.current == 1 })
        task.cancel()
        #expect(try await task.value)
        // The slot is free again.
        #expect(try await pool.run { flag in flag.isCancelled } == false)
    }
}
