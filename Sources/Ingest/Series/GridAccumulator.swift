import PostgresClient

/// Buckets streamed rows of many series onto the grid: the hot loop of ingest.
///
/// Rows are `(key text, time timestamptz, value float8, covariates float8...)` in binary
/// COPY format, in any order. Each series keeps at most about `maxHistory` buckets (plus
/// one block) behind its newest reading: older blocks are freed as newer readings arrive,
/// since nothing older can be in the final window.
///
/// Only readings with a time in `GridTime.earliest...newestAllowed` (and at or after
/// `lowerBucket`) and a value finite in Float32 reach the grid; the others are counted in
/// the series' `QualityReport`. So every bucket is in `0...GridTime.latest`, a `±infinity`
/// or year-294276 reading never reaches bucket arithmetic, and memory stays bounded by
/// `maxHistory` whatever the times.
struct GridAccumulator {
    let frequency: Frequency
    /// Rows before this bucket are outside the read (see `SeriesReader`); nil: no bound.
    let lowerBucket: Int64?
    let covariateCount: Int
    let aggregation: Aggregation
    /// Buckets kept per series, at least 1.
    let history: Int64
    /// Accepted raw times (µs since 2000-01-01, as COPY sends them): anything outside takes
    /// the slow path in `rejectTime`. `lowestRaw` is the later of 1970 and the lower bound.
    private let lowestRaw: Int64
    private let highestRaw: Int64

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
        /// Blocks before this bucket have been freed (buckets are never negative).
        var trimmedBefore: Int64 = 0
    }

    /// - Parameter newestAllowed: the newest reading time accepted (µs since the Unix
    ///   epoch); later readings are in the future (see `GridTime.newestAllowed`).
    init(
        frequency: Frequency, lowerBucket: Int64?, covariates: Int, aggregation: Aggregation, maxHistory: Int,
        newestAllowed: Int64 = GridTime.latest
    ) {
        self.frequency = frequency
        self.lowerBucket = lowerBucket
        self.covariateCount = covariates
        self.aggregation = aggregation
        self.history = Int64(max(1, maxHistory))
        let lowest = max(GridTime.earliest, lowerBucket.map(frequency.start(of:)) ?? GridTime.earliest)
        let highest = min(max(newestAllowed, GridTime.earliest), GridTime.latest)
        lowestRaw = min(lowest, GridTime.latest) - PostgresTime.epochOffsetMicroseconds
        highestRaw = highest - PostgresTime.epochOffsetMicroseconds
    }

    /// The largest magnitude a value may have: beyond it, it would be infinite as Float32.
    private static let largestValue = Double(Float.greatestFiniteMagnitude)

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
        let raw = Int64(bigEndian: timeField.loadUnaligned(as: Int64.self))
        guard raw >= lowestRaw, raw <= highestRaw else { return rejectTime(raw, index) }
        // Cannot overflow: `raw` is at most `GridTime.latest` minus the offset.
        let time = raw &+ PostgresTime.epochOffsetMicroseconds
        let bucket = frequency.bucket(of: time)
        if bucket < series[index].trimmedBefore {
            series[index].quality.droppedOutsideWindow += 1
            return
        }
        guard let value = Self.float8(fields.next() ?? nil) else {
            series[index].quality.droppedNullValue += 1
            return
        }
        // One comparison rejects NaN, ±Infinity and values beyond Float32.
        guard value.magnitude <= Self.largestValue else { return rejectValue(value, index) }
        if time == series[index].lastTime {
            // Several rows of one series at one instant: duplicates, or several sensors
            // read as one series (no series column).
            series[index].quality.rowsSharingTimestamp += 1
        } else if time > series[index].lastTime {
            // Trimmed before adding, so a jump far ahead never allocates the blocks between.
            series[index].lastTime = time
            trimHistory(index, newestBucket: bucket)
        }
        if time < series[index].firstTime { series[index].firstTime = time }
        if series[index].target.add(value, bucket: bucket, time: time) {
            series[index].quality.bucketsMerged += 1
        }
        for covariate in 0..<covariateCount {
            guard let value = Self.float8(fields.next() ?? nil) else { continue }
            if value.magnitude <= Self.largestValue {
                _ = series[index].covariates[covariate].add(value, bucket: bucket, time: time)
            } else {
                series[index].quality.droppedCovariateValues += 1
            }
        }
    }

    /// Counts a row whose raw time (µs since 2000-01-01) is outside the accepted range.
    @inline(never)
    private mutating func rejectTime(_ raw: Int64, _ index: Int) {
        if raw == .max || raw == .min {
            series[index].quality.droppedNonFiniteTime += 1
        } else if raw < -PostgresTime.epochOffsetMicroseconds {
            series[index].quality.droppedBeforeEpoch += 1
        } else if raw > highestRaw {
            series[index].quality.droppedFutureTime += 1
        } else {
            series[index].quality.droppedOutsideWindow += 1
        }
    }

    /// Counts a row whose value is NaN, infinite, or too large for Float32.
    @inline(never)
    private mutating func rejectValue(_ value: Double, _ index: Int) {
        if value.isNaN {
            series[index].quality.droppedNaN += 1
        } else if value.isInfinite {
            series[index].quality.droppedInfinite += 1
        } else {
            series[index].quality.droppedValueOverflow += 1
        }
    }

    /// Frees blocks that can no longer reach the final window (at most `maxHistory` buckets
    /// ending at the newest reading), checked once per block of progress.
    @inline(__always)
    private mutating func trimHistory(_ index: Int, newestBucket: Int64) {
        // Both at least 0 (buckets are never negative), so the difference cannot overflow.
        let windowStart = max(0, newestBucket - history + 1)
        guard windowStart - series[index].trimmedBefore >= Int64(BucketBlock.size) else { return }
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
        // Without a bound the read covered every bucket, and buckets start at 0 (1970).
        let coversFrom = lowerBucket ?? 0
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
            let first = max(frequency.bucket(of: state.firstTime), last - history + 1)
            state.quality.droppedOutsideWindow += state.target.readings(before: first)
            let (target, overflowed) = state.target.values(from: first, through: last)
            state.quality.droppedValueOverflow += overflowed
            var covariates: [[Float]] = []
            for channel in state.covariates {
                let (values, overflowed) = channel.values(from: first, through: last)
                state.quality.droppedCovariateValues += overflowed
                covariates.append(values)
            }
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
