import Testing

@testable import DaemonCore
@testable import Ingest

/// Which actuals a scoring pass records: matured targets only, gaps counted as recorded.
struct ActualsDueTests {
    static let set = TinyModel.series(0..<60, covariates: [])
    static var s0: RegularSeries { get throws { try #require(set.series["s0"]) } }
    static func time(_ step: Int) -> Int64 { TinyModel.time(ofStep: step) }
    static func value(_ step: Int) -> Double { Double(TinyModel.value(series: 0, step: step)) }

    @Test func recordsTheTargetsAfterTheLastRecordedUpToTheNewestSetsLast() throws {
        let due = ActualsDue(series: "s0", recordedThrough: Self.time(50), lastTarget: Self.time(53), steps: 3)
        let (rows, through) = try #require(due.actuals(in: try Self.s0))
        #expect(rows.map(\.targetTime) == [51, 52, 53].map(Self.time))
        #expect(rows.map(\.actual) == [51, 52, 53].map(Self.value))
        // Hourly: a season is a day; three steps need one seasonal-naive value.
        #expect(rows.allSatisfy { $0.season == 24 && $0.series == "s0" })
        #expect(rows.map(\.seasonalNaive) == [27, 28, 29].map { [Self.value($0)] })
        #expect(through == Self.time(53))
    }

    @Test func recordsOnlyWhatMatured() throws {
        let series = try Self.s0
        let due = ActualsDue(series: "s0", recordedThrough: Self.time(57), lastTarget: Self.time(62), steps: 6)
        let (rows, through) = try #require(due.actuals(in: series))
        #expect(rows.map(\.targetTime) == [58, 59].map(Self.time))
        #expect(through == series.watermark)
        let done = ActualsDue(series: "s0", recordedThrough: series.watermark, lastTarget: Self.time(62), steps: 6)
        #expect(done.actuals(in: series) == nil)
    }

    @Test func longHorizonsGetOneNaiveValuePerSeason() throws {
        let due = ActualsDue(series: "s0", recordedThrough: Self.time(40), lastTarget: Self.time(50), steps: 30)
        let (rows, _) = try #require(due.actuals(in: try Self.s0))
        // Steps 1...24 take the value a day before, 25...30 two days before (none before step 0).
        #expect(rows.first?.seasonalNaive == [Self.value(17), nil])
        #expect(rows.last?.seasonalNaive == [Self.value(26), Self.value(2)])
    }

    @Test func targetsWithoutAReadingGetNoRowButCountAsRecorded() throws {
        var values = (0..<10).map { TinyModel.value(series: 0, step: $0) }
        values[8] = .nan
        let chunk = SeriesChunk(
            key: "g", coversFrom: TinyModel.firstBucket, startBucket: TinyModel.firstBucket, target: values,
            covariates: [], watermark: Self.time(9), quality: QualityReport())
        let series = RegularSeries(key: "g", frequency: TinyModel.frequency, chunk: chunk)
        let due = ActualsDue(series: "g", recordedThrough: Self.time(6), lastTarget: Self.time(12), steps: 3)
        let (rows, through) = try #require(due.actuals(in: series))
        #expect(rows.map(\.targetTime) == [7, 9].map(Self.time))
        #expect(through == Self.time(9))
        // Before the buckets held: nothing to record, nothing to trap on.
        let old = ActualsDue(series: "g", recordedThrough: 0, lastTarget: Self.time(2), steps: 3)
        #expect(old.actuals(in: series)?.rows.map(\.targetTime) == [0, 1, 2].map(Self.time))
    }
}
