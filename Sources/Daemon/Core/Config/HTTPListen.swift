import Foundation

/// Where `forecastd run` serves HTTP (`/metrics`, `/healthz`, `/readyz`, the status pages):
/// `off`, or `HOST:PORT` with an IPv6 host in brackets (`[::1]:9464`). Port 0 takes any free
/// port (the log line says which).
public enum HTTPListen: Sendable, Hashable, CustomStringConvertible {
    case off
    case address(host: String, port: Int)

    /// Loopback only: other machines reach it through a reverse proxy, or after
    /// `http_listen: 0.0.0.0:9464` plus the unit's `IPAddressAllow=` (docs/operations.md).
    public static let `default` = HTTPListen.address(host: "127.0.0.1", port: 9464)

    /// Parses `off` or `HOST:PORT`; nil when the text is neither.
    public init?(_ text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text == "off" {
            self = .off
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65_535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return nil }
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil  // an IPv6 address needs brackets: [::1]:9464
        }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else { return nil }
        self = .address(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .off: "off"
        case .address(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        }
    }
}
