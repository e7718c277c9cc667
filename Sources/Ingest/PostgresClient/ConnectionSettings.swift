import CLibPQ
import Foundation

/// How `PostgresConnection` connects: a conninfo string or `postgresql://` URI plus the
/// defaults forecastd adds unless the string (or libpq's `PG*` environment) says otherwise.
///
/// An empty `conninfo` leaves everything to libpq: `PGHOST`, `PGPORT`, `PGDATABASE`,
/// `PGUSER`, the service file and the password file all apply as they do for `psql`.
public struct ConnectionSettings: Sendable {
    public var conninfo: String
    /// `application_name`, shown in `pg_stat_activity`; `PGAPPNAME` wins when set.
    public var applicationName: String = "forecastd"
    /// Seconds to wait for a connection; `PGCONNECT_TIMEOUT` wins when set.
    public var connectTimeoutSeconds: Int = 10
    /// TCP keepalives (idle, interval, count in seconds), so a dead server is noticed.
    public var keepalives: (idle: Int, interval: Int, count: Int)? = (idle: 30, interval: 10, count: 3)
    /// Extra keywords placed before `conninfo` (so `conninfo` still overrides them), e.g. `passfile`.
    public var defaults: [(String, String)] = []

    public init(_ conninfo: String = "") { self.conninfo = conninfo }

    /// Keyword/value pairs for `PQconnectdbParams` with `expand_dbname = 1`. libpq processes
    /// them in order and the last value wins, so our defaults come first and the user's
    /// conninfo (expanded from `dbname`) last.
    func keywordValues(environment: [String: String] = ProcessInfo.processInfo.environment) -> [(String, String)] {
        var pairs = defaults
        if environment["PGAPPNAME"] == nil { pairs.append(("application_name", applicationName)) }
        if environment["PGCONNECT_TIMEOUT"] == nil {
            pairs.append(("connect_timeout", String(connectTimeoutSeconds)))
        }
        if let keepalives {
            pairs += [
                ("keepalives", "1"), ("keepalives_idle", String(keepalives.idle)),
                ("keepalives_interval", String(keepalives.interval)),
                ("keepalives_count", String(keepalives.count)),
            ]
        }
        pairs.append(("dbname", conninfo))
        return pairs
    }

    /// `message` with anything secret removed: every password in `conninfo` is replaced, and
    /// when `conninfo` cannot even be parsed, every quoted fragment libpq echoed from it.
    func redact(_ message: String) -> String {
        var text = message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        var error: UnsafeMutablePointer<CChar>?
        if let options = PQconninfoParse(conninfo, &error) {
            defer { PQconninfoFree(options) }
            var option = options
            while let keyword = option.pointee.keyword {
                if String(cString: keyword) == "password", let value = option.pointee.val {
                    let secret = String(cString: value)
                    if !secret.isEmpty { text = text.replacingOccurrences(of: secret, with: "***") }
                }
                option += 1
            }
        } else {
            if let error { PQfreemem(error) }
            // Not parseable as conninfo: libpq may echo fragments of it, which could hold a
            // password. (A plain word without '=' is just a database name: nothing to hide.)
            if conninfo.contains("=") || conninfo.contains("://") { text = Self.redactQuoted(text) }
        }
        return text
    }

    /// Replaces the contents of every `"..."` in `text` by `***`.
    static func redactQuoted(_ text: String) -> String {
        var result = ""
        var inside = false
        for character in text {
            if character == "\"" {
                result.append(character)
                if !inside { result += "***" }
                inside.toggle()
            } else if !inside {
                result.append(character)
            }
        }
        return result
    }
}
