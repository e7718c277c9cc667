import Foundation
import Ingest
import PostgresClient
import Testing

/// A running daemon whose model changes shape under it: it keeps serving the active version,
/// retrains with the new settings, then serves the new shape; a broken row fails only its model.
@Suite(.database, .serialized)
struct LiveAlterationTests {
    /// Rows, quantiles per row (min, max) and versions of the newest forecasts of `ett`.
    static let latestShape = """
        SELECT count(*)::int8, min(cardinality(quantiles))::int8, max(cardinality(quantiles))::int8,
               min(version)::int8, max(version)::int8
        FROM forecast.latest WHERE model = 'ett'
        """

    @Test func quantilesAndACovariateChangeWhileTheDaemonRuns() async throws {
        let harness = try await DaemonHarness.make("forecastd_live_alter")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<1200)
        try await harness.sql { session in
            try session.executeScript(
                """
                ALTER TABLE readings ADD COLUMN load float8;
                UPDATE readings SET load = extract(hour FROM ts AT TIME ZONE 'UTC');
                """)
        }
        try await harness.createModel("ett")
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query(Self.latestShape)[0].decode(Int.self, at: 0) == 24
            }, "\(daemon.log)")

        // Five quantiles and a covariate: the old version keeps serving until the new one is out.
        try await harness.sql { session in
            _ = try session.query(
                "SELECT forecast.alter_model('ett', options => $1::jsonb)",
                [#"{"quantiles": [0.05, 0.25, 0.5, 0.75, 0.95], "covariates": ["load"]}"#])
        }
        // Every look until the new version is out sees one whole set: version 1 with three
        // quantiles (still served) or version 2 with five, never a gap or a mix.
        let looks = Looks()
        #expect(
            try await harness.waitUntil(every: .milliseconds(20)) { session in
                let row = try session.query(Self.latestShape)[0]
                let shape = [
                    try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1), try row.decode(Int.self, at: 2),
                    try row.decode(Int.self, at: 3), try row.decode(Int.self, at: 4),
                ]
                looks.append(shape)
                return shape == [24, 5, 5, 2, 2]
            }, "\(daemon.log)")
        let seen = looks.all
        #expect(seen.allSatisfy { $0 == [24, 3, 3, 1, 1] || $0 == [24, 5, 5, 2, 2] }, "\(seen)")
        #expect(daemon.process.isRunning)
        let reason = try await harness.sql { session in
            try session.query(
                "SELECT message FROM forecast.events WHERE model = 'ett' AND message LIKE 'version 2:%'")[0]
                .decode(String.self, at: 0)
        }
        #expect(reason.contains("settings changed") && reason.contains("quantiles") && reason.contains("covariates"))
        let state = try await harness.sql { session in
            try session.query("SELECT state, last_error FROM forecast.models WHERE name = 'ett'")[0]
        }
        #expect(try state.decode(String.self, at: 0) == "active" && state.decode(String?.self, at: 1) == nil)
        #expect(await daemon.stop().status == 0)
    }

    /// `UPDATE forecast.models` behind `alter_model`'s back: only that model goes to `error`,
    /// with a message; the other keeps forecasting and the daemon keeps running.
    @Test func invalidRowFailsOnlyItsModel() async throws {
        let harness = try await DaemonHarness.make("forecastd_live_bad_row")
        defer { Task { try? await harness.drop() } }
        try await harness.load(0..<600)
        try await harness.createModel("good")
        try await harness.createModel("bad")
        try await harness.sql { session in
            try session.execute(
                """
                UPDATE forecast.models SET options = options || '{"quantiles": [0.9, 0.1], "layers": 0}'
                WHERE name = 'bad'
                """)
        }
        let daemon = try harness.startDaemon()
        #expect(
            try await harness.waitUntil { session in
                try session.query(
                    """
                    SELECT (SELECT count(*) FROM forecast.latest WHERE model = 'good') = 24
                       AND (SELECT state = 'error' AND last_error LIKE 'invalid model options:%'
                            FROM forecast.models WHERE name = 'bad')
                    """)[0].decode(Bool.self, at: 0)
            }, "\(daemon.log)")
        #expect(daemon.process.isRunning)
        #expect(await daemon.stop().status == 0)
    }
}

/// Shapes of `forecast.latest` seen while polling, collected from a `@Sendable` closure.
final class Looks: @unchecked Sendable {
    private var shapes: [[Int]] = []
    private let lock = NSLock()
    func append(_ shape: [Int]) { lock.withLock { shapes.append(shape) } }
    var all: [[Int]] { lock.withLock { shapes } }
}
