import Foundation
import PostgresClient
import Testing

@testable import Ingest

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
}
