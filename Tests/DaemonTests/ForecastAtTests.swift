import Foundation
import PostgresClient
import Testing

@testable import DaemonCore

/// `forecast.forecast_at(model, series, target_time, as_of)`: the forecast for a time that
/// was live at `as_of`, across two issued sets.
@Suite(.database) struct ForecastAtTests {
    typealias Store = ForecastStoreTests

    /// (step, version, issued_at µs, value, lower) of `forecast_at`, nil when it returns no row.
    static func at(_ target: Int64, asOf: Int64?, series: String = "a", _ session: PostgresSession) throws
        -> (step: Int, version: Int, issuedAt: Int64, value: Double, lower: Double?)?
    {
        let rows = try session.query(
            asOf == nil
                ? "SELECT step, version, issued_at, value, lower FROM forecast.forecast_at('m', $1, $2)"
                : "SELECT step, version, issued_at, value, lower FROM forecast.forecast_at('m', $1, $2, as_of => $3)",
            [series, PostgresTimestamp(microsecondsSince1970: target)]
                + (asOf.map { [PostgresTimestamp(microsecondsSince1970: $0)] } ?? []))
        guard let row = rows.first else { return nil }
        #expect(rows.count == 1)
        return (
            try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1),
            try row.decode(PostgresTimestamp.self, at: 2).microsecondsSince1970, try row.decode(Double.self, at: 3),
            try row.decode(Double?.self, at: 4)
        )
    }

    @Test func returnsTheForecastLiveAtAsOf() async throws {
        try await Store.withModel("forecast_at") { session, lease in
            let (t0, hour) = (Store.t0, Store.hour)
            // Two sets of three hourly steps: issued at t0 (version 1) and at t0 + 1 h (version 2).
            let first = Store.set("a", issuedAt: t0, base: 1)
            let second = Store.set("a", issuedAt: t0 + hour, base: 5)
            try ForecastStore.writeForecasts(
                first, version: 1, states: [], lease: lease, owner: Store.owner, in: session)
            try ForecastStore.writeForecasts(
                second, version: 2, states: [], lease: lease, owner: Store.owner, in: session)
            let target = t0 + 2 * hour

            // Before the second set was issued, the first one's step 2 was live.
            let early = try #require(try Self.at(target, asOf: t0 + hour / 2, session))
            #expect(early.step == 2 && early.version == 1 && early.issuedAt == t0)
            #expect(early.value == first[1].value && early.lower == first[1].lower)
            // From the second set's issue time on, its step 1.
            for asOf in [t0 + hour, t0 + 10 * hour] {
                let late = try #require(try Self.at(target, asOf: asOf, session))
                #expect(late.step == 1 && late.version == 2 && late.issuedAt == t0 + hour)
                #expect(late.value == second[0].value)
            }
            // as_of defaults to now(): the newest set.
            #expect(try Self.at(target, asOf: nil, session)?.issuedAt == t0 + hour)
            // Nothing issued yet, a target no set reaches, a set issued at the target itself,
            // an unknown series: no row.
            #expect(try Self.at(target, asOf: t0 - hour, session) == nil)
            #expect(try Self.at(t0 + 4 * hour, asOf: t0 + hour / 2, session) == nil)
            let firstStep = try #require(try Self.at(t0 + hour, asOf: t0 + 10 * hour, session))
            #expect(firstStep.issuedAt == t0 && firstStep.step == 1)
            #expect(try Self.at(target, asOf: nil, series: "none", session) == nil)
            #expect(try Self.at(t0 + 4 * hour, asOf: nil, session)?.step == 3)
        }
    }
}
