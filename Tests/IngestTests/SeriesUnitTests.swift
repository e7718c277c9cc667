import Foundation
import Testing

@testable import Ingest
@testable import PostgresClient

/// Grid, gap, scaling, calendar and window logic without a database.
struct SeriesUnitTests {
    @Test func bucketsFloorForTimesBeforeTheEpoch() {
        let hourly = Frequency.hours(1)
        #expect(hourly.bucket(of: 0) == 0)
        #expect(hourly.bucket(of: 3_599_999_999) == 0)
        #expect(hourly.bucket(of: 3_600_000_000) == 1)
        #expect(hourly.bucket(of: -1) == -1)
        #expect(hourly.seasonalPeriod == 24)
        #expect(Frequency.days(1).seasonalPeriod == 7)
        #expect(Frequency.minutes(5).seasonalPeriod == 288)
    }

    @Test func shortGapsAreInterpolatedLongGapsKept() {
        var values: [Float] = [1, .nan, .nan, 4, .nan, .nan, .nan, .nan, 9, .nan]
        let result = GapFiller.fill(&values, maxGap: 3)
        #expect(values[0...3] == [1, 2, 3, 4])
        #expect(values[4...7].allSatisfy { $0.isNaN })
        #expect(values[9].isNaN)  // a trailing gap has nothing to interpolate towards
        #expect(result.filled == 2)
        #expect(result.missing == 5)
    }

    @Test func scalerIsSafeForConstantSeriesAndIgnoresNaN() {
        let constant = Scaler.fit([5, 5, 5, .nan])
        #expect(constant.center == 5 && constant.scale == 1)
        let standard = Scaler.fit([1, 2, 3, 4])
        #expect(standard.center == 2.5)
        #expect(abs(standard.scale - 1.118034) < 1e-5)
        #expect(abs(standard.invert(standard.apply(3.25)) - 3.25) < 1e-6)
        let empty = Scaler.fit([Float]())
        #expect(empty.scale == 1)
    }

    @Test func scalerRoundTripsThroughJSON() throws {
        let scaler = Scaler(center: 1.25, scale: 0.5)
        let data = try JSONEncoder().encode(scaler)
        #expect(try JSONDecoder().decode(Scaler.self, from: data) == scaler)
    }

    @Test func calendarFeaturesFollowTheLocalClock() throws {
        // 2024-01-01 00:00 UTC was a Monday; in Berlin it was 01:00.
        let midnight = Int64(1_704_067_200) * 1_000_000
        let hourly = Frequency.hours(1)
        let utc = try CalendarFeatures(dayOfYear: false).table(
            firstBucket: hourly.bucket(of: midnight), buckets: 7, frequency: hourly)
        #expect(abs(utc[0] - 0) < 1e-6 && abs(utc[1] - 1) < 1e-6)  // hour 0
        #expect(abs(utc[2] - 0) < 1e-6 && abs(utc[3] - 1) < 1e-6)  // Monday
        #expect(abs(utc[6 * 4] - Float(sin(2 * Double.pi * 6 / 24))) < 1e-6)  // hour 6
        let berlin = try CalendarFeatures(dayOfWeek: false, dayOfYear: false, timeZone: "Europe/Berlin").table(
            firstBucket: hourly.bucket(of: midnight), buckets: 1, frequency: hourly)
        #expect(abs(berlin[0] - Float(sin(2 * Double.pi / 24))) < 1e-6)
        #expect(throws: CalendarFeatures.UnknownTimeZone.self) {
            try CalendarFeatures(timeZone: "Mars/Olympus").table(firstBucket: 0, buckets: 1, frequency: hourly)
        }
    }

    static func series(_ values: [Float], key: String = "s", start: Int64 = 1000) -> FilledSeries {
        let chunk = SeriesChunk(
            key: key, coversFrom: start, startBucket: start, target: values, covariates: [],
            watermark: Frequency.hours(1).start(of: start + Int64(values.count) - 1), quality: QualityReport())
        return RegularSeries(key: key, frequency: .hours(1), chunk: chunk).filled(maxGap: 1)
    }

    @Test func windowsNeverCrossASegmentBreak() throws {
        // 0..<20 present, 20..<25 missing, 25..<40 present.
        var values = (0..<40).map { Float($0) }
        for index in 20..<25 { values[index] = .nan }
        let filled = Self.series(values)
        #expect(filled.segments == [0..<20, 25..<40])
        let windows = try SeriesWindows(
            series: [filled], options: WindowOptions(lookback: 4, horizon: 2), split: .none)
        #expect(windows.training.count == (20 - 6 + 1) + (15 - 6 + 1))
        for reference in windows.training {
            let span = reference.start..<(reference.start + 6)
            #expect(filled.segments.contains { $0.contains(span.lowerBound) && $0.contains(span.upperBound - 1) })
        }
        #expect(windows.latest == [WindowReference(series: 0, start: 36)])
    }

    @Test func validationWindowsHaveTargetsAfterTheCutoff() throws {
        let filled = Self.series((0..<100).map { Float($0) })
        let windows = try SeriesWindows(
            series: [filled], options: WindowOptions(lookback: 10, horizon: 5, stride: 2, relativeToLast: false),
            split: .fraction(0.2))
        // cutoff = 80: training targets end by 80, validation targets start at or after it.
        #expect(windows.training.allSatisfy { $0.start + 15 <= 80 && ($0.start % 2 == 0) })
        #expect(windows.validation.allSatisfy { $0.start + 10 >= 80 && $0.start + 15 <= 100 && $0.start % 2 == 0 })
        #expect(windows.training.count == 33)  // starts 0, 2, ..., 64
        #expect(windows.validation.count == 8)  // starts 70, 72, ..., 84
        // Scaler fitted on the first 80 steps only.
        #expect(windows.scalers[0][0].center == 39.5)
        let batch = windows.batch([windows.training[1]])
        let scaler = windows.scalers[0][0]
        #expect(batch.inputs.count == 10 && batch.targets.count == 5)
        #expect(abs(scaler.invert(batch.inputs[0]) - 2) < 1e-4)
        #expect(abs(scaler.invert(batch.targets[0]) - 12) < 1e-4)
    }

    @Test func windowsRelativeToTheirLastValue() throws {
        let filled = Self.series((0..<100).map { Float($0) })
        let windows = try SeriesWindows(
            series: [filled], options: WindowOptions(lookback: 10, horizon: 5), split: .fraction(0.2))
        let reference = windows.training[3]
        let batch = windows.batch([reference])
        let scaler = windows.scalers[0][0]
        let anchor = windows.anchor(reference)
        // The last input step is the reference point: 0 after subtracting it.
        #expect(batch.inputs[9] == 0)
        #expect(abs(scaler.invert(anchor) - Float(reference.start + 9)) < 1e-4)
        #expect(abs(scaler.invert(batch.inputs[0] + anchor) - Float(reference.start)) < 1e-4)
        #expect(abs(scaler.invert(batch.targets[4] + anchor) - Float(reference.start + 14)) < 1e-4)
        // Options saved before the field existed decode as absolute windows.
        let old = try JSONDecoder().decode(WindowOptions.self, from: Data(#"{"lookback": 4, "horizon": 2}"#.utf8))
        #expect(!old.relativeToLast && old.stride == 1 && old.maxGap == 3)
    }

    @Test func tooLittleDataIsReportedNotCrashedOn() throws {
        let windows = try SeriesWindows(
            series: [Self.series([1, 2, 3], key: "short"), Self.series((0..<50).map { Float($0) }, key: "long")],
            options: WindowOptions(lookback: 10, horizon: 5), split: .fraction(0.2))
        #expect(windows.series.map(\.key) == ["long"])
        #expect(windows.insufficient.map(\.key) == ["short"])
        #expect(windows.insufficient.first?.reason.contains("needs 15") == true)
    }

    @Test func latestInferenceWindowEndsAtTheNewestStep() throws {
        let filled = Self.series((0..<30).map { Float($0) }, start: 0)
        let windows = try SeriesWindows(
            forecasting: [filled], scalers: [:], options: WindowOptions(lookback: 8, horizon: 4))
        let latest = try #require(windows.latest[0])
        #expect(windows.issuedAt(latest) == Frequency.hours(1).start(of: 29))
    }

    @Test func mergeReplacesTheOverlapAndTrimsHistory() {
        func chunk(_ values: [Float], coversFrom: Int64, start: Int64) -> SeriesChunk {
            SeriesChunk(
                key: "k", coversFrom: coversFrom, startBucket: start, target: values, covariates: [],
                watermark: start + Int64(values.count) - 1, quality: QualityReport())
        }
        var series = RegularSeries(
            key: "k", frequency: .hours(1), chunk: chunk([1, 2, 3, 4], coversFrom: 0, start: 10))
        series.merge(chunk([30, 40, 5], coversFrom: 12, start: 12), maxHistory: 100)
        #expect(series.target == [1, 2, 30, 40, 5])
        series.merge(chunk([7], coversFrom: 15, start: 17), maxHistory: 100)
        #expect(series.startBucket == 10)
        #expect(Array(series.target[0..<5]) == [1, 2, 30, 40, 5])
        #expect(series.target[5].isNaN && series.target[6].isNaN && series.target[7] == 7)
        series.merge(chunk([8, 9], coversFrom: 18, start: 18), maxHistory: 4)
        #expect(series.startBucket == 16)
        #expect(series.target[0].isNaN && Array(series.target[1...]) == [7, 8, 9])
    }

    /// A re-read of the overlap that brings nothing new leaves the series (and its revision)
    /// alone; a correction in the overlap is merged and the gap counts follow it.
    @Test func unchangedRereadsKeepTheRevisionAndCorrectionsUpdateGapCounts() {
        func chunk(_ values: [Float], coversFrom: Int64, start: Int64) -> SeriesChunk {
            SeriesChunk(
                key: "k", coversFrom: coversFrom, startBucket: start, target: values, covariates: [],
                watermark: Frequency.hours(1).start(of: start + Int64(values.count) - 1), quality: QualityReport())
        }
        let first = chunk([1, 2, .nan, 4, 5], coversFrom: 0, start: 10)
        var set = SeriesSet(frequency: .hours(1))
        var reports = set.merge(SeriesRead(chunks: [first], rows: 4, seconds: 0), maxGap: 0)
        #expect(reports["k"]?.bucketsMissing == 1)
        let revision = set.series["k"]!.revision
        // The poll re-reads the last three buckets: same values, nothing new.
        reports = set.merge(
            SeriesRead(chunks: [chunk([.nan, 4, 5], coversFrom: 12, start: 12)], rows: 2, seconds: 0), maxGap: 0)
        #expect(set.series["k"]!.revision == revision)
        #expect(reports["k"]?.bucketsMissing == 1 && reports["k"]?.segments == 2)
        // A late reading fills the hole.
        reports = set.merge(
            SeriesRead(chunks: [chunk([3, 4, 5], coversFrom: 12, start: 12)], rows: 3, seconds: 0), maxGap: 0)
        #expect(set.series["k"]!.revision != revision)
        #expect(set.series["k"]!.target == [1, 2, 3, 4, 5])
        #expect(reports["k"]?.bucketsMissing == 0 && reports["k"]?.segments == 1)
    }

    @Test func windowRunsIndexAcrossRuns() {
        var runs = WindowRuns(stride: 3)
        runs.append(series: 0, firstStart: 5, count: 2)
        runs.append(series: 2, firstStart: 0, count: 3)
        #expect(
            Array(runs) == [
                WindowReference(series: 0, start: 5), WindowReference(series: 0, start: 8),
                WindowReference(series: 2, start: 0), WindowReference(series: 2, start: 3),
                WindowReference(series: 2, start: 6),
            ])
    }

    @Test func bucketArithmeticSaturatesInsteadOfTrapping() {
        for frequency in [Frequency(microseconds: 1), Frequency(microseconds: 3), .minutes(1), .hours(1)] {
            for time in [Int64.min, Int64.min + 1, -1, 0, Int64.max - 1, Int64.max] {
                let bucket = frequency.bucket(of: time)
                #expect(frequency.start(of: bucket) <= time, "\(frequency) \(time)")
            }
            #expect(frequency.start(of: .max) == .max && frequency.start(of: .min) == .min)
        }
        #expect(Frequency(microseconds: 3).bucket(of: .min) == Int64.min / 3 - 1)
        #expect(Frequency(microseconds: 1).bucket(of: .max) == .max)
        #expect(Int64.max.saturatingAdding(1) == .max && Int64.min.saturatingAdding(-1) == .min)
        #expect(Int64.min.saturatingSubtracting(1) == .min && Int64.max.saturatingSubtracting(-1) == .max)
        #expect(Int64.max.saturatingMultiplied(by: -2) == .min && Int64.min.saturatingMultiplied(by: -1) == .max)
        #expect(Int64(6).saturatingMultiplied(by: 7) == 42)
        // The future bound never leaves 1970...GridTime.latest.
        #expect(GridTime.newestAllowed(now: .max, steps: .max, frequency: .hours(1)) == GridTime.latest)
        #expect(GridTime.newestAllowed(now: .min, steps: -5, frequency: .hours(1)) == 0)
        #expect(GridTime.newestAllowed(now: 1000, steps: 2, frequency: Frequency(microseconds: 10)) == 1020)
    }

    @Test func infiniteTimestampsSaturateBothWays() throws {
        for raw in [Int64.min, Int64.max, 9_223_371_331_199_999_999, -211_813_488_000_000_000] {
            var bytes: [UInt8] = []
            bytes.appendBigEndian(raw)
            let decoded = try bytes.withUnsafeBytes { try PostgresTimestamp.decode($0, type: .timestamptz) }
            var encoded: [UInt8] = []
            decoded.encode(into: &encoded)
            let roundTrip = encoded.withUnsafeBytes { Int64(bigEndian: $0.loadUnaligned(as: Int64.self)) }
            // Exact, except a time past Int64.max after the shift: it becomes infinity.
            #expect(roundTrip == (raw > Int64.max - PostgresTime.epochOffsetMicroseconds ? .max : raw), "\(raw)")
        }
    }

    /// Feeds `rows` (raw COPY time: µs since 2000-01-01, value) of series "k" to an
    /// accumulator and returns its chunk.
    static func accumulate(
        _ rows: [(raw: Int64, value: Double)], frequency: Frequency = .minutes(1), maxHistory: Int = 100,
        aggregation: Aggregation = .mean, newestAllowed: Int64 = GridTime.latest
    ) throws -> SeriesChunk {
        var accumulator = GridAccumulator(
            frequency: frequency, lowerBucket: nil, covariates: 0, aggregation: aggregation, maxHistory: maxHistory,
            newestAllowed: newestAllowed)
        for (raw, value) in rows {
            var bytes: [UInt8] = []
            bytes.appendBigEndian(Int32(1))
            bytes.append(UInt8(ascii: "k"))
            bytes.appendBigEndian(Int32(8))
            bytes.appendBigEndian(raw)
            bytes.appendBigEndian(Int32(8))
            bytes.appendBigEndian(value.bitPattern)
            try bytes.withUnsafeBytes { buffer in
                var reader = ByteReader(buffer)
                accumulator.add(try CopyOutRow(reader: &reader, fieldCount: 3))
            }
        }
        return try #require(accumulator.finish().first)
    }

    /// 2024-01-01 00:00 UTC as COPY sends it (µs since 2000-01-01).
    static let raw2024: Int64 = 1_704_067_200_000_000 - PostgresTime.epochOffsetMicroseconds

    @Test func everyStorableTimeIsBucketedOrCounted() throws {
        let minute: Int64 = 60_000_000
        for frequency in [Frequency(microseconds: 1), .minutes(1), .days(1)] {
            let chunk = try Self.accumulate(
                [
                    (.min, 1), (.max, 1),  // -infinity, infinity
                    (-211_813_488_000_000_000, 1),  // 4713 BC
                    (9_223_371_331_199_999_999, 1),  // 294276 AD: overflows when shifted to 1970
                    (-PostgresTime.epochOffsetMicroseconds - 1, 1),  // 1969-12-31 23:59:59.999999
                    (Self.raw2024 + 10 * minute, 1),  // beyond the future bound
                    (Self.raw2024, 7), (Self.raw2024, .nan), (Self.raw2024, -.infinity), (Self.raw2024, 1e300),
                ], frequency: frequency, newestAllowed: 1_704_067_200_000_000 + minute)
            #expect(chunk.quality.droppedNonFiniteTime == 2)
            #expect(chunk.quality.droppedBeforeEpoch == 2)
            #expect(chunk.quality.droppedFutureTime == 2)
            #expect(chunk.quality.droppedNaN == 1 && chunk.quality.droppedInfinite == 1)
            #expect(chunk.quality.droppedValueOverflow == 1)
            #expect(chunk.quality.rowsRead == 10 && chunk.quality.rowsDropped == 9)
            #expect(chunk.target == [7])
            #expect(chunk.startBucket == frequency.bucket(of: 1_704_067_200_000_000))
        }
    }

    /// A valid reading far ahead of the others (1970, then 2024, at one microsecond per
    /// step) frees the old history instead of allocating the buckets between.
    @Test func aJumpFarAheadKeepsOnlyTheWindow() throws {
        let epoch = -PostgresTime.epochOffsetMicroseconds
        let chunk = try Self.accumulate(
            [(epoch, 1), (epoch + 1, 2), (Self.raw2024, 3), (Self.raw2024 - 5, 4), (epoch + 2, 5)],
            frequency: Frequency(microseconds: 1), maxHistory: 10)
        // The window: the 10 steps up to 2024's reading.
        #expect(chunk.startBucket == Self.raw2024 + PostgresTime.epochOffsetMicroseconds - 9)
        #expect(chunk.target.count == 10 && chunk.target[4] == 4 && chunk.target[9] == 3)
        #expect(chunk.quality.droppedOutsideWindow == 3)
        #expect(chunk.quality.rowsDropped == 3)
    }

    /// Readings near the largest Float32: a mean stays finite, a sum that overflows is
    /// dropped and counted.
    @Test func aggregatesNeverBecomeInfinite() throws {
        let big = Double(Float.greatestFiniteMagnitude)
        let rows: [(raw: Int64, value: Double)] = [(Self.raw2024, big), (Self.raw2024, big), (Self.raw2024, -big)]
        let mean = try Self.accumulate(rows)
        #expect(mean.target.count == 1 && mean.target[0].isFinite)
        #expect(mean.quality.rowsDropped == 0)
        let sum = try Self.accumulate(rows + [(Self.raw2024 + 60_000_000, 1)], aggregation: .sum)
        #expect(sum.target.count == 2 && sum.target[0].isNaN && sum.target[1] == 1)
        #expect(sum.quality.droppedValueOverflow == 3 && sum.quality.bucketsObserved == 1)
    }

    @Test func mergeAndIndexingSaturate() {
        func chunk(_ values: [Float], coversFrom: Int64, start: Int64) -> SeriesChunk {
            SeriesChunk(
                key: "k", coversFrom: coversFrom, startBucket: start, target: values, covariates: [[Float]](),
                watermark: 0, quality: QualityReport())
        }
        // One microsecond per step: every time is a bucket, the widest range of indices.
        var series = RegularSeries(
            key: "k", frequency: Frequency(microseconds: 1), chunk: chunk([1, 2], coversFrom: 0, start: 10))
        // A chunk that covers everything replaces the grid.
        series.merge(chunk([3], coversFrom: .min, start: 12), maxHistory: 100)
        #expect(series.startBucket == 12 && series.target == [3])
        // A chunk 10^15 buckets later: the gap is not allocated, only `maxHistory` buckets kept.
        series.merge(chunk([4, 5], coversFrom: 1_000_000_000_000_000, start: 1_000_000_000_000_000), maxHistory: 5)
        #expect(series.startBucket == 1_000_000_000_000_000 - 3)
        #expect(series.target.count == 5 && series.target[0].isNaN && Array(series.target[3...]) == [4, 5])
        #expect(series.value(at: .min) == nil && series.value(at: .max) == nil)
        let filled = series.filled(maxGap: 0)
        #expect(filled.index(of: .min) == .min && filled.index(of: .max) > 0)
        #expect(filled.prefix(before: .min).target.isEmpty)
        #expect(filled.prefix(before: .max).target.count == 5)
        #expect(filled.time(at: .max) == .max)
    }
}
