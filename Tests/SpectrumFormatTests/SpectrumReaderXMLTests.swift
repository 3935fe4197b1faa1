import Testing
import SOVCore
import SOVTestSupport
@testable import SpectrumFormat

#if canImport(Glibc)
import Glibc
#endif

private typealias Support = ReaderTestSupport

private func fields(_ record: Record) -> [String: String] {
    Dictionary(zip(record.names, record.values), uniquingKeysWith: { first, _ in first })
}

@Suite("XML record reader")
struct SpectrumReaderXMLTests {
    @Test("FOR XML row export: one record per row, fields in order, start line of each row")
    func forXMLRows() throws {
        let (records, failure) = try Support.xmlRecords("""
            <?xml version="1.0" encoding="UTF-8"?>
            <rows>
              <row><Job_Number>24-1</Job_Number><Billing_Item>01</Billing_Item></row>
              <row>
                <Job_Number>24-2</Job_Number>
                <Billing_Item>02</Billing_Item>
              </row>
            </rows>
            """)
        #expect(failure == nil)
        #expect(records.count == 2)
        #expect(records.map(\.names) == [["Job_Number", "Billing_Item"], ["Job_Number", "Billing_Item"]])
        #expect(records.map(\.values) == [["24-1", "01"], ["24-2", "02"]])
        #expect(records.map(\.line) == [3, 4])
        // Records of one shape share their names, so a layout is recognised once per shape.
        #expect(records[0].fieldNames === records[1].fieldNames)
    }

    @Test("Data Exchange SOAP response: Envelope/Body/Response/returnArray/returnData/.../response, namespaces ignored")
    func soapResponse() throws {
        let (records, failure) = try Support.xmlRecords("""
            <?xml version="1.0"?>
            <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
            <soap:Header/>
            <soap:Body>
            <ns1:GetJobMainResponse xmlns:ns1="urn:x" xmlns="urn:default">
            <ns1:returnArray><ns1:returnData><getJobMain>
            <response><Company_Code>1</Company_Code><ns1:Job_Number>24-2040</ns1:Job_Number><Error_Code/></response>
            <response><Company_Code>1</Company_Code><ns1:Job_Number>24-2041</ns1:Job_Number><Error_Code/></response>
            </getJobMain></ns1:returnData></ns1:returnArray>
            </ns1:GetJobMainResponse>
            </soap:Body>
            </soap:Envelope>
            """)
        #expect(failure == nil)
        #expect(records.count == 2)
        #expect(records[0].names == ["Company_Code", "Job_Number", "Error_Code"])
        #expect(records[1].values == ["1", "24-2041", ""])
        #expect(records[0].line == 7)
    }

    @Test("Data Exchange import file: repeated records under one root")
    func importFile() throws {
        let (records, _) = try Support.xmlRecords("""
            <ARChangeOrders>
            <ARChangeOrder><Change_Order_Number>001</Change_Order_Number><Revenue>1.00</Revenue></ARChangeOrder>
            <ARChangeOrder><Change_Order_Number>001</Change_Order_Number><Revenue>2.00</Revenue></ARChangeOrder>
            </ARChangeOrders>
            """)
        #expect(records.map { fields($0)["Revenue"] } == ["1.00", "2.00"])
    }

    @Test("a single record as the whole document")
    func rootRecord() throws {
        let (records, _) = try Support.xmlRecords("<response><Job_Number>1</Job_Number></response>")
        #expect(records.count == 1)
        #expect(records[0].line == 1)
    }

    @Test("values exactly as written: spaces kept, entities and character references decoded, CDATA, empty elements")
    func exactValues() throws {
        let (records, _) = try Support.xmlRecords("""
            <rows><row>
            <Padded>  24-1017   </Padded>
            <Blank>   </Blank>
            <Entities>Bayline &amp; Co. &lt;1&gt; &#x2019; &#8211;</Entities>
            <Data><![CDATA[a < b & c]]></Data>
            <Mixed>  x<![CDATA[ y ]]>z </Mixed>
            <Empty/>
            <Nothing></Nothing>
            <Attributed kind="ignored">value</Attributed>
            <Commented>x<!-- not data -->y</Commented>
            <Lines>one
            two</Lines>
            </row></rows>
            """)
        let record = try #require(records.first)
        let values = fields(record)
        #expect(values["Padded"] == "  24-1017   ")
        #expect(values["Blank"] == "   ")
        #expect(values["Entities"] == "Bayline & Co. <1> \u{2019} \u{2013}")
        #expect(values["Data"] == "a < b & c")
        #expect(values["Mixed"] == "  x y z ")
        #expect(values["Empty"] == "")
        #expect(values["Nothing"] == "")
        #expect(values["Attributed"] == "value")
        #expect(values["Commented"] == "xy")
        #expect(values["Lines"] == "one\ntwo")
    }

    @Test("an element with a non-simple child, or text among its children, is not a record")
    func notRecords() throws {
        let (records, failure) = try Support.xmlRecords("""
            <rows>
              <group><count>2</count><row><Job_Number>1</Job_Number></row></group>
              <mixed>text<Job_Number>2</Job_Number></mixed>
              <after><Job_Number>3</Job_Number>tail</after>
              <row><Job_Number>4</Job_Number></row>
            </rows>
            """)
        #expect(failure == nil)
        #expect(records.map(\.values) == [["1"], ["4"]])
    }

    @Test("line numbers past 65535 (XML_PARSE_BIG_LINES)")
    func bigLines() throws {
        let padding = String(repeating: "<!-- -->\n", count: 70_000)
        let (records, _) = try Support.xmlRecords("<rows>\n\(padding)<row><Job_Number>1</Job_Number></row>\n</rows>")
        #expect(records.first?.line == 70_002)
    }

    @Test("a DOCTYPE is rejected before any record")
    func doctype() throws {
        let (records, failure) = try Support.xmlRecords(path: Support.fixture("doctype.xml"))
        #expect(records.isEmpty)
        let problem = try #require(failure)
        #expect(problem.diagnostic.message.contains("DOCTYPE"))
        #expect(problem.diagnostic.location.file?.hasSuffix("doctype.xml") == true)
        // A DTD has no line in libxml2: the line is the root element's, right after it.
        #expect(problem.diagnostic.location.line == 3)
        #expect(problem.status == .dataError)
    }

    @Test("an external entity attempt is rejected and nothing is read from it")
    func externalEntity() throws {
        let (records, failure) = try Support.xmlRecords(path: Support.fixture("external-entity.xml"))
        #expect(records.isEmpty)
        #expect(failure?.diagnostic.message.contains("DOCTYPE") == true)
    }

    @Test("an entity bomb is rejected")
    func entityBomb() throws {
        let (records, failure) = try Support.xmlRecords(path: Support.fixture("entity-bomb.xml"))
        #expect(records.isEmpty)
        #expect(failure != nil)
    }

    @Test("an entity not declared (there is no DTD to declare it) is malformed XML")
    func undeclaredEntity() throws {
        let (_, failure) = try Support.xmlRecords("<rows><row><Job_Number>&nbsp;</Job_Number></row></rows>")
        #expect(failure?.diagnostic.message.contains("nbsp") == true)
    }

    @Test("a truncated document is unusable, naming file and line")
    func truncated() throws {
        let (records, failure) = try Support.xmlRecords(path: Support.fixture("truncated.xml"))
        // Rows before the cut may stream out first; the parser drops them (see the assembly tests).
        #expect(records.count <= 2)
        let problem = try #require(failure)
        #expect(problem.diagnostic.code == .FMT007)
        #expect(problem.diagnostic.message.hasPrefix("malformed XML"))
        #expect(problem.diagnostic.location.file?.hasSuffix("truncated.xml") == true)
        #expect(problem.diagnostic.location.line == 6)  // the end of the file, where the data stops
    }

    @Test("a tag mismatch is unusable, naming the line")
    func tagMismatch() throws {
        let (records, failure) = try Support.xmlRecords(path: Support.fixture("tag-mismatch.xml"))
        #expect(records.count <= 1)
        let problem = try #require(failure)
        #expect(problem.diagnostic.location.line == 4)
        #expect(problem.diagnostic.message.contains("Job_Descr"))
    }

    @Test("other malformations", arguments: [
        "", "   ", "<rows><row><a>1</a></row></rows>junk", "<rows><row><a>1</a></row>", "<rows><row><a x='1' x='2'>1</a></row></rows>",
        "<rows><p:row><a>1</a></p:row></rows>", "no xml at all",
    ])
    func malformed(_ text: String) throws {
        let (_, failure) = try Support.xmlRecords(text)
        #expect(failure != nil)
    }

    @Test("bytes that are not UTF-8 are an encoding error (FMT008)")
    func invalidEncoding() throws {
        let bytes = Array("<rows><row><a>St. Mary".utf8) + [0x92] + Array("s</a></row></rows>".utf8)
        let scratch = TemporaryFolder()
        let path = scratch.write("input1.xml", bytes)
        let (_, failure) = try Support.xmlRecords(path: path)
        #expect(failure?.diagnostic.code == .FMT008)
    }

    @Test("a declared windows-1252 encoding is honoured")
    func declaredEncoding() throws {
        let bytes = Array("<?xml version=\"1.0\" encoding=\"windows-1252\"?><rows><row><a>St. Mary".utf8) + [0x92] + Array("s</a></row></rows>".utf8)
        let scratch = TemporaryFolder()
        let path = scratch.write("input2.xml", bytes)
        let (records, failure) = try Support.xmlRecords(path: path)
        #expect(failure == nil)
        #expect(records.first?.values == ["St. Mary\u{2019}s"])
    }

    @Test("bytes already peeked at (format sniffing on stdin) are read by the XML reader")
    func afterPeek() throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("input3.xml", "  <rows><row><a>1</a></row><row><a>2</a></row></rows>")
        let input = try InputFile(path: path)
        #expect(try InputFormat.sniff(input) == .xml)
        let reader = try XMLRecordReader(input)
        var values: [[String]] = []
        while let item = try reader.next() {
            if case .record(let record) = item { values.append(record.values) }
        }
        #expect(values == [["1"], ["2"]])
    }

    @Test("packed batches hold the same records as one at a time, within their record and byte limits")
    func packedBatches() throws {
        var rows = ""
        for index in 1...20 {
            rows += index % 3 == 0
                ? "<row>\n  <Job_Number> 24-\(index) </Job_Number>\n  <Job_Description>Caf\u{E9} &amp; \u{2019}n\(index)</Job_Description>\n</row>\n"
                : "<line><Billing_Item>\(index)</Billing_Item><Amount/><Note><![CDATA[a <b>]]> c</Note></line>\n"
        }
        let text = "<root><meta><a>x</a><list><i>1</i></list></meta>\(rows)<tail>t</tail></root>"
        let (expected, failure) = try Support.xmlRecords(text)
        #expect(failure == nil)
        #expect(expected.count == 21)  // 20 rows and `list`
        let scratch = TemporaryFolder()
        let path = scratch.write("input4.xml", text)
        let reader = try XMLRecordReader(InputFile(path: path))
        var packed: [Record] = []
        while let batch = try reader.nextPacked(maximumRecords: 3, maximumBytes: 40) {
            #expect(batch.count >= 1 && batch.count <= 3)
            // A batch stops at the record that takes it to the byte limit.
            #expect(batch.byteCount < 40 + 60)
            for item in batch.records() { if case .record(let record) = item { packed.append(record) } }
        }
        #expect(packed.map(\.names) == expected.map(\.names))
        #expect(packed.map(\.values) == expected.map(\.values))
        #expect(packed.map(\.line) == expected.map(\.line))
        #expect(packed.allSatisfy { $0.file == path })
        #expect(packed[3].values == [" 24-3 ", "Caf\u{E9} & \u{2019}n3"])
        #expect(packed[1].values == ["1", "", "a <b> c"])
    }

    @Test("a failure inside a packed batch comes after the records read before it, and stays")
    func packedFailure() throws {
        // libxml2 parses ahead of the nodes it returns, so the failure must lie well past the
        // records that come before it.
        let rows = (1...2000).map { "<row><a>\($0)</a></row>\n" }.joined()
        let text = "<rows>\n\(rows)<row><a>x</b></row></rows>"
        let (expected, expectedFailure) = try Support.xmlRecords(text)
        #expect(expected.count > 1000)
        #expect(expectedFailure?.diagnostic.location.line == 2002)
        let scratch = TemporaryFolder()
        let path = scratch.write("input5.xml", text)
        func values(_ items: [RecordItem]) -> [[String]] {
            items.map { item in if case .record(let record) = item { record.values } else { [] } }
        }

        let reader = try XMLRecordReader(InputFile(path: path))
        var packed: [[String]] = []
        let failure = #expect(throws: InputFailure.self) {
            while let batch = try reader.nextPacked(maximumRecords: 5000, maximumBytes: 1 << 20) {
                packed += values(batch.records())
            }
        }
        #expect(packed == expected.map(\.values))
        #expect(failure?.diagnostic.location.line == 2002)
        #expect(throws: InputFailure.self) { _ = try reader.nextPacked(maximumRecords: 5000, maximumBytes: 1 << 20) }

        // Through the prefetching thread, in the same order.
        let prefetched = RecordPrefetcher(try XMLRecordReader(InputFile(path: path)), batchSize: 64)
        var items: [RecordItem] = []
        let prefetchedFailure = #expect(throws: InputFailure.self) {
            while let item = try prefetched.next() { items.append(item) }
        }
        #expect(values(items) == expected.map(\.values))
        #expect(prefetchedFailure?.diagnostic.location.line == 2002)
    }

    @Test("an empty CDATA section is no text: it neither makes a record's element mixed nor counts beside white space", arguments: [
        ("<root><rec><a>1</a><![CDATA[]]></rec></root>", [["1"]]),
        ("<root><rec><![CDATA[]]><a>1</a><b>2</b></rec></root>", [["1", "2"]]),
        ("<root><rec><a><![CDATA[]]></a></rec></root>", [[""]]),
        // White space and then a CDATA section, even an empty one, is text mixed with elements.
        ("<root><rec>  <![CDATA[]]><a>1</a></rec></root>", []),
        ("<root><rec><![CDATA[x]]><a>1</a></rec></root>", []),
    ])
    func emptyCDATA(text: String, expected: [[String]]) throws {
        let (records, failure) = try Support.xmlRecords(text)
        #expect(failure == nil)
        #expect(records.map(\.values) == expected)
    }

    @Test("after a failure every further read fails the same way, whatever the failure")
    func failureStays() throws {
        let fields = String(repeating: "<a>1</a>", count: XMLRecordReader.maximumFieldsPerRecord + 1)
        let scratch = TemporaryFolder()
        let path = scratch.write("input6.xml", "<rows><row>\(fields)</row><row><a>2</a></row></rows>")
        let reader = try XMLRecordReader(InputFile(path: path))
        var messages: [String] = []
        for _ in 0..<3 {
            do {
                _ = try reader.next()
                Issue.record("a read after the failure succeeded")
            } catch let unusable as InputFailure {
                messages.append(unusable.diagnostic.message)
            }
        }
        #expect(messages.count == 3)
        #expect(Set(messages).count == 1)
        #expect(messages.first?.contains("fields") == true)
    }

    @Test("a record with absurdly many fields is refused")
    func tooManyFields() throws {
        let fields = String(repeating: "<a>1</a>", count: XMLRecordReader.maximumFieldsPerRecord + 1)
        let (_, failure) = try Support.xmlRecords("<rows><row>\(fields)</row></rows>")
        #expect(failure?.diagnostic.message.contains("fields") == true)
    }

    @Test("records as --records prints them: file, line, layout, fields exactly as in the file")
    func recordJSON() throws {
        let record = Record(file: "sov.xml", line: 3, fields: ["Job_Number": " 24-1 ", "Billing_Item": "01"], layout: .sovLine)
        #expect(record.json.text == #"{"file":"sov.xml","line":3,"layout":"sov_line","fields":{"Job_Number":" 24-1 ","Billing_Item":"01"}}"#)
        #expect(record.value(named: "job_number") == " 24-1 ")
        // Every character that JSON must escape, and text that needs none, survive the round trip.
        let awkward = "quote \" backslash \\ newline \n return \r tab \t nul \u{0} bell \u{7} delete \u{7F} caf\u{E9} \u{2019}"
        let tricky = Record(file: "x.csv", line: 1, fields: ["Comment": awkward])
        #expect(tricky.json.text.contains(#"quote \" backslash \\ newline \n return \r tab \t nul \u0000 bell \u0007 delete \u007f caf"#))
        #expect(try JSONParser.parse(tricky.json.text)["fields"]?["Comment"] == .string(awkward))
    }
}

@Suite("Input format detection")
struct SpectrumReaderFormatTests {
    @Test("from the first character, past a BOM and white space", arguments: [
        ("<?xml version=\"1.0\"?><a/>", InputFormat.xml), ("\n\n  <rows/>", .xml), ("\u{FEFF}<rows/>", .xml),
        ("{\"id\": 1}", .json), ("  [{}]", .json), ("Company_Code,Job_Number\n", .csv), ("\u{FEFF}Job;Name", .csv),
        ("", .empty), (" \n\t\r\n", .empty),
    ])
    func detect(_ text: String, _ expected: InputFormat) {
        #expect(InputFormat.detect(Array(text.utf8)) == expected)
    }

    @Test("UTF-16 XML is XML")
    func utf16() {
        #expect(InputFormat.detect([0xFF, 0xFE, 0x3C, 0x00, 0x61, 0x00]) == .xml)
        #expect(InputFormat.detect([0xFE, 0xFF, 0x00, 0x3C, 0x00, 0x61]) == .xml)
    }

    @Test("UTF-8 validity of a whole file", arguments: [
        ([UInt8](Array("plain ascii\n".utf8)), UTF8Check.Result.ascii),
        (Array("caf\u{E9} \u{2013} \u{1F600}".utf8), .validUTF8),
        ([0x61, 0x92, 0x73], .notUTF8),
        ([0x61, 0xE2, 0x80], .notUTF8),
        ([0xED, 0xA0, 0x80], .notUTF8),
        ([0xC0, 0xAF], .notUTF8),
    ])
    func utf8Check(_ bytes: [UInt8], _ expected: UTF8Check.Result) throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("input7.txt", bytes)
        #expect(try UTF8Check.check(path: path) == expected)
    }
}
