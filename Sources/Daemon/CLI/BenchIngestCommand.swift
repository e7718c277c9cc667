import ArgumentParser
import DaemonCore
import Foundation
import Ingest
import PostgresClient

/// `forecastd bench ingest`: reads a whole source through Ingest onto its grid and reports
/// throughput and peak memory.
struct BenchIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Read a whole source onto the grid; report rows/s and peak RSS.",
        discussion: """
            Compare with psql on the same table, e.g.
              time psql -c "\\copy (select sensor, ts, value from TABLE) to '/dev/null' with (format binary)"
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Relation to read (optionally schema-qualified).") var source: String
    @Option(help: "Time column.") var timeColumn: String
    @Option(help: "Value column.") var valueColumn: String
    @Option(help: "Series-key column, if the relation holds several series.") var seriesColumn: String?
    @Option(help: "Grid frequency, a PostgreSQL interval.") var frequency: String = "1 hour"
    @Option(help: "Steps of history per series.") var maxHistory: Int = 20_000
    @Option(help: "Bucket aggregation: mean, last or sum.") var aggregation: String = "mean"
    @Flag(help: "Print one JSON line.") var json = false

    func validate() throws {
        guard Aggregation(rawValue: aggregation) != nil else {
            throw ValidationError("--aggregation must be mean, last or sum")
        }
        guard maxHistory > 0 else { throw ValidationError("--max-history must be positive") }
    }

    func run() async throws {
        try await reportingFailures {
            let connection = try await global.connect()
            let description = (
                source, timeColumn, valueColumn, seriesColumn, frequency, maxHistory,
                Aggregation(rawValue: aggregation) ?? .mean
            )
            let (read, series, buckets) = try await connection.withSession { session in
                let frequency = try Frequency.resolve(description.4, in: session)
                let source = try SourceCatalog.resolve(
                    SourceDescription(
                        relation: description.0, timeColumn: description.1, valueColumn: description.2,
                        seriesColumn: description.3, frequency: frequency), in: session)
                let reader = SeriesReader(
                    source: source, options: ReadOptions(aggregation: description.6, maxHistory: description.5))
                let read = try reader.read(in: session)
                return (read, read.chunks.count, read.chunks.reduce(0) { $0 + $1.target.count })
            }
            await connection.close()
            let result = IngestBenchResult(
                source: source, rows: read.rows, series: series, buckets: buckets, seconds: read.seconds,
                rowsPerSecond: Double(read.rows) / max(read.seconds, 1e-9),
                peakRSSMegabytes: ResourceUsage.peakResidentMegabytes())
            if json {
                print(try JSONLine.encode(result))
            } else {
                print(
                    "\(read.rows) rows, \(series) series, \(buckets) buckets in \(String(format: "%.2f", read.seconds)) s"
                )
            }
        }
    }
}

/// The JSON line of `forecastd bench ingest`.
struct IngestBenchResult: Encodable {
    var bench = "ingest"
    var source: String
    var rows: Int
    var series: Int
    var buckets: Int
    var seconds: Double
    var rowsPerSecond: Double
    var peakRSSMegabytes: Double?

    enum CodingKeys: String, CodingKey {
        case bench, source, rows, series, buckets, seconds
        case rowsPerSecond = "rows_per_s"
        case peakRSSMegabytes = "peak_rss_mb"
    }
}
