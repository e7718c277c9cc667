import Foundation
import PostgresClient
import Testing

/// What `forecastd forecast`, `model list` and `model show` print, run as the built binary
/// against forecasts inserted directly: every digit and instant survives each format, and
/// tables stay aligned whatever the series are called.
@Suite(.database) struct CommandOutputTests {
    /// One forecast row as inserted.
    struct Row: Sendable {
        var series: String
        var value: Double
        var lower: Double?
        var upper: Double?
        var quantiles: [Double]?
    }

    static let rows = [
        Row(series: "", value: 8.54e-07, lower: nil, upper: nil, quantiles: nil),
        Row(
            series: "Zürich-東京-Straße-e\u{301}-温度センサー-" + String(repeating: "ä", count: 40), value: 21.347000122070312,
            lower: 8.5e-07, upper: 0.1 + 0.2, quantiles: [8.5e-07, 8.54e-07, 0.1 + 0.2]),
        Row(
            series: "tab\there\nnew\\line", value: -1.0000000000000002, lower: 1e-300, upper: .greatestFiniteMagnitude,
            quantiles: [1e-300, 0.1, .greatestFiniteMagnitude]),
    ]
    /// 2017-10-24T00:00:00Z, in microseconds since 1970.
    static let issuedAt: Int64 = 1_508_803_200_000_000
    /// Session settings that would change text output, and must not change ours.
    static let hostileSession = [
        "PGTZ": "Asia/Kolkata", "PGDATESTYLE": "SQL, DMY",
        "PGOPTIONS": "-c extra_float_digits=-15 -c IntervalStyle=sql_standard",
    ]

    /// A database with model `m` (quantiles 0.1, 0.5, 0.9), an active version and `rows`
    /// issued at `issuedAt` for one step ahead (plus 0.25 s, to show fractions).
    static func withForecasts(_ body: (DaemonHarness) async throws -> Void) async throws {
        let harness = try await DaemonHarness.make("forecastd_output")
        do {
            try await harness.createModel("m")
            try await harness.sql { session in
                try session.execute(
                    """
                    INSERT INTO forecast.model_versions (model, version, kind, checkpoint, active, train_loss)
                    VALUES ('m', 1, 'full', '\\x00', true, 0.30000000000000004)
                    """)
                for row in rows {
                    let parameters: [(any PostgresEncodable)?] = [
                        row.series, PostgresTimestamp(microsecondsSince1970: issuedAt),
                        PostgresTimestamp(microsecondsSince1970: issuedAt + 3_600_250_000), row.value, row.lower,
                        row.upper, row.quantiles.map(PostgresFloat8Array.init),
                    ]
                    try session.execute(
                        """
                        INSERT INTO forecast.predictions
                            (model, series, issued_at, target_time, step, value, lower, upper, quantiles, version)
                        VALUES ('m', $1, $2, $3, 1, $4, $5, $6, $7, 1)
                        """, parameters)
                }
            }
            try await body(harness)
        } catch {
            try? await harness.drop()
            throw error
        }
        try await harness.drop()
    }

    static func forecast(_ harness: DaemonHarness, _ format: String) throws -> String {
        let outcome = try ForecastdProcess.run(
            ["forecast", "m", "--format", format, "--database", harness.conninfo], environment: hostileSession)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.isEmpty)
        return outcome.stdout
    }

    @Test func csvRoundTripsEveryDoubleAndInstant() async throws {
        try await Self.withForecasts { harness in
            let records = try parseCSV(Self.forecast(harness, "csv"))
            #expect(
                records.first
                    == [
                        "series", "issued_at", "target_time", "step", "value", "lower", "upper", "quantiles", "version",
                    ])
            let body = records.dropFirst()
            #expect(body.count == Self.rows.count)
            for row in Self.rows {
                let record = try #require(
                    body.first { $0[0] == row.series }, "no record for \(row.series.debugDescription)")
                #expect(record[1] == "2017-10-24T00:00:00Z")
                #expect(record[2] == "2017-10-24T01:00:00.25Z")
                #expect(record[3] == "1")
                #expect(record[4].flatMap(Double.init) == row.value)
                #expect(record[5].flatMap(Double.init) == row.lower)
                #expect(record[6].flatMap(Double.init) == row.upper)
                #expect(record[7].flatMap(parseArray) == row.quantiles)
                #expect(record[8] == "1")
            }
        }
    }

    @Test func jsonRoundTripsEveryDoubleAndHasQuantiles() async throws {
        struct Line: Decodable {
            var series: String
            var issuedAt: String
            var targetTime: String
            var step: Int
            var value: Double
            var lower: Double?
            var upper: Double?
            var quantiles: [Double]?
            var version: Int
            enum CodingKeys: String, CodingKey {
                case series, step, value, lower, upper, quantiles, version
                case issuedAt = "issued_at"
                case targetTime = "target_time"
            }
        }
        try await Self.withForecasts { harness in
            let text = try Self.forecast(harness, "json")
            let lines = try text.split(separator: "\n").map { line in
                try JSONDecoder().decode(Line.self, from: Data(line.utf8))
            }
            #expect(lines.count == Self.rows.count)
            for row in Self.rows {
                let line = try #require(lines.first { $0.series == row.series })
                #expect(line.issuedAt == "2017-10-24T00:00:00Z")
                #expect(line.targetTime == "2017-10-24T01:00:00.25Z")
                #expect(line.value == row.value)
                #expect(line.lower == row.lower)
                #expect(line.upper == row.upper)
                #expect(line.quantiles == row.quantiles)
            }
            // Quantiles are an array of numbers; a row without them has null.
            #expect(text.contains(#""quantiles":[8.5e-07,8.54e-07,0.30000000000000004]"#), "\(text)")
            #expect(text.contains(#""quantiles":null"#))
        }
    }

    @Test func tableStaysAlignedForAnySeriesName() async throws {
        try await Self.withForecasts { harness in
            let lines = try Self.forecast(harness, "table").split(separator: "\n", omittingEmptySubsequences: false)
                .map(String.init)
            // Header, rule, one line per row (tabs and newlines escaped), count, final newline.
            #expect(lines.count == Self.rows.count + 4, "\(lines)")
            #expect(lines.last == "" && lines[lines.count - 2] == "(3 rows)")
            let starts = columnStarts(rule: lines[1])
            #expect(starts.count == 9)
            #expect(
                cells(lines[0], starts: starts) == [
                    "series", "issued_at", "target_time", "step", "value", "lower", "upper", "quantiles", "version",
                ])
            let printed = Set(lines[2..<2 + Self.rows.count].map { cells($0, starts: starts) })
            let expected = Set(
                Self.rows.map { row in
                    let escaped = row.series.replacingOccurrences(of: "\\", with: "\\\\")
                        .replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n")
                    return [
                        escaped, "2017-10-24T00:00:00Z", "2017-10-24T01:00:00.25Z", "1", "\(row.value)",
                        row.lower.map { "\($0)" } ?? "", row.upper.map { "\($0)" } ?? "",
                        row.quantiles.map { "{" + $0.map { "\($0)" }.joined(separator: ",") + "}" } ?? "", "1",
                    ]
                })
            #expect(printed == expected)
        }
    }

    @Test func modelListAndShowInEveryFormat() async throws {
        try await Self.withForecasts { harness in
            func run(_ arguments: [String]) throws -> ForecastdProcess.Outcome {
                let outcome = try ForecastdProcess.run(
                    arguments + ["--database", harness.conninfo], environment: Self.hostileSession)
                #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
                return outcome
            }
            let listJSON = try run(["model", "list", "--format", "json"]).stdout
            let listed = try #require(
                JSONSerialization.jsonObject(with: Data(listJSON.utf8)) as? [String: Any], "\(listJSON)")
            #expect(listed["model"] as? String == "m")
            #expect(listed["active_version"] as? Int == 1)
            #expect(listed["last_forecast"] as? String == "2017-10-24T00:00:00Z")
            let listCSV = try parseCSV(run(["model", "list", "--format", "csv"]).stdout)
            #expect(listCSV.count == 2 && listCSV[1][0] == "m" && listCSV[1][3] == "2017-10-24T00:00:00Z")
            #expect(try run(["model", "list"]).stdout.hasPrefix("model"))

            let showJSON = try run(["model", "show", "m", "--format", "json"]).stdout
            #expect(showJSON.split(separator: "\n").count == 1)
            let shown = try #require(
                JSONSerialization.jsonObject(with: Data(showJSON.utf8)) as? [String: Any], "\(showJSON)")
            #expect(shown["name"] as? String == "m")
            #expect(shown["frequency"] as? String == "PT1H")
            #expect(shown["horizon"] as? Int == 12)
            #expect((shown["options"] as? [String: Any])?["hidden"] as? Int == 8)
            // JSONDecoder, not JSONSerialization: the latter reads 0.30000000000000004 as a
            // decimal number whose conversion to Double is off by one bit.
            struct Version: Decodable {
                var version: Int
                var trainLoss: Double?
                var active: Bool
                enum CodingKeys: String, CodingKey {
                    case version, active
                    case trainLoss = "train_loss"
                }
            }
            struct Shown: Decodable { var versions: [Version] }
            let versions = try JSONDecoder().decode(Shown.self, from: Data(showJSON.utf8)).versions
            #expect(versions.count == 1)
            #expect(versions.first?.trainLoss == 0.30000000000000004)
            #expect(versions.first?.active == true)
            #expect((shown["events"] as? [[String: Any]])?.isEmpty == false)
            let showTable = try run(["model", "show", "m"]).stdout
            #expect(showTable.contains("frequency") && showTable.contains("versions (newest first)"))
            let csv = try ForecastdProcess.run([
                "model", "show", "m", "--format", "csv", "--database", harness.conninfo,
            ])
            #expect(csv.status == 64)
        }
    }
}

/// Exit statuses and error lines: 64 for what the user typed wrong (found by forecastd or
/// by the server), 1 for everything else; the server's message and SQLSTATE, never the SQL.
@Suite(.database) struct CommandErrorTests {
    @Test func serverRejectedArgumentsExit64WithMessageAndSQLState() async throws {
        let harness = try await DaemonHarness.make("forecastd_errors")
        defer { Task { try? await harness.drop() } }
        try await harness.createModel("m")
        let create = ["model", "create", "x", "--source", "readings", "--time-column", "ts", "--value-column", "value"]
        let cases: [(arguments: [String], message: String, sqlState: String)] = [
            (create + ["--options", #"{"bogus": 1}"#], #"unknown option "bogus""#, "22023"),
            (create + ["--horizon", "20000"], "horizon must be between 1 and 10000, not 20000", "22023"),
            (create + ["--frequency", "fortnight"], "invalid input syntax for type interval", "22007"),
            (create + ["--options", #"{"hidden": "\u0000"}"#], "unsupported Unicode escape sequence", "22P05"),
            (
                ["model", "create", "x", "--source", "nowhere", "--time-column", "ts", "--value-column", "value"],
                #"relation "nowhere" does not exist"#, "42P01"
            ),
            (
                ["model", "create", "x", "--source", "readings", "--time-column", "when", "--value-column", "value"],
                #"column "when" does not exist"#, "42703"
            ),
            (
                ["model", "create", "x", "--source", "readings", "--time-column", "sensor", "--value-column", "value"],
                #"column "sensor" has type text"#, "42804"
            ),
            (
                ["model", "create", "m", "--source", "readings", "--time-column", "ts", "--value-column", "value"],
                "a model named 'm' already exists", "42710"
            ),
            (["model", "pause", "nosuch"], "no model named 'nosuch'", "42704"),
            (["model", "alter", "m", "--frequency", "1 month"], "frequency", "22023"),
        ]
        for (arguments, message, sqlState) in cases {
            let outcome = try ForecastdProcess.run(arguments + ["--database", harness.conninfo])
            #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stdout.isEmpty)
            let lines = outcome.stderr.split(separator: "\n")
            #expect(lines.first?.hasPrefix("forecastd: \(message)") == true, "\(outcome.stderr)")
            #expect(lines.first?.hasSuffix("(SQLSTATE \(sqlState))") == true, "\(outcome.stderr)")
            #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("detail: ") || $0.hasPrefix("hint: ") })
            #expect(!outcome.stderr.contains("SELECT") && !outcome.stderr.contains("forecast.create_model"))
        }
        // The server's DETAIL line comes on its own line.
        let detailed = try ForecastdProcess.run(
            create + ["--options", #"{"hidden": "\u0000"}"#, "--database", harness.conninfo])
        #expect(detailed.stderr.split(separator: "\n").dropFirst().first?.hasPrefix("detail: ") == true)
    }

    @Test func unknownModelExits64() async throws {
        let harness = try await DaemonHarness.make("forecastd_unknown")
        defer { Task { try? await harness.drop() } }
        for arguments in [["forecast", "nosuch"], ["model", "show", "nosuch"], ["retrain", "nosuch"]] {
            let outcome = try ForecastdProcess.run(arguments + ["--database", harness.conninfo])
            #expect(outcome.status == 64, "\(arguments): \(outcome.stderr)")
            #expect(outcome.stderr.hasPrefix("forecastd: no model named 'nosuch'"), "\(outcome.stderr)")
            #expect(!outcome.stderr.contains("SELECT"))
        }
    }

    @Test func serverFailureOfForecastdsOwnQueryExits1() async throws {
        // A database without the forecast schema: not the user's arguments' fault.
        let (conninfo, name) = try await TestDatabase.createDatabase("forecastd_unmigrated")
        defer { Task { try? await TestDatabase.dropDatabase(name) } }
        for arguments in [["status"], ["forecast", "m"], ["model", "list"]] {
            let outcome = try ForecastdProcess.run(arguments + ["--database", conninfo])
            #expect(outcome.status == 1, "\(arguments): \(outcome.stderr)")
            let lines = outcome.stderr.split(separator: "\n")
            #expect(lines.first?.hasSuffix("does not exist (SQLSTATE 42P01)") == true, "\(outcome.stderr)")
            #expect(lines.last?.hasPrefix("hint: ") == true && outcome.stderr.contains("forecastd migrate"))
            #expect(!outcome.stderr.contains("SELECT"))
        }
    }
}

/// Invalid arguments forecastd tells by itself, and an unreachable server: no database needed.
struct CommandExitStatusTests {
    static let unreachable = "host=127.0.0.1 port=1 connect_timeout=1"

    @Test(arguments: [
        ["model", "create", "x", "--source", "r", "--time-column", "t", "--value-column", "v", "--horizon", "-1"],
        ["model", "create", "x", "--source", "r", "--time-column", "t", "--value-column", "v", "--horizon", "0"],
        ["model", "create", "x", "--source", "r", "--time-column", "t", "--value-column", "v", "--lookback", "-5"],
        ["model", "alter", "m", "--horizon", "-1"],
    ])
    func nonPositiveHorizonOrLookbackExits64(arguments: [String]) throws {
        let outcome = try ForecastdProcess.run(arguments + ["--database", Self.unreachable])
        #expect(outcome.status == 64, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("must be a positive integer"), "\(outcome.stderr)")
        #expect(!outcome.stderr.contains("Missing value"))
    }

    @Test func unreachableServerExits1() throws {
        let outcome = try ForecastdProcess.run(["forecast", "m", "--database", "host=/nonexistent"])
        #expect(outcome.status == 1)
        #expect(outcome.stdout.isEmpty)
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(outcome.stderr)")
        #expect(lines.first?.hasPrefix("forecastd: connection error") == true)
    }

    @Test func helpDocumentsFormatsAndExitStatus() throws {
        /// `--help` of `arguments`, its line breaks as spaces.
        func help(_ arguments: [String]) throws -> String {
            try ForecastdProcess.run(arguments + ["--help"]).stdout.split(whereSeparator: \.isWhitespace)
                .joined(separator: " ")
        }
        let root = try help([])
        #expect(root.contains("64 (EX_USAGE)") && root.contains("SQLSTATE class 22"), "\(root)")
        let forecast = try help(["forecast"])
        #expect(forecast.contains("quantiles (the forecast at each") && forecast.contains("ISO 8601"), "\(forecast)")
        #expect(try help(["model", "show"]).contains("json prints one object"))
        #expect(try help(["model", "list"]).contains("csv is RFC 4180"))
    }
}

// MARK: Reading the output back

/// Fields of CSV text (RFC 4180): a quoted field may hold commas, quotes and line breaks;
/// an unquoted empty field is NULL (nil), a quoted one the empty string.
func parseCSV(_ text: String) throws -> [[String?]] {
    var records: [[String?]] = []
    var record: [String?] = []
    var field = ""
    var quoted = false
    var wasQuoted = false
    var scalars = text.unicodeScalars.makeIterator()
    var pending: Unicode.Scalar? = nil
    func endField() {
        record.append(field.isEmpty && !wasQuoted ? nil : field)
        (field, wasQuoted) = ("", false)
    }
    while let scalar = pending ?? scalars.next() {
        pending = nil
        if quoted {
            if scalar == "\"" {
                let next = scalars.next()
                if next == "\"" { field.unicodeScalars.append("\"") } else { (quoted, pending) = (false, next) }
            } else {
                field.unicodeScalars.append(scalar)
            }
        } else if scalar == "\"" {
            (quoted, wasQuoted) = (true, true)
        } else if scalar == "," {
            endField()
        } else if scalar == "\n" {
            endField()
            records.append(record)
            record = []
        } else {
            field.unicodeScalars.append(scalar)
        }
    }
    if quoted { throw HarnessError(description: "unterminated quoted CSV field") }
    return records
}

/// `{1.5,2}` as numbers.
func parseArray(_ text: String) -> [Double]? {
    guard text.hasPrefix("{"), text.hasSuffix("}") else { return nil }
    let inner = text.dropFirst().dropLast()
    if inner.isEmpty { return [] }
    let numbers = inner.split(separator: ",").compactMap { Double($0) }
    return numbers.count == inner.split(separator: ",").count ? numbers : nil
}

/// Terminal columns of `character`, for the characters these tests print: CJK and kana
/// take two, everything else (including a letter with a combining accent) one.
func displayWidth(_ character: Character) -> Int {
    let scalar = character.unicodeScalars.first?.value ?? 0
    return (0x3040...0x30FF).contains(scalar) || (0x4E00...0x9FFF).contains(scalar) ? 2 : 1
}

/// Display columns at which a table's columns start, from its rule line (`----  ---`).
func columnStarts(rule: String) -> [Int] {
    var starts: [Int] = []
    var previous: Character = " "
    for (offset, character) in rule.enumerated() {
        if character == "-" && previous == " " { starts.append(offset) }
        previous = character
    }
    return starts
}

/// The cells of a table line cut at display columns `starts`, trailing padding removed.
/// A cell that does not begin exactly at its column (a character straddles the start, or
/// the previous cell runs into it without a space) makes the line misaligned: a marker
/// cell, so the comparison fails.
func cells(_ line: String, starts: [Int]) -> [String] {
    var cells = Array(repeating: "", count: starts.count)
    var offset = 0
    var column = 0
    for character in line {
        while column + 1 < starts.count && offset >= starts[column + 1] {
            column += 1
            if offset != starts[column] || !(cells[column - 1].last.map { $0 == " " } ?? true) {
                return ["misaligned at display column \(offset): \(line)"]
            }
        }
        cells[column].append(character)
        offset += displayWidth(character)
    }
    return cells.map { String($0.reversed().drop { $0 == " " }.reversed()) }
}
