import Foundation
import Testing

@testable import DaemonCore

/// The pure parts of `forecastd bench daemon`: percentiles, `/proc` parsing, the JSON line,
/// the option overrides. The scenarios themselves need a server and the built binary.
struct DaemonBenchTests {
    @Test func nearestRankPercentiles() throws {
        let five = try #require(LatencySummary([0.5, 0.1, 0.4, 0.2, 0.3]))
        #expect(five.p50 == 0.3)
        #expect(five.p95 == 0.5)
        #expect(five.max == 0.5)
        let one = try #require(LatencySummary([2]))
        #expect(one.p50 == 2 && one.p95 == 2 && one.max == 2)
        #expect(LatencySummary([]) == nil)
        let hundred = try #require(LatencySummary((1...100).map(Double.init)))
        #expect(hundred.p50 == 50)
        #expect(hundred.p95 == 95)
        #expect(LatencySummary.median([3, 1, 2, 4]) == 2)
    }

    @Test func procStatusAndStat() {
        let status = "Name:\tforecastd\nVmPeak:\t  900000 kB\nVmHWM:\t   123456 kB\nVmRSS:\t    65432 kB\n"
        let parsed = ProcessStats.parseStatus(status)
        #expect(parsed.peakResidentKiB == 123_456)
        #expect(parsed.residentKiB == 65_432)
        // The command name may hold spaces and parentheses; utime 250 and stime 50 follow.
        let stat = "4242 (odd ) name) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 5 0 100 0 0"
        #expect(ProcessStats.parseCPUTicks(stat) == 300)
        #expect(ProcessStats.parseCPUTicks("garbage") == nil)
    }

    @Test func jsonLineLeavesOutWhatDoesNotApply() throws {
        var result = DaemonBenchResult(scenario: "series", series: 100, models: 1)
        result.firstForecastsSeconds = 1.23456
        result.summarizeCycles([0.2, 0.1, 0.3])
        result.peakRSSMegabytes = 88.06
        let line = try JSONLine.encode(result.rounded())
        #expect(line.hasPrefix(#"{"bench":"daemon","#))
        #expect(line.contains(#""first_forecasts_s":1.235"#))
        #expect(line.contains(#""cycle_p50_s":0.2"#))
        #expect(line.contains(#""cycle_p95_s":0.3"#))
        #expect(line.contains(#""peak_rss_mb":88.1"#))
        #expect(!line.contains("takeover_s"))
        #expect(!line.contains("null"))
        let decoded = try JSONLine.decode(DaemonBenchResult.self, from: line)
        #expect(decoded.scenario == "series" && decoded.cycleMaxSeconds == 0.3)
    }

    @Test func overridesMakeEveryScenarioSmaller() {
        var options = DaemonBenchmark.Options(logDirectory: URL(fileURLWithPath: "/tmp"))
        options.override(series: [50, 20], models: [5])
        #expect(options.seriesCounts == [50, 20])
        #expect(options.growthSeries == 50)
        #expect(options.modelCounts == [5])
        #expect(options.instanceModels == 5)
        var large = DaemonBenchmark.Options(logDirectory: URL(fileURLWithPath: "/tmp"))
        large.override(series: [20_000], models: [300])
        #expect(large.growthSeries == 1_000)
        #expect(large.instanceModels == 8)
    }

    @Test func growthComparesFirstAndLastCycles() {
        var result = DaemonBenchResult(scenario: "growth", series: 10, models: 1)
        BenchContext.summarizeGrowth((1...30).map { $0 <= 10 ? 1.0 : 2.0 }, into: &result)
        #expect(result.cycleFirst10Seconds == 1)
        #expect(result.cycleLast10Seconds == 2)
        #expect(result.cycleLast10OverFirst10 == 2)
        var short = DaemonBenchResult(scenario: "growth", series: 10, models: 1)
        BenchContext.summarizeGrowth([1, 2, 3, 4], into: &short)
        #expect(short.cycleFirst10Seconds == 1)
        #expect(short.cycleLast10Seconds == 3)
        #expect(short.cycles == 4)
    }

    @Test func leaseOwnerPidAndSensorKeys() {
        #expect(BenchContext.pid(ofOwner: "host:1234:987654") == 1234)
        #expect(BenchContext.pid(ofOwner: "nonsense") == nil)
        #expect(SyntheticSource.sensor(7) == "sensor-00007")
        let source = SyntheticSource(name: "t", series: 3, hours: 10, start: Date(timeIntervalSince1970: 0))
        #expect(source.lastHistoryTime == Date(timeIntervalSince1970: 9 * 3600))
        #expect(source.table == "bench_daemon.t" && source.model == "bench_t")
    }
}
