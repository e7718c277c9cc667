import Forecast
import Testing

@testable import Daemon

/// The least-squares start, interval calibration and volatility scaling.
struct LinearStartTests {
    /// Windows of `lookback` steps whose target is a known linear map of the inputs.
    static func linearWindows(count: Int = 200, lookback: Int = 8, horizon: Int = 2) throws -> WindowSet {
        var inputs: [Float] = []
        var targets: [Float] = []
        var state: UInt64 = 7
        for _ in 0..<count {
            var window: [Float] = []
            for _ in 0..<lookback {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                window.append(Float(state >> 40) / Float(1 << 24) - 0.5)
            }
            inputs += window
            targets += [window[lookback - 1] * 0.5 + window[0] * 0.25, window[lookback - 2] - window[1]]
        }
        return try WindowSet(inputs: inputs, targets: targets, lookback: lookback, features: 1, horizon: horizon)
    }

    @Test func leastSquaresRecoversAnExactLinearMap() throws {
        let windows = try Self.linearWindows()
        let solution = try #require(LinearStart.solve(windows))
        // W is [lookback, horizon]: target 0 = 0.5 x[7] + 0.25 x[0]; target 1 = x[6] - x[1].
        #expect(abs(solution[7 * 2 + 0] - 0.5) < 1e-2 && abs(solution[0 * 2 + 0] - 0.25) < 1e-2)
        #expect(abs(solution[6 * 2 + 1] - 1) < 1e-2 && abs(solution[1 * 2 + 1] + 1) < 1e-2)
        var model = try StackedLSTM(
            configuration: ModelConfiguration(hidden: 4, layers: 1, lookback: 8, horizon: 2, linearSkip: true), seed: 1)
        LinearStart.apply(solution, to: &model)
        let predictions = model.predict(windows.inputs, count: windows.count)
        let worst = zip(predictions, windows.targets).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 0.02)  // the untrained model is the linear forecaster (head zeroed)
    }

    @Test func volatilityFactorFollowsRecentChanges() throws {
        let calm = [Float](repeating: 0, count: 6) + [0.1, 0, 0.1, 0, 0.1, 0]
        let wild = [Float](repeating: 0, count: 6) + [1, 0, 1, 0, 1, 0]
        let inputs = Array([[Float]](repeating: calm, count: 3).joined()) + wild
        let windows = try WindowSet(
            inputs: inputs, targets: [Float](repeating: 0, count: 4), lookback: 12, features: 1, horizon: 1)
        let volatility = try #require(Volatility(windows))
        #expect(abs(volatility.factor(windows, window: 0) - 1) < 1e-6)  // the median window
        #expect(abs(volatility.factor(windows, window: 3) - 2) < 1e-6)  // sqrt(10), capped at 2
    }
}
