import Testing
@testable import SOVCore
import SOVTestSupport

/// The byte writer writes by raw pointers into slack it cuts off at the end; these check that
/// what it writes is what the tree writer (`JSONWriter`) writes, byte for byte.
@Suite("JSONByteOutput")
struct JSONByteOutputTests {
    private func bytes(_ body: (inout JSONByteOutput) -> Void) -> String {
        var target: [UInt8] = Array("prefix ".utf8)
        JSONByteOutput.write(into: &target, body)
        #expect(target.starts(with: Array("prefix ".utf8)), "what the target held is kept")
        return String(decoding: target.dropFirst(7), as: UTF8.self)
    }

    private func tree(_ body: (inout JSONTreeOutput) -> Void) -> String {
        JSONTreeOutput.build(body).text
    }

    @Test("strings escape as JSONWriter escapes them, plain and escaped, short and long",
          arguments: ["", "plain", "quote \" and backslash \\", "line\nfeed\r\ttab", "\u{0}\u{1}\u{1F}\u{7F}", "é ü 漢字 🚧", String(repeating: "x", count: 70_000), String(repeating: "\"\n", count: 5_000)])
    func strings(_ text: String) {
        func describe(_ output: inout some JSONOutput) {
            output.object {
                $0.member(text, text)
                $0.key("list")
                $0.array([text, text]) { $0.string($1) }
            }
        }
        #expect(bytes { describe(&$0) } == tree { describe(&$0) })
    }

    @Test("source locations: the text before the line number is reused for the same file, and only then")
    func sourceLocations() {
        typealias Location = SOVCore.SourceLocation
        let quoted = "/tmp/a \"quoted\"\n.csv"
        var locations: [Location] = [Location(file: quoted, line: 2), Location(file: quoted, line: 10_000)]
        locations.append(Location(file: quoted, line: -3))
        locations.append(Location(file: quoted, line: 4, record: 7))
        locations.append(Location(file: "b.csv", line: 5))
        locations.append(Location(file: quoted, line: 6))
        locations.append(Location(file: nil, line: 7))
        locations.append(Location(file: "b.csv"))
        locations.append(Location(file: "b.csv", line: 8))
        locations.append(Location(file: "b.csv", line: 9, field: "X"))
        locations.append(Location(file: "\u{E9}.csv", line: 0))
        locations.append(Location(file: "\u{E9}.csv", line: 1))
        func describe(_ output: inout some JSONOutput) {
            output.array(locations) { output, location in
                output.object {
                    $0.key(.source)
                    $0.source(location)
                    $0.member("after", int: 1)
                }
            }
        }
        #expect(bytes { describe(&$0) } == tree { describe(&$0) })
    }

    /// Copies `bytes` with the checking copy into a buffer with a guard byte on either side.
    private func checkedCopy(_ bytes: [UInt8]) -> (plain: Bool, copied: [UInt8], guards: [UInt8]) {
        var target = [UInt8](repeating: 0xEE, count: bytes.count + 2)
        let plain = bytes.withUnsafeBufferPointer { source in
            target.withUnsafeMutableBufferPointer { JSONByteOutput.copyUnlessEscaped(source, to: $0.baseAddress! + 1) }
        }
        return (plain, Array(target[1..<(bytes.count + 1)]), [target[0], target[bytes.count + 1]])
    }

    @Test("the word-at-a-time escape check agrees with the byte check for every byte, at every position and length, and copies exactly the bytes")
    func escapeCheckByWords() {
        for byte in 0...255 {
            for length in 1...19 {
                for position in 0..<length {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = UInt8(byte)
                    let expected = JSONByteOutput.needsEscape(UInt8(byte))
                    let result = checkedCopy(bytes)
                    #expect(result.plain == !expected, "byte \(byte) at \(position) of \(length)")
                    if !expected { #expect(result.copied == bytes, "byte \(byte) at \(position) of \(length)") }
                    #expect(result.guards == [0xEE, 0xEE], "nothing written outside the copy")
                }
            }
        }
        // Multi-byte UTF-8 around the bytes that matter sets off nothing by itself.
        let text = Array("caf\u{E9} \u{2019}\u{4E2D}\u{1F600} ~}|{".utf8)
        #expect(checkedCopy(text).plain && checkedCopy(text).copied == text)
        #expect(checkedCopy([]).plain)
    }

    @Test("the short-run copy copies every length exactly, and nothing else")
    func shortCopies() {
        for length in 0...80 {
            let source = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            var target = [UInt8](repeating: 0xEE, count: length + 2)
            source.withUnsafeBufferPointer { source in
                target.withUnsafeMutableBufferPointer { JSONByteOutput.copy(source.baseAddress ?? UnsafePointer(bitPattern: 1)!, count: length, to: $0.baseAddress! + 1) }
            }
            #expect(Array(target[1..<(length + 1)]) == source && target.first == 0xEE && target.last == 0xEE, "length \(length)")
        }
    }

    @Test("random strings (every control character, quotes, backslashes, DEL, Unicode, empty) are written as JSONWriter writes them")
    func randomStrings() {
        var generator = SplitMix64(seed: 0x5EED_0001)
        let pieces: [String] = (0..<0x20).map { String(UnicodeScalar(UInt8($0))) } + ["\"", "\\", "\u{7F}", "a", "Z", "0", " ", "/", "~", "é", "\u{80}", "\u{2028}", "漢", "🚧", "ab", "-", ":"]
        var texts: [String] = [""]
        for _ in 0..<3_000 {
            let length = Int(generator.next() % 40)
            texts.append(String((0..<length).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined()))
        }
        // Mostly plain text, with at most one byte to escape, at every length around the words.
        for length in 0..<40 {
            texts.append(String(repeating: "x", count: length))
            texts.append(String(repeating: "y", count: length) + pieces[Int(generator.next() % 34)])
        }
        func describe(_ output: inout some JSONOutput) {
            output.array(texts) { output, text in
                output.object {
                    $0.member(text, text)
                    $0.key(.code)
                    $0.string(text)
                }
            }
        }
        #expect(bytes { describe(&$0) } == tree { describe(&$0) })
    }

    @Test("random amounts (negative, zero, large, every scale) and integers are spelled as Money.description and String(value)")
    func randomNumbers() {
        var generator = SplitMix64(seed: 0x5EED_0002)
        var units: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, 999_999, 1_000_000, Int64.max, Int64.min, Int64.min + 1]
        for _ in 0..<3_000 {
            let raw = Int64(bitPattern: generator.next())
            // Spread over every number of digits, not just the largest.
            units.append(raw >> (generator.next() % 64))
        }
        let currencies = (0...6).map { Currency(code: "C\($0)", minorDigits: $0) }
        func describe(_ output: inout some JSONOutput) {
            output.array(units) { output, units in
                output.object {
                    for currency in currencies { $0.member("a", Money(minorUnits: units, currency: currency)) }
                    $0.member("i", int: Int(units))
                    $0.key(.source)
                    $0.source(SourceLocation(file: "f.csv", line: Int(units)))
                }
            }
        }
        let written = bytes { describe(&$0) }
        #expect(written == tree { describe(&$0) })
        #expect(written.contains("\"a\":\"-92233720368547.75808\""))
    }

    @Test("integers and amounts are spelled as String(value) and Money.description spell them",
          arguments: [Int64(0), 5, -5, 100, -100, 123_456_789, -1, Int64.max, Int64.min + 1])
    func numbers(_ units: Int64) {
        let amounts = [Money(minorUnits: units), Money(minorUnits: units, currency: Currency(code: "JPY", minorDigits: 0)), Money(minorUnits: units, currency: Currency(code: "XAU", minorDigits: 6))]
        func describe(_ output: inout some JSONOutput) {
            output.array(amounts) { output, amount in
                output.object {
                    $0.member("amount", amount)
                    $0.member("units", int: Int(units))
                    $0.member("none", Optional<Money>.none)
                }
            }
        }
        let written = bytes { describe(&$0) }
        #expect(written == tree { describe(&$0) })
        #expect(written.contains("\"amount\":\"\(amounts[0].description)\""))
        #expect(written.contains("\"units\":\(units)"))
    }

    @Test("a key, known ahead or not, short or long, plain or escaped, goes out with whatever value follows it")
    func keysBeforeValues() {
        let known = [JSONKey.code, .source, JSONKey("a member name longer than thirty-two bytes, with \"quotes\"")]
        let names = ["k", "", "a name of twenty-nine bytes!!", "a name of thirty bytes, just!!", "needs \"escaping\"", "\u{E9}t\u{E9}"]
        #expect(names[2].utf8.count == 29 && names[3].utf8.count == 30)
        func describe<Output: JSONOutput>(_ output: inout Output) {
            let keys: [(inout Output) -> Void] = known.map { key in { $0.key(key) } } + names.map { name in { $0.key(name) } }
            output.object { output in
                for key in keys {
                    key(&output); output.beginObject(); output.endObject()
                    key(&output); output.array([1, 2]) { $0.integer($1) }
                    key(&output); output.null()
                    key(&output); output.string("needs \"escaping\"\n")
                    key(&output); output.string("plain")
                    key(&output); output.money(Money(minorUnits: -5))
                    key(&output); output.integer(42)
                    key(&output); output.number("1.5e3")
                    key(&output); output.bool(true)
                    key(&output); output.value(.array([.string("v")]))
                    key(&output); output.source(SourceLocation(file: "k.csv", line: 3))
                    key(&output); output.source(SourceLocation(file: "k.csv", line: 4))
                    key(&output); output.source(SourceLocation(file: "k.csv", line: 5, record: 2))
                }
            }
        }
        #expect(bytes { describe(&$0) } == tree { describe(&$0) })
    }

    @Test("SOV lines, written in one go where they can be (`sovLine`), are the tree's, byte for byte", arguments: 0..<4)
    func sovLines(_ seed: Int) {
        typealias Location = SOVCore.SourceLocation
        var random = SplitMix64(seed: UInt64(seed) &* 613 &+ 9)
        let texts: [String?] = [nil, "", "00-000", "Concrete work package 0", "quote \" here", "tab\there", "\u{E9}t\u{E9} \u{1F6A7}", String(repeating: "x", count: 300)]
        let files: [String?] = ["/tmp/a.csv", "/tmp/a.csv", "/tmp/a.csv", "b \"q\".csv", nil]
        func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }
        for round in 0..<30 {
            var lines: [SOVLine] = []
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                let unitPriced = Int.random(in: 0..<6, using: &random) == 0
                let location: Location? = Int.random(in: 0..<10, using: &random) == 0 ? nil
                    : Location(file: pick(files), line: Int.random(in: 0..<9, using: &random) == 0 ? nil : Int.random(in: -5...100_000, using: &random),
                        record: Int.random(in: 0..<12, using: &random) == 0 ? 3 : nil)
                lines.append(SOVLine(
                    code: pick(texts) ?? "", description: pick(texts), additionalDescription: pick(texts),
                    amount: Money(minorUnits: Int64.random(in: -1_000_000_000...1_000_000_000, using: &random)),
                    costCode: pick(texts), group: pick(texts), unitPrice: unitPriced ? Money(minorUnits: 250) : nil,
                    quantity: unitPriced ? pick(texts) : nil, unitOfMeasure: unitPriced ? pick(texts) : nil, source: location))
            }
            func describe(_ output: inout some JSONOutput) {
                output.beginObject()
                output.key("lines")
                output.beginArray()
                lines.withUnsafeBufferPointer { buffer in
                    for index in buffer.indices { SOVLine.encode(buffer.baseAddress! + index, into: &output) }
                }
                output.endArray()
                output.member("after", "z")
                output.endObject()
            }
            #expect(bytes { describe(&$0) } == tree { describe(&$0) }, "seed \(seed) round \(round)")
        }
    }

    @Test("a document written as bytes is the same as its tree written")
    func wholeValues() {
        let value: JSONValue = .object(["a": .array([.null, .bool(true), .number("1.5"), .string("x\u{2028}y")]), "b": .object([])])
        let written = bytes { output in
            output.object {
                $0.key("v")
                $0.value(value)
                $0.member("after", "z")
                $0.member("flag", bool: false)
            }
        }
        #expect(written == #"{"v":"# + value.text + #","after":"z","flag":false}"#)
        var direct = JSONByteOutput(buffer: Array("[".utf8))
        direct.value(.int(1))
        direct.integer(-2)
        #expect(String(decoding: direct.buffer, as: UTF8.self) == "[1,-2")
    }
}

@Suite("OutputSink raw writes")
struct OutputSinkRawWriteTests {
    @Test("runs smaller and larger than the buffer, between buffered lines, arrive whole and in order")
    func rawRuns() throws {
        let scratch = TemporaryFolder()
        let path = scratch.file("raw.out")
        let sink = try OutputSink(creating: path)
        var expected: [UInt8] = []
        for (index, size) in [0, 1, 100, 65_535, 65_536, 70_000, 3, 1 << 20, 10].enumerated() {
            try sink.write("line \(index)\n")
            expected += Array("line \(index)\n".utf8)
            let run = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            try run.withUnsafeBytes { try sink.write(raw: $0) }
            expected += run
        }
        try sink.flush()
        #expect(try InputFile(path: path).readAll() == expected)
    }
}
