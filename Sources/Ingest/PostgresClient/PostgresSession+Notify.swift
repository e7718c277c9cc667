import CLibPQ
import Foundation

/// A notification delivered by `NOTIFY channel, 'payload'`.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    /// Backend process id of the notifying session.
    public var processID: Int32
}

extension PostgresSession {
    /// Subscribes this connection to `channel` (quoted as an identifier).
    public func listen(_ channel: String) throws {
        try execute("LISTEN \(try escapeIdentifier(channel))")
    }

    /// Unsubscribes this connection from `channel`.
    public func unlisten(_ channel: String) throws {
        try execute("UNLISTEN \(try escapeIdentifier(channel))")
    }

    /// Waits up to `timeout` for the next notification on a channel this connection listens
    /// to, sleeping on the socket (no busy polling). Returns nil on timeout; throws
    /// `CancellationError` as soon as the task is cancelled.
    public func waitForNotification(timeout: Duration) throws -> PostgresNotification? {
        let deadline = ContinuousClock.now + timeout
        while true {
            guard PQconsumeInput(handle) == 1 else { throw connectionError(statement: nil) }
            if let notification = PQnotifies(handle) {
                defer { PQfreemem(notification) }
                return PostgresNotification(
                    channel: String(cString: notification.pointee.relname),
                    payload: String(cString: notification.pointee.extra),
                    processID: notification.pointee.be_pid)
            }
            try checkCancelled()
            let left = deadline - ContinuousClock.now
            if left <= .zero { return nil }
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            var descriptors = [
                pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup.descriptor, events: Int16(POLLIN), revents: 0),
            ]
            let ready = poll(&descriptors, 2, milliseconds)
            if ready < 0 && errno != EINTR {
                throw PostgresError(.connection, "poll failed: \(String(cString: strerror(errno)))")
            }
            if descriptors[1].revents != 0 { wakeup.drain() }
        }
    }
}
