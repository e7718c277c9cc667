import Foundation
import Synchronization

/// Plays systemd's side of the notify protocol: a datagram socket whose path is passed to
/// the daemon as `NOTIFY_SOCKET`; every message received is kept with its arrival time.
final class NotifySocket: @unchecked Sendable {
    let path: String
    private let descriptor: Int32
    private let received = Mutex<[(at: ContinuousClock.Instant, fields: [String])]>([])
    private var reader: Thread?
    private let stopped = Atomic<Bool>(false)

    init() throws {
        path = NSTemporaryDirectory() + "forecastd-notify-\(UUID().uuidString.prefix(8))"
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw CocoaError(.fileWriteUnknown) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !stopped.load(ordering: .relaxed) {
                let count = recv(descriptor, &buffer, buffer.count, 0)
                guard count > 0 else { continue }
                let text = String(decoding: buffer[..<count], as: UTF8.self)
                let fields = text.split(separator: "\n").map(String.init)
                received.withLock { $0.append((ContinuousClock.now, fields)) }
            }
        }
        thread.start()
        reader = thread
    }

    deinit {
        stopped.store(true, ordering: .relaxed)
        Thread.sleep(forTimeInterval: 0.2)
        close(descriptor)
        unlink(path)
    }

    var messages: [(at: ContinuousClock.Instant, fields: [String])] { received.withLock { $0 } }

    /// Messages containing `field` (e.g. "READY=1"), after `since` when given.
    func count(_ field: String, since: ContinuousClock.Instant? = nil) -> Int {
        messages.filter { message in message.fields.contains(field) && since.map { message.at >= $0 } ?? true }.count
    }

    /// Waits until a message containing `field` arrived after `since`.
    func waitFor(_ field: String, since: ContinuousClock.Instant? = nil, timeout: Duration = .seconds(60)) async -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if count(field, since: since) > 0 { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
