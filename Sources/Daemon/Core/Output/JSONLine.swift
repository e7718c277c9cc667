public import Foundation

/// The one way `forecastd` writes JSON: a `Codable` value as one line, keys sorted (stable
/// output for diffs and tests), doubles in their shortest round-trip form; non-finite
/// numbers become `null` by being optional at the source (`Double.finite`).
public enum JSONLine {
    /// `value` as one line of JSON without a trailing newline.
    public static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// `value` decoded from one line of JSON.
    public static func decode<Value: Decodable>(_ type: Value.Type, from line: String) throws -> Value {
        try JSONDecoder().decode(type, from: Data(line.utf8))
    }
}

extension Double {
    /// Self when finite, else nil (JSON has no NaN or infinity).
    public var finite: Double? { isFinite ? self : nil }
}
