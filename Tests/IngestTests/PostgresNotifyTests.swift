import Foundation
import Testing

@testable import Ingest
@testable import PostgresClient

@Suite(.database)
struct PostgresNotifyTests {
    @Test func notificationArrivesWithPayload() async throws {
        let channel = TestDatabase.uniqueName("forecastd test channel")
        let listener = try await TestDatabase.connect()
        try await listener.withSession { session in try session.listen(channel) }
        try await TestDatabase.session { session in
            try session.execute("SELECT pg_notify($1, $2)", [channel, "payload ☃ 42"])
        }
        let notification = try await listener.withSession { session in
            try session.waitForNotification(timeout: .seconds(5))
        }
        await listener.close()
        #expect(notification?.channel == channel)
        #expect(notification?.payload == "payload ☃ 42")
    }

    @Test func waitTimesOutWhenNothingArrives() async throws {
        let listener = try await TestDatabase.connect()
        let clock = ContinuousClock()
        let start = clock.now
        let notification = try await listener.withSession { session in
            try session.listen("forecastd_quiet_channel")
            return try session.waitForNotification(timeout: .milliseconds(300))
        }
        let elapsed = clock.now - start
        await listener.close()
        #expect(notification == nil)
        #expect(elapsed >= .milliseconds(300))
        // It returned (a wait that never times out would hang here); the bound is generous
        // because these machines are shared and a loaded one is slow.
        #expect(elapsed < .seconds(30))
    }

    @Test func cancellingAWaitReturnsPromptly() async throws {
        let listener = try await TestDatabase.connect()
        let (waiting, waitingSink) = AsyncStream.makeStream(of: Void.self)
        let waiter = Task {
            defer { waitingSink.finish() }
            return try await listener.withSession { session in
                try session.listen("forecastd_cancel_channel")
                waitingSink.yield()
                return try session.waitForNotification(timeout: .seconds(30))
            }
        }
        // Cancel only once the body has listened and is entering the wait: a cancel landing
        // before the body starts skips it, and the test would then prove nothing.
        var entered = false
        for await _ in waiting {
            entered = true
            break
        }
        #expect(entered, "the session never reached waitForNotification")
        let clock = ContinuousClock()
        let cancelled = clock.now
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        // Long before the wait or statement would end (30 s and more); generous because these
        // machines are shared and a loaded one takes seconds to schedule the cancel.
        #expect(clock.now - cancelled < .seconds(10))
        await listener.close()
    }
}
