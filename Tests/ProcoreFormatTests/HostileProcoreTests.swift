import SOVTestSupport
import Testing
import SOVCore
@testable import ProcoreFormat

#if canImport(Glibc)
import Glibc
#endif

/// Hostile Procore JSON: every input ends as a whole-input failure naming file, line and column
/// (exit 65), or as documents rejected with their field (exit 1); never a crash (a stack
/// overflow from nesting), a hang, or an amount read through a float.
@Suite struct HostileProcoreTests {
    private static func read(_ bytes: [UInt8], file: String = "hostile.json") -> ProcoreReadResult {
        ProcoreReader.read(bytes: bytes, file: file)
    }

    private static func read(_ text: String, file: String = "hostile.json") -> ProcoreReadResult {
        read(Array(text.utf8), file: file)
    }

    /// The whole-input failure, checked to be the only outcome.
    private static func failure(_ result: ProcoreReadResult, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> ProcoreSyntaxError {
        let failure = try #require(result.failure, sourceLocation: sourceLocation)
        #expect(result.documents.isEmpty && result.rejects.isEmpty, sourceLocation: sourceLocation)
        #expect(failure.status == ExitStatus.dataError, sourceLocation: sourceLocation)
        #expect(failure.line >= 1 && failure.column >= 1, sourceLocation: sourceLocation)
        #expect(failure.diagnostic.code == .FMT010, sourceLocation: sourceLocation)
        return failure
    }

    /// The event fixture with `value` put in as the first line's `total_amount`.
    private static func event(totalAmount value: String) throws -> [UInt8] {
        let text = try Fixture.text("input/pcco-event.json")
        let key = #""total_amount": "#
        let start = try #require(text.firstRange(of: key)).upperBound
        let end = try #require(text[start...].firstIndex(of: ","))
        return Array((text[..<start] + value + text[end...]).utf8)
    }

    @Test("100,000 levels of nesting stop at 256 with line and column, not a stack overflow", arguments: ["[", #"{"a":"#])
    func deepNesting(_ opener: String) throws {
        let closer = opener == "[" ? "]" : "}"
        let text = String(repeating: opener, count: 100_000) + "1" + String(repeating: closer, count: 100_000)
        let failure = try Self.failure(Self.read(text))
        #expect(failure.message == "nesting deeper than 256 levels")
        #expect(failure.line == 1)
        #expect(failure.column == 256 * opener.utf8.count + 1)
        #expect(failure.description.hasPrefix("hostile.json:1:\(failure.column): malformed JSON"))
    }

    @Test("deep nesting in a field the reader ignores still fails the input; 256 levels are fine")
    func nestingInIgnoredField() throws {
        let event = try Fixture.text("input/pcco-event.json")
        let brace = try #require(event.firstIndex(of: "{"))
        func with(depth: Int) -> String {
            let extra = #""x_extra": "# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + ","
            return String(event[...brace]) + extra + String(event[event.index(after: brace)...])
        }
        // The event object is level 1, so 255 arrays inside it make 256.
        let fine = Self.read(with(depth: 255))
        #expect(fine.failure == nil)
        #expect(fine.documents.count == 1)
        let failure = try Self.failure(Self.read(with(depth: 256)))
        #expect(failure.message == "nesting deeper than 256 levels")
    }

    @Test("an event cut off anywhere fails as a whole, naming line and column")
    func truncated() throws {
        let bytes = try Fixture.bytes("input/pcco-event.json")
        let end = try #require(bytes.lastIndex(of: UInt8(ascii: "}")))
        for cut in stride(from: 1, through: end, by: 61) {
            let failure = try Self.failure(Self.read(Array(bytes[..<cut])))
            let lines = bytes[..<cut].count(where: { $0 == 0x0A }) + 1
            #expect(failure.line <= lines, "cut at \(cut)")
        }
    }

    @Test("binary garbage fails as a whole", arguments: [0, 1, 2, 3] as [UInt64])
    func garbage(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        for first in [UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\"")] {
            var bytes = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            bytes[0] = first
            _ = try Self.failure(Self.read(bytes))
        }
    }

    @Test("empty input, white space or a lone BOM: nothing read and nothing failed (sov-parse calls it empty, 65)", arguments: ["", " \n\t ", "\u{FEFF}"])
    func empty(_ text: String) {
        let result = Self.read(text)
        #expect(result.failure == nil)
        #expect(result.documentCount == 0)
        #expect(ProcoreReader.looksLikeJSON(Array(text.utf8)) == false)
    }

    @Test("invalid UTF-8 in a string (stray, overlong, surrogate, truncated sequence) fails with its column", arguments: [
        [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82],
    ] as [[UInt8]])
    func invalidUTF8(_ bad: [UInt8]) throws {
        let bytes = Array("{\n  \"title\": \"Exam".utf8) + bad + Array(" room\"\n}".utf8)
        let failure = try Self.failure(Self.read(bytes))
        #expect(failure.message == "invalid UTF-8 in a string")
        #expect(failure.line == 2)
        #expect(failure.column == 12)  // the string's opening quote
    }

    @Test("escaped surrogates must pair", arguments: [#""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\ud800x""#])
    func unpairedSurrogates(_ string: String) throws {
        let failure = try Self.failure(Self.read(#"{"title": "# + string + "}"))
        #expect(failure.message == "unpaired surrogate in a string")
    }

    @Test("NUL: raw in a string or between values fails the input; escaped, it is text that later stages refuse")
    func nul() throws {
        let inString = try Self.failure(Self.read(Array(#"{"title": "a"#.utf8) + [0] + Array(#"b"}"#.utf8)))
        #expect(inString.message == "control character in a string")
        #expect(inString.column == 13)
        let between = try Self.failure(Self.read(Array(#"{"title": "ab""#.utf8) + [0] + Array("}".utf8)))
        #expect(between.message == "expected ',' or '}' in an object")
        // Escaped, a NUL is a character like any other here: the canonical document keeps it, and
        // the Spectrum writer refuses characters XML cannot carry.
        let text = try Fixture.text("input/pcco-event.json").replacing(#""title": "Exam room casework""#, with: #""title": "Exam\u0000room""#)
        let result = Self.read(text)
        #expect(result.failure == nil)
        guard case .changeOrder(let order)? = result.documents.first else {
            Issue.record("expected a change order, got \(result.rejects.map(\.diagnostics))")
            return
        }
        #expect(order.title == "Exam\u{0}room")
    }

    @Test("a 10 MB string is read without copies beyond its own size; an unterminated one fails at its start line")
    func hugeString() throws {
        let big = String(repeating: "d", count: 10 << 20)
        let text = try Fixture.text("input/pcco-event.json").replacing(#""description": "Add casework"#, with: #""description": "\#(big)"#)
        let result = Self.read(text)
        guard case .changeOrder(let order)? = result.documents.first else {
            Issue.record("expected a change order")
            return
        }
        #expect(order.description?.utf8.count == (10 << 20) + " to exam rooms 3-5; credit for deleted shelving".utf8.count)
        let unterminated = try Self.failure(Self.read("\n\n{\"description\": \"" + big))
        #expect(unterminated.message == "unterminated string")
        #expect(unterminated.line == 3)
    }

    @Test("40-digit amounts, as strings or JSON numbers, reject the document with the field", arguments: [
        "\"" + String(repeating: "9", count: 40) + "\"",
        String(repeating: "9", count: 40),
        String(repeating: "9", count: 40) + ".00",
        "1" + String(repeating: "0", count: 39) + "e0",
        "1e400",
        "-" + String(repeating: "9", count: 19),
    ])
    func fortyDigits(_ amount: String) throws {
        let result = Self.read(try Self.event(totalAmount: amount), file: "pcco-event.json")
        #expect(result.failure == nil)
        #expect(result.documents.isEmpty)
        let diagnostic = try #require(result.rejects.first?.diagnostics.first)
        #expect(diagnostic.code == .FMT001)
        #expect(diagnostic.location.file == "pcco-event.json")
        #expect(diagnostic.location.line == 1)
        #expect(diagnostic.location.field == "request_data.prime_contract_change_order_items[0].total_amount")
    }

    @Test("the largest amount that fits reads exactly; one cent more is out of range")
    func amountLimits() throws {
        let fits = Self.read(try Self.event(totalAmount: "\"92233720368547758.07\""))
        guard case .changeOrder(let order)? = fits.documents.first else {
            Issue.record("expected a change order: \(fits.rejects.map(\.diagnostics))")
            return
        }
        #expect(order.lines.first?.amount == Money(minorUnits: .max))
        let over = Self.read(try Self.event(totalAmount: "\"92233720368547758.08\""))
        #expect(over.rejects.first?.diagnostics.first?.message.contains("too large for an amount") == true)
    }

    @Test("a markups file that is hostile is refused with its name and line")
    func hostileMarkupsFile() throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("markups.json", "\n" + String(repeating: "[", count: 100_000))
        #expect {
            try ProcoreReader.loadMarkups(path)
        } throws: { error in
            let diagnostic = error as? Diagnostic
            return diagnostic?.code == .FMT010 && diagnostic?.location == SourceLocation(file: path, line: 2)
                && diagnostic?.message.contains("nesting deeper than 256 levels") == true
        }
    }
}


/// Issue 16: a document repeating a key is rejected (FMT007, naming the key); the others go on.
@Suite struct DuplicateKeyTests {
    @Test("\"status\":\"approved\",\"status\":\"draft\" rejects that document alone, naming the key")
    func duplicateKeyRejectsTheDocument() throws {
        var bytes: [UInt8] = []
        JSONWriter.write(try JSONParser.parse(Fixture.bytes("input/pcco-event.json")), into: &bytes)
        let compact = String(decoding: bytes, as: UTF8.self)
        let bad = #"{"prime_contract_change_order":{"number":"9","status":"approved","status":"draft"}}"#
        let result = ProcoreReader.read(bytes: Array((compact + "\n" + bad + "\n" + compact + "\n").utf8), file: "events.jsonl")
        #expect(result.failure == nil)
        #expect(result.documents.count == 2)
        #expect(result.rejects.count == 1)
        let diagnostic = try #require(result.rejects.first?.diagnostics.first)
        #expect(diagnostic.code == .FMT007)
        #expect(diagnostic.message.contains("\"status\" appears twice"))
        #expect(diagnostic.location.file == "events.jsonl")
        #expect(diagnostic.location.line == 2)
        #expect(diagnostic.location.field == "status")
        // The document is kept as its text in the reject, so nothing is lost.
        #expect(result.rejects.first?.record?["text"]?.stringValue == bad)
    }
}
