import SOVTestSupport
import Testing
@testable import SOVCore

#if canImport(Glibc)
import Glibc
#endif

/// Every item of a CSV input, read to its end.
private func readAll(_ bytes: [UInt8], delimiter: Character = ",", encoding: TextEncoding = .utf8, checksFieldCount: Bool = true) throws -> [CSVReader.Item] {
    let scratch = TemporaryFolder()
    let path = scratch.write("input.csv", bytes)
    let reader = CSVReader(try InputFile(path: path), delimiter: delimiter.asciiValue!, encoding: encoding, checksFieldCount: checksFieldCount)
    var items: [CSVReader.Item] = []
    while let item = try reader.next() { items.append(item) }
    return items
}

private func readAll(_ text: String, delimiter: Character = ",", encoding: TextEncoding = .utf8, checksFieldCount: Bool = true) throws -> [CSVReader.Item] {
    try readAll(Array(text.utf8), delimiter: delimiter, encoding: encoding, checksFieldCount: checksFieldCount)
}

private extension CSVReader.Item {
    var record: CSVRecord? {
        if case .record(let record) = self { return record }
        return nil
    }

    var error: CSVError? {
        if case .malformed(let error) = self { return error }
        return nil
    }
}

@Suite("CSVReader")
struct CSVReaderTests {
    @Test("plain records with their numbers, lines and byte offsets")
    func plainRecords() throws {
        let items = try readAll("a,b,c\n1,2,3\n4,5,6\n")
        let records = items.compactMap(\.record)
        #expect(records.map(\.fields) == [["a", "b", "c"], ["1", "2", "3"], ["4", "5", "6"]])
        #expect(records.map(\.number) == [1, 2, 3])
        #expect(records.map(\.line) == [1, 2, 3])
        #expect(records.map(\.offset) == [0, 6, 12])
    }

    @Test("the last record needs no line end")
    func noFinalNewline() throws {
        let records = try readAll("a,b\n1,2").compactMap(\.record)
        #expect(records.map(\.fields) == [["a", "b"], ["1", "2"]])
    }

    @Test("an empty file has no records")
    func emptyFile() throws {
        #expect(try readAll("").isEmpty)
    }

    @Test("quoted fields: delimiters, doubled quotes, empty quotes")
    func quotedFields() throws {
        let records = try readAll("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"\"\n").compactMap(\.record)
        #expect(records.last?.fields == ["x, y", "say \"hi\"", ""])
    }

    @Test("CRLF record ends")
    func crlf() throws {
        let records = try readAll("a,b\r\n1,2\r\n3,4\r\n").compactMap(\.record)
        #expect(records.map(\.fields) == [["a", "b"], ["1", "2"], ["3", "4"]])
        #expect(records.map(\.line) == [1, 2, 3])
    }

    @Test("CRLF and LF inside quotes are kept as they are, and lines still counted")
    func embeddedNewlines() throws {
        let items = try readAll("a,b\n\"one\r\ntwo\",\"three\nfour\"\nnext,row\n")
        let records = items.compactMap(\.record)
        #expect(records.count == 3)
        #expect(records[1].fields == ["one\r\ntwo", "three\nfour"])
        #expect(records[1].line == 2)
        #expect(records[2].fields == ["next", "row"])
        #expect(records[2].line == 5)
    }

    @Test("a trailing empty field is kept")
    func trailingEmptyField() throws {
        let records = try readAll("a,b,c\n1,2,\n").compactMap(\.record)
        #expect(records.last?.fields == ["1", "2", ""])
    }

    @Test("spaces are part of values: the reader never trims")
    func spacesKept() throws {
        let records = try readAll("a,b\n\"24-1017   \", x \n").compactMap(\.record)
        #expect(records.last?.fields == ["24-1017   ", " x "])
    }

    @Test("delimiters ; tab |", arguments: [";", "\t", "|"])
    func delimiters(_ delimiter: String) throws {
        let d = Character(delimiter)
        let text = "a\(d)b\(d)c\n1\(d)\"x\(d)y\"\(d)3\n"
        let records = try readAll(text, delimiter: d).compactMap(\.record)
        #expect(records.map(\.fields) == [["a", "b", "c"], ["1", "x\(delimiter)y", "3"]])
        // With another delimiter the comma is ordinary text.
        let commas = try readAll("a\(d)b\n1,5\(d)2\n", delimiter: d).compactMap(\.record)
        #expect(commas.last?.fields == ["1,5", "2"])
    }

    @Test("unterminated quote: fatal, naming the line the quote opened on")
    func unterminatedQuote() throws {
        let items = try readAll("a,b\n1,\"open\nmore\nstill\n")
        let error = try #require(items.last?.error)
        #expect(error.fatal)
        #expect(error.code == .FMT007)
        #expect(error.message.contains("unterminated"))
        #expect(error.message.contains("line 2"))
        #expect(error.record == 2)
    }

    @Test("a quote inside an unquoted field is an error for that record only")
    func quoteInsideUnquoted() throws {
        let items = try readAll("a,b\nab\"c,2\n3,4\n")
        #expect(items.count == 3)
        let error = try #require(items[1].error)
        #expect(!error.fatal)
        #expect(error.message.contains("quote inside an unquoted field"))
        #expect(error.line == 2)
        #expect(error.record == 2)
        #expect(error.offset == 6)
        #expect(items[2].record?.fields == ["3", "4"])
        #expect(items[2].record?.number == 3)
    }

    @Test("text after a closing quote is an error, not silently joined")
    func textAfterClosingQuote() throws {
        let items = try readAll("a,b\n\"ab\"x,2\n3,4\n")
        let error = try #require(items[1].error)
        #expect(error.message.contains("text after a closing quote"))
        #expect(error.offset == 8)
        #expect(!error.fatal)
        #expect(items[2].record?.fields == ["3", "4"])
    }

    @Test("a record with a different field count than the header")
    func fieldCount() throws {
        let items = try readAll("a,b,c\n1,2\n1,2,3,4\n5,6,7\n")
        #expect(items[1].error?.message == "record has 2 fields, the header has 3")
        #expect(items[1].error?.line == 2)
        #expect(items[2].error?.message == "record has 4 fields, the header has 3")
        #expect(items[3].record?.fields == ["5", "6", "7"])
        // Without the check, any count is a record.
        let loose = try readAll("a,b,c\n1,2\n", checksFieldCount: false)
        #expect(loose.last?.record?.fields == ["1", "2"])
    }

    @Test("a UTF-8 BOM is dropped and wins over windows-1252")
    func byteOrderMark() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("Job,Name\n1,Caf".utf8) + [0xC3, 0xA9] + [0x0A]
        let records = try readAll(bytes, encoding: .windows1252).compactMap(\.record)
        #expect(records.first?.fields == ["Job", "Name"])
        #expect(records.last?.fields == ["1", "Café"])
        #expect(records.first?.offset == 3)
    }

    @Test("Windows-1252: 0x92 is a right single quote, 0x80 the euro sign, 0x96 an en dash")
    func windows1252() throws {
        let bytes: [UInt8] = Array("a,b\nSt. Mary".utf8) + [0x92] + Array("s,".utf8) + [0x80] + Array("5 ".utf8) + [0x96, 0x0A]
        let records = try readAll(bytes, encoding: .windows1252).compactMap(\.record)
        #expect(records.last?.fields == ["St. Mary\u{2019}s", "\u{20AC}5 \u{2013}"])
        // 0xA0...0xFF are Latin-1.
        let latin = try readAll([0x61, 0x0A, 0xE9, 0xFF, 0x0A], encoding: .windows1252).compactMap(\.record)
        #expect(latin.last?.fields == ["\u{E9}\u{FF}"])
    }

    @Test("the five bytes Windows-1252 leaves undefined are errors", arguments: [UInt8(0x81), 0x8D, 0x8F, 0x90, 0x9D])
    func undefinedWindows1252(_ byte: UInt8) throws {
        let items = try readAll(Array("a,b\nx".utf8) + [byte] + Array(",y\nok,ok\n".utf8), encoding: .windows1252)
        let error = try #require(items[1].error)
        #expect(error.code == .FMT008)
        #expect(error.message.contains("0x\(String(byte, radix: 16, uppercase: true))"))
        #expect(error.offset == 5)
        #expect(items[2].record?.fields == ["ok", "ok"])
    }

    @Test("invalid UTF-8 names line and byte and suggests --encoding windows-1252")
    func invalidUTF8() throws {
        let bytes: [UInt8] = Array("a,b\n1,2\n\"multi\nline\",St. Mary".utf8) + [0x92] + Array("s\n".utf8)
        let items = try readAll(bytes)
        let error = try #require(items.last?.error)
        #expect(error.code == .FMT008)
        #expect(error.line == 4)
        #expect(error.record == 3)
        #expect(error.offset == bytes.firstIndex(of: 0x92))
        // Doubled quotes are two bytes in the file and one in the value.
        let escaped: [UInt8] = Array("a,b\n\"x \"\"q\"\" \",\"y\"\"".utf8) + [0xFF] + Array("\"\n".utf8)
        let escapedError = try #require(try readAll(escaped).last?.error)
        #expect(escapedError.offset == escaped.firstIndex(of: 0xFF))
        #expect(error.message.contains("0x92"))
        #expect(error.message.contains("--encoding windows-1252"))
        #expect(!error.fatal)
    }

    @Test("truncated and overlong UTF-8 sequences are invalid", arguments: [[UInt8(0xC3)], [0xE2, 0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80]])
    func malformedSequences(_ sequence: [UInt8]) throws {
        let items = try readAll(Array("a\nx".utf8) + sequence + [0x0A])
        #expect(items.last?.error?.code == .FMT008)
    }

    @Test("NUL bytes are errors, in quoted and unquoted fields")
    func nulBytes() throws {
        let items = try readAll(Array("a,b\n1,x".utf8) + [0] + Array("y\n\"p".utf8) + [0] + Array("q\",2\n3,4\n".utf8))
        #expect(items[1].error?.code == .FMT008)
        #expect(items[1].error?.message.contains("NUL") == true)
        #expect(items[2].error?.code == .FMT008)
        #expect(items[3].record?.fields == ["3", "4"])
    }

    @Test("a lone CR outside quotes is an error")
    func loneCarriageReturn() throws {
        let items = try readAll("a,b\n1\r2,3\n4,5\n")
        #expect(items[1].error?.message.contains("carriage return") == true)
        #expect(items[2].record?.fields == ["4", "5"])
    }

    @Test("records longer than the buffer chunk are read whole")
    func largeRecord() throws {
        let big = String(repeating: "x", count: (1 << 20) + 100)
        let records = try readAll("a,b\n\"\(big)\",2\n3,4\n").compactMap(\.record)
        #expect(records.count == 3)
        #expect(records[1].fields[0].utf8.count == big.utf8.count)
        #expect(records[2].fields == ["3", "4"])
    }

    @Test("a record longer than the limit is an error for that record; the next one is read")
    func recordLimit() throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("input.csv", "a,b\n\"0123456789\",0123456789\nx,y\n")
        let reader = CSVReader(try InputFile(path: path), maximumRecordBytes: 12)
        var items: [CSVReader.Item] = []
        while let item = try reader.next() { items.append(item) }
        #expect(items.count == 3)
        #expect(items[1].error?.message == "record longer than 12 bytes")
        #expect(items[1].error?.line == 2)
        #expect(items[2].record?.fields == ["x", "y"])
    }

    @Test("a malformed record is given back as it is in the file, with the field it broke in")
    func malformedRecordKeepsItsBytes() throws {
        let items = try readAll("a,b,c\r\n1,ab\"c,3\r\n\"x\"y,2,3\n4,5,6\n1\r2,3,4\n")
        #expect(items[1].error?.raw == Array("1,ab\"c,3".utf8))
        #expect(items[1].error?.field == 1)
        #expect(items[2].error?.raw == Array("\"x\"y,2,3".utf8))
        #expect(items[2].error?.field == 0)
        #expect(items[3].record?.fields == ["4", "5", "6"])
        #expect(items[4].error?.raw == Array("1\r2,3,4".utf8))
        #expect(items[4].error?.rawTruncated == false)
        // A malformed last record without a line end.
        let last = try readAll("a,b\n1,x\"y")
        #expect(last[1].error?.raw == Array("1,x\"y".utf8))
    }

    @Test("a malformed record that spans a buffer refill is given back whole")
    func malformedRecordAcrossARefill() throws {
        // Records of 100 bytes up to just before the 1 MiB buffer ends, then one that crosses it.
        let header = Array("a,b\n".utf8)
        let filler = Array(String(repeating: "x", count: 96).utf8) + Array(",1\n".utf8)
        var bytes = header
        while bytes.count + filler.count < (1 << 20) - 10 { bytes += filler }
        let broken = Array("start-of-the-broken-record,en\"d-after-the-boundary".utf8)
        bytes += broken + Array("\n3,4\n".utf8)
        let items = try readAll(bytes)
        let error = try #require(items.compactMap(\.error).first)
        #expect(error.raw == broken)
        #expect(error.field == 1)
        #expect(items.last?.record?.fields == ["3", "4"])
    }

    @Test("an undecodable record keeps its fields, the bad bytes shown as U+FFFD")
    func undecodableRecordKeepsLossyFields() throws {
        let items = try readAll(Array("a,b\nSt. Mary".utf8) + [0x92] + Array("s,2\n".utf8))
        let error = try #require(items[1].error)
        #expect(error.field == 0)
        #expect(error.lossyFields == ["St. Mary\u{FFFD}s", "2"])
        let undefined = try readAll(Array("a\nx".utf8) + [0x81] + [0x0A], encoding: .windows1252)
        #expect(undefined[1].error?.lossyFields == ["x\u{FFFD}"])
    }

    @Test("a malformed record is kept whole up to the limit for raw bytes; one that runs on past it ends the input")
    func malformedRawIsBounded() throws {
        let near = String(repeating: "y", count: CSVReader.maximumRawBytes - 500)
        let items = try readAll("a,b\n1,x\"\(near)\n3,4\n")
        let error = try #require(items[1].error)
        #expect(!error.fatal && !error.rawTruncated)
        #expect(items.count == 3 && items[2].record?.fields == ["3", "4"])

        let long = String(repeating: "y", count: CSVReader.maximumRawBytes + 500)
        let runaway = try readAll("a,b\n1,x\"\(long)\n3,4\n")
        let fatal = try #require(runaway.last?.error)
        #expect(fatal.fatal)
        #expect(fatal.raw?.count == CSVReader.maximumRawBytes)
        #expect(fatal.rawTruncated)
        #expect(fatal.message.hasSuffix("no line end follows within 64 KB, so the file is not read further"))
        #expect(runaway.count == 2, "nothing after the runaway is read")
    }

    @Test("a malformed header leaves no header for the field count check")
    func headerCount() throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("input.csv", "a,b\n1,2,3\n")
        let reader = CSVReader(try InputFile(path: path))
        _ = try reader.next()
        #expect(reader.header == ["a", "b"])
    }

    /// Every item of `text` read `chunkSize` bytes at a time.
    private func readChunked(_ text: String, chunkSize: Int) throws -> [CSVReader.Item] {
        let scratch = TemporaryFolder()
        let path = scratch.write("chunked.csv", text)
        let reader = CSVReader(try InputFile(path: path), delimiter: UInt8(ascii: ","), encoding: .utf8, checksFieldCount: true, maximumRecordBytes: 64 << 20, maximumFieldsPerRecord: 10_000, chunkSize: chunkSize)
        var items: [CSVReader.Item] = []
        while let item = try reader.next() { items.append(item) }
        return items
    }

    @Test("a buffer end inside a quoted field, on a doubled quote or between CR and LF changes nothing", arguments: 1...12)
    func bufferEnds(_ chunkSize: Int) throws {
        let text = "a,b\r\n\"one, \"\"two\"\"\r\nthree\",x\r\nplain,\"\"\r\n"
        let records = try readChunked(text, chunkSize: chunkSize).compactMap(\.record)
        #expect(records.map(\.fields) == [["a", "b"], ["one, \"two\"\r\nthree", "x"], ["plain", ""]])
        #expect(records.map(\.line) == [1, 2, 4])
        #expect(records.map(\.offset) == [0, 5, 30])
    }

    @Test("a malformed record split over buffers keeps its bytes and the next record its line", arguments: [1, 3, 8])
    func malformedAcrossSmallBuffers(_ chunkSize: Int) throws {
        let items = try readChunked("a,b\n1,x\"y\r\n\"q\"z,2\n3,4\n", chunkSize: chunkSize)
        #expect(items.count == 4)
        #expect(items[1].error?.raw == Array("1,x\"y".utf8))
        #expect(items[1].error?.message == "a quote inside an unquoted field")
        #expect(items[2].error?.raw == Array("\"q\"z,2".utf8))
        #expect(items[2].error?.line == 3 && items[2].error?.offset == 14)
        #expect(items[3].record?.fields == ["3", "4"] && items[3].record?.line == 4)
    }

    @Test("the run scanner stops at every special byte: unquoted runs, quoted runs and lines in quotes")
    func runScanner() throws {
        let items = try readAll("h1,h2,h3\nlong unquoted run of text,\"quoted, with delimiter\nand line\",end\nx,\"\",\"a\"\"b\"\n")
        let records = items.compactMap(\.record)
        #expect(records.map(\.fields) == [["h1", "h2", "h3"], ["long unquoted run of text", "quoted, with delimiter\nand line", "end"], ["x", "", "a\"b"]])
        #expect(records.map(\.line) == [1, 2, 4])
    }

    @Test("a field equal to the one above it reads the same as any other")
    func repeatedFieldsShareValues() throws {
        let records = try readAll("a,b,c\n1,same,\"q\"\n1,same,q\n1,sam,q\n2,same,\n").compactMap(\.record)
        #expect(records.map(\.fields) == [["a", "b", "c"], ["1", "same", "q"], ["1", "same", "q"], ["1", "sam", "q"], ["2", "same", ""]])
    }
}
