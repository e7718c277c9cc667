import Ingest
public import PostgresClient

/// Applies pending migrations to the `forecast` schema.
///
/// Holds a session-level advisory lock for the whole run, so concurrent migrators
/// serialise: the second finds everything applied and does nothing. Each migration runs in
/// its own transaction together with its row in `forecast.schema_migrations`, so a failed
/// one leaves no trace. Applied migrations are checked against their recorded checksum.
public struct Migrator: Sendable {
    /// `pg_advisory_lock` key: "forecast" in ASCII.
    public static let lockKey: Int64 = 0x666F_7265_6361_7374

    public var migrations: [Migration]

    public init(migrations: [Migration] = Migration.all) {
        self.migrations = migrations
    }

    public enum Failure: Error, CustomStringConvertible {
        case edited(name: String)
        case newerDatabase(databaseVersion: Int, binaryVersion: Int)
        case duplicateVersion(Int)

        public var description: String {
            switch self {
            case .edited(let name):
                "migration \(name) differs from the one applied to this database; applied migrations must never be edited"
            case .newerDatabase(let database, let binary):
                "database schema is at version \(database), newer than this forecastd knows (\(binary)); upgrade forecastd"
            case .duplicateVersion(let version):
                "two migrations have version \(version)"
            }
        }
    }

    /// The versions recorded in `forecast.schema_migrations`, empty when the table does not exist.
    public func appliedVersions(_ session: PostgresSession) throws -> [Int: String] {
        let exists = try session.query("SELECT to_regclass('forecast.schema_migrations') IS NOT NULL")
        guard try exists[0].decode(Bool.self, at: 0) else { return [:] }
        let rows = try session.query("SELECT version, checksum FROM forecast.schema_migrations")
        var applied: [Int: String] = [:]
        for row in rows { applied[try row.decode(Int.self, at: 0)] = try row.decode(String.self, at: 1) }
        return applied
    }

    /// Brings the database to the newest version; returns the migrations it applied.
    public func migrate(_ session: PostgresSession) throws -> [Migration] {
        try checkVersionsUnique()
        try session.execute("SELECT pg_advisory_lock($1)", [Self.lockKey])
        defer { _ = try? session.execute("SELECT pg_advisory_unlock($1)", [Self.lockKey]) }
        try session.executeScript(
            """
            CREATE SCHEMA IF NOT EXISTS forecast;
            CREATE TABLE IF NOT EXISTS forecast.schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                checksum   text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """)
        let applied = try appliedVersions(session)
        let newestKnown = migrations.last?.version ?? 0
        if let newest = applied.keys.max(), newest > newestKnown {
            throw Failure.newerDatabase(databaseVersion: newest, binaryVersion: newestKnown)
        }
        var done: [Migration] = []
        for migration in migrations {
            if let checksum = applied[migration.version] {
                let current = try session.query("SELECT md5($1)", [migration.sql])
                guard try current[0].decode(String.self, at: 0) == checksum else {
                    throw Failure.edited(name: migration.name)
                }
                continue
            }
            try session.transaction {
                try session.executeScript(migration.sql)
                try session.execute(
                    "INSERT INTO forecast.schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))",
                    [migration.version, migration.name, migration.sql])
            }
            done.append(migration)
        }
        return done
    }

    private func checkVersionsUnique() throws {
        var seen = Set<Int>()
        for migration in migrations where !seen.insert(migration.version).inserted {
            throw Failure.duplicateVersion(migration.version)
        }
    }
}
