/// 256 consecutive buckets of one channel: a Float32 accumulator and a UInt16 count each
/// (plus an Int64 time when aggregating by `last`), in manually managed memory.
final class BucketBlock {
    /// 256 buckets (1.5 KB): small enough that an incremental read, which touches a few
    /// dozen buckets of every series, allocates little per series (1,024 took 60-120 MB
    /// per read at 10,000 series), large enough that a full read allocates rarely.
    static let shift = 8
    static let size = 1 << shift

    let values: UnsafeMutablePointer<Float>
    let counts: UnsafeMutablePointer<UInt16>
    let lastTimes: UnsafeMutablePointer<Int64>?

    init(tracksTime: Bool) {
        values = .allocate(capacity: Self.size)
        values.initialize(repeating: 0, count: Self.size)
        counts = .allocate(capacity: Self.size)
        counts.initialize(repeating: 0, count: Self.size)
        lastTimes = tracksTime ? .allocate(capacity: Self.size) : nil
        lastTimes?.initialize(repeating: 0, count: Self.size)
    }

    deinit {
        values.deallocate()
        counts.deallocate()
        lastTimes?.deallocate()
    }

    /// Readings in all buckets of the block.
    var readings: Int { (0..<Self.size).reduce(0) { $0 + Int(counts[$1]) } }
}

/// Accumulates the readings of one column into buckets, a block of 256 at a time.
///
/// Blocks are allocated as buckets are touched and dropped when they fall out of the
/// history window, so memory is about 6 bytes per bucket of history (Float32 + UInt16),
/// never per row, whatever order rows arrive in. Buckets are absolute grid indices.
struct BucketChannel {
    let aggregation: Aggregation
    /// Block number (`bucket >> BucketBlock.shift`) of `blocks[0]`.
    private(set) var firstBlock: Int64 = 0
    private(set) var blocks: [BucketBlock] = []

    init(aggregation: Aggregation) { self.aggregation = aggregation }

    /// Adds a reading; returns true when the bucket already held exactly one reading (it
    /// is now merged).
    @inline(__always)
    mutating func add(_ value: Double, bucket: Int64, time: Int64) -> Bool {
        let blockNumber = bucket >> Int64(BucketBlock.shift)
        if blocks.isEmpty || blockNumber < firstBlock || blockNumber - firstBlock >= Int64(blocks.count) {
            cover(blockNumber)
        }
        let block = blocks[Int(blockNumber - firstBlock)]
        let index = Int(bucket & Int64(BucketBlock.size - 1))
        let count = block.counts[index]
        let next = count == .max ? count : count + 1
        switch aggregation {
        case .mean:
            // In Float64, so two readings near ±Float.greatestFiniteMagnitude cannot overflow.
            let mean = Double(block.values[index])
            block.values[index] = Float(mean + (value - mean) / Double(next))
        case .sum:
            block.values[index] += Float(value)
        case .last:
            if count == 0 || time >= block.lastTimes![index] {
                block.values[index] = Float(value)
                block.lastTimes![index] = time
            }
        }
        block.counts[index] = next
        return count == 1
    }

    private mutating func cover(_ blockNumber: Int64) {
        let tracksTime = aggregation == .last
        if blocks.isEmpty {
            firstBlock = blockNumber
            blocks = [BucketBlock(tracksTime: tracksTime)]
        } else if blockNumber < firstBlock {
            let front = (0..<Int(firstBlock - blockNumber)).map { _ in BucketBlock(tracksTime: tracksTime) }
            blocks.insert(contentsOf: front, at: 0)
            firstBlock = blockNumber
        } else {
            while blockNumber - firstBlock >= Int64(blocks.count) { blocks.append(BucketBlock(tracksTime: tracksTime)) }
        }
    }

    /// Frees whole blocks that end before `bucket`; returns the readings they held.
    mutating func drop(before bucket: Int64) -> Int {
        let keepFrom = bucket >> Int64(BucketBlock.shift)
        guard !blocks.isEmpty, keepFrom > firstBlock else { return 0 }
        let dropped = Int(min(Int64(blocks.count), keepFrom - firstBlock))
        let readings = blocks[..<dropped].reduce(0) { $0 + $1.readings }
        blocks.removeFirst(dropped)
        firstBlock += Int64(dropped)
        return readings
    }

    /// Readings in buckets before `bucket` (which `values(from:through:)` leaves out).
    func readings(before bucket: Int64) -> Int {
        var total = 0
        for (offset, block) in blocks.enumerated() {
            let blockStart = (firstBlock + Int64(offset)) << Int64(BucketBlock.shift)
            guard blockStart < bucket else { break }
            let end = Int(min(Int64(BucketBlock.size), bucket - blockStart))
            for index in 0..<end { total += Int(block.counts[index]) }
        }
        return total
    }

    /// Values of buckets `first...last`, NaN where no reading fell or where the aggregate
    /// is not finite (a `sum` beyond Float32), and the readings of those overflowed buckets.
    func values(from first: Int64, through last: Int64) -> (values: [Float], overflowed: Int) {
        var result = [Float](repeating: .nan, count: Int(last - first + 1))
        var overflowed = 0
        result.withUnsafeMutableBufferPointer { output in
            for (offset, block) in blocks.enumerated() {
                let blockStart = (firstBlock + Int64(offset)) << Int64(BucketBlock.shift)
                let from = max(first, blockStart)
                let through = min(last, blockStart + Int64(BucketBlock.size) - 1)
                guard from <= through else { continue }
                for bucket in from...through {
                    let index = Int(bucket - blockStart)
                    guard block.counts[index] > 0 else { continue }
                    if block.values[index].isFinite {
                        output[Int(bucket - first)] = block.values[index]
                    } else {
                        overflowed += Int(block.counts[index])
                    }
                }
            }
        }
        return (result, overflowed)
    }
}
