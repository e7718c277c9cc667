import Foundation

/// One reading of a process's memory and CPU from Linux `/proc/PID/status` and
/// `/proc/PID/stat`; the parsers are pure so tests feed them text.
public struct ProcessStats: Sendable, Equatable {
    /// Peak resident set size so far (`VmHWM`), in KiB.
    public var peakResidentKiB: Int?
    /// Resident set size now (`VmRSS`), in KiB.
    public var residentKiB: Int?
    /// User plus system CPU time (fields 14 and 15 of `stat`), in clock ticks.
    public var cpuTicks: Int?

    /// Reads `pid`'s figures; nil once the process is gone.
    public static func read(pid: Int32) -> ProcessStats? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        else { return nil }
        var stats = parseStatus(status)
        stats.cpuTicks = parseCPUTicks(stat)
        return stats
    }

    /// `VmHWM` and `VmRSS` from the text of `/proc/PID/status`.
    static func parseStatus(_ text: String) -> ProcessStats {
        var stats = ProcessStats()
        for line in text.split(separator: "\n") {
            // "VmHWM:\t  123456 kB": a tab, then spaces.
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 2, let kib = Int(fields[1]) else { continue }
            if fields[0] == "VmHWM:" { stats.peakResidentKiB = kib }
            if fields[0] == "VmRSS:" { stats.residentKiB = kib }
        }
        return stats
    }

    /// utime + stime from the text of `/proc/PID/stat`. The command name (field 2) may hold
    /// spaces and parentheses, so fields are counted after its last `)`.
    static func parseCPUTicks(_ text: String) -> Int? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is the first; utime and stime are fields 14 and 15.
        let fields = text[text.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }

    /// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
    public static var ticksPerSecond: Double { Double(sysconf(Int32(_SC_CLK_TCK))) }

    /// The 1-minute load average (`/proc/loadavg`), nil without `/proc`.
    public static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }
}
