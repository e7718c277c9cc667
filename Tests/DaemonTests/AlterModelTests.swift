import Foundation
import Ingest
import PostgresClient
import Testing

@testable import DaemonCore

/// `forecast.alter_model` and `forecastd model alter` against a real PostgreSQL.
@Suite(.database)
struct AlterModelTests {
    /// The options model `m` is created with.
    static let options = #"{"hidden": 8, "quantiles": [0.1, 0.5, 0.9], "calendar": true}"#

    @Test func changesOnlyWhatIsGivenAndLeavesVersionsAlone() async throws {
        try await AlterModelDatabase.with("forecastd_alter_only") { database in
            try await database.sql { session in
                try session.execute(
                    """
                    INSERT INTO forecast.model_versions (model, version, kind, active, checkpoint)
                    VALUES ('m', 1, 'full', true, '\\x00');
                    """)
                try session.execute(
                    """
                    INSERT INTO forecast.predictions (model, series, issued_at, target_time, step, value, version)
                    VALUES ('m', 'a', now(), now() + interval '1 hour', 1, 1.5, 1)
                    """)
                try session.execute("SELECT forecast.pause('m')")
                let before = try AlterModelDatabase.settings(session)
                let updatedBefore = try AlterModelDatabase.updatedAt(session)

                let returned = try session.query(
                    "SELECT horizon::text, state FROM forecast.alter_model('m', horizon => 48)")
                #expect(try returned[0].decode(String.self, at: 0) == "48")
                #expect(try returned[0].decode(String.self, at: 1) == "paused")
                let after = try AlterModelDatabase.settings(session)
                #expect(
                    try AlterModelDatabase.same(session, before, #"{"horizon": 48}"#, after), "\(before) -> \(after)")
                #expect(try AlterModelDatabase.updatedAt(session) > updatedBefore)

                _ = try session.query(
                    """
                    SELECT forecast.alter_model('m', source => 'other', time_column => 'at', value_column => 'reading',
                                                series_column => 'device', frequency => '30 minutes', lookback => 100)
                    """)
                let moved = try AlterModelDatabase.settings(session)
                let expected = #"""
                    {"horizon": 48, "source": "other", "time_column": "at", "value_column": "reading",
                     "series_column": "device", "frequency": "00:30:00", "lookback": 100}
                    """#
                #expect(try AlterModelDatabase.same(session, before, expected, moved), "\(before) -> \(moved)")

                // Versions and forecasts are the daemon's business: untouched.
                let kept = try session.query(
                    """
                    SELECT (SELECT count(*) FROM forecast.model_versions WHERE model = 'm' AND active),
                           (SELECT count(*) FROM forecast.predictions WHERE model = 'm'),
                           (SELECT count(*) FROM forecast.requests)
                    """)
                #expect(try kept[0].decode(Int.self, at: 0) == 1)
                #expect(try kept[0].decode(Int.self, at: 1) == 1)
                #expect(try kept[0].decode(Int.self, at: 2) == 0)

                // Nothing given (or nothing different): nothing written.
                let updatedMoved = try AlterModelDatabase.updatedAt(session)
                let events = try AlterModelDatabase.events(session)
                _ = try session.query("SELECT forecast.alter_model('m')")
                _ = try session.query("SELECT forecast.alter_model('m', horizon => 48, source => 'other')")
                #expect(try AlterModelDatabase.settings(session) == moved)
                #expect(try AlterModelDatabase.updatedAt(session) == updatedMoved)
                #expect(try AlterModelDatabase.events(session) == events)
            }
        }
    }

    @Test func optionsMergeAndNullRemovesAKey() async throws {
        try await AlterModelDatabase.with("forecastd_alter_options") { database in
            try await database.sql { session in
                let merged = try session.query(
                    """
                    SELECT options::text FROM forecast.alter_model('m',
                        options => '{"quantiles": [0.05, 0.25, 0.5, 0.75, 0.95], "calendar": null, "covariates": ["temp"]}')
                    """)[0].decode(String.self, at: 0)
                let expected = #"{"hidden": 8, "quantiles": [0.05, 0.25, 0.5, 0.75, 0.95], "covariates": ["temp"]}"#
                let equal = try session.query("SELECT $1::jsonb = $2::jsonb", [merged, expected])
                #expect(try equal[0].decode(Bool.self, at: 0), "\(merged)")
                // Removing a key that is not there is no change.
                let again = try session.query(
                    "SELECT options::text FROM forecast.alter_model('m', options => '{\"layers\": null}')")
                #expect(try again[0].decode(String.self, at: 0) == merged)
            }
        }
    }

    @Test func seriesColumnIsClearedOnlyOnRequest() async throws {
        try await AlterModelDatabase.with("forecastd_alter_series") { database in
            try await database.sql { session in
                let cleared = try session.query(
                    "SELECT series_column FROM forecast.alter_model('m', clear_series_column => true)")
                #expect(try cleared[0].decode(String?.self, at: 0) == nil)
                let kept = try session.query("SELECT series_column FROM forecast.alter_model('m', horizon => 12)")
                #expect(try kept[0].decode(String?.self, at: 0) == nil)
                let set = try session.query(
                    "SELECT series_column FROM forecast.alter_model('m', series_column => 'sensor')")
                #expect(try set[0].decode(String?.self, at: 0) == "sensor")
                let both = AlterModelDatabase.failure(
                    session, "SELECT forecast.alter_model('m', series_column => 'sensor', clear_series_column => true)")
                #expect(both?.sqlState == "22023")
                #expect(both?.message == "give series_column or clear_series_column, not both")
            }
        }
    }

    /// Each bad value, given to alter_model and to create_model, fails with the same message
    /// and SQLSTATE, and the model is left as it was.
    @Test func invalidChangesFailExactlyAsCreateModelFails() async throws {
        let cases: [(argument: String, value: String, sqlState: String)] = [
            ("value_column", "'nope'", "42703"),  // no such column
            ("time_column", "'label'", "42804"),  // not a time
            ("series_column", "''", "22023"),
            ("source", "'nope'", "42P01"),
            ("source", "'third'", "42703"),  // the current series column is not there
            ("frequency", "'1 month'", "22023"),
            ("horizon", "0", "22023"),
            ("horizon", "10001", "22023"),
            ("lookback", "0", "22023"),
            ("options", #"'{"covariates": ["label"]}'"#, "42804"),  // non-numeric covariate
            ("options", #"'{"covariates": ["nope"]}'"#, "42703"),
            ("options", #"'{"colour": "red"}'"#, "22023"),  // unknown option
            ("options", #"'{"quantiles": [0.5, 1.5]}'"#, "22023"),
            ("options", #"'{"quantiles": [0.5, 0.1]}'"#, "22023"),
            ("options", #"'{"layers": 9}'"#, "22023"),
            ("options", #"'{"learning_rate": 0}'"#, "22023"),
            ("options", #"'{"timezone": "Mars/Olympus"}'"#, "22023"),
            ("options", #"'{"retrain_every": "soon"}'"#, "22023"),
            ("options", "'[1]'", "22023"),
        ]
        try await AlterModelDatabase.with("forecastd_alter_invalid") { database in
            try await database.sql { session in
                let before = try AlterModelDatabase.settings(session)
                let events = try AlterModelDatabase.events(session)
                for (argument, value, sqlState) in cases {
                    var create = [
                        "source": "'readings'", "time_column": "'ts'", "value_column": "'value'",
                        "series_column": "'sensor'", "horizon": "24", "lookback": "96",
                    ]
                    create[argument] = value
                    let createArguments = create.sorted { $0.key < $1.key }.map { "\($0.key) => \($0.value)" }
                    let created = AlterModelDatabase.failure(
                        session,
                        "SELECT forecast.create_model(name => 'fresh', \(createArguments.joined(separator: ", ")))")
                    let altered = AlterModelDatabase.failure(
                        session, "SELECT forecast.alter_model('m', \(argument) => \(value))")
                    #expect(created != nil, "create_model accepted \(argument) => \(value)")
                    #expect(altered != nil, "alter_model accepted \(argument) => \(value)")
                    #expect(altered?.message == created?.message, "\(argument) => \(value)")
                    #expect(altered?.sqlState == created?.sqlState, "\(argument) => \(value)")
                    #expect(altered?.sqlState == sqlState, "\(argument) => \(value): \(String(describing: altered))")
                }
                #expect(try AlterModelDatabase.settings(session) == before)
                #expect(try AlterModelDatabase.events(session) == events)
                let fresh = try session.query("SELECT count(*) FROM forecast.models WHERE name = 'fresh'")
                #expect(try fresh[0].decode(Int.self, at: 0) == 0)
            }
        }
    }

    @Test func unknownModelIsAnError() async throws {
        try await AlterModelDatabase.with("forecastd_alter_unknown") { database in
            try await database.sql { session in
                let altered = AlterModelDatabase.failure(session, "SELECT forecast.alter_model('nope', horizon => 12)")
                let paused = AlterModelDatabase.failure(session, "SELECT forecast.pause('nope')")
                #expect(altered?.message == "no model named 'nope'")
                #expect(altered?.sqlState == "42704")
                #expect(altered?.message == paused?.message && altered?.sqlState == paused?.sqlState)
            }
        }
    }

    @Test func recordsAnEventAndWakesTheDaemon() async throws {
        try await AlterModelDatabase.with("forecastd_alter_event") { database in
            try await database.sql { session in
                try session.listen("forecastd_requests")
                _ = try session.query(
                    "SELECT forecast.alter_model('m', horizon => 48, options => '{\"quantiles\": [0.05, 0.5, 0.95]}')")
                let notified = try session.waitForNotification(timeout: .seconds(5))
                #expect(notified?.payload == "model:m")
                let event = try session.query(
                    "SELECT level, message, details::text FROM forecast.events WHERE model = 'm' ORDER BY id DESC LIMIT 1"
                )
                #expect(try event[0].decode(String.self, at: 0) == "info")
                #expect(try event[0].decode(String.self, at: 1) == "altered: horizon 24 -> 48, options.quantiles")
                let details = try event[0].decode(String.self, at: 2)
                let horizon = try session.query(
                    "SELECT $1::jsonb -> 'horizon' = '{\"from\": 24, \"to\": 48}'", [details])
                #expect(try horizon[0].decode(Bool.self, at: 0), "\(details)")

                _ = try session.query(
                    """
                    SELECT forecast.alter_model('m', source => 'other', time_column => 'at', value_column => 'reading',
                                                series_column => 'device', options => '{"calendar": null}')
                    """)
                let second = try session.query(
                    "SELECT message FROM forecast.events WHERE model = 'm' ORDER BY id DESC LIMIT 1")
                #expect(
                    try second[0].decode(String.self, at: 0)
                        == "altered: source readings -> other, time_column ts -> at, value_column value -> reading, "
                        + "series_column sensor -> device, options.calendar (removed)")
            }
        }
    }

    @Test func notifyTriggerFollowsTheSource() async throws {
        try await AlterModelDatabase.with("forecastd_alter_trigger") { database in
            try await database.sql { session in
                func triggers() throws -> [String] {
                    try session.query(
                        "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'forecastd_new_data' ORDER BY 1"
                    ).map { try $0.decode(String.self, at: 0) }
                }
                #expect(try triggers() == ["readings"])
                let moved = try session.query(
                    """
                    SELECT notify_trigger FROM forecast.alter_model('m', source => 'other', time_column => 'at',
                        value_column => 'reading', series_column => 'device')
                    """)
                #expect(try moved[0].decode(Bool.self, at: 0))
                #expect(try triggers() == ["other"])

                // Another model still reads `other`: moving m back leaves its trigger there.
                try session.execute(
                    "SELECT forecast.create_model('m2', 'other', 'at', 'reading', 'device', '1 hour', 24, 96)")
                _ = try session.query(
                    """
                    SELECT forecast.alter_model('m', source => 'public.readings', time_column => 'ts',
                        value_column => 'value', series_column => 'sensor')
                    """)
                #expect(try triggers() == ["other", "readings"])

                // notify: false takes the trigger away once no model relies on it.
                let off = try session.query(
                    "SELECT notify_trigger FROM forecast.alter_model('m2', options => '{\"notify\": false}')")
                #expect(try off[0].decode(Bool.self, at: 0) == false)
                #expect(try triggers() == ["readings"])
                // A view gets no trigger; the table's goes when its last model leaves.
                _ = try session.query("SELECT forecast.alter_model('m', source => 'readings_view')")
                #expect(try triggers() == [])
                let flags = try session.query("SELECT bool_or(notify_trigger) FROM forecast.models")
                #expect(try flags[0].decode(Bool.self, at: 0) == false)
            }
        }
    }

    @Test func modelAlterCommandChangesTheModel() async throws {
        try await AlterModelDatabase.with("forecastd_alter_cli") { database in
            let outcome = try ForecastdProcess.run([
                "model", "alter", "m", "--horizon", "48", "--no-series-column", "--options", #"{"calendar": null}"#,
                "--database", database.conninfo,
            ])
            #expect(outcome.status == 0, "\(outcome.stderr)")
            #expect(outcome.stdout.contains("48"), "\(outcome.stdout)")
            let row = try await database.sql { session in
                try session.query(
                    "SELECT horizon::text, series_column, options ? 'calendar', options ? 'hidden' FROM forecast.models"
                )[0]
            }
            #expect(try row.decode(String.self, at: 0) == "48")
            #expect(try row.decode(String?.self, at: 1) == nil)
            #expect(try row.decode(Bool.self, at: 2) == false)
            #expect(try row.decode(Bool.self, at: 3))

            // What only the database can tell: one line from it, exit code 64 (an invalid argument).
            let rejected = try ForecastdProcess.run([
                "model", "alter", "m", "--horizon", "20000", "--database", database.conninfo,
            ])
            #expect(rejected.status == 64)
            #expect(rejected.stdout.isEmpty)
            #expect(
                rejected.stderr.hasPrefix("forecastd: horizon must be between 1 and 10000, not 20000"),
                "\(rejected.stderr)")
            #expect(rejected.stderr.split(separator: "\n").count == 1)
        }
    }
}

/// Invalid arguments `forecastd model alter` can tell by itself: exit code 64 (EX_USAGE),
/// before connecting (the database here does not exist).
struct AlterModelCommandLineTests {
    @Test(arguments: [
        ["--series-column", "sensor", "--no-series-column"],
        ["--options", "[1]"],
        ["--options", "{not json"],
        ["--horizon", "0"],
        ["--lookback=-3"],
        ["--horizon", "99999999999"],
        ["--source", ""],
        [],
    ])
    func invalidArgumentsExit64(arguments: [String]) throws {
        let outcome = try ForecastdProcess.run(
            ["model", "alter", "m"] + arguments + ["--database", "host=127.0.0.1 port=1 connect_timeout=1"])
        #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
        #expect(!outcome.stderr.contains("connection error"), "\(outcome.stderr)")
    }
}

/// A throwaway database with the forecast schema, three source tables and model `m` on
/// `readings (sensor, ts, value, temp, label)`: hourly, horizon 24, lookback 96.
struct AlterModelDatabase {
    let conninfo: String

    /// Runs `body` on a fresh database, dropped afterwards whatever happens.
    static func with(_ prefix: String, _ body: (AlterModelDatabase) async throws -> Void) async throws {
        let created = try await TestDatabase.createDatabase(prefix)
        let database = AlterModelDatabase(conninfo: created.conninfo)
        do {
            try await database.sql { session in
                _ = try Migrator().migrate(session)
                try session.executeScript(
                    """
                    CREATE TABLE readings (sensor text, ts timestamptz, value float8, temp float8, label text);
                    CREATE TABLE other (device text, at timestamptz, reading numeric);
                    CREATE TABLE third (ts timestamptz, value float8);
                    CREATE VIEW readings_view AS SELECT * FROM readings;
                    """)
                try session.execute(
                    "SELECT forecast.create_model('m', 'readings', 'ts', 'value', 'sensor', '1 hour', 24, 96, $1::jsonb)",
                    [AlterModelTests.options])
            }
            try await body(database)
        } catch {
            try? await TestDatabase.dropDatabase(created.name)
            throw error
        }
        try await TestDatabase.dropDatabase(created.name)
    }

    /// Runs `body` on a fresh connection.
    @discardableResult
    func sql<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(conninfo)
        do {
            let value = try await connection.withSession(body)
            await connection.close()
            return value
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Model m's row as JSON, without updated_at.
    static func settings(_ session: PostgresSession) throws -> String {
        try session.query("SELECT (to_jsonb(m) - 'updated_at')::text FROM forecast.models AS m WHERE name = 'm'")[0]
            .decode(String.self, at: 0)
    }

    /// Whether `after` is `before` with `changes` applied (JSON objects).
    static func same(_ session: PostgresSession, _ before: String, _ changes: String, _ after: String) throws -> Bool {
        try session.query("SELECT $1::jsonb || $2::jsonb = $3::jsonb", [before, changes, after])[0]
            .decode(Bool.self, at: 0)
    }

    static func updatedAt(_ session: PostgresSession) throws -> Date {
        try session.query("SELECT updated_at FROM forecast.models WHERE name = 'm'")[0].decode(Date.self, at: 0)
    }

    static func events(_ session: PostgresSession) throws -> [String] {
        try session.query("SELECT message FROM forecast.events ORDER BY id").map { try $0.decode(String.self, at: 0) }
    }

    /// The error `sql` fails with, or nil if it succeeds.
    static func failure(_ session: PostgresSession, _ sql: String) -> PostgresError? {
        do {
            _ = try session.query(sql)
            return nil
        } catch {
            return error as? PostgresError
        }
    }
}
