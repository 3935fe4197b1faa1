import Testing
import SOVCore
@testable import SpectrumFormat

private typealias Support = ReaderTestSupport

private func builtContract(_ built: Verdict) throws -> PrimeContract {
    guard case .accepted(.primeContract(let contract)) = built else {
        Issue.record("expected a prime contract, got \(built)")
        throw CancellationError()
    }
    return contract
}

private func builtOrder(_ built: Verdict) throws -> ChangeOrder {
    guard case .accepted(.changeOrder(let order)) = built else {
        Issue.record("expected a change order, got \(built)")
        throw CancellationError()
    }
    return order
}

private func problems(_ built: Verdict) -> [Diagnostic] {
    if case .rejected(let reject) = built { return reject.diagnostics }
    return []
}

private let header = Support.staged([
    "Company_Code": "1", "Job_Number": "24-1017   ", "Customer_Code": "OWN100    ", "Contract_Number": "SMH-2024-017",
    "Job_Description": "St. Mary\u{2019}s Medical Office", "Customer_Name": "St. Mary\u{2019}s Health System",
    "Owner_Name": "St. Mary's", "Price_Method_Code": "F", "Original_Contract": "1250.00", "Status_Code": "A",
    "Start_Date": "03/04/2024", "Complete_Date": "", "Est_Complete_Date": "2025-08-29", "Contract_Date": "20240216",
    "Retention_Percent": "10.00", "Comment": "  keep \"inner\"  spacing ",
], file: "jobs.csv")

private func sovLine(_ item: String, _ amount: String, line: Int, extra: KeyValuePairs<String, String> = [:]) -> StagedRecord {
    var fields: [(String, String)] = [
        ("Company_Code", "1"), ("Job_Number", "24-1017"), ("Customer_Code", "OWN100"), ("Billing_Item", item),
        ("Billing_Description", "Desc \(item)"), ("Additional_Billing_Description", ""), ("Original_Contract", amount),
        ("Group_Code", ""), ("Cost_Center", "100"),
    ]
    fields += extra.map { ($0.key, $0.value) }
    let record = Record(file: "sov.csv", line: line, fieldNames: FieldNames(fields.map(\.0)), values: fields.map(\.1))
    return StagedRecord(record: record, binding: LayoutBinding(names: record.names, profile: .standard))
}

@Suite("Layout mapping: contracts")
struct LayoutMappingContractTests {
    @Test("job header + SOV lines -> prime contract, every canonical name filled")
    func headerAndLines() throws {
        let built = SpectrumDocuments.contract(header: header, lines: [sovLine("01-000", "1000.00", line: 2), sovLine("02-000", "250.00", line: 3)], flat: false, profile: .standard)
        let contract = try builtContract(built)
        #expect(contract.origin == Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100", number: "SMH-2024-017"))
        #expect(contract.source == SourceLocation(file: "jobs.csv", line: 2))
        #expect(contract.number == "SMH-2024-017")
        #expect(contract.title == "St. Mary\u{2019}s Medical Office")
        #expect(contract.customer == Party(code: "OWN100", name: "St. Mary\u{2019}s Health System"))
        #expect(contract.ownerName == "St. Mary's")
        #expect(contract.priceMethod == "F")
        #expect(contract.status == "A")
        #expect(contract.originalAmount == Money(minorUnits: 125_000))
        #expect(contract.retainagePercent?.description == "10")
        #expect(contract.startDate == CalendarDate(year: 2024, month: 3, day: 4))
        #expect(contract.estimatedCompletionDate == CalendarDate(year: 2025, month: 8, day: 29))
        #expect(contract.contractDate == CalendarDate(year: 2024, month: 2, day: 16))
        #expect(contract.completionDate == nil)
        #expect(contract.description == "keep \"inner\"  spacing")  // trimmed, nothing else altered
        #expect(contract.lines.map(\.code) == ["01-000", "02-000"])
        #expect(contract.lines.map(\.amount.description) == ["1000.00", "250.00"])
        #expect(contract.lines[0].description == "Desc 01-000")
        #expect(contract.lines[0].additionalDescription == nil)
        #expect(contract.lines[0].costCode == nil)
        #expect(contract.lines[0].group == nil)
        #expect(contract.lines[1].source == SourceLocation(file: "sov.csv", line: 3))
        #expect(!contract.lines[0].isUnitPriced)
        #expect(contract.diagnostics.isEmpty)
    }

    @Test("a blank Contract_Number means the job number")
    func contractNumberDefault() throws {
        let staged = Support.staged(["Company_Code": "1", "Job_Number": " 24-9 ", "Customer_Code": "C", "Contract_Number": "  ", "Original_Contract": "0.00"])
        #expect(try builtContract(SpectrumDocuments.contract(header: staged, lines: [], flat: false, profile: .standard)).number == "24-9")
    }

    @Test("unit fields: zeros mean a lump-sum line, values mean a unit-price line")
    func unitFields() throws {
        let lumpSum = sovLine("01", "10.00", line: 2, extra: ["Unit_Price": "0.0000", "Quantity": "0.00", "Unit_Of_Measure": ""])
        let unit = sovLine("02", "20.00", line: 3, extra: ["Unit_Price": "2.50", "Quantity": "8", "Unit_Of_Measure": "SY"])
        let built = try builtContract(SpectrumDocuments.contract(header: header, lines: [lumpSum, unit], flat: false, profile: .standard))
        #expect(!built.lines[0].isUnitPriced)
        #expect(built.lines[1].isUnitPriced)
        #expect(built.lines[1].unitPrice == Money(minorUnits: 250))
        #expect(built.lines[1].quantity == "8")
        #expect(built.lines[1].unitOfMeasure == "SY")
    }

    @Test("a value that does not parse rejects the document, naming file, line, field and value; every problem is reported")
    func everyProblem() throws {
        let bad = Support.staged([
            "Company_Code": "1", "Job_Number": "24-1017", "Customer_Code": "", "Job_Description": "A description far longer than twenty-five",
            "Original_Contract": "12.345", "Contract_Date": "13/45/2025", "Retention_Percent": "ten", "Contract_Number": "",
        ], line: 7, file: "jobs.csv")
        let line = sovLine("01", "1,000.00", line: 4)
        let built = SpectrumDocuments.contract(header: bad, lines: [line], flat: false, profile: .standard)
        let found = problems(built)
        let byCode = Dictionary(grouping: found, by: \.code)
        #expect(Set(byCode.keys) == [.FMT001, .FMT002, .FMT003, .FMT004, .FMT005])
        #expect(byCode[.FMT004]?.first?.location == SourceLocation(file: "jobs.csv", line: 7, field: "Customer_Code"))
        #expect(byCode[.FMT004]?.first?.message.contains("blank") == true)
        #expect(byCode[.FMT005]?.first?.location.field == "Job_Description")
        #expect(byCode[.FMT003]?.first?.value == "13/45/2025")
        let money = try #require(byCode[.FMT001])
        #expect(money.count == 2)
        #expect(money.contains { $0.location == SourceLocation(file: "jobs.csv", line: 7, field: "Original_Contract") && $0.value == "12.345" })
        #expect(money.contains { $0.location == SourceLocation(file: "sov.csv", line: 4, field: "Original_Contract") && $0.message.contains("thousands_separators") })
        guard case .rejected(let reject) = built else { Issue.record("not rejected"); return }
        // The rejected document keeps every record it came from, values as in the file.
        #expect(reject.document?["kind"] == .string("prime_contract"))
        #expect(reject.document?["records"]?.arrayValue?.count == 2)
        #expect(reject.document?["origin"]?["job"] == .string("24-1017"))
    }

    @Test("a missing required field is named")
    func missingField() {
        let staged = Support.staged(["Company_Code": "1", "Job_Number": "24-1", "Job_Description": "No amount, no customer"])
        let found = problems(SpectrumDocuments.contract(header: staged, lines: [], flat: false, profile: .standard))
        #expect(found.map(\.message).sorted() == ["required field Customer_Code is missing", "required field Original_Contract is missing"])
        #expect(found.allSatisfy { $0.code == .FMT004 })
    }

    @Test("amounts: SQL money's zero decimals are accepted, real extra decimals are not")
    func amounts() throws {
        #expect(try parseAmount("1250000.0000", format: .strict) == Money(minorUnits: 125_000_000))
        #expect(try parseAmount("-0.5000", format: .strict) == Money(minorUnits: -50))
        #expect(try parseAmount("(1,234.5600)", format: .accounting) == Money(minorUnits: -123_456))
        #expect(throws: MoneyParseError.self) { try parseAmount("12.345", format: .strict) }
        #expect(throws: MoneyParseError.self) { try parseAmount("12.3401", format: .strict) }
        #expect(throws: MoneyParseError.self) { try parseAmount("1,234.00", format: .strict) }
        #expect(throws: MoneyParseError.self) { try parseAmount("12.50abc", format: .strict) }
    }

    @Test("a profile allows 1,234.56 and (1234.56)")
    func accountingMoney() throws {
        var profile = SpectrumProfile.standard
        profile.money = .accounting
        let staged = Support.staged(["Company_Code": "1", "Job_Number": "24-1", "Customer_Code": "C", "Original_Contract": "(1,234,567.89)"], profile: profile)
        let built = try builtContract(SpectrumDocuments.contract(header: staged, lines: [], flat: false, profile: profile))
        #expect(built.originalAmount == Money(minorUnits: -123_456_789))
    }

    @Test("flat contract: header from the first row, line amounts from Item_Original_Contract or Line_Amount")
    func flat() throws {
        func row(_ item: String, _ amount: String, line: Int, amountField: String = "Item_Original_Contract", description: String = "Flat") -> StagedRecord {
            let names = ["Company_Code", "Job_Number", "Customer_Code", "Job_Description", "Original_Contract", "Billing_Item", amountField]
            let record = Record(file: "flat.csv", line: line, fieldNames: FieldNames(names), values: ["1", "24-6", "C", description, "30.00", item, amount])
            return StagedRecord(record: record, binding: LayoutBinding(names: names, profile: .standard))
        }
        let rows = [row("01", "10.00", line: 2), row("02", "20.00", line: 3)]
        let built = try builtContract(SpectrumDocuments.contract(header: rows[0], lines: rows, flat: true, profile: .standard))
        #expect(built.originalAmount == Money(minorUnits: 3000))
        #expect(built.lines.map(\.amount) == [Money(minorUnits: 1000), Money(minorUnits: 2000)])
        #expect(built.lines.map(\.code) == ["01", "02"])
        let byLineAmount = [row("01", "30.00", line: 2, amountField: "Line_Amount")]
        #expect(try builtContract(SpectrumDocuments.contract(header: byLineAmount[0], lines: byLineAmount, flat: true, profile: .standard)).lines[0].amount == Money(minorUnits: 3000))
        // Header fields repeated on every row must agree.
        let differing = [row("01", "10.00", line: 2), row("02", "20.00", line: 3, description: "Other")]
        let found = problems(SpectrumDocuments.contract(header: differing[0], lines: differing, flat: true, profile: .standard))
        #expect(found.count == 1)
        #expect(found.first?.code == .FMT007)
        #expect(found.first?.location == SourceLocation(file: "flat.csv", line: 3, field: "Job_Description"))
    }
}

private func coRow(_ number: String, item: String, revenue: String, line: Int, status: String = "A", fee: String = "", feeAmount: String = "", days: String = "10", description: String = "Add canopy") -> StagedRecord {
    let names = ["Company_Code", "Job_Number", "Customer_Code", "Change_Order_Number", "Description", "Status_Code", "Change_Order_Date", "Approved_Date", "Approved_Days", "Fee_Percent", "Fee_Amount", "CO_Billing_Group_Code", "CO_Billing_Item_Code", "Additional_Description", "Unit_Price", "Quantity", "Revenue"]
    let values = ["1", "24-1017", "OWN100", number, description, status, "11/04/2024", "11/18/2024", days, fee, feeAmount, "", item, "Line \(item)", "", "", revenue]
    return StagedRecord(record: Record(file: "co.csv", line: line, fieldNames: FieldNames(names), values: values), binding: LayoutBinding(names: names, profile: .standard))
}

@Suite("Layout mapping: change orders")
struct LayoutMappingChangeOrderTests {
    @Test("AR change order rows -> one change order, every canonical name filled")
    func changeOrder() throws {
        let order = try builtOrder(SpectrumDocuments.changeOrder(rows: [coRow("001", item: "05-100", revenue: "18450.00", line: 2, fee: "5.00"), coRow("001", item: "03-300", revenue: "6275.50", line: 3, fee: "5.00")], profile: .standard))
        #expect(order.number == "001")
        #expect(order.title == "Add canopy")
        #expect(order.description == "Add canopy")
        #expect(order.status == "A")
        #expect(order.approved)
        #expect(order.date == CalendarDate(year: 2024, month: 11, day: 4))
        #expect(order.approvedDate == CalendarDate(year: 2024, month: 11, day: 18))
        #expect(order.scheduleImpactDays == 10)
        #expect(order.contract == ContractKey(company: "1", job: "24-1017", customer: "OWN100"))
        #expect(order.origin == Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100", number: "001"))
        #expect(order.source == SourceLocation(file: "co.csv", line: 2))
        #expect(order.lines.map(\.associatedLine) == ["05-100", "03-300"])
        #expect(order.lines.map(\.amount.description) == ["18450.00", "6275.50"])
        #expect(order.lines[0].description == "Line 05-100")
        #expect(order.markups == [Markup(name: "Fee", set: .vertical, percent: try Percent.parse("5"), position: 1)])
    }

    @Test("approval follows the profile's status codes")
    func approval() throws {
        let pending = try builtOrder(SpectrumDocuments.changeOrder(rows: [coRow("002", item: "09", revenue: "1.00", line: 2, status: "P")], profile: .standard))
        #expect(!pending.approved)
        #expect(pending.status == "P")
        let profile = SpectrumProfile(approvedStatusCodes: ["A", "AP"])
        #expect(try builtOrder(SpectrumDocuments.changeOrder(rows: [coRow("002", item: "09", revenue: "1.00", line: 2, status: "AP")], profile: profile)).approved)
    }

    @Test("Fee_Amount alone is a vertical lump sum named Fee (a header field: repeated, not added up); zero fees are no markup")
    func feeAmount() throws {
        let rows = [coRow("004", item: "01", revenue: "100.00", line: 2, feeAmount: "9.00"), coRow("004", item: "02", revenue: "200.00", line: 3, feeAmount: "9.00")]
        let order = try builtOrder(SpectrumDocuments.changeOrder(rows: rows, profile: .standard))
        #expect(order.markups == [Markup(name: "Fee", set: .vertical, amount: Money(minorUnits: 900), position: 1)])
        let differing = [coRow("007", item: "01", revenue: "100.00", line: 2, feeAmount: "3.00"), coRow("007", item: "02", revenue: "200.00", line: 3, feeAmount: "6.00")]
        let found = problems(SpectrumDocuments.changeOrder(rows: differing, profile: .standard))
        #expect(found.contains { $0.code == .FMT007 && $0.location.field == "Fee_Amount" && $0.location.line == 3 })
        let none = try builtOrder(SpectrumDocuments.changeOrder(rows: [coRow("005", item: "01", revenue: "1.00", line: 2, fee: "0.00", feeAmount: "0.00")], profile: .standard))
        #expect(none.markups.isEmpty)
        // Both given: the percentage wins, as in Spectrum, which recalculates the amount from it.
        let both = try builtOrder(SpectrumDocuments.changeOrder(rows: [coRow("006", item: "01", revenue: "100.00", line: 2, fee: "3", feeAmount: "3.00")], profile: .standard))
        #expect(both.markups.first?.percent?.description == "3")
        #expect(both.markups.first?.amount == nil)
    }

    @Test("change order problems: long number, long additional description, bad days, header fields that differ")
    func problemsFound() throws {
        var long = coRow("123456789", item: "05-100-XYZ1", revenue: "abc", line: 2, days: "1.5")
        long.record.values[13] = String(repeating: "d", count: 41)
        let other = coRow("123456789", item: "01", revenue: "1.00", line: 3, days: "1.5", description: "Different")
        let found = problems(SpectrumDocuments.changeOrder(rows: [long, other], profile: .standard))
        let fields = Set(found.map { "\($0.code) \($0.location.field ?? "")" })
        #expect(fields == [
            "FMT005 Change_Order_Number", "FMT005 CO_Billing_Item_Code", "FMT005 Additional_Description",
            "FMT006 Approved_Days", "FMT001 Revenue", "FMT007 Description",
        ])
        #expect(found.first { $0.code == .FMT007 }?.location.line == 3)
    }

    @Test("Approved_Days of 10.00 is 10")
    func decimalDays() throws {
        #expect(try builtOrder(SpectrumDocuments.changeOrder(rows: [coRow("007", item: "01", revenue: "1.00", line: 2, days: "10.00")], profile: .standard)).scheduleImpactDays == 10)
    }
}

@Suite("trimmedSpaces")
struct TrimmedSpacesTests {
    @Test("padding of spaces, tabs and line ends goes from both ends, nothing else; a value without any is the same string", arguments: [
        ("", ""), (" ", ""), (" \t\r\n", ""), ("24-1017", "24-1017"), ("  24-1017   ", "24-1017"), ("\t01\n", "01"),
        ("a b", "a b"), (" a b ", "a b"), ("caf\u{E9}", "caf\u{E9}"), (" \u{2019}x\u{A0} ", "\u{2019}x\u{A0}"), ("\u{A0}x", "\u{A0}x"),
    ])
    func trims(_ text: String, _ expected: String) {
        #expect(trimmedSpaces(text) == expected)
        // A string that is not native UTF-8 (made from UTF-16) takes the slow path, to the same end.
        let bridged = String(decoding: Array(text.utf16), as: UTF16.self)
        #expect(trimmedSpaces(bridged) == expected)
    }
}
