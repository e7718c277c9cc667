/// Text as a terminal shows it: escaped so a value cannot break a table's lines or columns,
/// and measured in the columns it takes.
extension String {
    /// Backslashes, control characters and characters that move or reorder text (line and
    /// paragraph separators, bidirectional controls) as C-style escapes: `\\`, `\t`, `\n`,
    /// `\r`, `\u{1B}`, `\u{202E}`. Everything else, e.g. `東京` or `é`, as it is.
    var terminalEscaped: String {
        var escaped = ""
        for scalar in unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\t": escaped += "\\t"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case _ where scalar.properties.generalCategory == .control || Self.reordering.contains(scalar.value):
                escaped += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Columns the text takes on a terminal, per character as `wcwidth` counts: 2 for East
    /// Asian wide and fullwidth characters and emoji shown as emoji, 0 for a lone combining
    /// mark or format character, 1 otherwise.
    var displayWidth: Int {
        reduce(0) { width, character in
            let scalars = character.unicodeScalars
            // U+FE0F asks for emoji presentation of a character shown as text by default.
            let emoji = scalars.contains("\u{FE0F}") && scalars.first?.properties.isEmoji == true
            if emoji || scalars.contains(where: Self.isWide) { return width + 2 }
            return width + (scalars.allSatisfy(Self.isZeroWidth) ? 0 : 1)
        }
    }

    /// Line and paragraph separators and bidirectional formatting characters.
    private static let reordering: Set<UInt32> = [
        0x2028, 0x2029, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069,
    ]

    /// East Asian Wide and Fullwidth blocks (Unicode's EastAsianWidth W and F, as wcwidth
    /// groups them) and characters shown as emoji by default.
    private static func isWide(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
            0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
            0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD,
            0x30000...0x3FFFD:
            true
        default:
            scalar.properties.isEmojiPresentation
        }
    }

    private static func isZeroWidth(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: true
        default: false
        }
    }
}
