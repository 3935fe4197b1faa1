public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int
    /// Set when the value is well-formed but an object repeats this key: readers that take a
    /// stream value by value reject that one value and go on (issue 16).
    public var duplicateKey: String?

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A strict RFC 8259 parser over bytes. Numbers keep their text; strings must be valid UTF-8;
/// nesting is bounded so hostile input cannot exhaust the stack. An object that repeats a key is
/// refused: readers disagree on which one wins ("status":"approved","status":"draft"), so
/// taking either would be a guess.
public struct JSONParser {
    public static let maximumDepth = 256

    private let bytes: [UInt8]
    private var index: Int
    private let end: Int
    private var depth = 0
    /// Line of `index` and the offset where that line starts, for messages.
    private var line: Int
    private var lineStart: Int

    public init(_ bytes: [UInt8], range: Range<Int>? = nil, firstLine: Int = 1) {
        self.bytes = bytes
        self.index = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? bytes.count
        self.line = firstLine
        self.lineStart = self.index
    }

    /// Parses exactly one value, with only white space around it.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes)
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index < parser.end { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses a sequence of values separated by white space: a single object, an array, or
    /// JSON Lines all read this way. Each value comes with the line it starts on.
    public static func parseSequence(_ bytes: [UInt8]) throws(JSONParseError) -> [(line: Int, value: JSONValue)] {
        var parser = JSONParser(bytes)
        var values: [(line: Int, value: JSONValue)] = []
        parser.skipWhitespace()
        if parser.index < parser.end, parser.bytes[parser.index] == 0xEF,
            parser.index + 2 < parser.end, parser.bytes[parser.index + 1] == 0xBB, parser.bytes[parser.index + 2] == 0xBF
        {
            parser.index += 3
            parser.skipWhitespace()
        }
        while parser.index < parser.end {
            let startLine = parser.line
            values.append((startLine, try parser.parseValue()))
            parser.skipWhitespace()
        }
        return values
    }

    /// One value at the start of `range`, for readers that take a long input value by value
    /// (Procore JSON Lines) rather than whole; returns it with the index just past it. `line` and
    /// `column` place `range.lowerBound` in the whole input and `depth` is how deeply the value
    /// is nested there, so that messages and the nesting limit are those of a whole-input parse.
    public static func parseValue(_ bytes: [UInt8], range: Range<Int>, line: Int, column: Int, depth: Int) throws(JSONParseError) -> (value: JSONValue, end: Int) {
        var parser = JSONParser(bytes, range: range, firstLine: line)
        parser.lineStart = range.lowerBound - (column - 1)
        parser.depth = depth
        let value = try parser.parseValue()
        return (value, parser.index)
    }

    func error(_ message: String) -> JSONParseError {
        JSONParseError(message: message, line: line, column: index - lineStart + 1)
    }

    mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x09, 0x0D: index += 1
            case 0x0A:
                index += 1
                line += 1
                lineStart = index
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        guard index < end else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(printable(bytes[index]))'")
        }
    }

    private func printable(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16)
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONParseError) {
        let expected = Array(literal.utf8)
        let count = expected.count
        guard end - index >= count else { throw error("unexpected end of input") }
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw error("invalid literal")
        }
        index += count
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > JSONParser.maximumDepth { throw error("nesting deeper than \(JSONParser.maximumDepth) levels") }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1
        var members: [JSONMember] = []
        var seen: Set<String>?
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < end else { throw error("unexpected end of input in an object") }
            guard bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key in double quotes") }
            let keyStart = index
            let key = try parseString()
            // A scan for the few members objects usually have; a set past that, so a hostile
            // object with 100,000 keys stays linear.
            let repeated: Bool
            if members.count < 32 {
                repeated = members.contains { $0.key == key }
            } else {
                if seen == nil { seen = Set(members.map(\.key)) }
                repeated = !seen!.insert(key).inserted
            }
            if repeated {
                index = keyStart
                var failure = error("duplicate key \"\(key)\" in an object")
                failure.duplicateKey = key
                throw failure
            }
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            index += 1
            members.append(JSONMember(key, try parseValue()))
            skipWhitespace()
            guard index < end else { throw error("unexpected end of input in an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; break }
            throw error("expected ',' or '}' in an object")
        }
        depth -= 1
        return .object(members)
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1
        var values: [JSONValue] = []
        skipWhitespace()
        if index < end, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(values)
        }
        while true {
            values.append(try parseValue())
            skipWhitespace()
            guard index < end else { throw error("unexpected end of input in an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; break }
            throw error("expected ',' or ']' in an array")
        }
        depth -= 1
        return .array(values)
    }

    private mutating func parseNumber() throws(JSONParseError) -> String {
        let start = index
        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < end, isDigit(bytes[index]) else { throw error("malformed number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < end, isDigit(bytes[index]) { index += 1 }
        }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < end, isDigit(bytes[index]) else { throw error("malformed number") }
            while index < end, isDigit(bytes[index]) { index += 1 }
        }
        if index < end, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < end, isDigit(bytes[index]) else { throw error("malformed number") }
            while index < end, isDigit(bytes[index]) { index += 1 }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: bytes[start..<index], as: UTF8.self) else {
                    throw invalidUTF8(stringStart: start)
                }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in a string") }
            index += 1
        }
        var scratch = Array(bytes[start..<index])
        while index < end {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: scratch, as: UTF8.self) else { throw invalidUTF8(stringStart: start) }
                index += 1
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard index < end else { throw error("unexpected end of input in a string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): scratch.append(0x22)
                case UInt8(ascii: "\\"): scratch.append(0x5C)
                case UInt8(ascii: "/"): scratch.append(0x2F)
                case UInt8(ascii: "b"): scratch.append(0x08)
                case UInt8(ascii: "f"): scratch.append(0x0C)
                case UInt8(ascii: "n"): scratch.append(0x0A)
                case UInt8(ascii: "r"): scratch.append(0x0D)
                case UInt8(ascii: "t"): scratch.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard end - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate in a string")
                        }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        throw error("unpaired surrogate in a string")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    scratch.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw error("invalid escape in a string")
                }
            default:
                if byte < 0x20 { throw error("control character in a string") }
                scratch.append(byte)
                index += 1
            }
        }
        throw error("unterminated string")
    }

    /// Named at the string's opening quote, not at its end where the check happens: a string
    /// cannot span lines, so the column finds it.
    private mutating func invalidUTF8(stringStart: Int) -> JSONParseError {
        index = stringStart - 1
        return error("invalid UTF-8 in a string")
    }

    private mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard end - index >= 4 else { throw error("unexpected end of input in a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid \\u escape")
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }
}
