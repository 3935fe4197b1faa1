/// A small, strict, bounded XML reader for the two documents the Spectrum side handles: the
/// import unit SOVBridge wrote and Data Exchange's SOAP answers. Both are small and simple, so a
/// tree is fine. SOVDelivery must not depend on SpectrumFormat (its libxml2 reader), and
/// Foundation's XMLParser accepts malformed XML on Linux (docs/ARCHITECTURE.md, "Conventions"), hence this reader.
/// It rejects DOCTYPE and entity declarations, unknown entities, mismatched tags, unbound
/// prefixes, invalid UTF-8, and anything past its size, depth and element limits.
public struct SpectrumXMLElement: Sendable, Hashable {
    /// Resolved namespace URI; nil when the element is in no namespace.
    public var namespace: String?
    public var localName: String
    public var children: [SpectrumXMLElement]
    /// The element's own text (character data and CDATA directly inside it, concatenated).
    public var text: String

    /// Direct children with this local name (any namespace).
    public func children(named name: String) -> [SpectrumXMLElement] {
        children.filter { $0.localName == name }
    }

    /// Every descendant (depth first, document order) with this local name.
    public func descendants(named name: String) -> [SpectrumXMLElement] {
        var found: [SpectrumXMLElement] = []
        for child in children {
            if child.localName == name { found.append(child) }
            found += child.descendants(named: name)
        }
        return found
    }
}

public struct SpectrumXMLError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// Byte offset where the reader stopped.
    public var offset: Int

    public var description: String { "XML error at byte \(offset): \(message)" }
}

public struct SpectrumXMLLimits: Sendable, Hashable {
    public var maxBytes: Int
    public var maxDepth: Int
    public var maxElements: Int

    public init(maxBytes: Int = 4 << 20, maxDepth: Int = 32, maxElements: Int = 200_000) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
    }
}

public enum SpectrumXML {
    public static func parse(_ bytes: [UInt8], limits: SpectrumXMLLimits = SpectrumXMLLimits()) throws(SpectrumXMLError) -> SpectrumXMLElement {
        guard bytes.count <= limits.maxBytes else {
            throw SpectrumXMLError(message: "document larger than \(limits.maxBytes) bytes", offset: 0)
        }
        var reader = Reader(bytes: bytes, limits: limits)
        return try reader.document()
    }

    public static func parse(_ text: String, limits: SpectrumXMLLimits = SpectrumXMLLimits()) throws(SpectrumXMLError) -> SpectrumXMLElement {
        try parse(Array(text.utf8), limits: limits)
    }

    /// Text escaped for element content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}

private struct Reader {
    let bytes: [UInt8]
    let limits: SpectrumXMLLimits
    var position = 0
    var elements = 0
    /// In-scope prefix bindings, innermost last; "" is the default namespace.
    var scopes: [[String: String]] = [["xml": "http://www.w3.org/XML/1998/namespace"]]

    init(bytes: [UInt8], limits: SpectrumXMLLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    func fail(_ message: String) -> SpectrumXMLError { SpectrumXMLError(message: message, offset: position) }

    func peek(_ literal: String) -> Bool {
        let utf8 = Array(literal.utf8)
        guard position + utf8.count <= bytes.count else { return false }
        return bytes[position..<position + utf8.count].elementsEqual(utf8)
    }

    mutating func expect(_ literal: String) throws(SpectrumXMLError) {
        guard peek(literal) else { throw fail("expected '\(literal)'") }
        position += literal.utf8.count
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    mutating func skipSpace() {
        while position < bytes.count, Self.isSpace(bytes[position]) { position += 1 }
    }

    /// Skips to just past `terminator`; fails at the end of input.
    mutating func skip(past terminator: String) throws(SpectrumXMLError) {
        while position < bytes.count {
            if peek(terminator) {
                position += terminator.utf8.count
                return
            }
            position += 1
        }
        throw fail("unterminated construct (missing '\(terminator)')")
    }

    /// Comments, processing instructions and whitespace allowed outside the root element.
    mutating func skipMisc() throws(SpectrumXMLError) {
        while true {
            skipSpace()
            if peek("<!--") {
                try skip(past: "-->")
            } else if peek("<?") {
                try skip(past: "?>")
            } else {
                return
            }
        }
    }

    mutating func document() throws(SpectrumXMLError) -> SpectrumXMLElement {
        if peek("\u{FEFF}") { position += 3 }
        try skipMisc()
        if peek("<!") { throw fail("DOCTYPE and declarations are not accepted") }
        guard peek("<") else { throw fail("no root element") }
        let root = try element(depth: 1)
        try skipMisc()
        guard position == bytes.count else { throw fail("content after the root element") }
        return root
    }

    mutating func name() throws(SpectrumXMLError) -> String {
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            let ok = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x5F || byte == 0x2D || byte == 0x2E || byte == 0x3A || byte >= 0x80
            guard ok else { break }
            position += 1
        }
        guard position > start else { throw fail("expected a name") }
        return try utf8(start..<position)
    }

    func utf8(_ range: Range<Int>) throws(SpectrumXMLError) -> String {
        guard let text = String(validating: bytes[range], as: UTF8.self) else { throw fail("invalid UTF-8") }
        return text
    }

    func resolve(_ qualified: String, isAttribute: Bool) throws(SpectrumXMLError) -> (String?, String) {
        let parts = qualified.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2, !parts.contains(where: \.isEmpty) else { throw fail("malformed name '\(qualified)'") }
        let prefix = parts.count == 2 ? String(parts[0]) : ""
        let local = String(parts.last!)
        if prefix.isEmpty && isAttribute { return (nil, local) }
        for scope in scopes.reversed() {
            if let uri = scope[prefix] { return (uri.isEmpty ? nil : uri, local) }
        }
        guard prefix.isEmpty else { throw fail("unbound namespace prefix '\(prefix)'") }
        return (nil, local)
    }

    mutating func element(depth: Int) throws(SpectrumXMLError) -> SpectrumXMLElement {
        guard depth <= limits.maxDepth else { throw fail("nesting deeper than \(limits.maxDepth)") }
        elements += 1
        guard elements <= limits.maxElements else { throw fail("more than \(limits.maxElements) elements") }
        try expect("<")
        let qualified = try name()
        var bindings: [String: String] = [:]
        var seen: Set<String> = []
        var selfClosing = false
        while true {
            let hadSpace = position < bytes.count && Self.isSpace(bytes[position])
            skipSpace()
            if peek("/>") {
                position += 2
                selfClosing = true
                break
            }
            if peek(">") {
                position += 1
                break
            }
            guard hadSpace else { throw fail("expected whitespace, '>' or '/>' in <\(qualified)>") }
            let attribute = try name()
            guard seen.insert(attribute).inserted else { throw fail("repeated attribute '\(attribute)'") }
            skipSpace()
            try expect("=")
            skipSpace()
            let value = try quoted()
            if attribute == "xmlns" {
                bindings[""] = value
            } else if attribute.hasPrefix("xmlns:") {
                guard !value.isEmpty else { throw fail("empty namespace for '\(attribute)'") }
                bindings[String(attribute.dropFirst(6))] = value
            }
        }
        scopes.append(bindings)
        defer { scopes.removeLast() }
        let (namespace, localName) = try resolve(qualified, isAttribute: false)
        var node = SpectrumXMLElement(namespace: namespace, localName: localName, children: [], text: "")
        if selfClosing { return node }
        while true {
            guard position < bytes.count else { throw fail("unclosed element <\(qualified)>") }
            if peek("</") {
                position += 2
                let closing = try name()
                guard closing == qualified else { throw fail("</\(closing)> closes <\(qualified)>") }
                skipSpace()
                try expect(">")
                return node
            } else if peek("<!--") {
                try skip(past: "-->")
            } else if peek("<![CDATA[") {
                position += 9
                let start = position
                try skip(past: "]]>")
                node.text += try utf8(start..<position - 3)
            } else if peek("<?") {
                try skip(past: "?>")
            } else if peek("<!") {
                throw fail("declarations are not accepted")
            } else if peek("<") {
                node.children.append(try element(depth: depth + 1))
            } else {
                node.text += try characters(until: 0x3C)
            }
        }
    }

    mutating func quoted() throws(SpectrumXMLError) -> String {
        guard position < bytes.count, bytes[position] == 0x22 || bytes[position] == 0x27 else { throw fail("expected a quoted value") }
        let quote = bytes[position]
        position += 1
        let value = try characters(until: quote)
        guard position < bytes.count else { throw fail("unterminated attribute value") }
        position += 1
        return value
    }

    /// Character data up to (not including) `stop`, with the predefined and numeric entities decoded.
    mutating func characters(until stop: UInt8) throws(SpectrumXMLError) -> String {
        var out = ""
        var start = position
        while position < bytes.count, bytes[position] != stop {
            let byte = bytes[position]
            if byte == 0x3C { throw fail("'<' in a value") }
            if byte == 0x26 {
                out += try utf8(start..<position)
                out += try entity()
                start = position
            } else {
                position += 1
            }
        }
        out += try utf8(start..<position)
        return out
    }

    mutating func entity() throws(SpectrumXMLError) -> String {
        let start = position
        guard let end = bytes[position...].prefix(12).firstIndex(of: 0x3B) else { throw fail("unterminated entity") }
        let body = try utf8(start + 1..<end)
        position = end + 1
        switch body {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default:
            var digits = Substring(body)
            guard digits.hasPrefix("#") else { throw fail("unknown entity '&\(body);'") }
            digits = digits.dropFirst()
            let radix = digits.hasPrefix("x") ? 16 : 10
            if radix == 16 { digits = digits.dropFirst() }
            guard let value = UInt32(digits, radix: radix), let scalar = Unicode.Scalar(value), value != 0 else {
                throw fail("bad character reference '&\(body);'")
            }
            return String(Character(scalar))
        }
    }
}
