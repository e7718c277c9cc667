/// Buckets streamed rows of many series onto the grid (the hot loop of ingest).
///
/// Rows are `(key text, time timestamptz, value float8, covariates float8...)` in binary
/// COPY format and may arrive in any order. Each series gets its own channels, indexed
/// from the read's lower-bound bucket `baseBucket`.
struct GridAccumulator {
    let frequency: Frequency
    let baseBucket: Int64
    let covariateCount: Int
    let aggregation: Aggregation

    private var indexByKey: [String: Int] = [:]
    private var series: [SeriesState] = []
    // One-entry cache: sensor tables are often written (and read back) a sensor at a time.
    private var lastKey: String = "\u{0}"
    private var lastIndex = -1

    struct SeriesState {
        var key: String
        var target = BucketChannel()
        var covariates: [BucketChannel]
        var quality = QualityReport()
        var firstTime = Int64.max
        var lastTime = Int64.min
    }

    init(frequency: Frequency, baseBucket: Int64, covariates: Int, aggregation: Aggregation) {
        self.frequency = frequency
        self.baseBucket = baseBucket
        self.covariateCount = covariates
        self.aggregation = aggregation
    }

    /// µs between 1970-01-01 and PostgreSQL's epoch.
    private static let epochOffset: Int64 = 946_684_800_000_000

    mutating func add(_ row: CopyOutRow) {
        let fields = row.fields
        let index = seriesIndex(fields[0])
        series[index].quality.rowsRead += 1
        guard let timeBytes = fields[1], timeBytes.count == 8 else {
            series[index].quality.droppedNullTime += 1
            return
        }
        let time = Int64(bigEndian: timeBytes.loadUnaligned(as: Int64.self)) &+ Self.epochOffset
        let offset = frequency.bucket(of: time) - baseBucket
        guard offset >= 0 else {
            series[index].quality.droppedOutsideWindow += 1
            return
        }
        let bucket = Int(offset)
        guard let valueBytes = fields[2], valueBytes.count == 8 else {
            series[index].quality.droppedNullValue += 1
            return
        }
        let value = Double(bitPattern: UInt64(bigEndian: valueBytes.loadUnaligned(as: UInt64.self)))
        guard value.isFinite else {
            if value.isNaN {
                series[index].quality.droppedNaN += 1
            } else {
                series[index].quality.droppedInfinite += 1
            }
            return
        }
        if series[index].target.add(value, at: bucket, time: time, aggregation: aggregation) {
            series[index].quality.bucketsMerged += 1
        }
        if time < series[index].firstTime { series[index].firstTime = time }
        if time > series[index].lastTime { series[index].lastTime = time }
        for covariate in 0..<covariateCount {
            guard let bytes = fields[3 + covariate], bytes.count == 8 else { continue }
            let value = Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)))
            if value.isFinite {
                _ = series[index].covariates[covariate].add(value, at: bucket, time: time, aggregation: aggregation)
            }
        }
    }

    @inline(__always)
    private mutating func seriesIndex(_ bytes: UnsafeRawBufferPointer?) -> Int {
        let key = bytes.map { String(decoding: $0, as: UTF8.self) } ?? ""
        if key == lastKey { return lastIndex }
        let index: Int
        if let known = indexByKey[key] {
            index = known
        } else {
            index = series.count
            indexByKey[key] = index
            series.append(
                SeriesState(key: key, covariates: Array(repeating: BucketChannel(), count: covariateCount)))
        }
        lastKey = key
        lastIndex = index
        return index
    }

    /// One chunk per series that had at least one valid reading, trimmed to its first and
    /// last observed bucket and to the newest `maxHistory` buckets. Releases the buffers.
    mutating func finish(maxHistory: Int) -> [SeriesChunk] {
        var chunks: [SeriesChunk] = []
        chunks.reserveCapacity(series.count)
        for index in series.indices {
            var state = series[index]
            series[index] = SeriesState(key: state.key, covariates: [])
            guard state.lastTime >= state.firstTime else {
                // Rows but no valid reading: still reported, with an empty grid.
                chunks.append(
                    SeriesChunk(
                        key: state.key, coversFrom: baseBucket, startBucket: baseBucket, target: [],
                        covariates: Array(repeating: [], count: covariateCount), watermark: Int64.min,
                        quality: state.quality))
                continue
            }
            let first = Int(frequency.bucket(of: state.firstTime) - baseBucket)
            let last = Int(frequency.bucket(of: state.lastTime) - baseBucket)
            let range = max(first, last + 1 - maxHistory)..<(last + 1)
            let target = state.target.finish(range: range)
            let covariates = state.covariates.indices.map { covariate in
                var channel = state.covariates[covariate]
                state.covariates[covariate] = BucketChannel()
                channel.values.append(
                    contentsOf: repeatElement(0, count: max(0, range.upperBound - channel.values.count)))
                channel.counts.append(
                    contentsOf: repeatElement(0, count: max(0, range.upperBound - channel.counts.count)))
                return channel.finish(range: range)
            }
            state.quality.bucketsObserved = target.reduce(0) { $0 + ($1.isNaN ? 0 : 1) }
            state.quality.firstTime = PostgresTime.date(microseconds: state.firstTime - Self.epochOffset)
            state.quality.lastTime = PostgresTime.date(microseconds: state.lastTime - Self.epochOffset)
            chunks.append(
                SeriesChunk(
                    key: state.key, coversFrom: baseBucket, startBucket: baseBucket + Int64(range.lowerBound),
                    target: target, covariates: covariates, watermark: state.lastTime, quality: state.quality))
        }
        series = []
        indexByKey = [:]
        return chunks
    }
}
