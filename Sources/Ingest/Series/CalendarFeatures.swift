public import Foundation

/// Calendar inputs as sine/cosine pairs, in a time zone (default UTC), computable for any
/// time, future steps included.
///
/// Features per step, in this order, each as `(sin, cos)` of the phase in its cycle:
/// hour of day (24 h), day of week (Monday = 0), day of year (365.25 days); only the
/// enabled ones appear.
public struct CalendarFeatures: Sendable, Hashable, Codable {
    public var hourOfDay: Bool
    public var dayOfWeek: Bool
    public var dayOfYear: Bool
    /// An IANA identifier such as `Europe/Berlin`.
    public var timeZone: String

    public init(hourOfDay: Bool = true, dayOfWeek: Bool = true, dayOfYear: Bool = true, timeZone: String = "UTC") {
        self.hourOfDay = hourOfDay
        self.dayOfWeek = dayOfWeek
        self.dayOfYear = dayOfYear
        self.timeZone = timeZone
    }

    /// Thrown for a time-zone identifier Foundation does not know.
    public struct UnknownTimeZone: Error, CustomStringConvertible {
        public var identifier: String
        public var description: String { "unknown time zone '\(identifier)'" }
    }

    /// Number of features per step.
    public var count: Int { 2 * ((hourOfDay ? 1 : 0) + (dayOfWeek ? 1 : 0) + (dayOfYear ? 1 : 0)) }

    /// Features for `buckets` consecutive steps from bucket `firstBucket`: `[buckets, count]`, row-major.
    public func table(firstBucket: Int64, buckets: Int, frequency: Frequency) throws -> [Float] {
        guard let zone = TimeZone(identifier: timeZone) else { throw UnknownTimeZone(identifier: timeZone) }
        var result = [Float]()
        result.reserveCapacity(buckets * count)
        for step in 0..<buckets {
            let utc = frequency.start(of: firstBucket + Int64(step))
            let seconds = Double(utc) / 1e6
            let local = seconds + Double(zone.secondsFromGMT(for: Date(timeIntervalSince1970: seconds)))
            let days = (local / 86_400).rounded(.down)
            if hourOfDay { append(phase: (local - days * 86_400) / 86_400, to: &result) }
            // 1970-01-01 was a Thursday: Monday-based weekday = (days + 3) mod 7.
            if dayOfWeek {
                append(
                    phase: ((days + 3).truncatingRemainder(dividingBy: 7) + 7).truncatingRemainder(dividingBy: 7) / 7,
                    to: &result)
            }
            if dayOfYear {
                let years = local / (365.25 * 86_400)
                append(phase: years - years.rounded(.down), to: &result)
            }
        }
        return result
    }

    private func append(phase: Double, to result: inout [Float]) {
        let angle = 2 * Double.pi * phase
        result.append(Float(sin(angle)))
        result.append(Float(cos(angle)))
    }
}
