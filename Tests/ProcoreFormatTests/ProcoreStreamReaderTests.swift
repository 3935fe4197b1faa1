import SOVTestSupport
import Testing
import SOVCore
@testable import ProcoreFormat

#if canImport(Glibc)
import Glibc
#endif

/// The Procore reader takes a file document by document; it must read exactly what a parse of
/// the whole input reads, and fail exactly where and how that parse fails.
@Suite struct ProcoreStreamReaderTests {
    /// Everything a stream over a file yields, and the failure that ended it.
    private static func stream(_ bytes: [UInt8], maximumDocumentBytes: Int = ProcoreStreamReader.maximumDocumentBytes) throws -> (items: [Verdict], failure: ProcoreSyntaxError?) {
        let scratch = TemporaryFolder()
        let path = scratch.write("input.json", bytes)
        let reader = ProcoreStreamReader(try InputFile(path: path), maximumDocumentBytes: maximumDocumentBytes)
        var items: [Verdict] = []
        do {
            while let item = try reader.next() { items.append(item) }
        } catch let failure as ProcoreSyntaxError {
            return (items, failure)
        }
        return (items, nil)
    }

    @Test("fails as a whole-input parse fails: same line, column and message", arguments: [
        #""" t, "x""#, "[tr]", "tru", "[1 2]", "[1,]", "[", "[ ", "{\"a\":1}\n{\"b\":", "{} x", "1 2 3x", "{\"a\":[1}",
        "\u{FEFF}  [\n\n  {\"a\": nul}]", "[{}]\n]", "[[[[" + String(repeating: "[", count: 300), "\"\\u12\"", "{\"a\":\"\\q\"}",
        "[{\"a\":1},\n{\"a\":2},\n{\"a\":3}", "{\"title\":\"x\ny\"}", "-", "[-]", "[01]", "[1.]", "{\"a\" 1}", "]", ",",
    ])
    func failsLikeTheWholeParse(_ text: String) throws {
        let bytes = Array(text.utf8)
        #expect(throws: JSONParseError.self) { try JSONParser.parseSequence(bytes) }
        let expected: JSONParseError
        do {
            _ = try JSONParser.parseSequence(bytes)
            return
        } catch {
            expected = error
        }
        for failure in [ProcoreReader.read(bytes: bytes, file: "in.json").failure, try Self.stream(bytes).failure] {
            #expect(failure?.line == expected.line)
            #expect(failure?.column == expected.column)
            #expect(failure?.message == expected.message)
        }
    }

    @Test("a long JSON Lines file, values across buffer refills, reads as the whole input does")
    func longFile() throws {
        let event = try Fixture.text("input/pcco-event.json")
        let oneLine = String(event.filter { $0 != "\n" })
        var text = ""
        for number in 1...300 {
            text += oneLine.replacing(#""number": "012""#, with: #""number": "\#(number)""#) + (number % 7 == 0 ? "\n\n" : "\n")
        }
        let bytes = Array(text.utf8)
        #expect(bytes.count > 4 * 65_536)
        let whole = ProcoreReader.read(bytes: bytes, file: "in.json")
        let (items, failure) = try Self.stream(bytes)
        #expect(failure == nil)
        let numbers = items.compactMap { item -> String? in
            if case .accepted(.changeOrder(let order)) = item { return order.number }
            return nil
        }
        #expect(numbers == (1...300).map(String.init))
        #expect(whole.documents.count == 300)
        // Lines and record numbers as in the file: two lines after every seventh event.
        if case .accepted(let last)? = items.last {
            #expect(last.source.line == 300 + 300 / 7)
            #expect(last.source.record == 300)
        }
    }

    @Test("documents come out one by one; a syntax error at the end fails the input after them")
    func documentsBeforeTheFailure() throws {
        let event = String(try Fixture.text("input/pcco-event.json").filter { $0 != "\n" })
        let (items, failure) = try Self.stream(Array((event + "\n" + event + "\n{\"broken\": }\n").utf8))
        #expect(items.count == 2)
        #expect(failure?.line == 3)
        #expect(failure?.column == 12)
        #expect(failure?.message == "unexpected character '}'")
    }

    @Test("a value longer than the limit is refused at its start, without reading it whole")
    func documentLimit() throws {
        let text = "{\"a\": 1}\n  {\"description\": \"" + String(repeating: "x", count: 5_000) + "\"}\n"
        let (items, failure) = try Self.stream(Array(text.utf8), maximumDocumentBytes: 1_000)
        #expect(items.count == 1)
        #expect(failure?.line == 2)
        #expect(failure?.column == 3)
        #expect(failure?.message == "a JSON value longer than 1000 bytes; a Procore change order is far smaller")
    }

    @Test("a single object has no record number; an array's elements and further values do")
    func numbering() throws {
        let single = try Self.stream(Array("\n {\"a\":1}  \n".utf8))
        #expect(single.items.count == 1)
        if case .rejected(let reject)? = single.items.first {
            #expect(reject.diagnostics.first?.location.line == 2)
            #expect(reject.diagnostics.first?.location.record == nil)
        }
        let two = ProcoreReader.read(bytes: Array("{\"a\":1}\n{\"a\":2}".utf8), file: "in.json")
        #expect(two.rejects.map { $0.diagnostics.first?.location.record } == [1, 2])
    }
}
