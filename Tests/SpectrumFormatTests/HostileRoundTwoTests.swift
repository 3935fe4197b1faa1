import Foundation
import Testing
import SOVCore
import SOVTestSupport
@testable import SpectrumFormat

#if canImport(Glibc)
import Glibc
#endif

private typealias Support = ReaderTestSupport

/// Issue 16, the Spectrum reader items: whole-file problems said once, as a whole-file failure
/// naming the file (and line), and libxml2 kept from a start tag of 200,000 attributes.
@Suite struct HostileRoundTwoSpectrumTests {
    private static func refusal(_ bytes: [UInt8], suffix: String) throws -> IOFailure {
        let scratch = TemporaryFolder()
        let path = scratch.write("input1\(suffix)", bytes)
        let failure = try #require(throws: IOFailure.self) { try InputFormat.sniff(InputFile(path: path)) }
        #expect(failure.path == path)
        #expect(failure.status == .dataError)
        return failure
    }

    @Test("a PDF, an Excel workbook or a ZIP fails with 65 saying what it is and to export CSV")
    func documentsThatAreNoExport() throws {
        let pdf = try Self.refusal(Array("%PDF-1.7\n%\u{E2}\u{E3}\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".utf8), suffix: ".csv")
        #expect(pdf.message.contains("is a PDF document"))
        #expect(pdf.message.contains("as CSV"))
        // An .xlsx: a ZIP whose entries are under xl/.
        let xlsx = try Self.refusal([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 26) + Array("[Content_Types].xml....xl/workbook.xml".utf8), suffix: ".csv")
        #expect(xlsx.message.contains("Excel workbook (.xlsx)"))
        #expect(xlsx.message.contains("CSV"))
        let zip = try Self.refusal([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 26) + Array("data/jobs.csv".utf8), suffix: ".zip")
        #expect(zip.message.contains("ZIP archive"))
        let xls = try Self.refusal([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 0, count: 512), suffix: ".xls")
        #expect(xls.message.contains("Excel 97-2003"))
    }

    @Test("a doubled UTF-8 byte order mark is named as such")
    func doubledBOM() throws {
        let failure = try Self.refusal([0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF] + Array("Company_Code,Job_Number\n1,2\n".utf8), suffix: ".csv")
        #expect(failure.message.contains("two UTF-8 byte order marks"))
        // One BOM is fine.
        let scratch = TemporaryFolder()
        let path = scratch.write("input2.csv", [0xEF, 0xBB, 0xBF] + Array("Company_Code\n".utf8))
        #expect(try InputFormat.sniff(InputFile(path: path)) == .csv)
    }

    @Test("a one-line .json file that is not JSON is refused, not read as a CSV header", arguments: ["hello world", "\"status\": \"approved\"", "null", "42"])
    func jsonNameWithoutJSON(_ text: String) throws {
        let failure = try Self.refusal(Array(text.utf8), suffix: ".json")
        #expect(failure.message.contains("named like JSON but does not start with '{' or '['"))
    }

    private static let flatHeader = "Company_Code,Job_Number,Customer_Code,Contract_Number,Job_Description,Price_Method_Code,Original_Contract,Billing_Item,Billing_Description,Item_Original_Contract"

    @Test("a header with a misspelt column fails the file once (FMT004), naming the column, the closest header and the --profile key")
    func misspeltHeader() throws {
        let header = Self.flatHeader.replacingOccurrences(of: "Original_Contract,Billing", with: "Orignal_Contract,Billing")
        let rows = (1...2_000).map { "1,24-\($0),OWN1,PC-\($0),Job,F,100.00,01-000,Work,100.00" }
        let scratch = TemporaryFolder()
        let path = scratch.write("input3.csv", ([header] + rows).joined(separator: "\n") + "\n")
        let result = try Support.parse([path])
        #expect(result.documents.isEmpty)
        #expect(result.rejects.isEmpty, "not one reject per row: \(result.rejects.count)")
        let failure = try #require(result.unusable[path])
        #expect(failure.status == .dataError)
        let diagnostic = failure.diagnostic
        #expect(diagnostic.code == .FMT004)
        #expect(diagnostic.location.file == path)
        #expect(diagnostic.location.line == 1)
        #expect(diagnostic.message.contains("no column Original_Contract"))
        #expect(diagnostic.message.contains("closest header is 'Orignal_Contract' (column 7)"))
        #expect(diagnostic.message.contains(#""Orignal_Contract" = "Original_Contract""#))
        // With that profile line, the same file reads.
        let profile = try SpectrumProfile(json: JSONParser.parse(#"{"fields": {"Orignal_Contract": "Original_Contract"}}"#), file: "profile.json")
        let mapped = try Support.parse([scratch.write("input4.csv", ([header] + rows.prefix(3)).joined(separator: "\n") + "\n")], options: SpectrumReadOptions(profile: profile))
        #expect(mapped.unusable.isEmpty)
        #expect(mapped.contracts.count == 3)
    }

    @Test("a header that matches no layout because of a typo in its key column fails the file once")
    func headerWithNoLayout() throws {
        let header = "Company_Code,Job_Numbr,Customer_Code,Job_Description,Original_Contract"
        let scratch = TemporaryFolder()
        let path = scratch.write("input5.csv", header + "\n1,24-1,OWN1,Job,100.00\n1,24-2,OWN1,Job,200.00\n")
        let result = try Support.parse([path])
        #expect(result.rejects.isEmpty)
        let failure = try #require(result.unusable[path])
        #expect(failure.diagnostic.message.contains("no column Job_Number"))
        #expect(failure.diagnostic.message.contains("'Job_Numbr'"))
        #expect(failure.diagnostic.location.line == 1)
    }

    @Test("an element with 200,000 attributes is refused quickly, naming the file")
    func tooManyAttributes() throws {
        var text = "<?xml version=\"1.0\"?>\n<rows>\n<row"
        for index in 0..<200_000 { text += " a\(index)=\"1\"" }
        text += "><Job_Number>1</Job_Number></row>\n</rows>\n"
        let scratch = TemporaryFolder()
        let path = scratch.write("input6.xml", text)
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try Support.parse([path])
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let failure = try #require(result.unusable[path])
        #expect(failure.diagnostic.message.contains("more than 1000 attributes"))
        #expect(failure.diagnostic.location.file == path)
        #expect(elapsed < 5, "took \(elapsed) s")
        // A thousand attributes (namespaces, a SOAP envelope's) are fine.
        var fine = "<rows><row"
        for index in 0..<1_000 { fine += " a\(index)='>='" }
        fine += "><Company_Code>1</Company_Code><Job_Number>24-1</Job_Number><Customer_Code>C</Customer_Code><Job_Description>J</Job_Description><Original_Contract>1.00</Original_Contract></row></rows>"
        let finePath = scratch.write("input7.xml", fine)
        #expect(try Support.parse([finePath]).unusable.isEmpty)
    }
}
