import ArgumentParser
import DaemonCore
import Foundation
import Ingest
import Logging
import PostgresClient

/// `forecastd demo`: the whole product in one command, on real sensor data.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Load sample sensor data, run the daemon until forecasts are written, and show them.",
        discussion: """
            Starts a throwaway PostgreSQL unless --database is given, loads ETTh1 (seven sensors of an \
            electricity transformer, hourly; ETDataset, Zhou et al., AAAI 2021, CC BY-ND 4.0) into \
            demo.transformer, registers a model, runs the daemon until forecasts are written, appends \
            one more day of readings, waits for the updated forecasts, and prints the first forecasts \
            next to the actuals that arrived.
            """)

    @Option(help: "Use this database instead of a throwaway one (a 'demo' schema is created in it).")
    var database: String?
    @Option(help: "Path to ETTh1.csv (default: the copy shipped in the repository's data/ folder).")
    var data: String?
    @Flag(help: "Keep the throwaway server running afterwards and print how to connect.") var keep = false

    func run() async throws {
        try await reportingFailures {
            let csv = try locateData()
            var server: ThrowawayPostgres?
            let conninfo: String
            if let database {
                conninfo = database
            } else {
                print("starting a throwaway PostgreSQL ...")
                let started = try ThrowawayPostgres()
                server = started
                conninfo = started.conninfo
            }
            defer { if !keep { server?.stop() } }
            var display = ProgressDisplay()
            var training = false
            let report = try await DemoScenario(conninfo: conninfo, csv: csv, bootstrap: DaemonLogging.bootstrap)
                .run(
                    narrate: { line in
                        if training { display.finish("trained") }
                        training = false
                        print(line)
                    },
                    progress: { progress in
                        training = true
                        display.show(ProgressDisplay.line(progress))
                    })
            print("Forecast of oil temperature (OT) issued at the last hour before the new day, next to what arrived:")
            print(try TextTable(report.comparison).render(.table))
            print("Mean absolute error over those 24 hours, per sensor (naive = repeat the last reading):")
            print(try TextTable(report.accuracy).render(.table))
            print("Model versions (a fine-tune is the incremental update after the new day, when it helped):")
            print(try TextTable(report.versions).render(.table))
            print(
                """
                Query the forecasts yourself, e.g.:
                  psql "\(conninfo)" -c "SELECT series, target_time, value, lower, upper FROM forecast.latest WHERE model = 'transformer' ORDER BY series, step"
                  psql "\(conninfo)" -c "SELECT * FROM forecast.model_status"
                """)
            if keep, let server {
                print("\nThe server keeps running: psql \"\(server.conninfo)\"")
                print("Stop it with: pg_ctl -D \(server.directory.path)/data stop (as the postgres user when root)")
            }
        }
    }

    /// `--data`, else `data/ETTh1.csv` in the working directory or above the executable.
    func locateData() throws -> URL {
        if let data { return URL(fileURLWithPath: data) }
        var candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appending(path: "data/ETTh1.csv")
        ]
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(folder.appending(path: "data/ETTh1.csv"))
            candidates.append(folder.appending(path: "share/forecastd/ETTh1.csv"))
            folder.deleteLastPathComponent()
        }
        candidates.append(URL(fileURLWithPath: "/usr/local/share/forecastd/ETTh1.csv"))
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw CommandError("cannot find ETTh1.csv; pass --data PATH (the repository ships it in data/)")
        }
        return found
    }
}
