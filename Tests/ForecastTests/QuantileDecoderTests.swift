import Testing

@testable import Forecast

struct QuantileDecoderTests {
    @Test func pointWeightsAreTheExpectedValueFromP10P50P90() {
        #expect(QuantileDecoder.defaultPointWeights([0.1, 0.5, 0.9]) == [0.3, 0.4, 0.3])
        // The median when P10/P90 are not there.
        #expect(QuantileDecoder.defaultPointWeights([0.05, 0.5, 0.95]) == [0, 1, 0])
        #expect(QuantileDecoder.defaultPointWeights([0.5]) == [1])
        #expect(QuantileDecoder.defaultPointWeights([]) == [1])
        #expect(QuantileDecoder.centreIndex([0.05, 0.25, 0.5, 0.75, 0.95]) == 2)
    }

    /// Quantiles widen around the centre with the interval scale and the window's factor; the
    /// point value is the weighted unscaled outputs, then inverted; relative windows add the anchor.
    @Test func decodesAroundTheCentreAndInverts() {
        let decoder = QuantileDecoder(levels: [0.1, 0.5, 0.9], intervalScale: 2)
        let outputs: [Float] = [9, 9, -1, 0, 2, 9]
        let (value, quantiles) = decoder.decode(outputs, offset: 2, anchor: 1, factor: 1.5) { $0 * 10 + 100 }
        // Centre 0; distances scaled by 3: -3, 0, 6; plus anchor 1; times 10 plus 100.
        #expect(quantiles == [80, 110, 170])
        // 0.3 * -1 + 0.4 * 0 + 0.3 * 2 = 0.3; plus anchor 1.3 -> 113.
        #expect(abs(value - 113) < 1e-4)
    }

    /// Narrowed intervals never leave the point value outside them.
    @Test func pointValueIsClampedIntoANarrowedInterval() {
        let decoder = QuantileDecoder(levels: [0.1, 0.5, 0.9], intervalScale: 0.01)
        let (value, quantiles) = decoder.decode([0, 0, 10], anchor: 0) { $0 }
        #expect(quantiles.first! <= value && value <= quantiles.last!)
        #expect(abs(value - quantiles.last!) < 1e-9)
    }

    @Test func singleOutputIsThePoint() {
        let decoder = QuantileDecoder(levels: [])
        let (value, quantiles) = decoder.decode([4], anchor: 1) { $0 * 2 }
        #expect(value == 10 && quantiles == [10])
    }

    @Test func linearQuantileInterpolates() {
        #expect(Quantile.linear([1.0, 2, 3, 4], at: 0.5) == 2.5)
        #expect(Quantile.linear([1.0, 2, 3, 4], at: 0) == 1)
        #expect(Quantile.linear([1.0, 2, 3, 4], at: 1) == 4)
        #expect(Quantile.linear([Float(7)], at: 0.3) == 7)
    }
}
