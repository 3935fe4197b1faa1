import Testing
import SOVCore
@testable import SpectrumFormat

private typealias Support = ReaderTestSupport

private let jobsCSV = """
    Company_Code,Job_Number,Customer_Code,Contract_Number,Job_Description,Original_Contract
    1,24-1,C1,K-1,First,300.00
    1,24-2,C2,K-2,Second,50.00
    1,24-3,C3,K-3,Header only,0.00

    """

private let sovCSV = """
    Company_Code,Job_Number,Customer_Code,Billing_Item,Billing_Description,Original_Contract
    1,24-2,C2,01,Only line,50.00
    1,24-1,C1,01,One,100.00
    1,24-9,C9,01,Orphan,5.00
    1,24-1,C1,02,Two,200.00

    """

/// Feeds records to an assembler and lists what it emits, in order.
private final class Collector {
    var outputs: [ReadEvent] = []
    var documents: [CanonicalDocument] {
        outputs.compactMap { if case .read(.accepted(let document)) = $0 { document } else { nil } }
    }
    var rejects: [Reject] {
        outputs.compactMap { if case .read(.rejected(let reject)) = $0 { reject } else { nil } }
    }
    var warnings: [Diagnostic] {
        outputs.compactMap { if case .warning(let warning) = $0 { warning } else { nil } }
    }
    func emit(_ output: ReadEvent) { outputs.append(output) }
}

private func record(_ fields: KeyValuePairs<String, String>, line: Int, file: String = "rows.xml") -> Record {
    Record(file: file, line: line, fields: fields)
}

@Suite("Layout assembly")
struct LayoutAssemblyTests {
    @Test("headers and SOV lines from separate files join by company + job + customer, in any file order")
    func join() throws {
        for texts in [[jobsCSV, sovCSV], [sovCSV, jobsCSV]] {
            let result = try Support.parse(texts: texts)
            let byJob = Dictionary(uniqueKeysWithValues: result.contracts.map { ($0.origin.job!, $0) })
            #expect(Set(byJob.keys) == ["24-1", "24-2", "24-3"])
            #expect(byJob["24-1"]?.lines.map(\.code) == ["01", "02"])
            #expect(byJob["24-1"]?.lines.map(\.amount.description) == ["100.00", "200.00"])
            #expect(byJob["24-2"]?.lines.map(\.description) == ["Only line"])
            #expect(byJob["24-3"]?.lines.isEmpty == true)  // a header without lines is still a contract
            // Lines without a header are rejected together, every record kept.
            #expect(result.rejects.count == 1)
            let orphan = try #require(result.rejects.first)
            #expect(orphan.diagnostics.map(\.code) == [.FMT004])
            #expect(orphan.diagnostics.first?.message.contains("1/24-9/C9") == true)
            #expect(orphan.document?["records"]?.arrayValue?.first?["fields"]?["Billing_Description"] == .string("Orphan"))
        }
    }

    @Test("joined contracts come out in the order their keys first appeared")
    func joinOrder() throws {
        let result = try Support.parse(texts: [jobsCSV, sovCSV])
        #expect(result.contracts.map(\.origin.job) == ["24-1", "24-2", "24-3"])
    }

    @Test("a second header for one contract is rejected; the first stands")
    func duplicateHeader() throws {
        let result = try Support.parse(texts: [jobsCSV, "Job_Number,Customer_Code,Company_Code,Job_Description,Original_Contract\n24-1,C1,1,Again,1.00\n"])
        #expect(result.contracts.first { $0.origin.job == "24-1" }?.title == "First")
        #expect(result.rejects.map(\.diagnostics.first?.code) == [.FMT007])
        #expect(result.rejects.first?.record?["fields"]?["Job_Description"] == .string("Again"))
    }

    @Test("a flat export streams: each contract is emitted as soon as its key changes")
    func flatStreams() throws {
        let assembler = SpectrumAssembler()
        let out = Collector()
        let names: KeyValuePairs<String, String> = ["Company_Code": "1", "Job_Number": "A", "Customer_Code": "C", "Original_Contract": "1.00", "Billing_Item": "01", "Line_Amount": "1.00"]
        try assembler.add(record(names, line: 2), emit: out.emit)
        #expect(out.documents.isEmpty)
        let next = Record(file: "rows.xml", line: 3, fieldNames: FieldNames(names.map(\.key)), values: ["1", "B", "C", "2.00", "01", "2.00"])
        try assembler.add(next, emit: out.emit)
        #expect(out.documents.count == 1)  // A is complete once B starts
        try assembler.endFile(emit: out.emit)
        #expect(out.documents.map(\.origin.job) == ["A", "B"])
    }

    @Test("flat contracts from the FOR XML fixture: padded keys trimmed, SQL money read exactly")
    func flatFixture() throws {
        let result = try Support.parse([Support.fixture("flat-contracts.xml")])
        #expect(result.rejects.isEmpty)
        #expect(result.contracts.count == 2)
        let first = try #require(result.contracts.first)
        #expect(first.origin.job == "24-6001")
        #expect(first.customer.code == "OWN800")
        #expect(first.number == "24-6001")
        #expect(first.originalAmount == Money(minorUnits: 150_000))
        #expect(first.retainagePercent?.description == "10")
        #expect(first.lines.map(\.description) == ["General", "Site & civil"])
        #expect(first.lines.map(\.amount.description) == ["1000.00", "500.00"])
        #expect(result.contracts[1].contractDate == CalendarDate(year: 2025, month: 2, day: 1))
    }

    @Test("rows of one flat contract that are not together make the file unusable; nothing from it is used")
    func ungrouped() throws {
        let result = try Support.parse([Support.fixture("flat-ungrouped.csv")])
        #expect(result.documents.isEmpty)
        let failure = try #require(result.unusable.values.first)
        #expect(failure.diagnostic.message.contains("not together"))
        #expect(failure.diagnostic.location.line == 4)
    }

    @Test("change order rows group by key; a key that comes back later is an error")
    func changeOrderGrouping() throws {
        let header = "Company_Code,Job_Number,Customer_Code,Change_Order_Number,Status_Code,CO_Billing_Item_Code,Revenue\n"
        let grouped = try Support.parse(texts: [header + "1,J,C,001,A,01,1.00\n1,J,C,001,A,02,2.00\n1,J,C,002,A,01,3.00\n1,K,C,001,A,01,4.00\n"])
        #expect(grouped.changeOrders.map { "\($0.origin.job!)/\($0.number)/\($0.lines.count)" } == ["J/001/2", "J/002/1", "K/001/1"])
        let ungrouped = try Support.parse(texts: [header + "1,J,C,001,A,01,1.00\n1,J,C,002,A,01,3.00\n1,J,C,001,A,02,2.00\n"])
        #expect(ungrouped.documents.isEmpty)
        #expect(ungrouped.unusable.values.first?.diagnostic.message.contains("Change_Order_Number") == true)
    }

    @Test("Data Exchange error rows A, I, M, E are rejected with their description and column", arguments: ["A", "I", "M", "E", "e"])
    func errorRows(_ code: String) throws {
        let assembler = SpectrumAssembler()
        let out = Collector()
        try assembler.add(record(["Job_Number": "", "Job_Description": "", "Error_Code": code, "Error_Description": "The web service is not Authorized", "Error_Column": "Authorization_ID"], line: 9), emit: out.emit)
        try assembler.endFile(emit: out.emit)
        try assembler.finish(emit: out.emit)
        #expect(out.documents.isEmpty)
        let reject = try #require(out.rejects.first)
        #expect(reject.diagnostics.map(\.code) == [.SRC001])
        #expect(reject.diagnostics[0].message == "Spectrum reported error \(code): The web service is not Authorized (column Authorization_ID)")
        #expect(reject.diagnostics[0].location == SourceLocation(file: "rows.xml", line: 9))
        #expect(reject.record?["fields"]?["Error_Code"] == .string(code))
    }

    @Test("error_code and desc spellings too")
    func lowerCaseErrorFields() throws {
        let assembler = SpectrumAssembler()
        let out = Collector()
        try assembler.add(record(["error_code": "E", "desc": "Invalid company"], line: 3), emit: out.emit)
        #expect(out.rejects.first?.diagnostics.first?.message == "Spectrum reported error E: Invalid company")
    }

    @Test("a W row is a warning carried by its document, or said alone when the row has no data")
    func warnings() throws {
        let result = try Support.parse([Support.fixture("soap-errors.xml")])
        let contract = try #require(result.contracts.first)
        #expect(contract.origin.job == "24-5001")
        #expect(contract.diagnostics.map(\.code) == [.SRC002])
        #expect(contract.diagnostics.first?.severity == .warning)
        #expect(contract.diagnostics.first?.message == "Spectrum warning: Job has no billing items")
        #expect(result.rejects.map { $0.diagnostics.map(\.code) } == [[.SRC001]])

        let assembler = SpectrumAssembler()
        let out = Collector()
        try assembler.add(record(["Error_Code": "W", "Error_Description": "No jobs match"], line: 4), emit: out.emit)
        #expect(out.warnings.map(\.message) == ["Spectrum warning: No jobs match"])
        #expect(out.rejects.isEmpty)
    }

    @Test("a W saying the result exceeded the maximum: the export is truncated, the whole file is rejected")
    func truncatedExport() throws {
        let result = try Support.parse([Support.fixture("soap-truncated.xml")])
        #expect(result.documents.isEmpty)
        #expect(result.rejects.isEmpty)
        let failure = try #require(result.unusable.values.first)
        #expect(failure.diagnostic.code == .SRC002)
        #expect(failure.diagnostic.message.contains("truncated"))
        #expect(failure.status == .dataError)
    }

    @Test("an unusable file contributes nothing, not even to the join; the other files still do")
    func abandonedFile() throws {
        let sovWithBadEnd = "Company_Code,Job_Number,Customer_Code,Billing_Item,Original_Contract\n1,24-1,C1,09,999.00\n1,24-1,C1,10,\"unterminated\n"
        let result = try Support.parse(texts: [jobsCSV, sovWithBadEnd, sovCSV])
        #expect(result.unusable.count == 1)
        #expect(result.contracts.first { $0.origin.job == "24-1" }?.lines.map(\.code) == ["01", "02"])
    }

    @Test("a truncated XML file emits nothing, though whole contracts came before the cut")
    func truncatedXML() throws {
        let result = try Support.parse([Support.fixture("truncated.xml")])
        #expect(result.documents.isEmpty)
        #expect(result.unusable.count == 1)
    }

    @Test("a SOAP fault makes the file unusable with its message")
    func soapFault() throws {
        let result = try Support.parse(texts: ["""
            <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>
            <soap:Fault><faultcode>soap:Server</faultcode><faultstring>Authorization failed</faultstring></soap:Fault>
            </soap:Body></soap:Envelope>
            """], suffix: ".xml")
        #expect(result.unusable.values.first?.diagnostic.message == "SOAP fault from Spectrum: Authorization failed")
    }

    @Test("a CSV read with the wrong delimiter says which --delimiter to give")
    func wrongDelimiterHint() throws {
        // A CSV header matching no layout fails the file once (issue 16), not every row.
        let result = try Support.parse(texts: ["Company_Code\tJob_Number\tCustomer_Code\tBilling_Item\tOriginal_Contract\n1\t24-1\tC\t0100\t5.00\n"], suffix: ".csv")
        #expect(result.rejects.isEmpty)
        #expect(result.unusable.values.first?.diagnostic.message.hasSuffix("; the header is one field holding tabs: give --delimiter tab") == true)
        let semicolons = try Support.parse(texts: ["Job_Number;Billing_Item\n24-1;0100\n"], suffix: ".csv")
        #expect(semicolons.unusable.values.first?.diagnostic.message.hasSuffix("give --delimiter ';'") == true)
        let commas = try Support.parse(texts: ["Note,Other\nx,y\n"], suffix: ".csv")
        #expect(commas.unusable.values.first?.diagnostic.message.hasSuffix("A --profile [fields] table maps a site's own column names") == true)
    }

    @Test("a record that matches no layout, or names a field twice, is rejected; the rest flows on")
    func rejectedRecords() throws {
        let result = try Support.parse(texts: ["""
            <rows>
            <meta><Exported_By>sa</Exported_By></meta>
            <row><Job_Number>24-1</Job_Number><Job_Number>24-2</Job_Number><Job_Description>x</Job_Description></row>
            <row><Company_Code>1</Company_Code><Job_Number>24-3</Job_Number><Customer_Code>C</Customer_Code><Job_Description>ok</Job_Description><Original_Contract>1.00</Original_Contract></row>
            </rows>
            """], suffix: ".xml")
        #expect(result.rejects.count == 2)
        #expect(result.rejects[0].diagnostics.first?.message.contains("match no Spectrum layout") == true)
        #expect(result.rejects[0].record?["line"] == .int(2))
        #expect(result.rejects[1].diagnostics.first?.message.contains("Job_Number appears more than once") == true)
        #expect(result.contracts.map(\.origin.job) == ["24-3"])
    }

    @Test("an input without records says so")
    func noRecords() throws {
        let xml = try Support.parse(texts: ["<rows/>"], suffix: ".xml")
        #expect(xml.documents.isEmpty && xml.rejects.isEmpty)
        #expect(xml.warnings.map(\.message) == ["no records: no element has only simple text elements as children, so there is no record"])
        let csv = try Support.parse(texts: ["Job_Number,Job_Description\n"])
        #expect(csv.warnings.map(\.message) == ["no records: the file has a header row and no records"])
    }

    @Test("a profile renames columns and accepts accounting money end to end")
    func profileEndToEnd() throws {
        let profile = try SpectrumProfile.load(Support.fixture("profile.json"))
        let result = try Support.parse([Support.fixture("renamed-jobs.csv")], options: SpectrumReadOptions(profile: profile))
        #expect(result.rejects.isEmpty)
        #expect(result.contracts.map(\.originalAmount.description) == ["1234567.89", "-1000.00"])
        #expect(result.contracts.map(\.title) == ["Renamed columns", "Credit job"])
    }
}

@Suite("Join spill")
struct JoinSpillTests {
    /// Headers and SOV lines over three inputs (the second unusable), in memory and spilled
    /// after every line: the same documents and rejects, byte for byte.
    private func run(spillAfterLines: Int) throws -> [String] {
        let assembler = SpectrumAssembler(spillAfterLines: spillAfterLines)
        var out: [String] = []
        func emit(_ output: ReadEvent) {
            switch output {
            case .read(.accepted(let document)), .read(.held(let document)): out.append("document " + document.jsonLine)
            case .read(.rejected(let reject)): out.append("reject " + reject.json.text)
            case .warning(let warning): out.append("warning " + warning.humanLine)
            }
        }
        let lineNames = FieldNames(["Company_Code", "Job_Number", "Customer_Code", "Billing_Item", "Billing_Description", "Original_Contract"])
        let headerNames = FieldNames(["Company_Code", "Job_Number", "Customer_Code", "Contract_Number", "Job_Description", "Original_Contract"])
        for job in 1...3 {
            for item in 1...4 {
                try assembler.add(Record(file: "sov.csv", line: job * 10 + item, fieldNames: lineNames, values: ["1", "J\(job)", "C", "0\(item)", "Item é \(item)", "\(item).00"]), emit: emit)
            }
        }
        try assembler.endFile(emit: emit)
        // Unusable: its lines (J4) and its header for J1 are dropped.
        try assembler.add(Record(file: "bad.csv", line: 2, fieldNames: lineNames, values: ["1", "J4", "C", "01", "Dropped", "9.00"]), emit: emit)
        try assembler.add(Record(file: "bad.csv", line: 3, fieldNames: headerNames, values: ["1", "J1", "C", "K", "Dropped", "10.00"]), emit: emit)
        assembler.abandonFile()
        try assembler.add(Record(file: "jobs.csv", line: 2, fieldNames: headerNames, values: ["1", "J1", "C", "K-1", "First", "10.00"]), emit: emit)
        try assembler.add(Record(file: "jobs.csv", line: 3, fieldNames: headerNames, values: ["1", "J3", "C", "K-3", "Third", "10.00"]), emit: emit)
        try assembler.add(Record(file: "jobs.csv", line: 4, fieldNames: lineNames, values: ["1", "J2", "C", "05", "Late line", ""]), emit: emit)
        try assembler.endFile(emit: emit)
        try assembler.finish(emit: emit)
        return out
    }

    @Test("SOV lines spilled to a temporary file come back as they went in: same output as in memory")
    func spilledIsSameAsInMemory() throws {
        let inMemory = try run(spillAfterLines: 1_000)
        let spilled = try run(spillAfterLines: 1)
        #expect(spilled == inMemory)
        #expect(inMemory.filter { $0.hasPrefix("document ") }.count == 2)  // J1, J3
        #expect(inMemory.filter { $0.contains("FMT004") }.count == 1)  // J2: lines without a header
        #expect(!inMemory.contains { $0.contains("Dropped") })
        #expect(try run(spillAfterLines: 0) == inMemory)
    }
}
