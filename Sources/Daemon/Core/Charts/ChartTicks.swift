import Foundation

/// Axis ticks: round values for the value axis, calendar-aligned instants (UTC) for the
/// time axis, with labels chosen by the span (seconds, hours, ISO dates, months, years).
enum ChartTicks {
    /// Ticks of the value axis: about `target` steps of 1, 2 or 5 × 10^k covering
    /// `low...high`, and the domain widened to whole steps.
    struct Values: Equatable {
        var ticks: [Double]
        var step: Double
        var domain: ClosedRange<Double>
        var labels: [String]
    }

    static func values(_ low: Double, _ high: Double, target: Int = 5) -> Values {
        var (low, high) = (min(low, high), max(low, high))
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        let span = high - low
        guard span.isFinite, span > 0, low.isFinite, high.isFinite else {
            // Values near ±Double.greatestFiniteMagnitude: no round steps, just the ends.
            return Values(
                ticks: [low, high], step: .nan, domain: low...high,
                labels: [low, high].map { String(format: "%.4g", $0) })
        }
        let raw = span / Double(max(1, target))
        let magnitude = pow(10, floor(log10(raw)))
        let normalised = raw / magnitude
        let step = (normalised < 1.5 ? 1 : normalised < 3 ? 2 : normalised < 7 ? 5 : 10) * magnitude
        let first = floor(low / step)
        let last = ceil(high / step)
        var domain = (first * step)...(last * step)
        if !domain.lowerBound.isFinite || !domain.upperBound.isFinite { domain = low...high }
        var ticks: [Double] = []
        if last - first <= 1000 {
            for index in stride(from: first, through: last, by: 1) { ticks.append(index * step) }
        } else {
            ticks = [low, high]
        }
        let exponent = Int(floor(log10(step)))
        let largest = max(abs(domain.lowerBound), abs(domain.upperBound))
        let labels = ticks.map { tick -> String in
            let value = abs(tick) < step * 1e-9 ? 0 : tick  // no "-0" or "1e-17" at zero
            if exponent >= -6, largest < 1e12 {
                return String(format: "%.*f", max(0, -exponent), value)
            }
            return String(format: "%.4g", value)
        }
        return Values(ticks: ticks, step: step, domain: domain, labels: labels)
    }

    /// A tick of the time axis: its instant (µs since the Unix epoch), its label, and the
    /// date to show under it (on the first tick and where the day changes) when the label
    /// is a time of day.
    struct TimeTick: Equatable {
        var time: Int64
        var label: String
        var date: String?
    }

    /// How far apart time ticks are.
    enum TimeStep: Equatable {
        /// A fixed number of µs, aligned to `offset` µs after the Unix epoch.
        case fixed(Int64, offset: Int64)
        case months(Int)
        case years(Int)

        /// The step's approximate length in µs, to choose one.
        var approximateMicroseconds: Double {
            switch self {
            case .fixed(let step, _): Double(step)
            case .months(let months): Double(months) * 30.44 * 86_400e6
            case .years(let years): Double(years) * 365.25 * 86_400e6
            }
        }
    }

    static let second: Int64 = 1_000_000
    static let minute = 60 * second
    static let hour = 60 * minute
    static let day = 24 * hour
    /// 1970-01-05, the first Monday after the epoch: weeks start on Mondays (ISO 8601).
    static let monday = 4 * day

    /// The steps considered, shortest first.
    static let steps: [TimeStep] =
        [1, 2, 5, 10, 15, 30].map { .fixed($0 * second, offset: 0) }
        + [1, 2, 5, 10, 15, 30].map { .fixed($0 * minute, offset: 0) }
        + [1, 2, 3, 6, 12].map { .fixed($0 * hour, offset: 0) }
        + [.fixed(day, offset: 0), .fixed(2 * day, offset: 0), .fixed(7 * day, offset: monday)]
        + [.fixed(14 * day, offset: monday)]
        + [1, 2, 3, 6].map { .months($0) }
        + [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].map { .years($0) }

    /// Ticks inside `low...high` (µs since the Unix epoch), at most about `target` of them,
    /// on the shortest step from `steps` that keeps them that few.
    static func times(_ low: Int64, _ high: Int64, target: Int = 8) -> [TimeTick] {
        guard high > low else { return [TimeTick(time: low, label: dateTimeLabel(low), date: nil)] }
        let span = Double(high) - Double(low)
        let step = steps.first { span / $0.approximateMicroseconds <= Double(max(1, target)) } ?? .years(100_000)
        let instants = times(low, high, step: step)
        var ticks: [TimeTick] = []
        var previousDay: Int64?
        for time in instants {
            let civil = Civil(microseconds: time)
            switch step {
            case .fixed(let micros, _) where micros < day:
                let clock =
                    micros < minute
                    ? String(format: "%02d:%02d:%02d", civil.hour, civil.minute, civil.second)
                    : String(format: "%02d:%02d", civil.hour, civil.minute)
                let dayNumber = floorDivide(time, day)
                ticks.append(TimeTick(time: time, label: clock, date: previousDay == dayNumber ? nil : civil.date))
                previousDay = dayNumber
            case .fixed:
                ticks.append(TimeTick(time: time, label: civil.date, date: nil))
            case .months:
                ticks.append(
                    TimeTick(time: time, label: String(format: "%04d-%02d", civil.year, civil.month), date: nil))
            case .years:
                ticks.append(TimeTick(time: time, label: String(civil.year), date: nil))
            }
        }
        return ticks
    }

    /// The instants of `step` inside `low...high`, at most 1,000.
    static func times(_ low: Int64, _ high: Int64, step: TimeStep) -> [Int64] {
        var result: [Int64] = []
        switch step {
        case .fixed(let micros, let offset):
            var index = floorDivide(low - offset, micros)
            while result.count < 1000 {
                let (product, overflow) = index.multipliedReportingOverflow(by: micros)
                guard !overflow else { break }
                let time = product + offset
                if time > high { break }
                if time >= low { result.append(time) }
                index += 1
            }
        case .months(let months):
            let start = Civil(microseconds: low)
            var index = ceilDivide(start.year * 12 + start.month - 1, months) * months
            while result.count < 1000 {
                let time = Civil.microseconds(
                    year: floorDivide(index, 12), month: index - floorDivide(index, 12) * 12 + 1)
                if time > high { break }
                if time >= low { result.append(time) }
                index += months
            }
        case .years(let years):
            var year = ceilDivide(Civil(microseconds: low).year, years) * years
            while result.count < 1000 {
                let time = Civil.microseconds(year: year, month: 1)
                if time > high { break }
                if time >= low { result.append(time) }
                year += years
            }
        }
        return result
    }

    /// `2024-03-05 14:00` (UTC) for one instant.
    static func dateTimeLabel(_ time: Int64) -> String {
        let civil = Civil(microseconds: time)
        return "\(civil.date) " + String(format: "%02d:%02d", civil.hour, civil.minute)
    }

    static func floorDivide<T: SignedInteger>(_ a: T, _ b: T) -> T {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    static func ceilDivide<T: SignedInteger>(_ a: T, _ b: T) -> T { -floorDivide(-a, b) }
}

/// A UTC calendar date and time of day from µs since the Unix epoch (proleptic Gregorian),
/// without Foundation's calendars: the same on every platform and for any year.
struct Civil: Equatable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int

    init(microseconds: Int64) {
        let days = ChartTicks.floorDivide(microseconds, ChartTicks.day)
        let within = microseconds - days * ChartTicks.day
        let seconds = Int(within / ChartTicks.second)
        (hour, minute, second) = (seconds / 3600, seconds / 60 % 60, seconds % 60)
        // Howard Hinnant's civil_from_days.
        let z = Int(days) + 719_468
        let era = ChartTicks.floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// `2024-03-05`.
    var date: String { String(format: "%04d-%02d-%02d", year, month, day) }

    /// Midnight UTC of the first day of `month` (1-12) of `year`, in µs since the Unix
    /// epoch (Howard Hinnant's days_from_civil).
    static func microseconds(year: Int, month: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = ChartTicks.floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let (micros, overflow) = Int64(days).multipliedReportingOverflow(by: ChartTicks.day)
        return overflow ? (days < 0 ? .min : .max) : micros
    }
}
