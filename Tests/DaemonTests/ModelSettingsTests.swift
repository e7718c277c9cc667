import Ingest
import Testing

@testable import Daemon

struct ModelSettingsTests {
    static func settings(options: [String: Any] = [:]) throws -> ModelSettings {
        try ModelSettings(
            name: "m",
            source: SourceDescription(relation: "r", timeColumn: "t", valueColumn: "v", frequency: .hours(1)),
            horizon: 24, lookback: 96, options: options, retrainEverySeconds: nil)
    }

    @Test func defaultsAreTheSameForEverySource() throws {
        let settings = try Self.settings()
        #expect(settings.layers == 2 && settings.hidden == 64 && settings.quantiles == [0.1, 0.5, 0.9])
        #expect(settings.updateEvery == 24 && settings.maxEpochs == 50 && settings.maxHistory == 20_000)
        #expect(settings.configuration.linearSkip && settings.windowOptions.relativeToLast)
    }

    @Test func pointForecastIsTheExpectedValueFromP10P50P90() throws {
        let settings = try Self.settings()
        #expect(settings.pointWeights == [0.3, 0.4, 0.3])
        let other = try Self.settings(options: ["quantiles": [0.05, 0.5, 0.95]])
        #expect(other.pointWeights == [0, 1, 0])  // the median when P10/P90 are not there
        let single = try Self.settings(options: ["quantiles": [0.5]])
        #expect(single.pointWeights == [1])
    }
}
