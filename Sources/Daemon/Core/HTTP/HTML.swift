import Foundation

/// Server-rendered HTML: escaping, the page shell and the few formats the pages use. Every
/// name and message that comes from the database goes through `escape`; pages carry no
/// script, font or external resource (see `HTTPEndpoint.contentSecurityPolicy`).
enum HTML {
    /// `text` safe inside an element or a quoted attribute value.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default:
                // Control characters (other than tab and newline) would be invisible or invalid.
                if (scalar.value < 0x20 && scalar != "\t" && scalar != "\n") || scalar.value == 0x7F {
                    result += "&#xFFFD;"
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    /// `text` as one URL path segment or query value: everything but unreserved characters
    /// percent-encoded (so `/`, `?`, `&`, `#` and `+` in a model name stay inside it).
    static func urlComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The link to a model's page.
    static func modelPath(_ name: String, series: String? = nil, page: Int? = nil) -> String {
        var query: [String] = []
        if let series, !series.isEmpty { query.append("series=" + urlComponent(series)) }
        if let page, page > 1 { query.append("page=\(page)") }
        return "/models/" + urlComponent(name) + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// Decodes a query string (`a=1&b=x+y%21`): `+` is a space, `%XX` a byte of UTF-8.
    static func queryParameters(_ query: String?) -> [String: String] {
        var result: [String: String] = [:]
        for pair in (query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) -> String in
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let key = decode(parts[0])
            if result[key] == nil { result[key] = parts.count > 1 ? decode(parts[1]) : "" }
        }
        return result
    }

    /// A whole page: title, a little inline CSS, the body.
    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
        table{border-collapse:collapse;margin:.5em 0 1.5em}
        th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
        td.n{text-align:right;font-variant-numeric:tabular-nums}
        .active{color:#176f2c}.error{color:#b00020}.paused{color:#777}.training{color:#8a5a00}
        figure.chart{margin:.5em 0 1em}figure.chart svg{max-width:100%;height:auto}
        .muted{color:#777}
        </style></head>
        <body>
        \(body)
        </body></html>

        """
    }

    /// An ISO 8601 instant in UTC to the second, or "-".
    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        return date.formatted(.iso8601)
    }

    /// A number with up to `digits` significant digits, or "-".
    static func number(_ value: Double?, digits: Int = 4) -> String {
        guard let value else { return "-" }
        guard value.isFinite else { return "\(value)" }
        return String(format: "%.\(digits)g", value)
    }

    /// A share as a percentage, or "-".
    static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: "%.1f%%", value * 100)
    }
}
