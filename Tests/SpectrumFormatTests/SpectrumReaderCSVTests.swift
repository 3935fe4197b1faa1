import Testing
import SOVCore
import SOVTestSupport
@testable import SpectrumFormat

#if canImport(Glibc)
import Glibc
#endif

private typealias Support = ReaderTestSupport

private func items(_ bytes: [UInt8], delimiter: UInt8 = UInt8(ascii: ","), encoding: TextEncoding = .utf8) throws -> (items: [RecordItem], failure: InputFailure?) {
    let scratch = TemporaryFolder()
    let path = scratch.write("input1.csv", bytes)
    let reader = CSVRecordReader(try InputFile(path: path), delimiter: delimiter, encoding: encoding)
    var found: [RecordItem] = []
    do {
        while let item = try reader.next() { found.append(item) }
    } catch let failure as InputFailure {
        return (found, failure)
    }
    return (found, nil)
}

private func records(_ items: [RecordItem]) -> [Record] {
    items.compactMap { if case .record(let record) = $0 { record } else { nil } }
}

@Suite("CSV record reader")
struct SpectrumReaderCSVTests {
    @Test("the header row names the fields; values stay exactly as in the file")
    func headerAndRecords() throws {
        let (found, failure) = try items(Array("Job_Number,Billing_Item\n\"24-1017   \",01\n24-1022, 02 \n".utf8))
        #expect(failure == nil)
        let rows = records(found)
        #expect(rows.map(\.values) == [["24-1017   ", "01"], ["24-1022", " 02 "]])
        #expect(rows.map(\.line) == [2, 3])
        #expect(rows.allSatisfy { $0.names == ["Job_Number", "Billing_Item"] })
        #expect(rows[0].fieldNames === rows[1].fieldNames)
        #expect(rows[0].file.hasSuffix(".csv"))
    }

    @Test("a malformed row is kept for the rejects stream with file, line, record and byte; the next row flows on")
    func malformedRow() throws {
        let (found, failure) = try items(Array("a,b\n1,2,3\n4,5\n".utf8))
        #expect(failure == nil)
        guard case .malformed(let raw, let diagnostic) = found[0] else {
            Issue.record("expected a malformed row")
            return
        }
        #expect(diagnostic.code == .FMT007)
        #expect(diagnostic.location.line == 2)
        #expect(diagnostic.location.record == 2)
        #expect(diagnostic.message == "record has 3 fields, the header has 2 (record 2, byte 4)")
        #expect(raw["line"] == .int(2))
        #expect(raw["byte"] == .int(4))
        // The row's values are kept, named by the header as far as it goes.
        #expect(raw["fields"] == .object([JSONMember("a", .string("1")), JSONMember("b", .string("2")), JSONMember("", .string("3"))]))
        #expect(records(found).map(\.values) == [["4", "5"]])
    }

    @Test("blank lines, before the header or among the rows, carry no data and are skipped")
    func blankLines() throws {
        let (found, failure) = try items(Array("\n\r\nJob_Number,Billing_Item\n24-1,01\n\n24-2,02\n\n\n".utf8))
        #expect(failure == nil)
        #expect(found.count == 2)
        #expect(records(found).map(\.values) == [["24-1", "01"], ["24-2", "02"]])
        #expect(records(found).map(\.line) == [4, 6])
    }

    @Test("an unterminated quote makes the file unusable")
    func unterminatedQuote() throws {
        let (_, failure) = try items(Array("a,b\n1,\"never closed\n2,3\n".utf8))
        #expect(failure?.diagnostic.message.contains("unterminated") == true)
        #expect(failure?.status == .dataError)
    }

    @Test("a header row that cannot be read makes the file unusable")
    func badHeader() throws {
        let (found, failure) = try items(Array("a,b\"c\n1,2\n".utf8))
        #expect(found.isEmpty)
        #expect(failure?.diagnostic.message.hasPrefix("the header row cannot be read") == true)
    }

    @Test("BOM, CRLF and Windows-1252 together, as Spectrum on Windows writes them")
    func windowsExport() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("Job_Description\r\nSt. Mary\u{2019}s\r\n".utf8)
        #expect(records(try items(bytes).items).map(\.values) == [["St. Mary\u{2019}s"]])
        let cp1252: [UInt8] = Array("Job_Description\r\nSt. Mary".utf8) + [0x92] + Array("s ".utf8) + [0x96] + Array("\r\n".utf8)
        #expect(records(try items(cp1252, encoding: .windows1252).items).map(\.values) == [["St. Mary\u{2019}s \u{2013}"]])
    }

    @Test("delimiters ; tab |", arguments: [UInt8(ascii: ";"), 0x09, UInt8(ascii: "|")])
    func delimiters(_ delimiter: UInt8) throws {
        let d = String(UnicodeScalar(delimiter))
        let rows = records(try items(Array("Job_Number\(d)Billing_Item\n24-1\(d)1,5\n".utf8), delimiter: delimiter).items)
        #expect(rows.map(\.values) == [["24-1", "1,5"]])
    }

    @Test("a malformed row keeps its text in the reject and names its field")
    func malformedRowKeepsItsText() throws {
        let bytes = Array("Job_Number,Billing_Description,Amount\r\n24-1,Bid \"A\" item,5.00\r\n24-2,St. Mary".utf8) + [0x92] + Array("s,6.00\r\n".utf8)
        let found = try items(bytes).items
        guard case .malformed(let quoteRaw, let quoteProblem)? = found.first, case .malformed(let byteRaw, let byteProblem)? = found.last, found.count == 2 else {
            Issue.record("two malformed rows expected, got \(found)")
            return
        }
        #expect(quoteProblem.location.field == "Billing_Description")
        #expect(quoteRaw["text"] == .string("24-1,Bid \"A\" item,5.00"))
        #expect(quoteRaw["fields"] == .null)
        #expect(byteProblem.code == .FMT008)
        #expect(byteProblem.location.field == "Billing_Description")
        #expect(byteRaw["fields"]?["Billing_Description"] == .string("St. Mary\u{FFFD}s"))
        #expect(byteRaw["fields"]?["Amount"] == .string("6.00"))
    }

    @Test("with windows-1252, a file that is valid UTF-8 throughout is read as UTF-8, and said so")
    func utf8FileUnderWindows1252() throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("input2.csv", "Job_Number,Billing_Description\n24-1,Bid item 210 \u{2013} SY\n")
        let parser = SpectrumParser(options: SpectrumReadOptions(encoding: .windows1252))
        var notes: [Diagnostic] = []
        var values: [[String]] = []
        try parser.records(try InputFile(path: path), format: .csv, note: { notes.append($0) }) { item in
            if case .record(let record) = item { values.append(record.values) }
        }
        #expect(values == [["24-1", "Bid item 210 \u{2013} SY"]])
        #expect(notes.map(\.code) == [.FMT008])
        #expect(notes.first?.severity == .warning)
        // An ASCII file reads the same either way: nothing to say.
        let ascii = scratch.write("input3.csv", "Job_Number\n24-1\n")
        notes.removeAll()
        try parser.records(try InputFile(path: ascii), format: .csv, note: { notes.append($0) }) { _ in }
        #expect(notes.isEmpty)
    }

    @Test("delimiter and encoding: the command line over the profile over the defaults")
    func optionPrecedence() {
        let profile = SpectrumProfile(encoding: .windows1252, delimiter: UInt8(ascii: ";"))
        #expect(SpectrumReadOptions().csvDelimiter == UInt8(ascii: ","))
        #expect(SpectrumReadOptions().csvEncoding == .utf8)
        #expect(SpectrumReadOptions(profile: profile).csvDelimiter == UInt8(ascii: ";"))
        #expect(SpectrumReadOptions(profile: profile).csvEncoding == .windows1252)
        #expect(SpectrumReadOptions(profile: profile, encoding: .utf8, delimiter: UInt8(ascii: "|")).csvDelimiter == UInt8(ascii: "|"))
        #expect(SpectrumReadOptions(profile: profile, encoding: .utf8).csvEncoding == .utf8)
    }
}

@Suite("Document spool")
struct SpectrumReaderSpoolTests {
    private func document(_ job: String) -> CanonicalDocument {
        .primeContract(PrimeContract(
            origin: Origin(system: .spectrum, company: "1", job: job, customer: "C"), source: SourceLocation(file: "f", line: 1),
            number: job, customer: Party(code: "C"), originalAmount: Money(minorUnits: 100),
            diagnostics: [.warning(.SRC002, "note on \(job)")]))
    }

    /// What `commit` wrote, read back from a temporary file.
    private func committed(_ spool: DocumentSpool) throws -> [String] {
        let scratch = TemporaryFolder()
        let path = scratch.write("input4.jsonl", "")
        let sink = try OutputSink(creating: path)
        try spool.commit(to: sink)
        try sink.flush()
        let bytes = try InputFile(path: path).readAll()
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test("documents held in memory and spilled to a temporary file come out whole and in order")
    func spillAndCommit() throws {
        let spool = DocumentSpool(memoryLimit: 600)
        for index in 0..<20 { try spool.append(document("J\(index)")) }
        #expect(spool.count == 20)
        #expect(spool.warnings.count == 20)
        let lines = try committed(spool)
        #expect(lines.count == 20)
        let jobs = try lines.map { try JSONParser.parse($0)["origin"]?["job"]?.stringValue }
        #expect(jobs == (0..<20).map { "J\($0)" })
        #expect(spool.count == 0)
        // Reused after a commit, the spool starts empty.
        try spool.append(document("again"))
        #expect(try committed(spool).count == 1)
    }

    @Test("drained documents come back as values, the spilled ones read back from the file, in order")
    func drain() throws {
        for limit in [600, 1 << 20] {
            let spool = DocumentSpool(memoryLimit: limit)
            let documents = (0..<20).map { document("D\($0)") }
            for document in documents { try spool.append(document) }
            var drained: [CanonicalDocument] = []
            try spool.drain { drained.append($0) }
            #expect(drained == documents, "memory limit \(limit)")
            #expect(spool.count == 0)
        }
    }

    @Test("a spool made without a limit takes the process's default; at sov-parse's 1 MB it writes what a spool that never spills writes")
    func defaultLimit() throws {
        #expect(DocumentSpool().memoryLimit == DocumentSpool.defaultMemoryLimit.load(ordering: .relaxed))
        let small = DocumentSpool(memoryLimit: 1 << 20)
        let large = DocumentSpool(memoryLimit: 1 << 30)
        // About 512 bytes each by the spool's estimate: 5,000 of them pass 1 MB twice over.
        for index in 0..<5_000 {
            try small.append(document("L\(index)"))
            try large.append(document("L\(index)"))
        }
        let spilled = try committed(small)
        #expect(spilled.count == 5_000)
        #expect(spilled == (try committed(large)))
    }

    @Test("discarded documents are gone")
    func discard() throws {
        let spool = DocumentSpool(memoryLimit: 600)
        for index in 0..<10 { try spool.append(document("X\(index)")) }
        spool.discard()
        #expect(spool.count == 0)
        #expect(spool.warnings.isEmpty)
        try spool.append(document("kept"))
        #expect(try committed(spool).map { try JSONParser.parse($0)["origin"]?["job"]?.stringValue } == ["kept"])
    }
}

/// A reader of `count` numbered records that then fails, or ends, as told.
private final class CountingReader: RecordReader {
    struct Planned: Error, Equatable {}
    let count: Int
    let fails: Bool
    var produced = 0
    let names = FieldNames(["n"])

    init(count: Int, fails: Bool) {
        self.count = count
        self.fails = fails
    }

    func next() throws -> RecordItem? {
        if produced == count {
            if fails { throw Planned() }
            return nil
        }
        produced += 1
        return .record(Record(file: "n", line: produced, fieldNames: names, values: [String(produced)]))
    }
}

@Suite("Record prefetcher")
struct SpectrumReaderPrefetchTests {
    @Test("records come through in order across batches, then the end", arguments: [0, 1, 7, 8, 9, 1000])
    func order(_ count: Int) throws {
        let prefetcher = RecordPrefetcher(CountingReader(count: count, fails: false), batchSize: 8, depth: 2)
        var lines: [Int] = []
        while let item = try prefetcher.next() {
            if case .record(let record) = item { lines.append(record.line) }
        }
        #expect(lines == Array(stride(from: 1, through: count, by: 1)))
        #expect(try prefetcher.next() == nil)
    }

    @Test("a reader's error arrives after the records read before it")
    func errorAfterRecords() throws {
        let prefetcher = RecordPrefetcher(CountingReader(count: 20, fails: true), batchSize: 8, depth: 2)
        var seen = 0
        #expect(throws: CountingReader.Planned.self) {
            while try prefetcher.next() != nil { seen += 1 }
        }
        #expect(seen == 20)
    }

    @Test("a packing reader's records are each prepared once, in order, across batches; a malformed row is not", arguments: [1, 2, 3, 256])
    func prepared(_ batchSize: Int) throws {
        var text = "Job_Number,Billing_Item\n"
        for row in 1...10 { text += row == 5 ? "only one field\n" : "24-\(row),\(row)\n" }
        let scratch = TemporaryFolder()
        let path = scratch.write("input1.csv", Array(text.utf8))
        let prefetcher = RecordPrefetcher(CSVRecordReader(try InputFile(path: path)), batchSize: batchSize, depth: 2) { record in
            #expect(record.layout == nil, "prepared twice: line \(record.line)")
            record.layout = .sovLine
        }
        var lines: [Int] = []
        var malformed = 0
        while let item = try prefetcher.next() {
            switch item {
            case .record(let record):
                #expect(record.layout == .sovLine)
                #expect(record.value(at: 1) == String(record.line - 1))
                lines.append(record.line)
            case .malformed:
                malformed += 1
            }
        }
        #expect(lines == [2, 3, 4, 5, 7, 8, 9, 10, 11])
        #expect(malformed == 1)
    }

    @Test("a consumer that stops early stops the thread")
    func earlyStop() throws {
        var prefetcher: RecordPrefetcher? = RecordPrefetcher(CountingReader(count: 1_000_000, fails: false), batchSize: 16, depth: 2)
        _ = try prefetcher?.next()
        prefetcher = nil  // deinit cancels and joins; the test ends instead of waiting for a million records
        #expect(prefetcher == nil)
    }
}
