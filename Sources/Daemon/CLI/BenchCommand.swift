import ArgumentParser
import DaemonCore

/// `forecastd bench ...`: benchmarks users can run on their own servers. Each prints one
/// JSON line per result (with `--json`), so runs can be compared side by side.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure forecastd on this machine (build with -c release).",
        subcommands: [BenchDaemonCommand.self, BenchEngineCommand.self, BenchIngestCommand.self])
}
