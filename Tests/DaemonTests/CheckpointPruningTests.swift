import Foundation
import Ingest
import PostgresClient
import Testing

@testable import DaemonCore

/// `keep_versions`: old versions lose their checkpoints, never the active one or its parent.
@Suite(.database) struct CheckpointPruningTests {
    @Test func onlyTheNewestCheckpointsTheActiveAndItsParentStay() async throws {
        let (conninfo, database) = try await TestDatabase.createDatabase("checkpoint_pruning")
        let connection = try await PostgresConnection.connect(conninfo)
        defer { Task { try? await TestDatabase.dropDatabase(database) } }
        let kept: [Int] = try await connection.withSession { session in
            _ = try Migrator().migrate(session)
            try session.executeScript(
                """
                CREATE TABLE readings (ts timestamptz, sensor text, value float8);
                SELECT forecast.create_model('m', 'readings', 'ts', 'value', 'sensor', '1 hour', 2, 4);
                SELECT forecast.create_model('other', 'readings', 'ts', 'value', 'sensor', '1 hour', 2, 4);
                -- Twelve versions; version 3 is active (rolled back to), its parent is 2.
                INSERT INTO forecast.model_versions (model, version, kind, parent_version, checkpoint, active)
                SELECT 'm', v, 'full', CASE WHEN v > 1 THEN v - 1 END, '\\x00', v = 3 FROM generate_series(1, 12) AS v;
                INSERT INTO forecast.model_versions (model, version, kind, checkpoint, active)
                SELECT 'other', v, 'full', '\\x00', v = 12 FROM generate_series(1, 12) AS v;
                """)
            #expect(try ModelStore.pruneCheckpoints("m", keep: 4, in: session) == 6)
            #expect(try ModelStore.pruneCheckpoints("m", keep: 4, in: session) == 0)
            // Another model is untouched; a keep below 2 still keeps 2.
            #expect(
                try session.query(
                    "SELECT count(*) FROM forecast.model_versions WHERE model = 'other' AND checkpoint IS NULL")[0]
                    .decode(Int.self, at: 0) == 0)
            #expect(try ModelStore.pruneCheckpoints("other", keep: 0, in: session) == 10)
            return try session.query(
                "SELECT version FROM forecast.model_versions WHERE model = 'm' AND checkpoint IS NOT NULL ORDER BY version"
            ).map { try $0.decode(Int.self, at: 0) }
        }
        await connection.close()
        #expect(kept == [2, 3, 9, 10, 11, 12])
    }
}
