import PostgresClient

/// Buckets streamed rows of many series onto the grid: the hot loop of ingest.
///
/// Rows are `(key text, time timestamptz, value float8, covariates float8...)` in binary
/// COPY format, in any order. Each series keeps at most about `maxHistory` buckets (plus
/// one block) behind its newest reading: older blocks are freed as newer readings arrive,
/// since nothing older can be in the final window.
struct GridAccumulator {
    let frequency: Frequency
    /// Rows before this bucket are outside the read (see `SeriesReader`); nil: no bound.
    let lowerBucket: Int64?
    let covariateCount: Int
    let aggregation: Aggregation
    let maxHistory: Int

    private var indexByKey: [String: Int] = [:]
    private var series: [SeriesState] = []
    // One-entry cache: tables are often written (and read back) a sensor at a time.
    private var lastKey: [UInt8] = [0xFF]
    private var lastIndex = -1

    struct SeriesState {
        var key: String
        var target: BucketChannel
        var covariates: [BucketChannel]
        var quality = QualityReport()
        var firstTime = Int64.max
        var lastTime = Int64.min
        /// Blocks before this bucket have been freed.
        var trimmedBefore = Int64.min
    }

    init(frequency: Frequency, lowerBucket: Int64?, covariates: Int, aggregation: Aggregation, maxHistory: Int) {
        self.frequency = frequency
        self.lowerBucket = lowerBucket
        self.covariateCount = covariates
        self.aggregation = aggregation
        self.maxHistory = maxHistory
    }

    @inline(__always)
    private static func float8(_ bytes: UnsafeRawBufferPointer?) -> Double? {
        guard let bytes, bytes.count == 8 else { return nil }
        return Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self)))
    }

    mutating func add(_ row: CopyOutRow) {
        var fields = row.fields
        let index = seriesIndex(fields.next() ?? nil)
        series[index].quality.rowsRead += 1
        guard let timeField = fields.next() ?? nil, timeField.count == 8 else {
            series[index].quality.droppedNullTime += 1
            return
        }
        let time = Int64(bigEndian: timeField.loadUnaligned(as: Int64.self)) &+ PostgresTime.epochOffsetMicroseconds
        let bucket = frequency.bucket(of: time)
        if let lowerBucket, bucket < lowerBucket {
            series[index].quality.droppedOutsideWindow += 1
            return
        }
        if bucket < series[index].trimmedBefore {
            series[index].quality.droppedOutsideWindow += 1
            return
        }
        guard let value = Self.float8(fields.next() ?? nil) else {
            series[index].quality.droppedNullValue += 1
            return
        }
        guard value.isFinite else {
            if value.isNaN {
                series[index].quality.droppedNaN += 1
            } else {
                series[index].quality.droppedInfinite += 1
            }
            return
        }
        if series[index].target.add(value, bucket: bucket, time: time) {
            series[index].quality.bucketsMerged += 1
        }
        if time < series[index].firstTime { series[index].firstTime = time }
        if time > series[index].lastTime {
            series[index].lastTime = time
            trimHistory(index, newestBucket: bucket)
        }
        for covariate in 0..<covariateCount {
            if let value = Self.float8(fields.next() ?? nil), value.isFinite {
                _ = series[index].covariates[covariate].add(value, bucket: bucket, time: time)
            }
        }
    }

    /// Frees blocks that can no longer reach the final window (at most `maxHistory` buckets
    /// ending at the newest reading), checked once per block of progress.
    @inline(__always)
    private mutating func trimHistory(_ index: Int, newestBucket: Int64) {
        let windowStart = newestBucket - Int64(maxHistory) + 1
        let trimmed = series[index].trimmedBefore
        guard trimmed == .min || windowStart - trimmed >= Int64(BucketBlock.size) else { return }
        series[index].trimmedBefore = windowStart
        series[index].quality.droppedOutsideWindow += series[index].target.drop(before: windowStart)
        for covariate in 0..<covariateCount {
            _ = series[index].covariates[covariate].drop(before: windowStart)
        }
    }

    @inline(__always)
    private mutating func seriesIndex(_ bytes: UnsafeRawBufferPointer?) -> Int {
        let raw = bytes ?? UnsafeRawBufferPointer(start: nil, count: 0)
        if raw.elementsEqual(lastKey) { return lastIndex }
        let key = String(decoding: raw, as: UTF8.self)
        let index: Int
        if let known = indexByKey[key] {
            index = known
        } else {
            index = series.count
            indexByKey[key] = index
            series.append(
                SeriesState(
                    key: key, target: BucketChannel(aggregation: aggregation),
                    covariates: Array(repeating: BucketChannel(aggregation: aggregation), count: covariateCount)))
        }
        lastKey = Array(raw)
        lastIndex = index
        return index
    }

    /// One chunk per series, from its first observed bucket (at most `maxHistory` before its
    /// newest) to its newest. Frees each series' blocks as it goes.
    mutating func finish() -> [SeriesChunk] {
        var chunks: [SeriesChunk] = []
        chunks.reserveCapacity(series.count)
        let coversFrom = lowerBucket ?? Int64.min
        for index in series.indices {
            var state = series[index]
            series[index] = SeriesState(key: state.key, target: BucketChannel(aggregation: aggregation), covariates: [])
            guard state.lastTime >= state.firstTime else {
                // Rows but no valid reading: reported, with an empty grid.
                chunks.append(
                    SeriesChunk(
                        key: state.key, coversFrom: coversFrom, startBucket: 0, target: [],
                        covariates: Array(repeating: [], count: covariateCount), watermark: Int64.min,
                        quality: state.quality))
                continue
            }
            let last = frequency.bucket(of: state.lastTime)
            let first = max(frequency.bucket(of: state.firstTime), last - Int64(maxHistory) + 1)
            state.quality.droppedOutsideWindow += state.target.readings(before: first)
            let target = state.target.values(from: first, through: last)
            let covariates = state.covariates.map { $0.values(from: first, through: last) }
            state.quality.bucketsObserved = target.reduce(0) { $0 + ($1.isNaN ? 0 : 1) }
            state.quality.firstTime = PostgresTime.date(
                microseconds: state.firstTime - PostgresTime.epochOffsetMicroseconds)
            state.quality.lastTime = PostgresTime.date(
                microseconds: state.lastTime - PostgresTime.epochOffsetMicroseconds)
            chunks.append(
                SeriesChunk(
                    key: state.key, coversFrom: coversFrom, startBucket: first, target: target,
                    covariates: covariates, watermark: state.lastTime, quality: state.quality))
        }
        series = []
        indexByKey = [:]
        return chunks
    }
}
