/// Text made safe for XML (and so for SVG inlined in HTML): markup characters become
/// entities and characters XML cannot hold are dropped, so a hostile series or model name
/// renders as the text it is and never as markup.
enum XMLText {
    /// `text` with `&`, `<`, `>`, `"` and `'` as entities, tab, line feed and carriage
    /// return as spaces, and every other control character (C0, DEL, C1) and the
    /// non-characters U+FFFE and U+FFFF dropped. Safe in element content and in quoted
    /// attribute values alike.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            case "\t", "\n", "\r": result += " "
            default:
                let value = scalar.value
                if value < 0x20 || (0x7F...0x9F).contains(value) || value == 0xFFFE || value == 0xFFFF { continue }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// `text` cut to at most `limit` characters (an ellipsis marks the cut), then escaped.
    static func escaped(_ text: String, limit: Int) -> String {
        guard text.count > limit, limit > 1 else { return escaped(text) }
        return escaped(String(text.prefix(limit - 1)) + "…")
    }
}
