import Foundation
import Ingest
import PostgresClient
import Testing

/// `forecastd backtest` on series with a known answer.
@Suite(.database, .serialized)
struct BacktestTests {
    /// Creates `table (ts, value)` from `expression` of the hour index `g` (0..<2000), registers a
    /// model on it, backtests the last 300 hours and returns the JSON summary.
    static func backtest(_ name: String, expression: String) async throws -> [String: Any] {
        let harness = try await DaemonHarness.make("forecastd_backtest_\(name)")
        defer { Task { try? await harness.drop() } }
        try await harness.sql { session in
            try session.execute("SELECT setseed(0.42)")
            try session.execute(
                """
                CREATE TABLE \(name) AS
                SELECT '2024-01-01 00:00+00'::timestamptz + g * interval '1 hour' AS ts, \(expression) AS value
                FROM generate_series(0, 1999) AS g ORDER BY g
                """)
            try session.execute(
                """
                SELECT forecast.create_model($1, $1, 'ts', 'value', NULL, '1 hour', 12, 48,
                                             '{"hidden": 8, "max_epochs": 4}')
                """, [name])
        }
        let outcome = try ForecastdProcess.run([
            "backtest", name, "--database", harness.conninfo, "--valid-from", "2024-02-28 08:00+00",
            "--test-from", "2024-03-11 20:00+00", "--test-until", "2024-03-24 07:00+00", "--json",
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any] ?? [:]
        let stored = try await harness.integer(
            "SELECT count(*) FROM forecast.backtest_origins WHERE backtest = (SELECT max(id) FROM forecast.backtests)")
        #expect(stored == summary["origins"] as? Int)
        return summary
    }

    @Test func pureSineIsForecastAlmostExactly() async throws {
        let summary = try await Self.backtest("sine", expression: "10 + 3 * sin(2 * pi() * g / 24.0)")
        let mse = try #require(summary["mse_std"] as? Double)
        let naive = try #require(summary["naive_mse_std"] as? Double)
        #expect((summary["origins"] as? Int ?? 0) > 250)
        #expect(mse < 0.01 * naive, "model \(mse) vs naive \(naive)")
        #expect((summary["seasonal_naive_mse_std"] as? Double ?? 1) < 1e-6)  // a pure period-24 sine
    }

    @Test func randomWalkIsCloseToNaive() async throws {
        let summary = try await Self.backtest(
            "walk", expression: "sum(random() - 0.5) OVER (ORDER BY g)")
        let mse = try #require(summary["mse_std"] as? Double)
        let naive = try #require(summary["naive_mse_std"] as? Double)
        #expect(mse < 1.3 * naive && mse > 0.8 * naive, "model \(mse) vs naive \(naive)")
    }
}
