import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An SVG checked for well-formedness with `XMLParser` (Foundation's `XMLDocument` is not on
/// every platform): its elements in document order with their attributes and text.
final class SVGDocument: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var attributes: [String: String]
        var text = ""

        var classes: [String] { (attributes["class"] ?? "").split(separator: " ").map(String.init) }
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private(set) var elements: [Element] = []
    private var open: [Int] = []

    /// Parses `text`; throws unless it is well-formed XML with an `svg` root.
    init(parsing text: String) throws {
        super.init()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = self
        guard parser.parse() else {
            throw Malformed(
                description:
                    "not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?") at line \(parser.lineNumber)")
        }
        guard elements.first?.name == "svg" else { throw Malformed(description: "the root is not <svg>") }
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        open.append(elements.count)
        elements.append(Element(name: elementName, attributes: attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let last = open.last { elements[last].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    /// Elements having class `name`.
    func elements(class name: String) -> [Element] { elements.filter { $0.classes.contains(name) } }

    /// The one `path` of class `name`, or nil.
    func path(_ name: String) -> Element? { elements.first { $0.name == "path" && $0.classes.contains(name) } }
}

/// A path's `d` as subpaths of points (`M` starts one, `L` continues it, `Z` closes it).
func subpaths(_ d: String) -> [[(x: Double, y: Double)]] {
    var result: [[(x: Double, y: Double)]] = []
    var numbers: [Double] = []
    var command: Character = " "
    func flush() {
        guard command == "M" || command == "L" else { return }
        for pair in stride(from: 0, to: numbers.count - 1, by: 2) {
            if command == "M" && pair == 0 { result.append([]) }
            result[result.count - 1].append((numbers[pair], numbers[pair + 1]))
        }
    }
    var token = ""
    for character in d + " " {
        if character.isLetter && character != "e" {
            if !token.isEmpty { numbers.append(Double(token) ?? .nan) }
            token = ""
            flush()
            command = character
            numbers = []
        } else if character == " " || character == "," {
            if !token.isEmpty { numbers.append(Double(token) ?? .nan) }
            token = ""
        } else {
            token.append(character)
        }
    }
    flush()
    return result
}
