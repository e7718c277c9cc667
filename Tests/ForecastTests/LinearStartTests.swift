import Testing

@testable import Forecast

/// The least-squares start, interval calibration and volatility scaling.
struct LinearStartTests {
    /// Windows of `lookback` steps whose target is a known linear map of the inputs (with an
    /// intercept of 0.3 for the first target).
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
            targets += [0.3 + window[lookback - 1] * 0.5 + window[0] * 0.25, window[lookback - 2] - window[1]]
        }
        return try WindowSet(inputs: inputs, targets: targets, lookback: lookback, features: 1, horizon: horizon)
    }

    @Test func leastSquaresRecoversAnExactLinearMap() throws {
        let windows = try Self.linearWindows()
        let solution = try #require(LinearStart.solve(windows))
        // W is [lookback, horizon]: target 0 = 0.3 + 0.5 x[7] + 0.25 x[0]; target 1 = x[6] - x[1].
        let w = solution.weights
        #expect(abs(w[7 * 2 + 0] - 0.5) < 1e-2 && abs(w[0 * 2 + 0] - 0.25) < 1e-2)
        #expect(abs(w[6 * 2 + 1] - 1) < 1e-2 && abs(w[1 * 2 + 1] + 1) < 1e-2)
        #expect(abs(solution.intercept[0] - 0.3) < 1e-2 && abs(solution.intercept[1]) < 1e-2)
        var model = try StackedLSTM(
            configuration: ModelConfiguration(hidden: 4, layers: 1, lookback: 8, horizon: 2, linearSkip: true), seed: 1)
        LinearStart.apply(solution, to: &model)
        let predictions = model.predict(windows.inputs, count: windows.count)
        let worst = zip(predictions, windows.targets).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 0.02)  // the untrained model is the linear forecaster (head zeroed)
    }

    /// Validation picks the ridge strength: none to speak of for an exact map, the strongest
    /// when targets are noise unrelated to the inputs (any fitted weight only adds error).
    @Test func validationChoosesTheRidgeStrength() throws {
        let exact = try Self.linearWindows(count: 300)
        let train = try WindowSet(
            inputs: Array(exact.inputs[..<(200 * 8)]), targets: Array(exact.targets[..<(200 * 2)]), lookback: 8,
            features: 1, horizon: 2)
        let validation = try WindowSet(
            inputs: Array(exact.inputs[(200 * 8)...]), targets: Array(exact.targets[(200 * 2)...]), lookback: 8,
            features: 1, horizon: 2)
        let fitted = try #require(LinearStart.solve(train, validation: validation))
        #expect(fitted.meanSquaredError(on: validation) < 1e-5)

        var state: UInt64 = 99
        let noise: (Int) -> [Float] = { count in
            (0..<count).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(state >> 40) / Float(1 << 24) - 0.5
            }
        }
        let noisyTrain = try WindowSet(
            inputs: train.inputs, targets: noise(200 * 2), lookback: 8, features: 1, horizon: 2)
        let noisyValidation = try WindowSet(
            inputs: validation.inputs, targets: noise(100 * 2), lookback: 8, features: 1, horizon: 2)
        let shrunk = try #require(LinearStart.solve(noisyTrain, validation: noisyValidation))
        let unshrunk = try #require(LinearStart.solve(noisyTrain))
        let size: (LinearMap) -> Double = { $0.weights.reduce(0) { $0 + $1 * $1 } }
        #expect(size(shrunk) < 0.5 * size(unshrunk))
        #expect(
            shrunk.meanSquaredError(on: noisyValidation) < unshrunk.meanSquaredError(on: noisyValidation))
    }

    /// The start gets intervals from the map's residual quantiles, centred so that its point
    /// forecast (0.3 P10 + 0.4 P50 + 0.3 P90) is still the map's.
    @Test func startHasResidualQuantilesAroundTheMap() throws {
        let exact = try Self.linearWindows(count: 2000)
        // Residuals spread evenly over [-0.5, 0.5): P10 -0.4, P50 0, P90 0.4.
        let targets = exact.targets.enumerated().map { index, value in
            value + Float((index * 7919) % 1000) / 1000 - 0.5
        }
        let windows = try WindowSet(inputs: exact.inputs, targets: targets, lookback: 8, features: 1, horizon: 2)
        let map = try #require(LinearStart.solve(windows))
        let offsets = LinearStart.residualOffsets(
            map, on: windows, quantiles: [0.1, 0.5, 0.9], pointWeights: [0.3, 0.4, 0.3])
        for step in 0..<2 {
            #expect(abs(offsets[step * 3] + 0.4) < 0.03 && abs(offsets[step * 3 + 1]) < 0.03)
            #expect(abs(offsets[step * 3 + 2] - 0.4) < 0.03)
            let centre = 0.3 * offsets[step * 3] + 0.4 * offsets[step * 3 + 1] + 0.3 * offsets[step * 3 + 2]
            #expect(abs(centre) < 1e-9)
        }
        var model = try StackedLSTM(
            configuration: ModelConfiguration(
                hidden: 4, layers: 1, lookback: 8, horizon: 2, quantiles: [0.1, 0.5, 0.9], linearSkip: true),
            seed: 1)
        LinearStart.apply(map, offsets: offsets, to: &model)
        let predictions = model.predict(Array(windows.inputs[..<8]), count: 1)
        var forecast = [0.0, 0.0]
        map.forecast(windows, window: 0, into: &forecast)
        for step in 0..<2 {
            let (low, median, high) = (predictions[step * 3], predictions[step * 3 + 1], predictions[step * 3 + 2])
            #expect(low < median && median < high && high - low > 0.7)
            #expect(abs(Double(0.3 * low + 0.4 * median + 0.3 * high) - forecast[step]) < 1e-4)
        }
    }

    /// A model without quantiles (one output per step, `quantiles: []`) gets the map alone.
    @Test func startWithoutQuantiles() throws {
        let windows = try Self.linearWindows()
        let map = try #require(LinearStart.solve(windows))
        let offsets = LinearStart.residualOffsets(map, on: windows, quantiles: [], pointWeights: [1])
        #expect(offsets == [0, 0])
        var model = try StackedLSTM(
            configuration: ModelConfiguration(hidden: 4, layers: 1, lookback: 8, horizon: 2, linearSkip: true), seed: 1)
        LinearStart.apply(map, offsets: offsets, to: &model)
        let predictions = model.predict(windows.inputs, count: windows.count)
        #expect(zip(predictions, windows.targets).allSatisfy { abs($0 - $1) < 0.02 })
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
