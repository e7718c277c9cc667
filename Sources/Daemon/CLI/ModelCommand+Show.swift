import ArgumentParser
import PostgresClient

extension ModelCommand {
    /// `forecastd model show NAME`: settings, status, newest versions and events of one model.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one model: settings, status, versions, events.",
            discussion: """
                table prints the settings and status one per line, then the 10 newest versions and \
                the 10 newest events. json prints one object on one line: the settings and status as \
                members (options and quality as objects), then "versions" and "events" as arrays of \
                objects, newest first.

                \(OutputFormat.help)
                """)

        /// `--format`: a model is one record with nested lists, which CSV cannot hold.
        enum Format: String, CaseIterable, ExpressibleByArgument {
            case table, json
        }

        @OptionGroup var global: GlobalOptions
        @Argument(help: "Model name.") var name: String
        @Option(help: "table or json.") var format: Format = .table

        func run() async throws {
            try await reportingFailures {
                let name = self.name
                let found = try await global.read { session -> (PostgresRows, PostgresRows, PostgresRows)? in
                    let model = try session.query(
                        """
                        SELECT m.name, m.source, m.time_column, m.value_column, m.series_column, m.frequency,
                               m.horizon, m.lookback, m.options, s.state, s.active_version, s.last_forecast,
                               s.newest_data, s.series, s.quality, s.last_error, s.worked_on_by
                        FROM forecast.models AS m JOIN forecast.model_status AS s ON s.model = m.name
                        WHERE m.name = $1
                        """, [name])
                    guard !model.isEmpty else { return nil }
                    let versions = try session.query(
                        """
                        SELECT version, kind, parent_version AS parent, created_at, trained_through, train_loss,
                               val_loss, active
                        FROM forecast.model_versions WHERE model = $1 ORDER BY version DESC LIMIT 10
                        """, [name])
                    let events = try session.query(
                        "SELECT at, level, message FROM forecast.events WHERE model = $1 ORDER BY id DESC LIMIT 10",
                        [name])
                    return (model, versions, events)
                }
                guard let found else { throw CommandFailure.unknownModel(name) }
                let (model, versions, events) = (try TextTable(found.0), try TextTable(found.1), try TextTable(found.2))
                switch format {
                case .table:
                    let width = model.columns.map(\.displayWidth).max() ?? 0
                    for (column, cell) in zip(model.columns, model.rows[0]) {
                        let value = (cell.text ?? "").terminalEscaped
                        let padding = String(repeating: " ", count: width - column.displayWidth + 2)
                        print(value.isEmpty ? column : column + padding + value)
                    }
                    print("\nversions (newest first)\n" + versions.render(.table), terminator: "")
                    print("\nevents (newest first)\n" + events.render(.table), terminator: "")
                case .json:
                    let lists = [
                        ("versions", "[" + versions.jsonObjects.joined(separator: ",") + "]"),
                        ("events", "[" + events.jsonObjects.joined(separator: ",") + "]"),
                    ]
                    print(JSONText.object(model.members(model.rows[0]) + lists.map { (key: $0.0, value: $0.1) }))
                }
            }
        }
    }
}
