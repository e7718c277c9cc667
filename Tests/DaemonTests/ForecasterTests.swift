import Forecast
import Testing

@testable import DaemonCore
@testable import Ingest

/// Forecasts from the tiny trained model, without a database.
struct ForecasterTests {
    @Test func everySeriesGetsHorizonStepsOnTheModelsGrid() throws {
        let trained = try TinyModel.trained()
        let rows = try Forecaster.forecast(trained, series: TinyModel.series(0..<300)).rows
        let horizon = trained.window.horizon
        #expect(rows.count == TinyModel.keys.count * horizon)
        let issuedAt = TinyModel.time(ofStep: 299)
        for key in TinyModel.keys {
            let series = rows.filter { $0.series == key }
            #expect(series.map(\.step) == Array(1...horizon))
            for row in series {
                #expect(row.issuedAt == issuedAt)
                #expect(row.targetTime == issuedAt + Int64(row.step) * TinyModel.frequency.microseconds)
                #expect(row.quantiles.count == 3 && row.quantiles.allSatisfy(\.isFinite))
                let lower = try #require(row.lower)
                let upper = try #require(row.upper)
                #expect(row.value.isFinite && lower.isFinite && upper.isFinite)
                #expect(lower <= row.value && row.value <= upper, "\(row)")
            }
        }
    }

    @Test func seriesAlreadyForecastAtTheirIssueTimeAreSkipped() throws {
        let trained = try TinyModel.trained()
        let series = TinyModel.series(0..<300)
        let issuedAt = TinyModel.time(ofStep: 299)
        let all = try Forecaster.forecast(trained, series: series).rows
        let rest = try Forecaster.forecast(trained, series: series, after: ["s0": issuedAt]).rows
        #expect(Set(rest.map(\.series)) == ["s1"])
        #expect(rest == all.filter { $0.series == "s1" })
        // An older forecast does not count; one for every series leaves nothing to do.
        #expect(try Forecaster.forecast(trained, series: series, after: ["s0": issuedAt - 1]).rows == all)
        #expect(try Forecaster.forecast(trained, series: series, after: ["s0": issuedAt, "s1": issuedAt]).rows.isEmpty)
    }

    @Test func aCovariateTheSetWasNotReadWithIsMissingColumns() throws {
        let trained = try TinyModel.trained()
        #expect(throws: PipelineError.missingColumns(["c"])) {
            try Forecaster.forecast(trained, series: TinyModel.series(0..<300, covariates: [])).rows
        }
        #expect(throws: PipelineError.missingColumns(["c"])) {
            try Forecaster.forecast(trained, series: TinyModel.series(0..<300, covariates: ["other"])).rows
        }
    }

    /// A network that outputs NaN never gets its rows written: each series gets a reason.
    @Test func nonFiniteOutputsBecomeReasonsNotRows() throws {
        var trained = try TinyModel.trained()
        for index in trained.model.parameters.indices { trained.model.parameters[index] = .nan }
        let result = try Forecaster.forecast(trained, series: TinyModel.series(0..<300))
        #expect(result.rows.isEmpty)
        #expect(result.reasons.count == 2 && result.reasons.values.allSatisfy { $0.contains("non-finite") })
    }
}
