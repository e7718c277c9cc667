import ArgumentParser
import DaemonCore
import Foundation

/// Runs a subcommand's body, turning any error into one line on stderr and exit code 1,
/// so users never see a stack trace or a multi-line libpq message.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let line = String(describing: error).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        FileHandle.standardError.write(Data("forecastd: \(line)\n".utf8))
        throw ExitCode.failure
    }
}
