import Testing
import SOVCore
import SOVTestSupport
@testable import SpectrumFormat

/// The SAX2 reader (`XMLRecordReader`) against the xmlTextReader one it replaced
/// (`XMLTextReaderRecordReader`, kept as the oracle): on every input both must give the same
/// records (names, values, lines), in the same batches' order, and fail the same way (message,
/// code, line), with the same records before the failure.
@Suite("XML reader: SAX2 against xmlTextReader")
struct XMLReaderDifferentialTests {
    /// What one reader made of an input, as text that compares whole.
    private static func outcome(_ reader: some PackedRecordReader, maximumRecords: Int, maximumBytes: Int) -> String {
        var text = ""
        do {
            while let batch = try reader.nextPacked(maximumRecords: maximumRecords, maximumBytes: maximumBytes) {
                for item in batch.records() {
                    guard case .record(let record) = item else { continue }
                    text += "\(record.line) \(record.names) \(record.values)\n"
                }
            }
            text += "end\n"
            // The end stays the end.
            if (try? reader.nextPacked(maximumRecords: 1, maximumBytes: 1)) != nil { text += "a record after the end\n" }
        } catch let unusable as InputFailure {
            let diagnostic = unusable.diagnostic
            text += "unusable \(diagnostic.code) line \(diagnostic.location.line ?? -1): \(diagnostic.message)\n"
            // And the failure stays.
            do {
                _ = try reader.nextPacked(maximumRecords: 1, maximumBytes: 1)
                text += "a read after the failure succeeded\n"
            } catch let again as InputFailure {
                if again.diagnostic.message != diagnostic.message { text += "another failure after the failure\n" }
            } catch {
                text += "another error after the failure: \(error)\n"
            }
        } catch {
            text += "error \(error)\n"
        }
        return text
    }

    private static func compare(_ bytes: [UInt8], _ scratch: TemporaryFolder, _ name: String, limits: [(Int, Int)] = [(256, 1 << 20)]) throws {
        let path = scratch.write(name, bytes)
        for (records, byteLimit) in limits {
            let expected = outcome(try XMLTextReaderRecordReader(InputFile(path: path)), maximumRecords: records, maximumBytes: byteLimit)
            let actual = outcome(try XMLRecordReader(InputFile(path: path)), maximumRecords: records, maximumBytes: byteLimit)
            #expect(actual == expected, "\(name) (batches of \(records) records, \(byteLimit) bytes): \(String(decoding: bytes.prefix(300), as: UTF8.self))")
        }
    }

    private static func row(_ job: Int, _ item: Int) -> String {
        "<row><Company_Code>1</Company_Code><Job_Number>24-\(job)</Job_Number><Customer_Code>C\(job)</Customer_Code><Job_Description>Job \(job) &amp; co</Job_Description><Original_Contract>\(1000 * (job + 1)).00</Original_Contract><Billing_Item>\(item)</Billing_Item><Item_Original_Contract>\(item * 10).50</Item_Original_Contract></row>\n"
    }

    private static func rows(_ count: Int, jobs: Int = 3) -> String {
        (0..<jobs).flatMap { job in (0..<count).map { row(job, $0) } }.joined()
    }

    private static func attributeList(_ count: Int) -> String {
        (0..<count).map { "a\($0)='1'" }.joined(separator: " ")
    }

    /// Documents that are well formed, or broken or hostile in a known way.
    static let documents: [String] = {
        let good = "<?xml version=\"1.0\"?>\n<rows>\n\(rows(4))</rows>\n"
        var documents: [String] = []
        documents += [good, good.replacingOccurrences(of: "\n", with: "\r\n"), "\u{FEFF}" + good]
        documents += ["<?xml version='1.0'?><s:E xmlns:s='urn:s' xmlns='urn:d'><s:B><x:rows xmlns:x='urn:x'>" + rows(3).replacingOccurrences(of: "<row>", with: "<x:row a='1' b=\"2\">").replacingOccurrences(of: "</row>", with: "</x:row>") + "</x:rows></s:B></s:E>"]
        documents += ["<rows>" + rows(2).replacingOccurrences(of: "Job 0 &amp; co", with: "Job <!-- c -->0<?pi x?> &#x2019;&#8211; &lt;&gt;&quot;&apos;<![CDATA[ & <x> ]]>") + "</rows>"]
        documents += ["<rows>\n  " + rows(2).replacingOccurrences(of: "><", with: ">\n   <") + "\n</rows>"]
        documents += ["<rows>text" + rows(2) + "<row>tail<a>1</a></row><row><a>1</a>tail</row><row><a><b>1</b></a></row><row><a>1</a><![CDATA[]]></row><row><a>1</a><![CDATA[ ]]></row><row>  <![CDATA[]]><a>1</a></row></rows>"]
        documents += ["<rows><row><a/><b></b><c> </c></row><row/><row></row><x><y/></x></rows>"]
        documents += ["<response><Job_Number>1</Job_Number><Company_Code>2</Company_Code></response>"]
        documents += ["<?xml version='1.0'?>\n<!DOCTYPE rows [<!ENTITY x 'y'>]>\n<rows>" + rows(1) + "</rows>"]
        documents += ["<?xml version='1.0'?>\n\n\n<!DOCTYPE rows SYSTEM 'file:///etc/passwd'>\n\n<rows>" + rows(1) + "</rows>"]
        documents += ["<!DOCTYPE rows>"]
        documents += ["<?xml version='1.0'?>\n<!DOCTYPE lolz [\n<!ENTITY lol 'lol'>\n<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>\n<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>\n]>\n<rows><row><a>&lol3;</a></row></rows>"]
        documents += ["<!DOCTYPE r [<!ENTITY % p SYSTEM 'http://x/y'> %p;]>\n<r><row><a>1</a></row></r>"]
        documents += ["<?xml version='1.0'?>\n<!DOCTYPE rows [\n<!ENTITY x 'y'\n"]
        documents += ["<!DOCTYPE r [<!ENTITY e 'x'>]><r a='&e;'><row><a>&e;</a></row></r>"]
        documents += ["<rows>\n" + rows(1) + "<row><Job_Number>&nbsp;</Job_Number></row></rows>"]
        documents += [String(good.prefix(good.count / 2)), String(good.dropLast(9))]
        documents += ["<rows>\n" + rows(2) + "<row><a>1</b></row>\n" + rows(2) + "</rows>"]
        documents += ["<rows><row><a>1</a></row></rows>junk", "<rows><row><a>1</a></row></rows><rows/>"]
        documents += ["<rows><row><a x='1' x='2'>1</a></row></rows>", "<rows><p:row><a>1</a></p:row></rows>", "<no xml at all", "", "   "]
        documents += ["<?xml version='1.0' encoding='X-NOPE'?><rows><row><a>1</a></row></rows>"]
        documents += ["<rows><row " + attributeList(1001) + "><a>1</a></row></rows>"]
        documents += ["<rows><row " + attributeList(1000) + "><a>1</a></row></rows>"]
        documents += ["<rows><row>" + String(repeating: "<a>1</a>", count: XMLRecordReader.maximumFieldsPerRecord + 1) + "</row></rows>"]
        documents += ["<rows><row>" + String(repeating: "<a>1</a>", count: XMLRecordReader.maximumFieldsPerRecord) + "</row></rows>"]
        documents += ["<rows>\n<row>\n<a>" + String(repeating: "x", count: Record.maximumBytes) + "y</a></row></rows>"]
        documents += ["<rows><row><a>" + String(repeating: "x", count: Record.maximumBytes - 10) + "</a></row></rows>"]
        documents += ["<rows>\n<row>\n" + (0..<4).map { "<f\($0)>" + String(repeating: "x", count: 300_000) + "</f\($0)>\n" }.joined() + "</row></rows>"]
        documents += ["<rows>\n<row><a>1</a></row>\n<!--" + String(repeating: "x", count: 5 << 20) + "-->\n</rows>"]
        documents += ["<rows>\n<row><a>1</a></row>\n<?pi " + String(repeating: "x\n", count: 3 << 20) + "?>\n</rows>"]
        documents += ["<rows>\n<row><a>" + String(repeating: String(repeating: "x", count: 1000) + "<!-- -->", count: 1100) + "</a></row></rows>"]
        documents += ["<rows>\n<row><a>1</a></row>" + String(repeating: " ", count: 3 << 20) + "\n</rows>"]
        documents += ["<rows>\n<row><a>1</a></row>" + String(repeating: " \n", count: 3 << 20) + "\n</rows>"]
        documents += ["<rows>\n<g>" + String(repeating: "t", count: 2 << 20) + "<row><a>1</a></row></g></rows>"]
        documents += ["<rows>\n<g>" + String(repeating: "t\n", count: 3 << 20) + "<row><a>1</a></row></g></rows>"]
        documents += [String(repeating: "<a>", count: 300) + "<row><x>1</x></row>" + String(repeating: "</a>", count: 300)]
        documents += [String(repeating: "<a>", count: 257) + "<row><x>1</x></row>" + String(repeating: "</a>", count: 257)]
        documents += [String(repeating: "<a>", count: 255) + "<row><x>1</x></row>" + String(repeating: "</a>", count: 255)]
        documents += ["<rows><row><a><![CDATA[abc</a></row></rows>", "<rows><row><a>1</a></row><!-- abc </rows>"]
        documents += ["<rows><row><a>&#0;</a></row></rows>", "<rows><row><a>&#xD800;</a></row></rows>", "<rows><row><a x='<'>1</a></row></rows>"]
        documents += ["<rows><row><a>1\u{0}</a></row></rows>", "<rows><row><a>1\u{1}</a></row></rows>", "\n<?xml version='1.0'?><rows/>"]
        documents += ["<?xml version='2.0'?><rows><row><a>1</a></row></rows>", "<rows><row><a>a & b</a></row></rows>"]
        documents += ["<rows><row><a>a > b ]]> c</a></row></rows>", "<rows ><row\n><a\t>1</a ><b x = '1' >2</b></row ></rows >"]
        documents += ["<?xml version='1.0'?><?xml-stylesheet href='x'?><!-- c --><rows><row><a>1</a></row></rows><!-- after --><?pi?>"]
        documents += ["<rows>" + (0..<600).map { index in "<row>" + (0...(index % 7)).map { "<f\($0)>\(index)</f\($0)>" }.joined() + "</row>" }.joined() + "</rows>"]
        documents += ["<rows>" + (0..<1500).map { "<row><f\($0)>1</f\($0)><Job_Number>2</Job_Number></row>" }.joined() + "</rows>"]
        documents += ["<rows>\n" + (1...2000).map { "<row><a>\($0)</a></row>\n" }.joined() + "<row><a>x</b></row></rows>"]
        documents.append("<rows>\n<row><Job_Number>" + String(repeating: "t<!---->", count: 3 << 20) + "</Job_Number></row></rows>")
        documents.append("<rows>\n<row><a>" + String(repeating: "t<?p?>\n", count: 1 << 19) + "</a></row></rows>")
        documents.append("<rows>\n" + String(repeating: "<!-- -->\n", count: 2000) + rows(30) + "<row><a>1</b></row></rows>\n")
        return documents
    }()

    @Test("hand-made documents: well formed, malformed, hostile")
    func documentsAgree() throws {
        let scratch = TemporaryFolder()
        for (index, document) in Self.documents.enumerated() {
            try Self.compare(Array(document.utf8), scratch, "doc\(index).xml", limits: [(256, 1 << 20), (3, 64)])
        }
    }

    @Test("encodings: declared, detected and broken")
    func encodingsAgree() throws {
        let scratch = TemporaryFolder()
        let latin1: [UInt8] = Array("<?xml version='1.0' encoding='ISO-8859-1'?><rows><row><a>caf".utf8) + [0xE9] + Array("</a></row></rows>".utf8)
        let windows1252: [UInt8] = Array("<?xml version='1.0' encoding='windows-1252'?><rows><row><a>St. Mary".utf8) + [0x92, 0x73, 0x20, 0x80] + Array("</a></row></rows>".utf8)
        let undefined: [UInt8] = Array("<?xml version='1.0' encoding='windows-1252'?><rows><row><a>x".utf8) + [0x81] + Array("y</a></row></rows>".utf8)
        let notUTF8: [UInt8] = Array("<rows>\n\(Self.rows(30))<row><a>St. Mary".utf8) + [0x92] + Array("s</a></row></rows>".utf8)
        var utf16: [UInt8] = [0xFF, 0xFE]
        for unit in "<?xml version='1.0' encoding='UTF-16'?><rows><row><a>\u{E9}\u{4E2D}</a><b>x</b></row></rows>".utf16 {
            utf16 += [UInt8(unit & 0xFF), UInt8(unit >> 8)]
        }
        for (index, bytes) in [latin1, windows1252, undefined, notUTF8, utf16, Array(utf16.dropLast(3))].enumerated() {
            try Self.compare(bytes, scratch, "encoding\(index).xml", limits: [(256, 1 << 20), (2, 16)])
        }
    }

    @Test("random damage to an export: deleted, inserted and changed bytes, cut short")
    func damagedExportsAgree() throws {
        var generator = SplitMix64(seed: 19)
        let base = Array("<?xml version=\"1.0\"?>\n<rows>\n\(Self.rows(12))</rows>\n".utf8)
        let alphabet = Array("<>&/='\"!?[]x \n;#-:".utf8) + [0x92, 0x00, 0xC3]
        let scratch = TemporaryFolder()
        for index in 0..<400 {
            var bytes = base
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                guard !bytes.isEmpty else { break }
                let position = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 4 {
                case 0: bytes.removeSubrange(position..<min(bytes.count, position + 1 + Int(generator.next() % 20)))
                case 1: bytes.insert(alphabet[Int(generator.next() % UInt64(alphabet.count))], at: position)
                case 2: bytes[position] = UInt8(truncatingIfNeeded: generator.next())
                default: bytes.removeSubrange(position...)
                }
            }
            try Self.compare(bytes, scratch, "damaged\(index).xml", limits: index % 4 == 0 ? [(256, 1 << 20), (3, 64)] : [(256, 1 << 20)])
        }
    }

    @Test("random documents built from XML's pieces")
    func randomDocumentsAgree() throws {
        var generator = SplitMix64(seed: 2040)
        let pieces = [
            "<row>", "</row>", "<a>", "</a>", "<b>", "</b>", "<p:c xmlns:p='urn:p'>", "</p:c>", "<e/>", "text", " ", "\n", "\r\n",
            "&amp;", "&#x41;", "&lt;", "<![CDATA[x<y]]>", "<![CDATA[]]>", "<!-- c -->", "<?pi d?>", "<d k='v'>", "</d>", "&bad;", "<",
        ]
        let scratch = TemporaryFolder()
        for index in 0..<400 {
            var text = index % 5 == 0 ? "<?xml version='1.0'?>\n" : ""
            text += "<rows>"
            for _ in 0..<(5 + Int(generator.next() % 60)) { text += pieces[Int(generator.next() % UInt64(pieces.count))] }
            if generator.next() % 3 != 0 { text += "</rows>" }
            try Self.compare(Array(text.utf8), scratch, "random\(index).xml", limits: [(256, 1 << 20), (1, 1)])
        }
    }

    @Test("exports of thousands of rows agree, batch by batch")
    func largeExportsAgree() throws {
        let scratch = TemporaryFolder()
        let text = "<?xml version=\"1.0\"?>\n<rows>\n\(Self.rows(400, jobs: 10))</rows>\n"
        try Self.compare(Array(text.utf8), scratch, "large.xml", limits: [(256, 1 << 20), (7, 300), (5000, 1 << 20)])
    }

    @Test("every record's line past 65535 is its own (xmlTextReader said 65535 for most of them)")
    func linesPastTheLimitOfSixteenBits() throws {
        let rows = (0..<70_010).map { "<row><a>\($0)</a></row>\n" }.joined()
        let scratch = TemporaryFolder()
        let path = scratch.write("lines.xml", "<rows>\n\(rows)</rows>\n")
        let reader = try XMLRecordReader(InputFile(path: path))
        var lines: [Int] = []
        var values: [String] = []
        while let batch = try reader.nextPacked(maximumRecords: 256, maximumBytes: 1 << 20) {
            for case .record(let record) in batch.records() {
                lines.append(record.line)
                values.append(record.values[0])
            }
        }
        #expect(lines == Array(2..<70_012))
        #expect(values == (0..<70_010).map(String.init))
    }
}

/// The attribute counter as it was, byte by byte: the oracle of the word-at-a-time one.
private struct ByteByByteAttributeCounter {
    private enum State { case text, lessThan, startTag, quoted, otherTag }
    private var state = State.text
    private var quote: UInt8 = 0
    private var count = 0
    let maximum: Int
    private(set) var exceeded = false

    init(maximum: Int) {
        self.maximum = maximum
    }

    mutating func scan(_ bytes: [UInt8]) {
        for byte in bytes where !exceeded {
            switch state {
            case .text:
                if byte == 0x3C { state = .lessThan }
            case .lessThan:
                if byte == 0x2F || byte == 0x21 || byte == 0x3F {
                    state = .otherTag
                } else {
                    state = .startTag
                    count = 0
                }
            case .startTag:
                if byte == 0x3D {
                    count += 1
                    if count > maximum { exceeded = true }
                } else if byte == 0x22 || byte == 0x27 {
                    quote = byte
                    state = .quoted
                } else if byte == 0x3E {
                    state = .text
                }
            case .quoted:
                if byte == quote { state = .startTag }
            case .otherTag:
                if byte == 0x3E { state = .text }
            }
        }
    }
}

@Suite("XML attribute counter")
struct AttributeCounterTests {
    @Test("eight bytes at a time, it trips in the same block as byte by byte, however the input is split")
    func agreesWithByteByByte() {
        var generator = SplitMix64(seed: 1000)
        let alphabet = Array("<<>>==\"'/!?a b\n".utf8) + [0x80, 0xC3]
        // Without '=' and quotes (most of an export), blocks are read from their last '>'.
        let plain = Array("<<<>>>/!?a b\n".utf8)
        for round in 0..<6_000 {
            let length = Int(generator.next() % 200)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                // Now and then an '=' or a quote among plain bytes, so blocks of both kinds follow each other.
                let letters = round % 2 == 0 || generator.next() % 30 == 0 ? alphabet : plain
                bytes.append(letters[Int(generator.next() % UInt64(letters.count))])
            }
            let maximum = Int(generator.next() % 4)
            var expected = ByteByByteAttributeCounter(maximum: maximum)
            var actual = AttributeCounter(maximum: maximum)
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + 1 + Int(generator.next() % 40))
                let block = Array(bytes[start..<end])
                expected.scan(block)
                block.withUnsafeBytes { actual.scan($0) }
                #expect(actual.exceeded == expected.exceeded, "\(String(decoding: bytes, as: UTF8.self)) split at \(start)..<\(end), maximum \(maximum)")
                start = end
            }
        }
    }

    @Test("an export's bound: 1,000 attributes pass, 1,001 do not, quoted '=' and '>' are no attributes")
    func bound() {
        func exceeded(_ text: String) -> Bool {
            var counter = AttributeCounter()
            Array(text.utf8).withUnsafeBytes { counter.scan($0) }
            return counter.exceeded
        }
        let names = (0..<1_001).map { "a\($0)='x'" }
        #expect(!exceeded("<row " + names.dropLast().joined(separator: " ") + ">"))
        #expect(exceeded("<row " + names.joined(separator: " ") + ">"))
        #expect(!exceeded("<row a='" + String(repeating: "=>", count: 2_000) + "'>"))
        #expect(!exceeded("<!-- " + String(repeating: "a=1 ", count: 2_000) + "-->"))
    }
}

