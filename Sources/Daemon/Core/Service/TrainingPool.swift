import Dispatch
import Synchronization

/// Set when the task that submitted a job is cancelled; long computations poll it.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
    func cancel() { flag.store(true, ordering: .relaxed) }
}

/// A bounded pool for CPU-heavy work (training, forecasting): at most `size` jobs run at
/// once, each on a dispatch thread, never on Swift's cooperative pool (which it would
/// starve). Cancelling the awaiting task sets the job's `CancellationFlag`.
final class TrainingPool: Sendable {
    private struct State {
        var size: Int
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(size: Int) { state = Mutex(State(size: max(1, size))) }

    /// Jobs that may run at once.
    var size: Int { state.withLock { $0.size } }

    /// Changes the size (on reload); running jobs finish, waiting ones start as slots free.
    func resize(_ size: Int) {
        let admitted = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.size = max(1, size)
            var admitted: [CheckedContinuation<Void, Never>] = []
            while state.running < state.size, !state.waiting.isEmpty {
                state.running += 1
                admitted.append(state.waiting.removeFirst())
            }
            return admitted
        }
        admitted.forEach { $0.resume() }
    }

    func run<T: Sendable>(_ job: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        try Task.checkCancellation()
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try job(flag) })
                }
            }
        } onCancel: {
            flag.cancel()
        }
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let admitted = state.withLock { state -> Bool in
                if state.running < state.size {
                    state.running += 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if admitted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty || state.running > state.size {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()  // the slot passes to the next job
        }
        next?.resume()
    }
}
