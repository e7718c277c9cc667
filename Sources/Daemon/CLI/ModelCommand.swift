import ArgumentParser
import DaemonCore
import Foundation
import Ingest
import PostgresClient

/// `forecastd model ...`: the same operations as the SQL functions, from the shell.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Create, alter, list, show, pause, resume or drop models.",
        subcommands: [Create.self, Alter.self, List.self, Show.self, Pause.self, Resume.self, Drop.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a model on a source table or view (same as forecast.create_model).",
            discussion: """
                The database checks the relation, its columns and their types, the frequency and \
                every option; what it rejects exits with status 64, as an invalid flag does.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var name: String
        @Option(help: "Relation holding the readings (optionally schema-qualified).") var source: String
        @Option(help: "Time column: timestamptz, timestamp, date or epoch seconds.") var timeColumn: String
        @Option(help: "Value column to forecast.") var valueColumn: String
        @Option(help: "Sensor-id column, when the relation holds several series.") var seriesColumn: String?
        @Option(help: "Step of the series, a PostgreSQL interval.") var frequency: String = "1 hour"
        // `.unconditional`: `--horizon -1` is a value to reject, not a missing one.
        @Option(parsing: .unconditional, help: "Steps to forecast.") var horizon: Int32 = 24
        @Option(parsing: .unconditional, help: "Input steps per forecast (default: chosen from horizon and frequency).")
        var lookback: Int32?
        @Option(help: "JSON object of options, e.g. '{\"hidden\": 32, \"quantiles\": [0.1, 0.5, 0.9]}'.")
        var options: String = "{}"

        func validate() throws {
            if horizon < 1 { throw ValidationError("--horizon must be a positive integer, not \(horizon)") }
            if let lookback, lookback < 1 {
                throw ValidationError("--lookback must be a positive integer, not \(lookback)")
            }
            try ModelCommand.validateOptions(options)
        }

        func run() async throws {
            try await reportingFailures {
                let arguments: [(any PostgresEncodable)?] = [
                    name, source, timeColumn, valueColumn, seriesColumn, frequency, horizon, lookback, options,
                ]
                let rows = try await global.call(
                    """
                    SELECT name, source, frequency, horizon, lookback, options,
                           CASE WHEN notify_trigger THEN 'trigger' ELSE 'polling' END AS new_data
                    FROM forecast.create_model($1, $2, $3, $4, $5, $6::interval, $7, $8, $9::jsonb)
                    """, arguments)
                print(try TextTable(rows).render(.table), terminator: "")
            }
        }
    }

    struct Alter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a model's settings; the daemon retrains (same as forecast.alter_model).",
            discussion: """
                Only the settings given change; the database checks the result as it checks a new \
                model. --options is merged into the current options, and a key set to null is \
                removed (back to its default), e.g. --options '{"quantiles": [0.05, 0.5, 0.95], "calendar": null}'.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var name: String
        @Option(help: "New relation holding the readings (optionally schema-qualified).") var source: String?
        @Option(help: "New time column.") var timeColumn: String?
        @Option(help: "New value column.") var valueColumn: String?
        @Option(help: "New sensor-id column.") var seriesColumn: String?
        @Flag(help: "Read the source as one series (no sensor-id column).") var noSeriesColumn = false
        @Option(help: "New step of the series, a PostgreSQL interval.") var frequency: String?
        @Option(parsing: .unconditional, help: "New number of steps to forecast.") var horizon: Int32?
        @Option(parsing: .unconditional, help: "New number of input steps per forecast.") var lookback: Int32?
        @Option(help: "JSON object merged into the options; a key set to null is removed.") var options: String?

        func validate() throws {
            if seriesColumn != nil && noSeriesColumn {
                throw ValidationError("give --series-column or --no-series-column, not both")
            }
            let texts = [
                ("--source", source), ("--time-column", timeColumn), ("--value-column", valueColumn),
                ("--series-column", seriesColumn), ("--frequency", frequency),
            ]
            for case (let flag, let value?) in texts where value.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("\(flag) must not be empty")
            }
            if let horizon, horizon < 1 {
                throw ValidationError("--horizon must be a positive integer, not \(horizon)")
            }
            if let lookback, lookback < 1 {
                throw ValidationError("--lookback must be a positive integer, not \(lookback)")
            }
            if let options { try ModelCommand.validateOptions(options) }
            let given: [Any?] = [source, timeColumn, valueColumn, seriesColumn, frequency, horizon, lookback, options]
            guard given.contains(where: { $0 != nil }) || noSeriesColumn else {
                throw ValidationError("nothing to change: give at least one setting to alter")
            }
        }

        func run() async throws {
            try await reportingFailures {
                let arguments: [(any PostgresEncodable)?] = [
                    name, source, timeColumn, valueColumn, seriesColumn, frequency, horizon, lookback, options,
                    noSeriesColumn,
                ]
                let rows = try await global.call(
                    """
                    SELECT name, source, time_column, value_column, series_column, frequency, horizon, lookback,
                           options, state,
                           CASE WHEN notify_trigger THEN 'trigger' ELSE 'polling' END AS new_data
                    FROM forecast.alter_model(
                        name => $1, source => $2::text, time_column => $3::text, value_column => $4::text,
                        series_column => $5::text, frequency => $6::interval, horizon => $7::integer,
                        lookback => $8::integer, options => $9::jsonb, clear_series_column => $10::boolean)
                    """, arguments)
                print(try TextTable(rows).render(.table), terminator: "")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List models and what they are doing.",
            discussion: """
                One row per model: model, state, active_version, last_forecast (issue time of the \
                newest forecast), newest_data (newest observation read), series, queued (retrain \
                requests waiting) and last_error.

                \(OutputFormat.help)
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "table, csv or json.") var format: OutputFormat = .table

        func run() async throws {
            try await reportingFailures {
                let rows = try await global.read { session in
                    try session.query(
                        """
                        SELECT model, state, active_version, last_forecast, newest_data, series,
                               queued_requests AS queued, last_error
                        FROM forecast.model_status ORDER BY model
                        """)
                }
                print(try TextTable(rows).render(format), terminator: "")
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop working on a model; its forecasts stay.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var name: String
        func run() async throws { try await ModelCommand.call("forecast.pause", on: name, global, saying: "paused") }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused or failed model.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var name: String
        func run() async throws { try await ModelCommand.call("forecast.resume", on: name, global, saying: "resumed") }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a model with its versions, forecasts and requests.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var name: String
        func run() async throws {
            try await ModelCommand.call("forecast.drop_model", on: name, global, saying: "dropped")
        }
    }
}

extension ModelCommand {
    /// Calls the SQL function `function(name)` and says `done`.
    static func call(_ function: String, on name: String, _ global: GlobalOptions, saying done: String) async throws {
        try await reportingFailures {
            _ = try await global.call("SELECT \(function)($1)", [name])
            print("\(done) \(name)")
        }
    }

    /// Checks that `options` is a JSON object before the database sees it.
    static func validateOptions(_ options: String) throws {
        let parsed = try? JSONSerialization.jsonObject(with: Data(options.utf8), options: .fragmentsAllowed)
        guard parsed is [String: Any] else {
            throw ValidationError("--options must be a JSON object, e.g. '{\"hidden\": 32}'")
        }
    }
}
