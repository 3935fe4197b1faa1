public struct TOMLError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int

    public init(message: String, line: Int) {
        self.message = message
        self.line = line
    }

    public var description: String { "line \(line): \(message)" }
}

/// TOML 1.0 reader into JSONValue (tables -> objects in document order).
///
/// Integers become `.number` in decimal; floats keep their written digits (JSON has no inf/nan,
/// so those are rejected); dates and times stay `.string` with their original text.
public enum TOML {
    /// Deepest nesting of tables, arrays and inline tables, so hostile input cannot exhaust the stack.
    public static let maximumDepth = 128

    public static func parse(_ text: String) throws(TOMLError) -> JSONValue {
        var parser = TOMLParser(Array(text.utf8))
        return try parser.parseDocument()
    }
}

/// Hand-written recursive descent over UTF-8 bytes. Tables live in an arena (indices are ours,
/// never taken from input) so headers like `[a.b]` can reopen a table built earlier; sealed
/// values (inline tables, arrays) are converted to JSONValue as soon as they are read.
private struct TOMLParser {
    private enum TableKind {
        /// Created as a parent by a header (`[a.b]` creates `a`); a later `[a]` may define it once.
        case implicit
        /// Defined by its own `[header]` or as an element of `[[header]]`.
        case header
        /// Created by a dotted key (`a.b = 1`); headers may add sub-tables but not redefine it.
        case dotted
    }

    private enum Entry {
        case value(JSONValue)
        case table(Int)
        case tableArray([Int])
    }

    private struct Table {
        var kind: TableKind
        var depth: Int
        var keys: [String] = []
        var entries: [Entry] = []
        var positions: [String: Int] = [:]
    }

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    private var tables: [Table] = [Table(kind: .header, depth: 0)]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Document

    mutating func parseDocument() throws(TOMLError) -> JSONValue {
        // A UTF-8 byte order mark, as some Windows editors write, is not content.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        var current = 0
        while true {
            skipSpaces()
            guard let byte = peek() else { break }
            switch byte {
            case UInt8(ascii: "#"):
                try skipComment()
            case 0x0A, 0x0D:
                try consumeNewline()
            case UInt8(ascii: "["):
                current = try parseHeader()
                try expectLineEnd(after: "a table header")
            default:
                try parseKeyValue(into: current)
                try expectLineEnd(after: "a value")
            }
        }
        return json(of: 0)
    }

    private mutating func parseHeader() throws(TOMLError) -> Int {
        let headerLine = line
        index += 1
        let isArray = peek() == UInt8(ascii: "[")
        if isArray { index += 1 }
        skipSpaces()
        let path = try parseKey()
        skipSpaces()
        guard peek() == UInt8(ascii: "]") else {
            throw error("expected ']' to close the table header")
        }
        index += 1
        if isArray {
            guard peek() == UInt8(ascii: "]") else { throw error("expected ']]' to close the array of tables header") }
            index += 1
        }
        let name = path.joined(separator: ".")

        var table = 0
        for part in path.dropLast() {
            table = try descendForHeader(from: table, into: part, name: name, line: headerLine)
        }
        guard let last = path.last else { throw TOMLError(message: "a table header needs a key", line: headerLine) }

        if isArray {
            switch entry(last, in: table) {
            case nil:
                let element = try newTable(kind: .header, parentDepth: tables[table].depth + 1, line: headerLine)
                add(last, .tableArray([element]), to: table)
                return element
            case .tableArray?:
                let element = try newTable(kind: .header, parentDepth: tables[table].depth + 1, line: headerLine)
                appendElement(element, to: last, in: table)
                return element
            case .value(.array)?:
                throw TOMLError(message: "[[\(name)]] cannot append to an array defined as a value", line: headerLine)
            case .table?, .value?:
                throw TOMLError(message: "[[\(name)]] conflicts with '\(name)' defined earlier, which is not an array of tables", line: headerLine)
            }
        }

        switch entry(last, in: table) {
        case nil:
            let child = try newTable(kind: .header, parentDepth: tables[table].depth, line: headerLine)
            add(last, .table(child), to: table)
            return child
        case .table(let child)?:
            switch tables[child].kind {
            case .implicit:
                tables[child].kind = .header
                return child
            case .header:
                throw TOMLError(message: "table [\(name)] is defined twice", line: headerLine)
            case .dotted:
                throw TOMLError(message: "table [\(name)] was already defined by dotted keys", line: headerLine)
            }
        case .tableArray?:
            throw TOMLError(message: "[\(name)] conflicts with the array of tables [[\(name)]]", line: headerLine)
        case .value(.object)?:
            throw TOMLError(message: "table [\(name)] was already defined as an inline table", line: headerLine)
        case .value?:
            throw TOMLError(message: "[\(name)] conflicts with the key '\(name)' defined earlier", line: headerLine)
        }
    }

    /// One step of a header path: into an existing table, the last element of an array of
    /// tables, or a new implicit table.
    private mutating func descendForHeader(from table: Int, into key: String, name: String, line headerLine: Int) throws(TOMLError) -> Int {
        switch entry(key, in: table) {
        case nil:
            let child = try newTable(kind: .implicit, parentDepth: tables[table].depth, line: headerLine)
            add(key, .table(child), to: table)
            return child
        case .table(let child)?:
            return child
        case .tableArray(let elements)?:
            // Never empty: an array of tables is created with its first element.
            guard let lastElement = elements.last else {
                throw TOMLError(message: "[\(name)]: '\(key)' is an empty array of tables", line: headerLine)
            }
            return lastElement
        case .value(.object)?:
            throw TOMLError(message: "[\(name)] cannot extend the inline table '\(key)'", line: headerLine)
        case .value?:
            throw TOMLError(message: "[\(name)]: '\(key)' is already a value, not a table", line: headerLine)
        }
    }

    // MARK: Key/value pairs

    private mutating func parseKeyValue(into table: Int) throws(TOMLError) {
        let keyLine = line
        let path = try parseKey()
        skipSpaces()
        guard peek() == UInt8(ascii: "=") else { throw error("expected '=' after the key '\(path.joined(separator: "."))'") }
        index += 1
        skipSpaces()
        let value = try parseValue(depth: tables[table].depth + path.count)
        try insert(value, at: path, into: table, line: keyLine)
    }

    /// Puts `value` at the dotted `path` below `table`, creating dotted tables on the way.
    private mutating func insert(_ value: JSONValue, at path: [String], into table: Int, line keyLine: Int) throws(TOMLError) {
        let name = path.joined(separator: ".")
        var target = table
        for part in path.dropLast() {
            switch entry(part, in: target) {
            case nil:
                let child = try newTable(kind: .dotted, parentDepth: tables[target].depth, line: keyLine)
                add(part, .table(child), to: target)
                target = child
            case .table(let child)? where tables[child].kind == .dotted:
                target = child
            case .table(let child)? where tables[child].kind == .implicit:
                // Keys given through dotted keys define the table, so a later header cannot.
                tables[child].kind = .dotted
                target = child
            case .table?:
                throw TOMLError(message: "the dotted key '\(name)' cannot add to table '\(part)' defined by a header", line: keyLine)
            case .tableArray?:
                throw TOMLError(message: "the dotted key '\(name)' cannot add to the array of tables '\(part)'", line: keyLine)
            case .value(.object)?:
                throw TOMLError(message: "the dotted key '\(name)' cannot extend the inline table '\(part)'", line: keyLine)
            case .value?:
                throw TOMLError(message: "the dotted key '\(name)' goes through '\(part)', which is already a value", line: keyLine)
            }
        }
        guard let last = path.last else { throw TOMLError(message: "expected a key", line: keyLine) }
        if entry(last, in: target) != nil {
            throw TOMLError(message: "duplicate key '\(name)'", line: keyLine)
        }
        add(last, .value(value), to: target)
    }

    /// A possibly dotted key: simple keys separated by '.', with spaces allowed around the dots.
    private mutating func parseKey() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            parts.append(try parseSimpleKey())
            skipSpaces()
            guard peek() == UInt8(ascii: ".") else { return parts }
            index += 1
            skipSpaces()
        }
    }

    private mutating func parseSimpleKey() throws(TOMLError) -> String {
        switch peek() {
        case UInt8(ascii: "\"")?:
            if startsWith("\"\"\"") { throw error("a key cannot be a multi-line string") }
            return try parseBasicString()
        case UInt8(ascii: "'")?:
            if startsWith("'''") { throw error("a key cannot be a multi-line string") }
            return try parseLiteralString()
        default:
            let start = index
            while let byte = peek(), Self.isBareKeyByte(byte) { index += 1 }
            guard index > start else {
                if peek() == nil || isNewline(peek()) { throw error("expected a key") }
                throw error("expected a key, found \(describeCurrent())")
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }
    }

    private static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    // MARK: Values

    /// `depth` is the nesting level of the value itself (its table's depth plus its key parts).
    private mutating func parseValue(depth: Int) throws(TOMLError) -> JSONValue {
        guard let byte = peek() else { throw error("expected a value at the end of the input") }
        switch byte {
        case UInt8(ascii: "\""):
            return .string(startsWith("\"\"\"") ? try parseMultilineBasicString() : try parseBasicString())
        case UInt8(ascii: "'"):
            return .string(startsWith("'''") ? try parseMultilineLiteralString() : try parseLiteralString())
        case UInt8(ascii: "t"):
            return try parseKeyword("true", .bool(true))
        case UInt8(ascii: "f"):
            return try parseKeyword("false", .bool(false))
        case UInt8(ascii: "["):
            return try parseArray(depth: depth)
        case UInt8(ascii: "{"):
            return try parseInlineTable(depth: depth)
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "i"), UInt8(ascii: "n"):
            return try parseNumberOrDateTime()
        case 0x0A, 0x0D:
            throw error("expected a value before the end of the line")
        default:
            throw error("expected a value, found \(describeCurrent())")
        }
    }

    private mutating func parseKeyword(_ word: String, _ value: JSONValue) throws(TOMLError) -> JSONValue {
        guard startsWith(word) else { throw error("expected a value, found \(describeCurrent())") }
        index += word.utf8.count
        return value
    }

    private mutating func parseArray(depth: Int) throws(TOMLError) -> JSONValue {
        guard depth <= TOML.maximumDepth else { throw error("nesting deeper than \(TOML.maximumDepth) levels") }
        index += 1
        var values: [JSONValue] = []
        while true {
            try skipBlankLinesAndComments()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return .array(values)
            }
            values.append(try parseValue(depth: depth + 1))
            try skipBlankLinesAndComments()
            switch peek() {
            case UInt8(ascii: ",")?:
                index += 1
            case UInt8(ascii: "]")?:
                index += 1
                return .array(values)
            case nil:
                throw error("unterminated array: expected ']'")
            default:
                throw error("expected ',' or ']' in an array, found \(describeCurrent())")
            }
        }
    }

    /// `{ a = 1, b.c = 2 }` on one line (TOML 1.0): built as a private table, then sealed as a value.
    private mutating func parseInlineTable(depth: Int) throws(TOMLError) -> JSONValue {
        guard depth <= TOML.maximumDepth else { throw error("nesting deeper than \(TOML.maximumDepth) levels") }
        index += 1
        let table = tables.count
        tables.append(Table(kind: .dotted, depth: depth))
        defer { tables.removeSubrange(table...) }
        skipSpaces()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return .object([])
        }
        while true {
            skipSpaces()
            let keyLine = line
            let path = try parseKey()
            skipSpaces()
            guard peek() == UInt8(ascii: "=") else { throw error("expected '=' after the key '\(path.joined(separator: "."))'") }
            index += 1
            skipSpaces()
            let value = try parseValue(depth: depth + path.count)
            try insert(value, at: path, into: table, line: keyLine)
            skipSpaces()
            switch peek() {
            case UInt8(ascii: ",")?:
                index += 1
            case UInt8(ascii: "}")?:
                index += 1
                return json(of: table)
            case nil:
                throw error("unterminated inline table: expected '}'")
            case 0x0A?, 0x0D?:
                throw error("an inline table must be on one line")
            default:
                throw error("expected ',' or '}' in an inline table, found \(describeCurrent())")
            }
        }
    }

    // MARK: Strings

    private mutating func parseBasicString() throws(TOMLError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                try parseEscape(into: &out)
            case 0x0A, 0x0D:
                throw error("unterminated string: a basic string ends on its line")
            default:
                try checkStringByte(byte)
                out.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseMultilineBasicString() throws(TOMLError) -> String {
        index += 3
        try skipFirstNewline()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated multi-line string") }
            switch byte {
            case UInt8(ascii: "\""):
                if try closesMultiline(quote: byte, into: &out) { return String(decoding: out, as: UTF8.self) }
            case UInt8(ascii: "\\"):
                index += 1
                var lookahead = index
                while lookahead < bytes.count, bytes[lookahead] == 0x20 || bytes[lookahead] == 0x09 { lookahead += 1 }
                if lookahead < bytes.count, bytes[lookahead] == 0x0A || bytes[lookahead] == 0x0D {
                    // Line-ending backslash: drop it and all white space up to the next content.
                    index = lookahead
                    while let next = peek() {
                        if next == 0x20 || next == 0x09 {
                            index += 1
                        } else if isNewline(next) {
                            try consumeNewline()
                        } else {
                            break
                        }
                    }
                } else {
                    try parseEscape(into: &out)
                }
            case 0x0A, 0x0D:
                try consumeNewline()
                out.append(0x0A)
            default:
                try checkStringByte(byte)
                out.append(byte)
                index += 1
            }
        }
    }

    private mutating func parseLiteralString() throws(TOMLError) -> String {
        index += 1
        let start = index
        while true {
            guard let byte = peek() else { throw error("unterminated literal string") }
            switch byte {
            case UInt8(ascii: "'"):
                let text = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                return text
            case 0x0A, 0x0D:
                throw error("unterminated literal string: a literal string ends on its line")
            default:
                try checkStringByte(byte)
                index += 1
            }
        }
    }

    private mutating func parseMultilineLiteralString() throws(TOMLError) -> String {
        index += 3
        try skipFirstNewline()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("unterminated multi-line literal string") }
            switch byte {
            case UInt8(ascii: "'"):
                if try closesMultiline(quote: byte, into: &out) { return String(decoding: out, as: UTF8.self) }
            case 0x0A, 0x0D:
                try consumeNewline()
                out.append(0x0A)
            default:
                try checkStringByte(byte)
                out.append(byte)
                index += 1
            }
        }
    }

    /// At a run of quotes inside a multi-line string: one or two are content; three close the
    /// string, and up to two more before those three are content too (`""""` ends with `"`).
    private mutating func closesMultiline(quote: UInt8, into out: inout [UInt8]) throws(TOMLError) -> Bool {
        var count = 0
        while peek() == quote {
            count += 1
            index += 1
        }
        if count < 3 {
            out.append(contentsOf: repeatElement(quote, count: count))
            return false
        }
        if count > 5 { throw error("too many quotes at the end of a multi-line string") }
        out.append(contentsOf: repeatElement(quote, count: count - 3))
        return true
    }

    /// A newline right after the opening delimiter is not part of a multi-line string.
    private mutating func skipFirstNewline() throws(TOMLError) {
        if isNewline(peek()) { try consumeNewline() }
    }

    /// Control characters other than tab must be escaped in strings.
    private func checkStringByte(_ byte: UInt8) throws(TOMLError) {
        if byte < 0x20 && byte != 0x09 || byte == 0x7F {
            throw error("control character U+\(hex(UInt32(byte))) must be escaped in a string")
        }
    }

    /// After a backslash: one escape of a basic string.
    private mutating func parseEscape(into out: inout [UInt8]) throws(TOMLError) {
        guard let byte = peek() else { throw error("unterminated string") }
        index += 1
        switch byte {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let width = byte == UInt8(ascii: "u") ? 4 : 8
            var code: UInt32 = 0
            for _ in 0..<width {
                guard let digit = peek().flatMap(Self.hexValue) else {
                    throw error("\\\(Character(Unicode.Scalar(byte))) needs \(width) hexadecimal digits")
                }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            guard let scalar = Unicode.Scalar(code) else {
                throw error("\\\(Character(Unicode.Scalar(byte)))\(hex(code)) is not a Unicode scalar value")
            }
            out.append(contentsOf: String(Character(scalar)).utf8)
        default:
            index -= 1
            throw error("invalid escape '\\\(describeCurrent(quoted: false))'")
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: Numbers, dates and times

    private mutating func parseNumberOrDateTime() throws(TOMLError) -> JSONValue {
        let start = index
        while let byte = peek(), Self.isAtomByte(byte) { index += 1 }
        // "1979-05-27 07:32:00": a space may separate a date from its time.
        if index - start == 10, Self.isDate(bytes[start..<index]), index + 3 < bytes.count,
            bytes[index] == 0x20, Self.isDigit(bytes[index + 1]), Self.isDigit(bytes[index + 2]), bytes[index + 3] == UInt8(ascii: ":")
        {
            index += 1
            while let byte = peek(), Self.isAtomByte(byte) { index += 1 }
        }
        let atom = Array(bytes[start..<index])
        let text = String(decoding: atom, as: UTF8.self)
        if atom.contains(UInt8(ascii: ":")) || (atom.count >= 10 && Self.isDate(atom[0..<10])) {
            guard Self.isValidDateTime(atom) else { throw error("malformed date or time '\(text)'") }
            return .string(text)
        }
        return .number(try numberText(atom, text: text))
    }

    private static func isAtomByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "_"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"):
            true
        default: false
        }
    }

    /// JSON number text for a TOML integer or float.
    private func numberText(_ atom: [UInt8], text: String) throws(TOMLError) -> String {
        var position = 0
        var negative = false
        var signed = false
        if let first = atom.first, first == UInt8(ascii: "+") || first == UInt8(ascii: "-") {
            negative = first == UInt8(ascii: "-")
            signed = true
            position = 1
        }
        let rest = atom[position...]
        if rest.elementsEqual("inf".utf8) || rest.elementsEqual("nan".utf8) {
            throw error("'\(text)' has no JSON equivalent; write a finite number")
        }
        if rest.count >= 2, rest.first == UInt8(ascii: "0"),
            let radix = Self.radix(of: rest[rest.index(after: rest.startIndex)])
        {
            if signed { throw error("a hexadecimal, octal or binary integer cannot have a sign: '\(text)'") }
            position += 2
            guard let digits = Self.digitRun(atom, from: &position, isDigit: { Self.digitValue($0, radix: radix) != nil }),
                position == atom.count
            else { throw error("malformed integer '\(text)'") }
            var value: Int64 = 0
            for byte in digits {
                guard let digit = Self.digitValue(byte, radix: radix) else { throw error("malformed integer '\(text)'") }
                let (shifted, overflow) = value.multipliedReportingOverflow(by: Int64(radix))
                let (sum, overflowSum) = shifted.addingReportingOverflow(Int64(digit))
                if overflow || overflowSum { throw error("integer '\(text)' does not fit in 64 bits") }
                value = sum
            }
            return String(value)
        }

        guard let integerDigits = Self.digitRun(atom, from: &position, isDigit: Self.isDigit) else {
            throw error("malformed number '\(text)'")
        }
        if integerDigits.count > 1, integerDigits.first == UInt8(ascii: "0") {
            throw error("leading zeros are not allowed in '\(text)'")
        }
        var fraction: [UInt8]?
        var exponent: [UInt8]?
        if position < atom.count, atom[position] == UInt8(ascii: ".") {
            position += 1
            guard let digits = Self.digitRun(atom, from: &position, isDigit: Self.isDigit) else {
                throw error("a float needs digits after the '.' in '\(text)'")
            }
            fraction = digits
        }
        if position < atom.count, atom[position] == UInt8(ascii: "e") || atom[position] == UInt8(ascii: "E") {
            var digits: [UInt8] = [atom[position]]
            position += 1
            if position < atom.count, atom[position] == UInt8(ascii: "+") || atom[position] == UInt8(ascii: "-") {
                digits.append(atom[position])
                position += 1
            }
            guard let exponentDigits = Self.digitRun(atom, from: &position, isDigit: Self.isDigit) else {
                throw error("a float needs digits in the exponent of '\(text)'")
            }
            exponent = digits + exponentDigits
        }
        guard position == atom.count else { throw error("malformed number '\(text)'") }

        if fraction == nil && exponent == nil {
            let digits = String(decoding: integerDigits, as: UTF8.self)
            guard let value = Int64(negative ? "-" + digits : digits) else {
                throw error("integer '\(text)' does not fit in 64 bits")
            }
            return String(value)
        }
        var out: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        out += integerDigits
        if let fraction { out += [UInt8(ascii: ".")] + fraction }
        if let exponent { out += exponent }
        return String(decoding: out, as: UTF8.self)
    }

    private static func radix(of byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "x"): 16
        case UInt8(ascii: "o"): 8
        case UInt8(ascii: "b"): 2
        default: nil
        }
    }

    private static func digitValue(_ byte: UInt8, radix: Int) -> Int? {
        guard let value = hexValue(byte).map(Int.init), value < radix else { return nil }
        return value
    }

    /// Digits with single underscores between them (`1_000`); returns the digits alone.
    private static func digitRun(_ atom: [UInt8], from position: inout Int, isDigit: (UInt8) -> Bool) -> [UInt8]? {
        var digits: [UInt8] = []
        guard position < atom.count, isDigit(atom[position]) else { return nil }
        while position < atom.count {
            let byte = atom[position]
            if isDigit(byte) {
                digits.append(byte)
                position += 1
            } else if byte == UInt8(ascii: "_") {
                guard position + 1 < atom.count, isDigit(atom[position + 1]) else { return nil }
                position += 1
            } else {
                break
            }
        }
        return digits
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// `YYYY-MM-DD` shape (values are checked by `isValidDateTime`).
    private static func isDate(_ text: ArraySlice<UInt8>) -> Bool {
        guard text.count == 10 else { return false }
        return text.enumerated().allSatisfy { offset, byte in
            offset == 4 || offset == 7 ? byte == UInt8(ascii: "-") : isDigit(byte)
        }
    }

    /// RFC 3339 as TOML 1.0 allows: offset and local date-times, local dates, local times.
    private static func isValidDateTime(_ text: [UInt8]) -> Bool {
        var position = 0
        func number(_ width: Int) -> Int? {
            guard position + width <= text.count else { return nil }
            var value = 0
            for offset in 0..<width {
                let byte = text[position + offset]
                guard isDigit(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            position += width
            return value
        }
        func expect(_ byte: UInt8) -> Bool {
            guard position < text.count, text[position] == byte else { return false }
            position += 1
            return true
        }
        func time() -> Bool {
            guard let hour = number(2), hour <= 23, expect(UInt8(ascii: ":")),
                let minute = number(2), minute <= 59, expect(UInt8(ascii: ":")),
                let second = number(2), second <= 60
            else { return false }
            if expect(UInt8(ascii: ".")) {
                let start = position
                while position < text.count, isDigit(text[position]) { position += 1 }
                if position == start { return false }
            }
            return true
        }

        if text.count >= 10, isDate(text[0..<10]) {
            guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), (1...12).contains(month),
                expect(UInt8(ascii: "-")), let day = number(2), day >= 1, day <= daysIn(month: month, year: year)
            else { return false }
            if position == text.count { return true }
            guard expect(UInt8(ascii: "T")) || expect(UInt8(ascii: "t")) || expect(0x20) else { return false }
            guard time() else { return false }
            if position == text.count { return true }
            if expect(UInt8(ascii: "Z")) || expect(UInt8(ascii: "z")) { return position == text.count }
            guard expect(UInt8(ascii: "+")) || expect(UInt8(ascii: "-")),
                let offsetHour = number(2), offsetHour <= 23, expect(UInt8(ascii: ":")),
                let offsetMinute = number(2), offsetMinute <= 59
            else { return false }
            return position == text.count
        }
        return time() && position == text.count
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // MARK: White space, comments, newlines

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private func startsWith(_ text: String) -> Bool {
        bytes[index...].starts(with: text.utf8)
    }

    private func isNewline(_ byte: UInt8?) -> Bool {
        byte == 0x0A || byte == 0x0D
    }

    private mutating func skipSpaces() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 { index += 1 }
    }

    /// LF or CRLF; a carriage return alone is not a TOML newline.
    private mutating func consumeNewline() throws(TOMLError) {
        if peek() == 0x0D {
            guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else {
                throw error("a carriage return must be followed by a line feed")
            }
            index += 1
        }
        index += 1
        line += 1
    }

    /// From '#' to the end of the line (the newline itself stays).
    private mutating func skipComment() throws(TOMLError) {
        while let byte = peek() {
            if byte == 0x0A { return }
            if byte == 0x0D {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A { return }
                throw error("a carriage return must be followed by a line feed")
            }
            if byte < 0x20 && byte != 0x09 || byte == 0x7F {
                throw error("control character U+\(hex(UInt32(byte))) is not allowed in a comment")
            }
            index += 1
        }
    }

    /// Inside arrays: spaces, newlines and comments between values.
    private mutating func skipBlankLinesAndComments() throws(TOMLError) {
        while let byte = peek() {
            switch byte {
            case 0x20, 0x09: index += 1
            case 0x0A, 0x0D: try consumeNewline()
            case UInt8(ascii: "#"): try skipComment()
            default: return
            }
        }
    }

    private mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipSpaces()
        if peek() == UInt8(ascii: "#") { try skipComment() }
        guard let byte = peek() else { return }
        guard isNewline(byte) else { throw error("expected the end of the line after \(what), found \(describeCurrent())") }
        try consumeNewline()
    }

    // MARK: Tables

    private func entry(_ key: String, in table: Int) -> Entry? {
        guard let position = tables[table].positions[key] else { return nil }
        return tables[table].entries[position]
    }

    private mutating func add(_ key: String, _ entry: Entry, to table: Int) {
        tables[table].positions[key] = tables[table].entries.count
        tables[table].keys.append(key)
        tables[table].entries.append(entry)
    }

    /// Appends in place: many `[[x]]` headers must not copy the element list each time.
    private mutating func appendElement(_ element: Int, to key: String, in table: Int) {
        guard let position = tables[table].positions[key],
            case .tableArray(var elements) = tables[table].entries[position]
        else { return }
        tables[table].entries[position] = .value(.null)
        elements.append(element)
        tables[table].entries[position] = .tableArray(elements)
    }

    private mutating func newTable(kind: TableKind, parentDepth: Int, line tableLine: Int) throws(TOMLError) -> Int {
        let depth = parentDepth + 1
        guard depth <= TOML.maximumDepth else {
            throw TOMLError(message: "nesting deeper than \(TOML.maximumDepth) levels", line: tableLine)
        }
        tables.append(Table(kind: kind, depth: depth))
        return tables.count - 1
    }

    /// Recursion is bounded: every table's depth is at most `TOML.maximumDepth`.
    private func json(of table: Int) -> JSONValue {
        let node = tables[table]
        var members: [JSONMember] = []
        members.reserveCapacity(node.keys.count)
        for (key, entry) in zip(node.keys, node.entries) {
            switch entry {
            case .value(let value): members.append(JSONMember(key, value))
            case .table(let child): members.append(JSONMember(key, json(of: child)))
            case .tableArray(let elements): members.append(JSONMember(key, .array(elements.map { json(of: $0) })))
            }
        }
        return .object(members)
    }

    // MARK: Errors

    private func error(_ message: String) -> TOMLError {
        TOMLError(message: message, line: line)
    }

    /// The character at the current position, quoted, for messages.
    private func describeCurrent(quoted: Bool = true) -> String {
        guard index < bytes.count else { return "the end of the input" }
        var end = index + 1
        // Keep a multi-byte UTF-8 character whole.
        while end < bytes.count, end - index < 4, bytes[end] & 0xC0 == 0x80 { end += 1 }
        let scalar = String(decoding: bytes[index..<end], as: UTF8.self)
        switch bytes[index] {
        case 0x0A, 0x0D: return "the end of the line"
        case 0x00..<0x20, 0x7F: return "control character U+\(hex(UInt32(bytes[index])))"
        default: return quoted ? "'\(scalar)'" : scalar
        }
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
