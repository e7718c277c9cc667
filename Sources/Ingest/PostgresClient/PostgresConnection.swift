import CLibPQ
import Dispatch
import Foundation
import Synchronization

/// One PostgreSQL connection over libpq.
///
/// All libpq calls for a connection run on its own serial dispatch queue, never on Swift's
/// cooperative thread pool: `withSession` hops there and hands the body a
/// `PostgresSession`, the synchronous API, for as long as the body runs. Bodies on one
/// connection run one at a time, in the order they were submitted.
///
/// Cancelling the task awaiting `withSession` cancels the statement running for it
/// (`PQcancel`) and makes the session throw `CancellationError`; a body not yet started is
/// never run. The connection is closed by `close()` or, failing that, when released.
public final class PostgresConnection: @unchecked Sendable {
    // Invariant: `handle` is used only on `queue` (or in deinit, when no one else can).
    private let handle: OpaquePointer
    private let queue: DispatchQueue
    private let canceller: Canceller
    private let wakeup: Wakeup
    private let current = Mutex<CancelToken?>(nil)
    private let closed = Atomic<Bool>(false)

    private init(handle: OpaquePointer, queue: DispatchQueue) throws(PostgresError) {
        self.handle = handle
        self.queue = queue
        guard let cancel = PQgetCancel(handle) else {
            PQfinish(handle)
            throw PostgresError(.connection, "could not create a cancel handle")
        }
        self.canceller = Canceller(cancel)
        do {
            self.wakeup = try Wakeup()
        } catch {
            PQfinish(handle)
            throw error
        }
    }

    deinit {
        guard !closed.load(ordering: .acquiring) else { return }
        // PQfinish writes to the socket: keep it off whatever thread released us.
        nonisolated(unsafe) let handle = self.handle
        DispatchQueue.global().async { PQfinish(handle) }
    }

    /// Connects with `settings`, blocking a dedicated queue (not the caller's thread).
    /// Throws `PostgresError(.connection)` with a redacted message on any failure.
    public static func connect(_ settings: ConnectionSettings) async throws(PostgresError) -> PostgresConnection {
        let queue = DispatchQueue(label: "forecastd.postgres")
        let result: Result<PostgresConnection, PostgresError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(
                    returning: Result { () throws(PostgresError) in
                        try connectBlocking(settings, queue: queue)
                    })
            }
        }
        return try result.get()
    }

    /// Connects to `conninfo` with forecastd's defaults.
    public static func connect(_ conninfo: String = "") async throws(PostgresError) -> PostgresConnection {
        try await connect(ConnectionSettings(conninfo))
    }

    private static func connectBlocking(_ settings: ConnectionSettings, queue: DispatchQueue) throws(PostgresError)
        -> PostgresConnection
    {
        let pairs = settings.keywordValues()
        let keywords = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        guard let handle = PQconnectdbParams(keywordPointers, valuePointers, 1) else {
            throw PostgresError(.connection, "out of memory allocating a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = settings.redact(String(cString: PQerrorMessage(handle)))
            PQfinish(handle)
            throw PostgresError(.connection, message.isEmpty ? "could not connect" : message)
        }
        // Server notices (e.g. "relation already exists, skipping") are not errors: keep
        // them off stderr, where libpq's default processor would print them.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        return try PostgresConnection(handle: handle, queue: queue)
    }

    /// Runs `body` with this connection's session on the connection's queue.
    ///
    /// - Throws: whatever `body` throws; `CancellationError` if the task is cancelled.
    public func withSession<T: Sendable>(
        _ body: @escaping @Sendable (PostgresSession) throws -> T
    ) async throws -> T {
        let token = CancelToken()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                queue.async { [self] in
                    continuation.resume(with: Result { try runBlocking(token: token, body) })
                }
            }
        } onCancel: {
            cancel(token)
        }
    }

    /// Closes the connection (`PQfinish`) after any work already submitted. Idempotent.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { [self] in
                if !closed.exchange(true, ordering: .acquiringAndReleasing) { PQfinish(handle) }
                continuation.resume()
            }
        }
    }

    private func runBlocking<T>(token: CancelToken, _ body: (PostgresSession) throws -> T) throws -> T {
        guard !closed.load(ordering: .acquiring) else {
            throw PostgresError(.connection, "connection is closed")
        }
        current.withLock { $0 = token }
        defer { current.withLock { $0 = nil } }
        if token.isCancelled { throw CancellationError() }
        let session = PostgresSession(handle: handle, token: token, canceller: canceller, wakeup: wakeup)
        return try body(session)
    }

    private func cancel(_ token: CancelToken) {
        token.cancel()
        let running = current.withLock { $0 === token }
        guard running else { return }
        wakeup.signal()
        // PQcancel opens a connection to the server: keep it off the cooperative pool.
        let canceller = self.canceller
        DispatchQueue.global().async { canceller.cancel() }
    }
}

/// Set once when the task that submitted a body is cancelled.
final class CancelToken: Sendable {
    private let flag = Atomic<Bool>(false)
    var isCancelled: Bool { flag.load(ordering: .acquiring) }
    func cancel() { flag.store(true, ordering: .releasing) }
}

/// Owns a `PGcancel`, which libpq documents as safe to use from any thread.
final class Canceller: @unchecked Sendable {
    private let cancelHandle: OpaquePointer
    init(_ cancelHandle: OpaquePointer) { self.cancelHandle = cancelHandle }
    deinit { PQfreeCancel(cancelHandle) }

    /// Asks the server to cancel the connection's running statement (best effort).
    func cancel() {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = PQcancel(cancelHandle, &buffer, Int32(buffer.count))
    }
}

/// A self-pipe that interrupts a session blocked in `poll` (waiting for notifications).
final class Wakeup: Sendable {
    /// Read end, polled by the session; `writer` is written by the cancellation handler.
    let descriptor: Int32
    private let writer: Int32

    init() throws(PostgresError) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else {
            throw PostgresError(.connection, "pipe failed: \(String(cString: strerror(errno)))")
        }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        descriptor = ends[0]
        writer = ends[1]
    }

    deinit {
        close(descriptor)
        close(writer)
    }

    func signal() {
        var byte: UInt8 = 1
        _ = write(writer, &byte, 1)
    }

    func drain() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(descriptor, &bytes, bytes.count) > 0 {}
    }
}
