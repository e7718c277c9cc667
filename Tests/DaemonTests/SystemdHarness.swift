import Dispatch
import Foundation
import Synchronization

/// Plays systemd's side of the notify protocol: a datagram socket whose path is passed to
/// the daemon as `NOTIFY_SOCKET`; every message received is kept with its arrival time.
final class NotifySocket: Sendable {
    let path: String
    private let inbox: Inbox

    init() throws {
        let path = NSTemporaryDirectory() + "forecastd-notify-\(UUID().uuidString.prefix(8))"
        self.path = path
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            close(descriptor)
            throw CocoaError(.fileWriteUnknown)
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        inbox = Inbox(descriptor: descriptor)
        // The reader holds only the inbox, so this object's deinit runs when the test drops it.
        Thread { [inbox] in inbox.receiveUntilStopped() }.start()
    }

    deinit {
        inbox.stop()
        unlink(path)
    }

    var messages: [(at: ContinuousClock.Instant, fields: [String])] { inbox.received.withLock { $0 } }

    /// Messages containing `field` (e.g. "READY=1"), after `since` when given.
    func count(_ field: String, since: ContinuousClock.Instant? = nil) -> Int {
        messages.filter { message in message.fields.contains(field) && since.map { message.at >= $0 } ?? true }.count
    }

    /// Waits until `count` messages containing `field` arrived after `since`; false if they did
    /// not within `timeout`.
    func waitFor(
        _ field: String, count wanted: Int = 1, since: ContinuousClock.Instant? = nil, timeout: Duration = .seconds(60)
    ) async -> Bool {
        await eventually(timeout: timeout) { count(field, since: since) >= wanted }
    }
}

/// The socket and what arrived on it, shared with the reader thread.
private final class Inbox: @unchecked Sendable {
    // Safe to share: `descriptor` is read-only until `stop` closes it after the reader ended;
    // the rest is a mutex, an atomic and a semaphore.
    let descriptor: Int32
    let received = Mutex<[(at: ContinuousClock.Instant, fields: [String])]>([])
    private let stopped = Atomic<Bool>(false)
    private let readerEnded = DispatchSemaphore(value: 0)

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// The reader thread's loop; `recv` times out every 100 ms to look at `stopped`.
    func receiveUntilStopped() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopped.load(ordering: .acquiring) {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let text = String(decoding: buffer[..<count], as: UTF8.self)
            let fields = text.split(separator: "\n").map(String.init)
            received.withLock { $0.append((ContinuousClock.now, fields)) }
        }
        readerEnded.signal()
    }

    /// Stops the reader, waits for it to end, then closes the socket.
    func stop() {
        stopped.store(true, ordering: .releasing)
        readerEnded.wait()
        close(descriptor)
    }
}
