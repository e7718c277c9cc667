import Foundation

/// Process resource figures for benchmark reports (Linux `/proc`).
enum ResourceUsage {
    /// Peak resident set size (`VmHWM`) in MiB, or nil where `/proc` is unavailable.
    static func peakResidentMegabytes() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Double(fields[1]) { return kilobytes / 1024 }
        }
        return nil
    }
}

/// One JSON object on one line, keys in the order given.
struct JSONLine {
    private var fields: [(String, String)] = []

    mutating func add(_ key: String, _ value: String) { fields.append((key, Self.quote(value))) }
    mutating func add(_ key: String, _ value: Int) { fields.append((key, String(value))) }
    mutating func add(_ key: String, _ value: Double) {
        let text = abs(value) >= 1e5 ? String(format: "%.1f", value) : String(format: "%.6g", value)
        fields.append((key, value.isFinite ? text : "null"))
    }
    mutating func add(_ key: String, _ value: Double?) {
        if let value { add(key, value) } else { fields.append((key, "null")) }
    }
    mutating func add(_ key: String, _ value: Bool) { fields.append((key, value ? "true" : "false")) }

    var text: String { "{" + fields.map { "\(Self.quote($0.0)):\($0.1)" }.joined(separator: ",") + "}" }

    static func quote(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case let control where control.value < 0x20: result += String(format: "\\u%04x", control.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
