import Testing

@testable import DaemonCore

/// The compact in-flight forecasts behind the live error: every matured step scored once,
/// sets dropped once all their targets came, nothing scored before its target arrived.
struct PendingForecastsTests {
    static let hour: Int64 = 3_600_000_000

    static func set(_ series: String, issuedAt: Int64, values: [Double]) -> [ForecastRow] {
        values.enumerated().map { index, value in
            ForecastRow(
                series: series, issuedAt: issuedAt, targetTime: issuedAt + Int64(index + 1) * hour, step: index + 1,
                value: value, lower: nil, upper: nil, quantiles: [value - 1, value, value + 1])
        }
    }

    @Test func everyMaturedStepIsScoredOnceAndWholeSetsAreDropped() {
        var pending = PendingForecasts()
        pending.add(Self.set("a", issuedAt: 0, values: [1, 2, 3]) + Self.set("b", issuedAt: 0, values: [10, 20, 30]))
        pending.add(Self.set("a", issuedAt: Self.hour, values: [4, 5, 6]))
        #expect(pending.count == 3)

        var scored: [String] = []
        // Two hours of "a" arrived, nothing of "b" (its watermark is before its first target).
        pending.scoreMatured(watermarks: ["a": 2 * Self.hour, "b": 0]) { series, target, forecast in
            scored.append("\(series)@\(target / Self.hour)=\(forecast)")
        }
        #expect(scored == ["a@1=1.0", "a@2=2.0", "a@2=4.0"])
        #expect(pending.count == 3)

        scored = []
        pending.scoreMatured(watermarks: ["a": 3 * Self.hour, "b": 3 * Self.hour]) { series, target, forecast in
            scored.append("\(series)@\(target / Self.hour)=\(forecast)")
        }
        #expect(scored.sorted() == ["a@3=3.0", "a@3=5.0", "b@1=10.0", "b@2=20.0", "b@3=30.0"])
        // a's first set and b's set are complete; a's second still waits for hour 4.
        #expect(pending.count == 1)
        #expect(pending.sets["a"]?.first?.issuedAt == Self.hour && pending.sets["a"]?.first?.scored == 2)

        scored = []
        pending.scoreMatured(watermarks: [:]) { series, _, _ in scored.append(series) }
        #expect(scored.isEmpty && pending.count == 1, "series without a watermark keep their sets")
    }

    @Test func aMissingStepIsSkippedNotScoredAsZero() {
        var pending = PendingForecasts()
        pending.add(Self.set("a", issuedAt: 0, values: [1, 2, 3]).filter { $0.step != 2 })
        var targets: [Int64] = []
        pending.scoreMatured(watermarks: ["a": 3 * Self.hour]) { _, target, _ in targets.append(target / Self.hour) }
        #expect(targets == [1, 3])
        #expect(pending.count == 0)
    }
}
