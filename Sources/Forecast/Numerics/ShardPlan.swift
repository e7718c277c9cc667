import Dispatch

/// How a batch is split across threads: contiguous, nearly equal row ranges, one per shard.
///
/// Each shard runs its own sequence of forward/backward steps on its own workspace (OpenBLAS
/// itself stays single-threaded), and shard results are combined in shard order, so results
/// depend on the thread count but not on scheduling.
struct ShardPlan: Sendable, Equatable {
    /// Row ranges, in order; together they cover `0..<batch`.
    let ranges: [Range<Int>]

    init(batch: Int, threads: Int) {
        let shards = max(1, min(threads, batch))
        ranges = (0..<shards).map { s in (s * batch / shards)..<((s + 1) * batch / shards) }
    }

    /// Runs `body(shard)` for every shard, in parallel when there is more than one.
    func run(_ body: @Sendable (Int) -> Void) {
        if ranges.count == 1 {
            body(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: ranges.count, execute: body)
        }
    }
}
