import Foundation

/// Process resource figures for benchmark reports (Linux `/proc`).
public enum ResourceUsage {
    /// Peak resident set size (`VmHWM`) in MiB, or nil where `/proc` is unavailable.
    public static func peakResidentMegabytes() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Double(fields[1]) { return kilobytes / 1024 }
        }
        return nil
    }
}
