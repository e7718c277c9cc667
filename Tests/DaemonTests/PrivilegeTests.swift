import Foundation
import Ingest
import PostgresClient
import Testing

/// The daemon's login role from deploy/roles.sql can do its work and nothing else.
@Suite(.database, .serialized)
struct PrivilegeTests {
    static var rolesScript: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appending(path: "deploy/roles.sql").path
    }

    /// Runs psql (libpq's own client) with `arguments`.
    static func psql(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runProgram("/usr/bin/psql", ["-X", "-q"] + arguments)
    }

    @Test func daemonRoleWorksFullyAndCannotDoMore() async throws {
        let harness = try await DaemonHarness.make("forecastd_privileges")
        let role = "forecastd_test_\(UInt32.random(in: 0...UInt32.max))"
        defer {
            Task {
                try? await harness.drop()
                let admin = try await PostgresConnection.connect(TestDatabase.conninfo ?? "")
                _ = try? await admin.withSession { session in
                    try session.execute("DROP ROLE IF EXISTS \(try session.escapeIdentifier(role))")
                }
                await admin.close()
            }
        }
        try await harness.load(0..<600)
        try await harness.createModel("ett")
        let setup = try Self.psql([harness.conninfo, "-v", "daemon=\(role)", "-f", Self.rolesScript])
        #expect(setup.status == 0, "\(setup.output)")
        try await harness.sql { session in try session.execute("GRANT SELECT ON readings TO forecast_reader") }
        let asDaemon = "\(harness.conninfo) user=\(role)"

        // What the role must not do.
        let forbidden = [
            "INSERT INTO readings VALUES ('x', now(), 1)", "CREATE TABLE public.intruder (id int)",
            "DROP TABLE forecast.sets", "ALTER TABLE forecast.models ADD COLUMN x int",
        ]
        for statement in forbidden {
            let error = await #expect(throws: PostgresError.self) {
                let connection = try await PostgresConnection.connect(asDaemon)
                defer { Task { await connection.close() } }
                _ = try await connection.withSession { session in try session.execute(statement) }
            }
            #expect(
                error?.sqlState == PostgresError.State.insufficientPrivilege,
                "\(statement): \(String(describing: error))")
        }

        // What it must do: train and write forecasts.
        let daemon = try DaemonProcess(arguments: [
            "run", "--database", asDaemon, "--poll-interval", "1", "--lease-seconds", "6",
        ])
        #expect(
            try await harness.waitUntil { session in
                try session.query("SELECT count(*) FROM forecast.latest WHERE model = 'ett'")[0].decode(Int.self, at: 0)
                    == 24
            }, "\(daemon.log)")
        let owner = try await harness.sql { session in
            try session.query("SELECT owner FROM forecast.leases WHERE model = 'ett'")[0].decode(
                String?.self, at: 0)
        }
        #expect(owner != nil)
        #expect(await daemon.stop().status == 0)
    }
}
