import Foundation
import Testing

/// The CLI as users meet it: help, version and one-line errors.
struct CommandLineTests {
    @Test func versionAndHelp() throws {
        let version = try ForecastdProcess.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let help = try ForecastdProcess.run(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("migrate"))
    }

    @Test(arguments: [
        "host=127.0.0.1 port=1 connect_timeout=3",
        "host=localhost password=s3cr3t pw",
        "postgresql://user:s3cr3t@127.0.0.1:1/db",
        "host=/nonexistent/socket/dir",
    ])
    func unusableServerGivesOneLineAndNonzeroExit(conninfo: String) throws {
        let outcome = try ForecastdProcess.run(["migrate", "--database", conninfo])
        #expect(outcome.status != 0)
        #expect(outcome.stdout.isEmpty)
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(outcome.stderr)")
        #expect(lines.first?.hasPrefix("forecastd: connection error") == true)
        #expect(!outcome.stderr.contains("s3cr3t"))
    }

    @Test func databaseComesFromTheEnvironment() throws {
        let outcome = try ForecastdProcess.run(
            ["migrate"], environment: ["FORECASTD_DATABASE_URL": "host=127.0.0.1 port=1 connect_timeout=3"])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("127.0.0.1"))
    }
}
