import Foundation
import PostgresClient

/// One benchmark source table and the model that reads it: hourly readings of `series`
/// sensors, each a daily sine plus uniform noise around a per-series level, generated
/// server-side (`INSERT ... SELECT FROM generate_series`, no client loop), with an index on
/// the time column. Hour `h` lies at `start + h hours`; history is hours 0..<`hours`, and
/// cycle k delivers hour `hours + k - 1` for every series at once.
struct SyntheticSource: Sendable {
    static let schema = "bench_daemon"
    /// Prefix of every model the benchmark creates (and drops).
    static let modelPrefix = "bench_"
    /// The model settings of the issue's measurements.
    static let horizon = 24
    static let lookback = 48
    static let options = #"{"hidden": 16, "layers": 1, "max_epochs": 2}"#

    /// Unqualified table name, e.g. `series_1000`; the model is `bench_` + it.
    let name: String
    let series: Int
    let hours: Int
    let start: Date

    var table: String { "\(Self.schema).\(name)" }
    var model: String { Self.modelPrefix + name }

    /// The key of sensor `index`, as the SQL spells it (`sensor-00001`).
    static func sensor(_ index: Int) -> String { String(format: "sensor-%05d", index) }

    /// The time of hour `hour`.
    func time(ofHour hour: Int) -> Date { start.addingTimeInterval(Double(hour) * 3600) }
    /// The last hour of history, the issue time of the first forecasts.
    var lastHistoryTime: Date { time(ofHour: hours - 1) }

    /// `$1` = start, rows of hours `$2` through `$3` for sensors 1...`series`; hours outer, so
    /// rows lie in time order as appended readings do.
    var insertSQL: String {
        """
        INSERT INTO \(table) (sensor, ts, value)
        SELECT 'sensor-' || lpad(s::text, 5, '0'), $1::timestamptz + h * interval '1 hour',
               50 + (s * 7919 % 1000) / 10.0 + 10 * sin(2 * pi() * h / 24.0) + (random() - 0.5) * 2
        FROM generate_series($2::int, $3::int) AS h, LATERAL generate_series(1, \(series)) AS s
        """
    }

    /// Creates and fills the table (no trigger yet: `create_model` installs it), indexes it
    /// and analyzes it.
    func create(in session: PostgresSession) throws {
        try session.execute("CREATE TABLE \(table) (sensor text NOT NULL, ts timestamptz NOT NULL, value float8)")
        try session.execute(insertSQL, [start, Int32(0), Int32(hours - 1)])
        try session.execute("CREATE INDEX ON \(table) (ts)")
        try session.execute("VACUUM ANALYZE \(table)")
    }

    /// Registers the model (which installs the NOTIFY trigger on the table).
    func createModel(in session: PostgresSession) throws {
        try session.execute(
            "SELECT forecast.create_model($1, $2, 'ts', 'value', 'sensor', '1 hour', $3, $4, $5::jsonb)",
            [model, table, Int32(Self.horizon), Int32(Self.lookback), Self.options])
    }

    /// Appends hour `hour` for every series.
    func deliver(hour: Int, in session: PostgresSession) throws {
        try session.execute(insertSQL, [start, Int32(hour), Int32(hour)])
    }
}
