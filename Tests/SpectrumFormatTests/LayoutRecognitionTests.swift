import Testing
import SOVCore
@testable import SpectrumFormat

private func layout(_ names: [String], profile: SpectrumProfile = .standard) -> SpectrumLayout? {
    LayoutBinding(names: names, profile: profile).layout
}

@Suite("Layout recognition")
struct LayoutRecognitionTests {
    @Test("each layout by its field names")
    func layouts() {
        #expect(layout(["Company_Code", "Job_Number", "Customer_Code", "Contract_Number", "Job_Description", "Original_Contract"]) == .jobHeader)
        #expect(layout(["Company_Code", "Job_Number", "Customer_Code", "Billing_Item", "Original_Contract"]) == .sovLine)
        #expect(layout(["Company_Code", "Job_Number", "Customer_Code", "Original_Contract", "Billing_Item", "Item_Original_Contract"]) == .flatContract)
        #expect(layout(["Job_Number", "Original_Contract", "Billing_Item", "Line_Amount"]) == .flatContract)
        #expect(layout(["Company_Code", "Job_Number", "Customer_Code", "Change_Order_Number", "CO_Billing_Item_Code", "Revenue"]) == .changeOrder)
    }

    @Test("GetJobMain's extra fields do not get in the way")
    func extraFields() {
        #expect(layout(["Company_Code", "Job_Number", "Job_Description", "Division", "City", "State", "Error_Code", "Error_Description"]) == .jobHeader)
    }

    @Test("names are matched ignoring case and surrounding spaces")
    func caseAndSpaces() {
        let binding = LayoutBinding(names: [" company_code", "JOB_NUMBER ", "customer_CODE", "billing_item", "ORIGINAL_CONTRACT"], profile: .standard)
        #expect(binding.layout == .sovLine)
        #expect(binding.index(of: .jobNumber) == 1)
        #expect(binding.index(of: .originalContract) == 4)
    }

    @Test("records that match no layout")
    func unrecognised() {
        #expect(layout(["Division", "City"]) == nil)
        #expect(layout(["Job_Number"]) == nil)  // a job number alone is not a header
        #expect(layout([]) == nil)
    }

    @Test("known fields that appear twice are reported; unknown ones are not")
    func duplicates() {
        let binding = LayoutBinding(names: ["Job_Number", "job_number", "Note", "Note", "Billing_Item"], profile: .standard)
        #expect(binding.duplicates == [.jobNumber])
        #expect(binding.index(of: .jobNumber) == 0)
    }

    @Test("a profile renames fields, before Spectrum's own names")
    func renames() {
        let profile = SpectrumProfile(renames: ["Job_No": .jobNumber, " JOB_NAME ": .jobDescription, "Original_Contract": .itemOriginalContract, "Hdr_Amt": .originalContract])
        let binding = LayoutBinding(names: ["job_no", "Job_Name", "Hdr_Amt"], profile: profile)
        #expect(binding.layout == .jobHeader)
        #expect(binding.index(of: .jobNumber) == 0)
        #expect(binding.index(of: .originalContract) == 2)
        // Original_Contract now stands for the line amount: a flat layout.
        #expect(layout(["Job_No", "Billing_Item", "Original_Contract", "Hdr_Amt"], profile: profile) == .flatContract)
    }

    @Test("the binder works once per shape")
    func binderCache() {
        let binder = LayoutBinder(profile: .standard)
        let names = FieldNames(["Job_Number", "Billing_Item"])
        let first = binder.binding(for: names)
        #expect(binder.binding(for: names) === first)
        #expect(binder.binding(for: FieldNames(["Job_Number", "Job_Description"])).layout == .jobHeader)
        #expect(binder.binding(for: names) === first)
        let record = binder.recognise(Record(file: "f", line: 2, fieldNames: names, values: ["1", "01"]))
        #expect(record.layout == .sovLine)
    }

    @Test("field names as Spectrum spells them, with Spectrum's lengths")
    func fieldCatalog() {
        #expect(SpectrumField.named("  co_billing_item_code ") == .coBillingItemCode)
        #expect(SpectrumField.named("DESC") == .errorDesc)
        #expect(SpectrumField.contractNumber.maximumLength == 30)
        #expect(SpectrumField.jobDescription.maximumLength == 25)
        #expect(SpectrumField.billingItem.maximumLength == 10)
        #expect(SpectrumField.billingDescription.maximumLength == 30)
        #expect(SpectrumField.additionalBillingDescription.maximumLength == 40)
        #expect(SpectrumField.changeOrderNumber.maximumLength == 8)
        #expect(SpectrumField.description.maximumLength == 250)
        #expect(SpectrumField.coBillingItemCode.maximumLength == 10)
        #expect(SpectrumField.additionalDescription.maximumLength == 40)
        #expect(Set(SpectrumField.allCases.map { $0.name.lowercased() }).count == SpectrumField.allCases.count)
    }
}

@Suite("Layout profile")
struct LayoutProfileTests {
    @Test("the profile fixture: renames, approved codes, money spellings, delimiter")
    func fixture() throws {
        let profile = try SpectrumProfile.load(ReaderTestSupport.fixture("profile.json"))
        #expect(profile.field(named: "Job_No") == .jobNumber)
        #expect(profile.field(named: "contract_amt") == .originalContract)
        #expect(profile.field(named: "Job_Number") == .jobNumber)
        #expect(profile.approvedStatusCodes == ["A", "AP"])
        #expect(profile.isApproved("ap"))
        #expect(profile.isApproved(" A "))
        #expect(!profile.isApproved("P"))
        #expect(profile.money == .accounting)
        #expect(profile.delimiter == UInt8(ascii: ";"))
        #expect(profile.encoding == nil)
    }

    @Test("defaults: A means approved, strict money, no renames")
    func defaults() {
        let profile = SpectrumProfile.standard
        #expect(profile.isApproved("A"))
        #expect(!profile.isApproved("P"))
        #expect(!profile.isApproved(nil))
        #expect(profile.money == .strict)
        #expect(profile.renames.isEmpty)
    }

    @Test("encoding and delimiter spellings")
    func settings() throws {
        let profile = try SpectrumProfile(json: JSONParser.parse(#"{"encoding": "cp1252", "delimiter": "tab"}"#), file: "p.json")
        #expect(profile.encoding == .windows1252)
        #expect(profile.delimiter == 0x09)
        #expect(SpectrumProfile.delimiter(named: "|") == UInt8(ascii: "|"))
        #expect(SpectrumProfile.delimiter(named: ":") == nil)
    }

    @Test("mistakes are errors naming the setting", arguments: [
        (#"{"feilds": {}}"#, "feilds"),
        (#"{"fields": {"Job_No": "Job_Numbr"}}"#, "fields.Job_No"),
        (#"{"fields": {"Job_No": 3}}"#, "fields.Job_No"),
        (#"{"approved_status_codes": "A"}"#, "approved_status_codes"),
        (#"{"approved_status_codes": ["A", 1]}"#, "approved_status_codes"),
        (#"{"money": {"thousands": true}}"#, "money.thousands"),
        (#"{"money": {"parentheses": "yes"}}"#, "money.parentheses"),
        (#"{"encoding": "latin9"}"#, "encoding"),
        (#"{"delimiter": ":"}"#, "delimiter"),
        (#"["A"]"#, ""),
    ])
    func mistakes(_ text: String, _ field: String) throws {
        let json = try JSONParser.parse(text)
        #expect {
            _ = try SpectrumProfile(json: json, file: "site.json")
        } throws: { error in
            guard let diagnostic = error as? Diagnostic else { return false }
            return diagnostic.code == .FMT010 && (diagnostic.location.field ?? "") == field && diagnostic.location.file == "site.json"
        }
    }

    @Test("a missing profile file is an I/O problem")
    func missingFile() {
        #expect {
            _ = try SpectrumProfile.load("/nonexistent/profile.json")
        } throws: { error in
            (error as? Diagnostic)?.code == .IO001
        }
    }
}
