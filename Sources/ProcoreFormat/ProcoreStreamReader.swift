import SOVCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a Procore JSON input (one object, an array of them, or JSON Lines) one document at a
/// time, so memory follows the largest document, not the file: a JSON Lines export of 100,000
/// events is never held whole. A top-level array is taken element by element.
///
/// Documents come out as they are read; a syntax error anywhere still fails the whole input
/// (`ProcoreSyntaxError`, exit 65), with the line, column and message a parse of the whole input
/// would give, so the caller must drop what came before it (sov-parse holds an input's documents
/// until its end). `ProcoreReader.read(bytes:)` is this reader over bytes in memory.
public final class ProcoreStreamReader {
    /// No Procore change order comes near this; a value past it is refused rather than held.
    public static let maximumDocumentBytes = 16 << 20

    public let file: String
    private let input: InputFile?
    private let markups: JSONValue?
    private let maximumDocumentBytes: Int

    private var buffer: [UInt8]
    /// First byte not yet consumed, and end of the bytes read, in `buffer`.
    private var start = 0
    private var end = 0
    /// Offset in the input of `buffer[0]`.
    private var base = 0
    private var atEnd: Bool
    private var line = 1
    /// Offset in the input where `line` starts.
    private var lineStart = 0

    private enum Place {
        case beforeFirstValue
        case top
        case arrayOpened
        case arrayAfterComma
        case arrayAfterElement
    }
    private var place = Place.beforeFirstValue
    /// Whether documents carry record numbers: only where an input holds several (an array, or
    /// more than one top-level value). Known once the first value has been read.
    private var numbered: Bool?
    private var record = 0
    private var failure: ProcoreSyntaxError?

    public init(_ input: InputFile, markups: JSONValue? = nil, maximumDocumentBytes: Int = ProcoreStreamReader.maximumDocumentBytes) {
        self.input = input
        self.file = input.name
        self.markups = markups
        self.maximumDocumentBytes = maximumDocumentBytes
        self.buffer = [UInt8](unsafeUninitializedCapacity: 1 << 16) { _, count in count = 1 << 16 }
        self.atEnd = false
    }

    public init(bytes: [UInt8], file: String, markups: JSONValue? = nil, maximumDocumentBytes: Int = ProcoreStreamReader.maximumDocumentBytes) {
        self.input = nil
        self.file = file
        self.markups = markups
        self.maximumDocumentBytes = maximumDocumentBytes
        self.buffer = bytes
        self.end = bytes.count
        self.atEnd = true
    }

    /// The next document, nil at the end. Throws `ProcoreSyntaxError` when the input is not
    /// JSON (and from then on), `IOFailure` when reading fails.
    public func next() throws -> Verdict? {
        if let failure { throw failure }
        do {
            return try step()
        } catch let failure as ProcoreSyntaxError {
            self.failure = failure
            throw failure
        }
    }

    private func step() throws -> Verdict? {
        while true {
            switch place {
            case .beforeFirstValue:
                // As JSONParser.parseSequence: white space, then a byte order mark is skipped.
                place = .top
                if try skipWhitespace(), try available(3), buffer[start] == 0xEF, buffer[start + 1] == 0xBB, buffer[start + 2] == 0xBF {
                    start += 3
                }
            case .top:
                guard try skipWhitespace() else { return nil }
                if buffer[start] == UInt8(ascii: "[") {
                    start += 1
                    place = .arrayOpened
                    if numbered == nil { numbered = true }
                    continue
                }
                return try document(depth: 0)
            case .arrayOpened:
                guard try skipWhitespace() else { throw syntaxError("unexpected end of input") }
                if buffer[start] == UInt8(ascii: "]") {
                    start += 1
                    place = .top
                    continue
                }
                place = .arrayAfterElement
                return try document(depth: 1)
            case .arrayAfterComma:
                guard try skipWhitespace() else { throw syntaxError("unexpected end of input") }
                place = .arrayAfterElement
                return try document(depth: 1)
            case .arrayAfterElement:
                guard try skipWhitespace() else { throw syntaxError("unexpected end of input in an array") }
                switch buffer[start] {
                case UInt8(ascii: ","):
                    start += 1
                    place = .arrayAfterComma
                case UInt8(ascii: "]"):
                    start += 1
                    place = .top
                default:
                    throw syntaxError("expected ',' or ']' in an array")
                }
            }
        }
    }

    private func take(_ value: JSONValue, line: Int) -> Verdict {
        record += 1
        let location = SourceLocation(file: file, line: line, record: numbered == true ? record : nil)
        switch ProcoreReader.changeOrder(from: value, at: location, markups: markups) {
        case .success(let order): return .accepted(.changeOrder(order))
        case .failure(let rejection): return .rejected(Reject(record: value, diagnostics: rejection.diagnostics))
        }
    }

    // MARK: Bytes

    private var column: Int { base + start - lineStart + 1 }

    private func syntaxError(_ message: String) -> ProcoreSyntaxError {
        ProcoreSyntaxError(file: file, line: line, column: column, message: message)
    }

    /// Reads more input after `end`, first moving the unconsumed bytes to the front, growing the
    /// buffer only when a value fills it.
    private func refill() throws {
        guard let input, !atEnd else {
            atEnd = true
            return
        }
        if start > 0 {
            let count = end - start
            if count > 0 {
                let from = start
                buffer.withUnsafeMutableBytes { raw in
                    let bytes = raw.baseAddress!
                    memmove(bytes, bytes + from, count)
                }
            }
            base += start
            end = count
            start = 0
        }
        if end == buffer.count {
            buffer.append(contentsOf: repeatElement(0, count: buffer.count))
        }
        let filled = end
        let count = try buffer.withUnsafeMutableBytes { raw in
            try input.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...]))
        }
        if count == 0 { atEnd = true } else { end += count }
    }

    /// Whether `count` bytes from `start` are there (reading more if needed).
    private func available(_ count: Int) throws -> Bool {
        while end - start < count {
            if atEnd { return false }
            try refill()
        }
        return true
    }

    /// Skips white space, counting lines; false at the end of the input.
    private func skipWhitespace() throws -> Bool {
        while true {
            while start < end {
                switch buffer[start] {
                case 0x20, 0x09, 0x0D:
                    start += 1
                case 0x0A:
                    start += 1
                    line += 1
                    lineStart = base + start
                default:
                    return true
                }
            }
            if atEnd { return false }
            try refill()
        }
    }

    /// The value at `start`, parsed by JSONParser once its bytes are all in the buffer; `start`
    /// and the line count move past it. `depth` is how deeply it is nested in the input.
    private func parseValue(depth: Int) throws -> (JSONValue, Int) {
        let length = try extent(depth: depth)
        // A few bytes past it too, and the parser is given all it has: it stops where the value
        // ends, and looks exactly as far ahead as a whole-input parse (a literal is checked
        // against its full length, so "tr}" is an invalid literal, not a premature end).
        _ = try available(length + 8)
        let valueLine = line
        let parsed: (value: JSONValue, end: Int)
        do {
            parsed = try JSONParser.parseValue(buffer, range: start..<end, line: line, column: column, depth: depth)
        } catch {
            guard let key = error.duplicateKey, start + length <= end else {
                throw ProcoreSyntaxError(file: file, line: error.line, column: error.column, message: error.message)
            }
            // Well-formed but ambiguous: that document alone is rejected, kept as its text.
            let text = String(decoding: buffer[start..<(start + length)], as: UTF8.self)
            moveLines(to: start + length)
            throw DuplicateKey(key: key, line: error.line, column: error.column, valueLine: valueLine, text: text)
        }
        moveLines(to: parsed.end)
        return (parsed.value, valueLine)
    }

    /// A document whose object repeats a key (thrown by `parseValue`, turned into a reject).
    private struct DuplicateKey: Error {
        var key: String
        var line: Int
        var column: Int
        var valueLine: Int
        var text: String
    }

    /// Moves `start` to `newStart`, counting the lines passed.
    private func moveLines(to newStart: Int) {
        for index in start..<newStart where buffer[index] == 0x0A {
            line += 1
            lineStart = base + index + 1
        }
        start = newStart
    }

    /// The value at `start` as a document, or its reject when an object in it repeats a key.
    private func document(depth: Int) throws -> Verdict {
        do {
            let (value, valueLine) = try parseValue(depth: depth)
            if depth == 0, numbered == nil { numbered = try skipWhitespace() }
            return take(value, line: valueLine)
        } catch let duplicate as DuplicateKey {
            if depth == 0, numbered == nil { numbered = try skipWhitespace() }
            record += 1
            let location = SourceLocation(file: file, line: duplicate.line, record: numbered == true ? record : nil, field: duplicate.key)
            let diagnostic = Diagnostic.error(.FMT007, "the key \"\(duplicate.key)\" appears twice in one object (column \(duplicate.column)); JSON readers disagree on which one counts, so the document is not read", at: location)
            return .rejected(Reject(record: .object(["file": .string(file), "line": .number(String(duplicate.valueLine)), "text": .string(duplicate.text)]), diagnostics: [diagnostic]))
        }
    }

    /// How many bytes from `start` make up the value there (its closing bracket or quote), or up
    /// to the end of the input when it is cut off; the bytes are then all in the buffer. A
    /// container stops at the bracket that nests one level too deep, where the parser will say so.
    /// A bare word stops at white space or punctuation; a stray punctuation mark is one byte.
    private func extent(depth baseDepth: Int) throws -> Int {
        let length = try unboundedExtent(depth: baseDepth)
        if length > maximumDocumentBytes { throw tooLong(line: line, column: column) }
        return length
    }

    private func tooLong(line: Int, column: Int) -> ProcoreSyntaxError {
        ProcoreSyntaxError(file: file, line: line, column: column, message: "a JSON value longer than \(maximumDocumentBytes) bytes; a Procore change order is far smaller")
    }

    private func unboundedExtent(depth baseDepth: Int) throws -> Int {
        let valueStart = (line: line, column: column)
        var index = start
        func more() throws -> Bool {
            if index - start > maximumDocumentBytes { throw tooLong(line: valueStart.line, column: valueStart.column) }
            if atEnd { return false }
            let offset = index - start
            try refill()
            index = start + offset
            return true
        }
        let first = buffer[index]
        switch first {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var inString = false
            var escaped = false
            while true {
                if index == end {
                    if try more() { continue }
                    return index - start
                }
                let byte = buffer[index]
                index += 1
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""):
                    inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    if baseDepth + depth > JSONParser.maximumDepth { return index - start }
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index - start }
                default:
                    break
                }
            }
        case UInt8(ascii: "\""):
            index += 1
            var escaped = false
            while true {
                if index == end {
                    if try more() { continue }
                    return index - start
                }
                let byte = buffer[index]
                index += 1
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    return index - start
                }
            }
        default:
            while true {
                if index == end {
                    if try more() { continue }
                    break
                }
                switch buffer[index] {
                case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"),
                    UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "\""):
                    return max(1, index - start)
                default:
                    index += 1
                }
            }
            return max(1, index - start)
        }
    }
}
