import ArgumentParser
import DaemonCore
import Foundation
import PostgresClient

/// A failure as the user sees it: `forecastd: <message>` on one line, then `detail: ...`
/// and `hint: ...` lines when the server gave them, and an exit status. Never the SQL text
/// of the statement that failed: that is forecastd's business, not the user's.
///
/// Exit statuses (sysexits.h):
/// - 64 (EX_USAGE): the command cannot succeed as typed. ArgumentParser's own checks and
///   `validate()`; a model name that does not exist; and the server rejecting a value the
///   command passed to it, i.e. SQLSTATE class 22 (data exception: a malformed interval,
///   JSON, timestamp or number, `22023` invalid_parameter_value such as an unknown option or
///   a horizon out of range), `42703` undefined_column, `42704` undefined_object (no model
///   named ...), `42710` duplicate_object (a model of that name exists), `42804`
///   datatype_mismatch (a column of the wrong type) and `42P01` undefined_table (no such
///   source relation).
/// - 1: everything else: no connection or a lost one, permissions, and any server error of
///   forecastd's own queries (e.g. `42P01` because the schema was never migrated).
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var detail: String?
    var hint: String?
    var status: ExitCode

    init(message: String, detail: String? = nil, hint: String? = nil, status: ExitCode) {
        (self.message, self.detail, self.hint, self.status) = (message, detail, hint, status)
    }

    /// The command cannot succeed as typed: exit 64.
    static func usage(_ message: String, hint: String? = nil) -> CommandFailure {
        CommandFailure(message: message, hint: hint, status: .validationFailure)
    }

    /// `forecastd model show x`, `forecastd forecast x` and the like for a model that does not exist.
    static func unknownModel(_ name: String) -> CommandFailure {
        usage("no model named '\(name)'", hint: "forecastd model list shows the models")
    }

    /// `error` as the user sees it. A server error exits 64 when its SQLSTATE is one of
    /// those listed above and `judgingArguments` says the failed statement was one that
    /// checks the values the command passed (a `forecast.*` function call); otherwise 1.
    init(_ error: any Error, judgingArguments: Bool = true) {
        switch error {
        case let failure as CommandFailure:
            self = failure
        case let postgres as PostgresError:
            var summary = postgres
            (summary.detail, summary.hint, summary.statement) = (nil, nil, nil)
            let status: ExitCode = judgingArguments && postgres.rejectsArgument ? .validationFailure : .failure
            self.init(message: summary.description, detail: postgres.detail, hint: postgres.hint, status: status)
        case let validation as ValidationError:
            self = .usage(validation.message)
        case let backtest as BacktestJob.Failure:
            // An unknown model, spans out of order, or spans holding no forecast origin.
            self = .usage(backtest.description)
        case let chart as ChartData.Failure:
            // An unknown model or series, no forecast of that version, an empty span.
            self = .usage(chart.description)
        default:
            self.init(message: String(describing: error), status: .failure)
        }
    }

    /// The lines for stderr, each a single line whatever the server's text held.
    var lines: [String] {
        func oneLine(_ text: String) -> String {
            text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .joined(separator: " ")
        }
        var lines = ["forecastd: \(oneLine(message))"]
        if let detail { lines.append("detail: \(oneLine(detail))") }
        if let hint { lines.append("hint: \(oneLine(hint))") }
        return lines
    }

    var description: String { lines.joined(separator: "\n") }
}

extension PostgresError {
    /// Whether the server rejected a value it was given (see `CommandFailure`), as opposed
    /// to failing for reasons of its own.
    var rejectsArgument: Bool {
        guard kind == .server, let sqlState else { return false }
        let rejections = [
            State.undefinedColumn, State.undefinedObject, State.duplicateObject, State.datatypeMismatch,
            State.undefinedTable,
        ]
        return sqlState.hasPrefix(State.dataExceptionClass) || rejections.contains(sqlState)
    }
}

/// A failure to report to the user as is, exit status 1.
struct CommandError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a subcommand's body, turning any error into the lines of a `CommandFailure` on
/// stderr and its exit status, so users never see a stack trace, a multi-line libpq
/// message or forecastd's SQL.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let failure = CommandFailure(error)
        FileHandle.standardError.write(Data(failure.lines.map { $0 + "\n" }.joined().utf8))
        throw failure.status
    }
}
