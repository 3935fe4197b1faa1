import CLibXML2
import Testing
import SOVCore
import SOVTestSupport
@testable import SpectrumFormat

#if canImport(Glibc)
import Glibc
#endif

private typealias Support = ReaderTestSupport

/// Hostile inputs against the Spectrum readers: each ends in a refusal that names the file (and
/// the line where there is one) — the whole input unusable (exit 65) or the record rejected
/// (exit 1) — never a crash, a hang, a read of a local file, or memory that grows with the input.
@Suite("Hostile Spectrum inputs")
struct HostileInputTests {
    /// What `sov-parse` makes of one file: its documents, rejects, or its refusal as a whole.
    private static func parse(_ bytes: [UInt8], suffix: String, options: SpectrumReadOptions = SpectrumReadOptions()) throws -> (result: Support.ParseResult, path: String) {
        let scratch = TemporaryFolder()
        let path = scratch.write("input1\(suffix)", bytes)
        return (try Support.parse([path], options: options), path)
    }

    private static func parse(_ text: String, suffix: String, options: SpectrumReadOptions = SpectrumReadOptions()) throws -> (result: Support.ParseResult, path: String) {
        try parse(Array(text.utf8), suffix: suffix, options: options)
    }

    /// The refusal of the one input, checked to name its file and a line.
    private static func refusal(_ parsed: (result: Support.ParseResult, path: String), sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Diagnostic {
        let failure = try #require(parsed.result.unusable[parsed.path], sourceLocation: sourceLocation)
        #expect(parsed.result.documents.isEmpty, sourceLocation: sourceLocation)
        #expect(failure.status == ExitStatus.dataError, sourceLocation: sourceLocation)
        #expect(failure.diagnostic.location.file == parsed.path, sourceLocation: sourceLocation)
        return failure.diagnostic
    }

    private static let flatHeader = "Company_Code,Job_Number,Customer_Code,Contract_Number,Job_Description,Price_Method_Code,Original_Contract,Retention_Percent,Billing_Item,Billing_Description,Item_Original_Contract"

    private static func flatRow(job: String = "24-1", amount: String = "100.00", retention: String = "10", description: String = "Work") -> String {
        "1,\(job),OWN1,PC-\(job),Job \(job),F,\(amount),\(retention),01-000,\(description),\(amount)"
    }

    // MARK: DOCTYPE, external entities, entity expansion

    @Test("a DOCTYPE with an external entity is refused and no local file is read", arguments: [
        #"<!DOCTYPE rows [<!ENTITY x SYSTEM "file://SECRET">]><rows><row><Job_Number>&x;</Job_Number></row></rows>"#,
        #"<!DOCTYPE rows [<!ENTITY % p SYSTEM "file://SECRET"> %p;]><rows><row><Job_Number>1</Job_Number></row></rows>"#,
        #"<!DOCTYPE rows SYSTEM "file://SECRET"><rows><row><Job_Number>1</Job_Number></row></rows>"#,
        #"<!DOCTYPE rows PUBLIC "-//X//Y" "file://SECRET"><rows><row><Job_Number>1</Job_Number></row></rows>"#,
        #"<!DOCTYPE rows [<!ENTITY x SYSTEM "file://SECRET">]><rows><row a="&x;"><Job_Number>1</Job_Number></row></rows>"#,
    ])
    func externalEntity(_ template: String) throws {
        let scratch = TemporaryFolder()
        let secret = scratch.write("input2.txt", "SECRET-MARKER-4711\n")
        let text = "<?xml version=\"1.0\"?>\n" + template.replacing("SECRET", with: secret)
        let path = scratch.write("input3.xml", text)
        let (records, failure) = try Support.xmlRecords(path: path)
        #expect(records.allSatisfy { !$0.values.joined().contains("SECRET-MARKER") })
        let problem = try #require(failure)
        #expect(problem.diagnostic.location.file == path)
        #expect((problem.diagnostic.location.line ?? 0) >= 1)
        #expect(problem.diagnostic.message.contains("DOCTYPE") || problem.diagnostic.message.hasPrefix("malformed XML"))
    }

    @Test("libxml2's entity loader refuses every external resource, whatever a parser asks")
    func entityLoaderRefuses() throws {
        let scratch = TemporaryFolder()
        let secret = scratch.write("input4.txt", "SECRET-MARKER-4711\n")
        XMLRecordReader.externalEntitiesRefused
        #expect(xmlLoadExternalEntity("file://\(secret)", nil, nil) == nil)
        #expect(xmlLoadExternalEntity(secret, nil, nil) == nil)
        #expect(xmlLoadExternalEntity("http://127.0.0.1:9/x", nil, nil) == nil)
    }

    @Test("XInclude is not processed: the include stays an empty element")
    func xinclude() throws {
        let scratch = TemporaryFolder()
        let secret = scratch.write("input5.txt", "SECRET-MARKER-4711\n")
        let (records, failure) = try Support.xmlRecords(
            #"<rows xmlns:xi="http://www.w3.org/2001/XInclude"><row><Job_Number>1</Job_Number><xi:include href="\#(secret)" parse="text"/></row></rows>"#)
        #expect(failure == nil)
        #expect(records.map(\.values) == [["1", ""]])
    }

    @Test("entity expansion (billion laughs, quadratic blow-up) is refused at once", arguments: ["billion laughs", "quadratic blow-up"])
    func entityExpansion(_ kind: String) throws {
        let declarations: String
        let uses: String
        if kind == "billion laughs" {
            declarations = (1...9).reduce(#"<!ENTITY l0 "lol">"#) { text, level in
                text + "<!ENTITY l\(level) \"" + String(repeating: "&l\(level - 1);", count: 10) + "\">"
            }
            uses = "&l9;"
        } else {
            declarations = #"<!ENTITY big ""# + String(repeating: "x", count: 100_000) + #"">"#
            uses = String(repeating: "&big;", count: 10_000)
        }
        let parsed = try Self.parse("<?xml version=\"1.0\"?>\n<!DOCTYPE rows [\(declarations)]>\n<rows><row><Job_Number>\(uses)</Job_Number></row></rows>\n", suffix: ".xml")
        let problem = try Self.refusal(parsed)
        #expect(problem.code == .FMT007)
        #expect((problem.location.line ?? 0) >= 1)
    }

    // MARK: Structure

    @Test("100,000 levels of nesting: libxml2's depth limit, named with its line")
    func deepNesting() throws {
        let depth = 100_000
        let text = "<?xml version=\"1.0\"?>\n" + String(repeating: "<a>\n", count: depth) + "x" + String(repeating: "</a>\n", count: depth)
        let problem = try Self.refusal(try Self.parse(text, suffix: ".xml"))
        #expect(problem.message.contains("depth"))
        // The 257th <a> (line 258) is one past libxml2's limit of 256; libxml2 names the line its
        // parser stands on, at or just after it.
        #expect((258...259).contains(problem.location.line ?? 0))
    }

    /// Ways to make one element's text huge (built in the test: arguments are printed).
    enum HugeText: String, CaseIterable {
        case tenMegabyteNode, justOverTheLimit, textSplitByComments, blanksSplitByInstructions, cdataSections

        var value: String {
            switch self {
            case .tenMegabyteNode: String(repeating: "x", count: 10 << 20)
            case .justOverTheLimit: String(repeating: "x", count: (1 << 20) + 1)
            case .textSplitByComments: String(repeating: String(repeating: "x", count: 100_000) + "<!---->", count: 40)
            case .blanksSplitByInstructions: String(repeating: String(repeating: " ", count: 100_000) + "<?pi?>", count: 40)
            case .cdataSections: String(repeating: "<![CDATA[" + String(repeating: "y", count: 100_000) + "]]>", count: 40)
            }
        }
    }

    @Test("a 10 MB text node is refused, as is any value past 1 MB however it is split", arguments: HugeText.allCases)
    func hugeText(_ kind: HugeText) throws {
        let text = "<?xml version=\"1.0\"?>\n<rows>\n<row><Job_Number>\(kind.value)</Job_Number></row>\n</rows>\n"
        let problem = try Self.refusal(try Self.parse(text, suffix: ".xml"))
        #expect(problem.code == .FMT007)
        if kind == .tenMegabyteNode {
            // libxml2 reads on until an element starts or ends: stopped after 4 MB of it.
            #expect(problem.message == "more than \(4 * Record.maximumBytes) bytes without an element starting or ending (text, comments or processing instructions that long are no export)")
            #expect(problem.location.line == 3)
        } else {
            #expect(problem.message == "text longer than \(Record.maximumBytes) bytes in element 'Job_Number'; that is not an export value")
            #expect(problem.location.line == 3)
        }
    }

    @Test("a comment, a DTD or text that runs on for megabytes is stopped after 4 MB, before libxml2 holds it all", arguments: ["comment", "internal subset", "text and comments"])
    func endlessContent(_ kind: String) throws {
        let filler: String
        switch kind {
        case "comment": filler = "<rows>\n<!--" + String(repeating: "c", count: 20 << 20) + "-->"
        case "internal subset": filler = "<!DOCTYPE rows [" + String(repeating: "<!-- x -->", count: 2 << 20) + "]>\n<rows>"
        default: filler = "<rows>\n<row><Job_Number>" + String(repeating: "t<!---->", count: 3 << 20) + "</Job_Number></row>"
        }
        let problem = try Self.refusal(try Self.parse("<?xml version=\"1.0\"?>\n\(filler)\n</rows>\n", suffix: ".xml"))
        #expect(problem.code == .FMT007)
        if kind == "internal subset" {
            #expect(problem.message.contains("DOCTYPE"))
        } else {
            #expect(problem.message.hasPrefix("more than \(4 * Record.maximumBytes) bytes without an element starting or ending"))
            #expect(problem.location.line == 3)
        }
    }

    @Test("a record whose fields hold more than 1 MB together is refused")
    func hugeRecord() throws {
        let value = String(repeating: "v", count: 300_000)
        let fields = (0..<4).map { "<F\($0)>\(value)</F\($0)>" }.joined(separator: "\n")
        let problem = try Self.refusal(try Self.parse("<rows>\n<row>\n\(fields)\n</row>\n</rows>\n", suffix: ".xml"))
        #expect(problem.message == "element 'row' holds more than \(Record.maximumBytes) bytes of text; that is not an export row")
        #expect(problem.location.line == 6)
    }

    @Test("XML cut off anywhere is unusable as a whole, naming file and line, and yields no document")
    func truncatedXML() throws {
        let whole = try InputFile(path: Support.sample("spectrum/sov-2040.xml")).readAll()
        let end = whole.lastIndex(of: UInt8(ascii: ">"))!
        for cut in stride(from: 1, to: end, by: 53) {
            let parsed = try Self.parse(Array(whole[..<cut]), suffix: ".xml")
            let problem = try Self.refusal(parsed)
            #expect((problem.location.line ?? 0) >= 1, "cut at \(cut)")
        }
    }

    // MARK: Bytes

    @Test("binary garbage is refused or rejected record by record, never a document", arguments: [0, 1, 2, 3] as [UInt64])
    func garbage(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        var bytes = (0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for prefix in [[], [UInt8(ascii: "<")], [0xEF, 0xBB, 0xBF], Array("Job_Number,Billing_Item\n".utf8)] as [[UInt8]] {
            bytes.replaceSubrange(0..<prefix.count, with: prefix)
            let (result, path) = try Self.parse(bytes, suffix: ".dat")
            #expect(result.documents.isEmpty)
            if let failure = result.unusable[path] {
                #expect(failure.diagnostic.location.file == path)
            } else {
                #expect(!result.rejects.isEmpty)
                for reject in result.rejects {
                    #expect(reject.diagnostics.allSatisfy { $0.location.file == path && ($0.location.line ?? 0) >= 1 })
                }
            }
        }
    }

    @Test("an empty file is no export: refused by name", arguments: ["", "   \n\t\r\n", "\u{FEFF}", "\u{FEFF}  \n"])
    func emptyFile(_ text: String) throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("input6.csv", text)
        let input = try InputFile(path: path)
        #expect(try InputFormat.sniff(input) == .empty)
        let parser = SpectrumParser()
        #expect {
            try parser.parse(input, format: .empty) { _ in }
        } throws: { error in
            let unusable = error as? InputFailure
            return unusable?.diagnostic.message == "the input is empty" && unusable?.diagnostic.location.file == path
        }
    }

    @Test("an empty file forced through the XML reader is malformed XML; through the CSV reader, nothing")
    func emptyFileReaders() throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("input7.xml", "")
        let (records, failure) = try Support.xmlRecords(path: path)
        #expect(records.isEmpty)
        #expect(failure?.diagnostic.location.file == path)
        let csv = CSVRecordReader(try InputFile(path: path))
        #expect(try csv.next() == nil)
    }

    @Test("invalid UTF-8 in XML (stray, overlong, surrogate, past U+10FFFF) is FMT008 with the line", arguments: [
        [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82],
    ] as [[UInt8]])
    func invalidUTF8XML(_ bad: [UInt8]) throws {
        let bytes = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rows>\n<row><Job_Number>24".utf8) + bad + Array("</Job_Number></row>\n</rows>\n".utf8)
        let problem = try Self.refusal(try Self.parse(bytes, suffix: ".xml"))
        #expect(problem.code == .FMT008)
        #expect(problem.location.line == 3)
        #expect(!problem.message.contains("\n"))
    }

    @Test("a byte the declared encoding cannot decode is FMT008 with its line, in one line of text", arguments: ["windows-1252", "EUC-JP", "ISO-2022-JP"])
    func undecodableInDeclaredEncoding(_ encoding: String) throws {
        let bad: [UInt8] = encoding == "windows-1252" ? [0x81] : encoding == "EUC-JP" ? [0x8F, 0xFF, 0xFF] : [0x1B, 0x24, 0x42, 0xFF, 0xFF]
        let bytes = Array("<?xml version=\"1.0\" encoding=\"\(encoding)\"?>\n<rows>\n<row><Job_Number>24".utf8) + bad + Array("</Job_Number></row>\n</rows>\n".utf8)
        let problem = try Self.refusal(try Self.parse(bytes, suffix: ".xml"))
        #expect(problem.code == .FMT008)
        #expect(problem.message.hasPrefix("malformed XML: bytes that the document's declared encoding cannot decode"))
        #expect((2...3).contains(problem.location.line ?? 0))
        #expect(!problem.humanLine.contains("\n"))
    }

    @Test("invalid UTF-8 in a CSV row rejects that row, naming line and byte; in the header, the file")
    func invalidUTF8CSV() throws {
        let good = Self.flatRow()
        let bytes = Array("\(Self.flatHeader)\n\(good)\n1,24-2,OWN1,PC-2,Job ".utf8) + [0xC0, 0xAF] + Array(",F,5.00,10,01-000,Work,5.00\n\(Self.flatRow(job: "24-3"))\n".utf8)
        let (result, path) = try Self.parse(bytes, suffix: ".csv")
        #expect(result.contracts.map(\.origin.job) == ["24-1", "24-3"])
        let problem = try #require(result.rejects.first?.diagnostics.first)
        #expect(problem.code == .FMT008)
        #expect(problem.location == SOVCore.SourceLocation(file: path, line: 3, record: 3, field: "Job_Description"))
        #expect(problem.message.contains("byte 0xC0"))
        // The row is kept, the undecodable bytes shown as U+FFFD.
        #expect(result.rejects.first?.record?["fields"]?["Job_Description"] == .string("Job \u{FFFD}\u{FFFD}"))

        let header = Array("Company_Code,Job".utf8) + [0xFF] + Array("\n1,2\n".utf8)
        let refused = try Self.refusal(try Self.parse(header, suffix: ".csv"))
        #expect(refused.code == .FMT008)
        #expect(refused.location.line == 1)
    }

    @Test("NUL bytes in CSV: the row is rejected with its line (FMT008) and the next row is read")
    func nulInCSV() throws {
        for field in ["Wo\u{0}rk", "\"Wo\u{0}rk\""] {
            let text = "\(Self.flatHeader)\n\(Self.flatRow(job: "24-1", description: field))\n\(Self.flatRow(job: "24-2"))\n"
            let (result, path) = try Self.parse(text, suffix: ".csv")
            #expect(result.contracts.map(\.origin.job) == ["24-2"])
            let problem = try #require(result.rejects.first?.diagnostics.first)
            #expect(problem.code == .FMT008)
            #expect(problem.message.hasPrefix("NUL byte in a field"))
            #expect(problem.location.file == path && problem.location.line == 2)
        }
        let refused = try Self.refusal(try Self.parse("Company\u{0}_Code,Job_Number\n1,2\n", suffix: ".csv"))
        #expect(refused.code == .FMT008)
        #expect(refused.location.line == 1)
    }

    @Test("a NUL byte in XML is a character XML forbids: FMT008 with the line")
    func nulInXML() throws {
        let problem = try Self.refusal(try Self.parse("<rows>\n<row><Job_Number>2\u{0}4</Job_Number></row>\n</rows>\n", suffix: ".xml"))
        #expect(problem.code == .FMT008)
        #expect(problem.location.line == 2)
    }

    // MARK: Size

    @Test("a malformed CSV record that runs on past 64 KB makes the file unusable, naming where it began; a shorter one is one reject")
    func hugeCSVLine() throws {
        // Malformed (a stray quote) and 40 KB long: one reject, the next line read.
        let bad = Self.flatRow(job: "24-1", description: "x\"" + String(repeating: "x", count: 40 << 10))
        let (result, _) = try Self.parse("\(Self.flatHeader)\n\(bad)\n\(Self.flatRow(job: "24-2"))\n", suffix: ".csv")
        #expect(result.contracts.map(\.origin.job) == ["24-2"])
        #expect(result.rejects.count == 1)

        // Ten megabytes in one record: past the record limit, then no line end within the bound.
        let long = Self.flatRow(job: "24-1", description: String(repeating: "x", count: 10 << 20))
        let problem = try Self.refusal(try Self.parse("\(Self.flatHeader)\n\(long)\n\(Self.flatRow(job: "24-2"))\n", suffix: ".csv"))
        #expect(problem.location.line == 2)
        #expect(problem.message.hasPrefix("record longer than \(Record.maximumBytes) bytes"))
        #expect(problem.message.contains("no line end follows within 64 KB, so the file is not read further"))
    }

    @Test("a 10 MB CSV header line, or one with no line end at all, makes the file unusable", arguments: ["\n1\n", ""])
    func hugeCSVHeader(_ after: String) throws {
        let text = String(repeating: "h", count: 10 << 20) + after
        let problem = try Self.refusal(try Self.parse(text, suffix: ".csv"))
        #expect(problem.message.hasPrefix("the header row cannot be read: record longer than \(Record.maximumBytes) bytes"))
        #expect(problem.location.line == 1)
    }

    @Test("ten million delimiters on one line: bounded by the field limit, then the runaway bound, not by memory")
    func endlessFields() throws {
        let text = "\(Self.flatHeader)\n" + String(repeating: ",", count: 10 << 20) + "\n\(Self.flatRow(job: "24-2"))\n"
        let problem = try Self.refusal(try Self.parse(text, suffix: ".csv"))
        #expect(problem.message.hasPrefix("more than 10000 fields in one record"))
        #expect(problem.message.contains("no line end follows within 64 KB"))
        #expect(problem.location.line == 2)
    }

    @Test("records read ahead on their own thread do not pile up when the reader stays ahead")
    func prefetchStaysBounded() {
        // The steady state of a fast reader (CSV) and a slower consumer: the queue is always full,
        // one batch is taken, one is put. Found: taken batches stayed in the queue's array, which
        // was emptied only when the consumer caught up, so a 21 MB CSV held 100,000 records.
        let depth = 4
        let channel = RecordChannel(depth: depth)
        let record = Record(file: "f.csv", line: 2, fields: ["Job_Number": "1"])
        for _ in 0..<depth { _ = channel.put(.items([.record(record)])) }
        for _ in 0..<10_000 {
            guard case .items = channel.take() else {
                Issue.record("expected a batch")
                return
            }
            _ = channel.put(.items([.record(record)]))
            #expect(channel.storedBatches <= 5 * depth)
        }
    }

    @Test("40-digit numbers are out of range for their field, named with file, line and field")
    func fortyDigits() throws {
        let forty = String(repeating: "9", count: 40)
        let text = """
            \(Self.flatHeader)
            \(Self.flatRow(job: "24-1", amount: forty + ".00"))
            \(Self.flatRow(job: "24-2", retention: forty))
            \(Self.flatRow(job: "24-3", amount: "1" + String(repeating: "0", count: 39)))
            \(Self.flatRow(job: "24-4"))

            """
        let (result, path) = try Self.parse(text, suffix: ".csv")
        #expect(result.contracts.map(\.origin.job) == ["24-4"])
        let problems = result.rejects.flatMap(\.diagnostics).filter(\.isError)
        #expect(problems.map(\.code) == [.FMT001, .FMT001, .FMT002, .FMT001, .FMT001])
        #expect(problems.map { $0.location.line ?? 0 } == [2, 2, 3, 4, 4])
        #expect(problems.allSatisfy { $0.location.file == path })
        #expect(problems.first?.message.contains("too large for an amount") == true)
        #expect(problems.first?.location.field == "Original_Contract")
    }

    @Test("40-digit change order numbers: days and money out of range, the document rejected")
    func fortyDigitsChangeOrder() throws {
        let forty = String(repeating: "4", count: 40)
        let text = """
            Company_Code,Job_Number,Customer_Code,Change_Order_Number,Description,Status_Code,Change_Order_Date,Approved_Days,CO_Billing_Item_Code,Revenue
            1,24-1,OWN1,CO1,Change,A,03/04/2024,\(forty),01-000,\(forty)

            """
        let (result, path) = try Self.parse(text, suffix: ".csv")
        #expect(result.changeOrders.isEmpty)
        let problems = result.rejects.flatMap(\.diagnostics).filter(\.isError)
        #expect(Set(problems.map(\.code)) == [.FMT006, .FMT001])
        #expect(problems.allSatisfy { $0.location.file == path && $0.location.line == 2 })
    }

    @Test("a value with line breaks cannot forge lines on stderr: control characters are escaped")
    func forgedLines() throws {
        let forged = "x\nsov-parse: 0 in, 0 out, 0 rejected\r\u{1B}[2J"
        let text = "\(Self.flatHeader)\n\(Self.flatRow(job: "24-1", retention: "\"\(forged)\""))\n"
        let (result, path) = try Self.parse(text, suffix: ".csv")
        let problem = try #require(result.rejects.first?.diagnostics.first)
        #expect(problem.value == forged)
        let renamed = Diagnostic.error(.FMT010, "unknown setting", at: SOVCore.SourceLocation(file: "p.toml", field: "a\rb"))
        #expect(renamed.humanLine == "p.toml: error: [FMT010] unknown setting (field a\\rb)")
        #expect(problem.humanLine == "\(path):2: error: [FMT002] Retention_Percent: 'x\\nsov-parse: 0 in, 0 out, 0 rejected\\r\\u{1B}[2J' is not a percentage (e.g. 10.00) (field Retention_Percent, value 'x\\nsov-parse: 0 in, 0 out, 0 rejected\\r\\u{1B}[2J')")
    }

    @Test("a diagnostic quoting a megabyte value prints a bounded line; the reject keeps it whole")
    func longValuesInMessages() {
        let value = String(repeating: "z", count: 1 << 20)
        let diagnostic = Diagnostic.error(.FMT005, "Job_Description '\(value)' is longer than 25 characters", at: SOVCore.SourceLocation(file: "jobs.csv", line: 7, field: "Job_Description"), value: value)
        let line = diagnostic.humanLine
        #expect(line.utf8.count < 1500)
        #expect(line.hasPrefix("jobs.csv:7: error: [FMT005] Job_Description 'zzz"))
        #expect(line.contains("' is longer than 25 characters (field Job_Description, value 'zzz"))
        #expect(line.contains("characters left out"))
        #expect(diagnostic.json["value"]?.stringValue == value)
    }
}

