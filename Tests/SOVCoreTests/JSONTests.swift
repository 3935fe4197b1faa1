import SOVTestSupport
import Testing

@testable import SOVCore

struct JSONTests {
    @Test func keepsKeyOrderAndNumberText() throws {
        let value = try JSONParser.parse(#"{"b": 299.0, "a": [1, -0.5e3, true, null], "c": "x"}"#)
        #expect(value.text == #"{"b":299.0,"a":[1,-0.5e3,true,null],"c":"x"}"#)
        #expect(value["b"] == .number("299.0"))
    }

    @Test func escapesStringsCorrectly() throws {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{07} é €"
        let written = JSONValue.string(text).text
        #expect(written == #""quote \" backslash \\ newline \n tab \t bell \u0007 é €""#)
        #expect(try JSONParser.parse(written) == .string(text))
    }

    @Test func decodesEscapesAndSurrogates() throws {
        #expect(try JSONParser.parse(#""\u00e9\ud83d\ude00\/""#) == .string("é😀/"))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "\"\\x\"", "\"\\ud800\"", "tru", "{\"a\" 1}", "[1 2]", "\"a\nb\"", "{} x"])
    func rejectsMalformedJSON(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func errorsCarryLineAndColumn() {
        do {
            _ = try JSONParser.parse("{\n  \"a\": 1,\n  \"b\": ?\n}")
            Issue.record("expected an error")
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 8)
        }
    }

    @Test func boundsNesting() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func readsSequencesAsObjectArrayOrLines() throws {
        let lines = try JSONParser.parseSequence(Array("{\"a\":1}\n{\"a\":2}\n\n{\"a\":3}\n".utf8))
        #expect(lines.map(\.line) == [1, 2, 4])
        #expect(lines.map { $0.value["a"] } == [.number("1"), .number("2"), .number("3")])
        let bom = try JSONParser.parseSequence([0xEF, 0xBB, 0xBF] + Array("[1]".utf8))
        #expect(bom.count == 1)
    }
}

struct DocumentCodecTests {
    static func sampleContract() -> PrimeContract {
        PrimeContract(
            origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100"),
            source: SourceLocation(file: "jobs.csv", line: 2), number: "C-24-1017", title: "Riverside Clinic",
            status: "A", customer: Party(code: "OWN100", name: "St. Mary’s Health"), priceMethod: "F",
            originalAmount: Money(minorUnits: 125_000_000), retainagePercent: Percent(millionths: 10_000_000),
            contractDate: CalendarDate(year: 2025, month: 1, day: 15), startDate: CalendarDate(year: 2025, month: 2, day: 1),
            lines: [
                SOVLine(code: "01-000", description: "General Conditions", amount: Money(minorUnits: 25_000_000), source: SourceLocation(file: "sov.csv", line: 2)),
                SOVLine(code: "03-300", description: "Concrete", amount: Money(minorUnits: 100_000_000)),
            ],
            procore: ProcoreLink(projectId: "31337", primeContractId: "9001"),
            diagnostics: [.warning(.FMT005, "Job_Description cut", at: SourceLocation(file: "jobs.csv", line: 2, field: "Job_Description"), value: "x")])
    }

    static func sampleChangeOrder() -> ChangeOrder {
        ChangeOrder(
            origin: Origin(system: .procore, job: "24-1017", number: "007"), source: SourceLocation(file: "pcco.json", line: 1),
            number: "007", title: "Added footings", description: "Owner request", status: "approved", approved: true,
            date: CalendarDate(year: 2025, month: 3, day: 14), scheduleImpactDays: 5, executed: true,
            contract: ContractKey(company: "1", job: "24-1017", customer: "OWN100"),
            lines: [
                ChangeOrderLine(description: "Footings", amount: Money(minorUnits: 100_000), associatedLine: "03-300", associatedLineId: "77", costCode: "03-100", costType: "S", procoreMarkup: [MarkupAmount(name: "Insurance", amount: Money(minorUnits: 1000))]),
                ChangeOrderLine(description: "Rebar", amount: Money(minorUnits: -250_000), associatedLine: "03-300"),
            ],
            markups: [
                Markup(name: "Insurance", set: .horizontal, percent: Percent(millionths: 1_000_000), position: 1),
                Markup(name: "Fee", set: .vertical, percent: Percent(millionths: 3_000_000), position: 2, compound: .names(["Insurance"]), calculation: "basic"),
                Markup(name: "Bond", set: .vertical, amount: Money(minorUnits: 5000), position: 3, compound: .above, primeLineItem: "01-000"),
            ],
            computed: ComputedMarkup(
                lines: [ComputedLine(horizontal: [MarkupAmount(name: "Insurance", amount: Money(minorUnits: 1000))], extendedAmount: Money(minorUnits: 101_000), verticalShares: [], revenue: Money(minorUnits: 101_000))],
                subtotal: Money(minorUnits: 101_000), vertical: [], grandTotal: Money(minorUnits: 101_000)),
            procore: ProcoreLink(projectId: "31337", primeContractId: "9001", changeOrderId: "555"))
    }

    @Test func roundTripsThroughJSONLines() throws {
        for document in [CanonicalDocument.primeContract(Self.sampleContract()), .changeOrder(Self.sampleChangeOrder())] {
            let line = document.jsonLine
            #expect(!line.contains("\n"))
            #expect(line.hasPrefix("{\"kind\":\"\(document.kind)\",\"schema\":1,"))
            let decoded = try CanonicalDocument(json: try JSONParser.parse(line))
            #expect(decoded == document)
            #expect(decoded.jsonLine == line)
        }
    }

    @Test("written straight as bytes and built as a tree, a document is the same JSON")
    func bytesAndTreeAgree() throws {
        var unitPriced = Self.sampleContract()
        unitPriced.lines.append(SOVLine(
            code: "32-100", description: "Paving", amount: Money(minorUnits: 300_000), unitPrice: Money(minorUnits: 1_500),
            quantity: "200", unitOfMeasure: "SY", source: SourceLocation(file: "sov.csv", line: 9, record: 8)))
        unitPriced.diagnostics = []
        var bare = Self.sampleChangeOrder()
        bare.contract = nil
        bare.computed = nil
        bare.procore = nil
        bare.markups = []
        bare.lines = []
        let documents: [CanonicalDocument] = [
            .primeContract(Self.sampleContract()), .primeContract(unitPriced), .changeOrder(Self.sampleChangeOrder()), .changeOrder(bare),
        ]
        for document in documents {
            #expect(document.jsonLine == document.json.text)
            #expect(try JSONParser.parse(document.jsonLine) == document.json)
        }
        #expect(CanonicalDocument.primeContract(unitPriced).jsonLine.contains(#""unit_price":"15.00","quantity":"200","unit_of_measure":"SY","source":{"file":"sov.csv","line":9,"record":8}}"#))
        #expect(CanonicalDocument.changeOrder(bare).jsonLine.contains(#""contract":null,"currency":"USD","lines":[],"markups":[],"diagnostics":[]}"#))
    }

    @Test("both JSON outputs nest containers and separate members alike")
    func outputsNestAlike() {
        func describe(_ output: inout some JSONOutput) {
            output.object { output in
                output.key("empty")
                output.object { _ in }
                output.key("rows")
                output.array([[1, 2], [], [3]]) { output, row in
                    output.array(row) { $0.number(String($1)) }
                }
                output.member("text", "a\"b")
                output.member("none", Optional<String>.none)
                output.member("flag", bool: false)
                output.key("tree")
                output.value(.array([.null, .object(["k": .string("v")])]))
            }
        }
        var bytes = JSONByteOutput()
        describe(&bytes)
        var tree = JSONTreeOutput()
        describe(&tree)
        let expected = #"{"empty":{},"rows":[[1,2],[],[3]],"text":"a\"b","none":null,"flag":false,"tree":[null,{"k":"v"}]}"#
        #expect(String(decoding: bytes.buffer, as: UTF8.self) == expected)
        #expect(tree.result.text == expected)
    }

    @Test func writesMoneyAsFixedScaleStrings() {
        let line = CanonicalDocument.primeContract(Self.sampleContract()).jsonLine
        #expect(line.contains(#""original_amount":"1250000.00""#))
        #expect(line.contains(#""retainage_percent":"10""#))
        #expect(line.contains(#""contract_date":"2025-01-15""#))
        #expect(line.contains(#""estimated_completion_date":null"#))
    }

    @Test func unknownSchemaVersionFailsClearly() throws {
        let json = CanonicalDocument.primeContract(Self.sampleContract()).json.setting("schema", to: .int(2))
        do {
            _ = try CanonicalDocument(json: json)
            Issue.record("expected FMT009")
        } catch {
            #expect(error.code == .FMT009)
            #expect(error.message.contains("unknown canonical schema version 2"))
        }
    }

    @Test func malformedFieldIsNamed() throws {
        let json = CanonicalDocument.primeContract(Self.sampleContract()).json.setting("original_amount", to: .string("12.5x"))
        do {
            _ = try CanonicalDocument(json: json, at: SourceLocation(file: "in.jsonl", line: 7))
            Issue.record("expected FMT009")
        } catch {
            #expect(error.code == .FMT009)
            #expect(error.location == SourceLocation(file: "in.jsonl", line: 7, field: "original_amount"))
        }
    }

    @Test func originIdsAreStable() {
        #expect(CanonicalDocument.primeContract(Self.sampleContract()).originId == "spectrum:1:24-1017:OWN100")
        #expect(CanonicalDocument.changeOrder(Self.sampleChangeOrder()).originId == "procore:pcco:555")
        #expect(AtomicFile.safeFileName("spectrum:1:24-1017:OWN100") == "spectrum_1_24-1017_OWN100")
    }

    @Test func diagnosticsPrintForHumans() {
        let diagnostic = Diagnostic.error(.CO003, "status must be Approved", at: SourceLocation(file: "co.csv", line: 4, field: "Status_Code"), value: "P")
        #expect(diagnostic.humanLine == "co.csv:4: error: [CO003] status must be Approved (field Status_Code, value 'P')")
        #expect(diagnostic.json.text == #"{"code":"CO003","severity":"error","message":"status must be Approved","file":"co.csv","line":4,"field":"Status_Code","value":"P"}"#)
        // A document read from standard input has a record number but no file.
        let fromStdin = Diagnostic.error(.CO003, "status must be Approved", at: SourceLocation(record: 7))
        #expect(fromStdin.humanLine == "<input>:record 7: error: [CO003] status must be Approved")
        // A problem of the run's settings has no place at all, and names none.
        let setting = Diagnostic.warning(.FMT004, "no Spectrum Authorization_ID", at: SourceLocation(field: "Authorization_ID"))
        #expect(setting.humanLine == "warning: [FMT004] no Spectrum Authorization_ID (field Authorization_ID)")
    }
}

/// A reject of a canonical document is written straight as bytes: the same bytes as the tree.
struct RejectLineTests {
    @Test func bytesAndTreeAgree() {
        let diagnostics = [Diagnostic.error(.CO003, "status must be Approved", at: SourceLocation(file: "co.csv", line: 4, field: "Status_Code"), value: "P")]
        for document in [CanonicalDocument.primeContract(DocumentCodecTests.sampleContract()), .changeOrder(DocumentCodecTests.sampleChangeOrder())] {
            var bytes: [UInt8] = []
            Reject(document: document, diagnostics: diagnostics).writeJSON(into: &bytes)
            var tree: [UInt8] = []
            JSONWriter.write(Reject(document: document.json, diagnostics: diagnostics).json, into: &tree)
            #expect(bytes == tree)
            #expect(Reject(document: document, diagnostics: diagnostics).document == document.json)
        }
    }
}

struct ProjectMapTests {
    let folder = TemporaryFolder()

    /// The lookup before rows were indexed by job (a scan of every row): the oracle.
    static func scanned(_ map: ProjectMap, _ key: ContractKey) -> ProjectMapping? {
        map.mappings.filter { $0.matches(key) }.max { $0.specificity < $1.specificity }
    }

    /// Random maps with wildcards, repeated and conflicting rows: the indexed lookup picks the
    /// same row as the scan (most specific; the first in the file among equals).
    @Test func indexedLookupAgreesWithAScanOfEveryRow() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let rows = (0..<Int(random.next() % 12)).map { line in
                ProjectMapping(
                    company: random.next() % 3 == 0 ? nil : ["1", "2"][Int(random.next() % 2)], job: ["24-1017", "24-2040", "7"][Int(random.next() % 3)],
                    customer: random.next() % 3 == 0 ? nil : ["OWN100", "OWN200"][Int(random.next() % 2)], projectId: String(line), primeContractId: nil, line: line)
            }
            let map = ProjectMap(mappings: rows)
            for company in ["1", "2", "3"] {
                for job in ["24-1017", "24-2040", "7", "99"] {
                    for customer in ["OWN100", "OWN200", "X"] {
                        let key = ContractKey(company: company, job: job, customer: customer)
                        #expect(map.mapping(for: key) == Self.scanned(map, key))
                    }
                }
            }
        }
    }

    func write(_ text: String) -> String { folder.write("map.csv", text) }

    @Test func specificRowsWinAndBlanksMatchAny() throws {
        let path = write("company,job,customer,project_id,prime_contract_id\n,24-1017,,100,\n1,24-1017,OWN200,200,2001\n1,24-2040,OWN100,300,3001\n")
        let map = try ProjectMap.load(path)
        #expect(map.mapping(for: ContractKey(company: "1", job: "24-1017", customer: "OWN100"))?.projectId == "100")
        #expect(map.mapping(for: ContractKey(company: "1", job: "24-1017", customer: "OWN200"))?.projectId == "200")
        #expect(map.mapping(for: ContractKey(company: "1", job: "99-0000", customer: "OWN200")) == nil)
        #expect(map.contractKey(projectId: "300", primeContractId: nil, job: nil) == ContractKey(company: "1", job: "24-2040", customer: "OWN100"))
        #expect(map.contractKey(projectId: nil, primeContractId: "2001", job: nil) == ContractKey(company: "1", job: "24-1017", customer: "OWN200"))
        #expect(map.contractKey(projectId: "100", primeContractId: nil, job: nil) == nil)  // wildcard row: no customer
        #expect(map.knowsPrimeContract("3001"))
    }

    @Test func missingColumnIsAnError() {
        let path = write("company,job,customer\n1,24-1017,OWN100\n")
        #expect(throws: Diagnostic.self) { try ProjectMap.load(path) }
    }
}
