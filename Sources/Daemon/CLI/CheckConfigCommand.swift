import ArgumentParser
import DaemonCore
import Foundation

/// `forecastd check-config [PATH]`: validates a configuration file.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file; exit nonzero naming the offending key.")

    @Argument(help: "The file to check.") var path: String = DaemonConfiguration.defaultPath

    func run() throws {
        do {
            let configuration = try DaemonConfiguration().applyingFile(path)
            print(
                "\(path): ok (database: \(configuration.database.isEmpty ? "libpq defaults" : configuration.database), "
                    + "log_level: \(configuration.logLevel), workers: \(configuration.workers), "
                    + "poll_interval: \(configuration.pollInterval), lease_seconds: \(configuration.leaseSeconds), "
                    + "keep_forecasts_days: \(configuration.keepForecastsDays), "
                    + "http_listen: \(configuration.httpListen))")
        } catch {
            FileHandle.standardError.write(Data("forecastd: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
