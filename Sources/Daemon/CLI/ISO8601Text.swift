/// ISO 8601 text for PostgreSQL's instants, dates and intervals, computed from their binary
/// values (proleptic Gregorian calendar, exact to the microsecond), so it never depends on
/// the session's `TimeZone`, `DateStyle` or `IntervalStyle`. Instants and dates count from
/// PostgreSQL's epoch, 2000-01-01.
enum ISO8601Text {
    /// Days from 1970-01-01 to 2000-01-01.
    private static let epochDays: Int64 = 10_957

    /// `2017-10-24T00:00:00Z`, `2017-10-24T00:00:00.25Z` (with `offset` "Z") for
    /// `microseconds` since 2000-01-01; `infinity` and `-infinity` for PostgreSQL's infinite
    /// timestamps.
    static func instant(_ microseconds: Int64, offset: String) -> String {
        if microseconds == .max { return "infinity" }
        if microseconds == .min { return "-infinity" }
        let perDay: Int64 = 86_400_000_000
        let (days, time) = floorDivision(microseconds, perDay)
        let seconds = time / 1_000_000
        let clock = [seconds / 3600, seconds / 60 % 60, seconds % 60].map(twoDigits).joined(separator: ":")
        return civilDate(days + epochDays) + "T" + clock + fraction(time % 1_000_000) + offset
    }

    /// `2017-10-24` for `days` since 2000-01-01; `infinity` and `-infinity`.
    static func date(_ days: Int32) -> String {
        if days == .max { return "infinity" }
        if days == .min { return "-infinity" }
        return civilDate(Int64(days) + epochDays)
    }

    /// A duration with each part signed as PostgreSQL's own `iso_8601` interval style writes
    /// it: `PT1H`, `P1DT12H`, `P1Y2M`, `PT-0.5S`; `PT0S` for zero.
    static func duration(months: Int32, days: Int32, microseconds: Int64) -> String {
        guard months != 0 || days != 0 || microseconds != 0 else { return "PT0S" }
        var text = "P"
        if months / 12 != 0 { text += "\(months / 12)Y" }
        if months % 12 != 0 { text += "\(months % 12)M" }
        if days != 0 { text += "\(days)D" }
        guard microseconds != 0 else { return text }
        text += "T"
        let hours = microseconds / 3_600_000_000
        let minutes = microseconds / 60_000_000 % 60
        let rest = microseconds % 60_000_000
        if hours != 0 { text += "\(hours)H" }
        if minutes != 0 { text += "\(minutes)M" }
        if rest != 0 {
            text += (rest < 0 ? "-" : "") + "\(abs(rest) / 1_000_000)" + fraction(abs(rest) % 1_000_000) + "S"
        }
        return text
    }

    /// `YYYY-MM-DD` for `days` since 1970-01-01; years outside 0...9999 get a sign and at
    /// least four digits (ISO 8601's expanded form), year 0 being 1 BC.
    static func civilDate(_ days: Int64) -> String {
        // Howard Hinnant's days-to-civil algorithm, valid for every representable day.
        let shifted = days + 719_468
        let era = floorDivision(shifted, 146_097).quotient
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        let digits = String(abs(year))
        let padded = String(repeating: "0", count: max(0, 4 - digits.count)) + digits
        let sign = year < 0 ? "-" : year > 9999 ? "+" : ""
        return sign + padded + "-" + twoDigits(month) + "-" + twoDigits(day)
    }

    /// `.25` for 250000 µs; empty for 0.
    private static func fraction(_ microseconds: Int64) -> String {
        guard microseconds != 0 else { return "" }
        let digits = String(microseconds)
        var text = String(repeating: "0", count: 6 - digits.count) + digits
        while text.hasSuffix("0") { text.removeLast() }
        return "." + text
    }

    private static func twoDigits(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }
}
