import Foundation
import Testing

@testable import DaemonCore

/// Axis ticks: round values, calendar-aligned times with labels chosen by the span.
struct ChartTicksTests {
    static let hour: Int64 = 3_600_000_000
    static let day = 24 * hour
    /// 2024-01-01 00:00 UTC.
    static let start: Int64 = 1_704_067_200_000_000

    @Test func valueTicksAreRoundAndCoverTheData() {
        let ticks = ChartTicks.values(0.13, 9.7)
        #expect(ticks.ticks == [0, 2, 4, 6, 8, 10] && ticks.labels == ["0", "2", "4", "6", "8", "10"])
        #expect(ticks.domain == 0...10)
        let small = ChartTicks.values(0.0011, 0.0042)
        #expect(small.labels.first == "0.0010" && small.labels.last == "0.0045", "\(small.labels)")
        let negative = ChartTicks.values(-3.2, 1.1)
        #expect(negative.labels == ["-4", "-3", "-2", "-1", "0", "1", "2"], "\(negative.labels)")
        #expect(ChartTicks.values(5, 5).ticks.contains(5))
        #expect(ChartTicks.values(0, 0).domain.contains(0))
        // Near the ends of Double: no crash, no infinity.
        let huge = ChartTicks.values(-Double.greatestFiniteMagnitude, .greatestFiniteMagnitude)
        #expect(huge.ticks.allSatisfy(\.isFinite) && huge.labels.count == huge.ticks.count)
    }

    @Test func hoursShowTheDateWhereTheDayChanges() {
        let ticks = ChartTicks.times(Self.start + 18 * Self.hour, Self.start + 42 * Self.hour, target: 8)
        #expect(
            ticks.map(\.label) == ["18:00", "21:00", "00:00", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00"])
        #expect(ticks.compactMap(\.date) == ["2024-01-01", "2024-01-02"])
        #expect(ticks[2].date == "2024-01-02")
    }

    @Test func longerSpansUseDatesMonthsAndYears() {
        let days = ChartTicks.times(Self.start, Self.start + 20 * Self.day, target: 8)
        #expect(days.map(\.label) == ["2024-01-01", "2024-01-08", "2024-01-15"])  // Mondays
        let months = ChartTicks.times(Self.start, Self.start + 360 * Self.day, target: 8)
        #expect(months.map(\.label) == ["2024-01", "2024-03", "2024-05", "2024-07", "2024-09", "2024-11"])
        let years = ChartTicks.times(Self.start, Self.start + 3650 * Self.day, target: 8)
        #expect(years.map(\.label) == ["2024", "2026", "2028", "2030", "2032"])
        let seconds = ChartTicks.times(Self.start, Self.start + 60_000_000, target: 8)
        #expect(seconds.first?.label == "00:00:00" && seconds.last?.label == "00:01:00")
    }

    @Test func civilDatesMatchTheCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for days in stride(from: -140_000, to: 2_900_000, by: 9_973) {  // Foundation is Julian before 1582
            let micros = Int64(days) * Self.day + 45_296_000_000  // 12:34:56
            let civil = Civil(microseconds: micros)
            let date = Date(timeIntervalSince1970: Double(micros) / 1e6)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            #expect(
                [civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second]
                    == [parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second].map { $0 ?? -1 })
            #expect(Civil.microseconds(year: civil.year, month: civil.month) <= micros)
        }
        #expect(Civil(microseconds: 0).date == "1970-01-01")
        #expect(ChartTicks.dateTimeLabel(Self.start + 59 * 24 * Self.hour + 90 * 60_000_000) == "2024-02-29 01:30")
    }

    @Test func chartFileNamesAreSafe() {
        #expect(ChartFiles.fileName(prefix: "backtest-7", index: 2, series: "HUFL") == "backtest-7-2-HUFL.svg")
        #expect(ChartFiles.fileName(prefix: "backtest-7", index: 1, series: "") == "backtest-7-1.svg")
        #expect(ChartFiles.fileName(prefix: "b", index: 3, series: "../../etc/passwd") == "b-3-_.._etc_passwd.svg")
        #expect(ChartFiles.fileName(prefix: "b", index: 4, series: "Zürich/東京") == "b-4-Z_rich___.svg")
    }
}
