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

    @Test("the eight-at-a-time escape check agrees with the byte check for every byte, at every position and length")
    func escapeCheckByWords() {
        for byte in 0...255 {
            for length in 1...19 {
                for position in 0..<length {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = UInt8(byte)
                    let expected = JSONByteOutput.needsEscape(UInt8(byte))
                    bytes.withUnsafeBufferPointer { #expect(JSONByteOutput.anyNeedsEscape($0) == expected, "byte \(byte) at \(position) of \(length)") }
                }
            }
        }
        // Multi-byte UTF-8 around the bytes that matter sets off nothing by itself.
        let text = Array("caf\u{E9} \u{2019}\u{4E2D}\u{1F600} ~}|{".utf8)
        text.withUnsafeBufferPointer { #expect(!JSONByteOutput.anyNeedsEscape($0)) }
        #expect([UInt8]().withUnsafeBufferPointer { JSONByteOutput.anyNeedsEscape($0) } == false)
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
