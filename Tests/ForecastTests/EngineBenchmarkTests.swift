import Foundation
import Testing

@testable import Forecast

@Suite struct EngineBenchmarkTests {
    @Test func flopCountMatchesTheAnchorScript() {
        // S config: sum_l T * 2 B 4H (I_l + H) + 2 B H horizon, per the script's docstring.
        let forward = EngineBenchmark.forwardFlops(
            batch: 64, inputSize: 1, hidden: 32, layers: 2, lookback: 96, horizon: 24)
        let layer0: Double = 96 * 2 * 64 * 128 * 33
        let layer1: Double = 96 * 2 * 64 * 128 * 64
        let head: Double = 2 * 64 * 32 * 24
        #expect(forward == layer0 + layer1 + head)
        // The script reports 7,156,224 FLOPs per training window for S.
        #expect(3 * forward / 64 == 7_156_224)
    }

    @Test(arguments: EngineBenchmark.Mode.allCases)
    func printsOneJSONLineWithTheAnchorFields(mode: EngineBenchmark.Mode) throws {
        let benchmark = EngineBenchmark(
            inputSize: 2, hidden: 16, layers: 2, lookback: 8, horizon: 3, batch: 4, threads: 2, mode: mode, steps: 2,
            repeats: 3)
        let result = try benchmark.run()
        #expect(result.perRepeat.count == 3)
        #expect(result.perRepeat.allSatisfy { $0 > 0 && $0.isFinite })
        let line = result.jsonLine(name: "test")
        #expect(!line.contains("\n"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let keys =
            mode == .latency
            ? ["latency_ms_min", "latency_ms_median", "latency_ms_max"]
            : ["windows_per_s_min", "windows_per_s_median", "windows_per_s_max"]
        for key in keys + ["achieved_gflops", "flops_per_window", "per_repeat"] {
            #expect(json[key] != nil, "missing \(key)")
        }
        #expect(json["mode"] as? String == mode.rawValue)
    }
}
