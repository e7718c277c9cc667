public import PostgresClient

/// The step of a regular time grid, in microseconds (PostgreSQL's timestamp resolution).
///
/// Buckets are aligned to the Unix epoch in UTC: bucket `k` covers
/// `[k * microseconds, (k + 1) * microseconds)` microseconds since 1970-01-01 UTC, so with a
/// frequency of one day, buckets start at UTC midnight. Calendar months are not fixed-length
/// steps and are not supported.
public struct Frequency: Sendable, Hashable, Codable, CustomStringConvertible {
    public let microseconds: Int64

    /// - Precondition: `microseconds > 0` (use `init(validating:)` for untrusted input).
    public init(microseconds: Int64) {
        precondition(microseconds > 0, "frequency must be positive")
        self.microseconds = microseconds
    }

    /// A frequency from untrusted input; nil unless positive.
    public init?(validating microseconds: Int64) {
        guard microseconds > 0 else { return nil }
        self.microseconds = microseconds
    }

    public static func seconds(_ seconds: Int64) -> Frequency { Frequency(microseconds: seconds * 1_000_000) }
    public static func minutes(_ minutes: Int64) -> Frequency { .seconds(minutes * 60) }
    public static func hours(_ hours: Int64) -> Frequency { .seconds(hours * 3600) }
    public static func days(_ days: Int64) -> Frequency { .seconds(days * 86_400) }

    /// The bucket holding time `t` (microseconds since the Unix epoch); floors for negative times.
    /// Never traps: `t / microseconds` is at least `Int64.min / 2` when it has a remainder.
    @inline(__always)
    public func bucket(of t: Int64) -> Int64 {
        let quotient = t / microseconds
        return (t % microseconds < 0) ? quotient - 1 : quotient
    }

    /// The start time (microseconds since the Unix epoch) of bucket `bucket`, saturating at
    /// `Int64.min` / `Int64.max` for buckets whose start is not representable.
    @inline(__always)
    public func start(of bucket: Int64) -> Int64 { bucket.saturatingMultiplied(by: microseconds) }

    /// The natural seasonal period in steps for this frequency (e.g. 24 for hourly data,
    /// 7 for daily), used by seasonal-naive baselines; 1 when none applies.
    public var seasonalPeriod: Int {
        let day: Int64 = 86_400_000_000
        if microseconds < day, day % microseconds == 0 { return Int(day / microseconds) }
        if microseconds == day { return 7 }
        return 1
    }

    public var description: String {
        let seconds = microseconds / 1_000_000
        if microseconds % 1_000_000 != 0 { return "\(microseconds) µs" }
        if seconds % 86_400 == 0 { return "\(seconds / 86_400) day(s)" }
        if seconds % 3600 == 0 { return "\(seconds / 3600) hour(s)" }
        if seconds % 60 == 0 { return "\(seconds / 60) minute(s)" }
        return "\(seconds) second(s)"
    }
}

extension Frequency {
    /// Converts a PostgreSQL interval literal (e.g. `'5 minutes'`, `'1 hour'`) using the
    /// server's own parser. Intervals with months or years, or not positive, are rejected.
    public static func resolve(_ interval: String, in session: PostgresSession) throws -> Frequency {
        let rows = try session.query(
            """
            SELECT (extract(epoch FROM i) * 1000000)::int8, extract(month FROM i)::int4 + 12 * extract(year FROM i)::int4
            FROM (SELECT $1::interval AS i) AS t
            """, [interval])
        let microseconds = try rows[0].decode(Int64.self, at: 0)
        let months = try rows[0].decode(Int32.self, at: 1)
        guard months == 0, let frequency = Frequency(validating: microseconds) else {
            throw SourceError.invalidFrequency(interval)
        }
        return frequency
    }
}
