import SOVCore
import SpectrumFormat
import SOVTestSupport
import Testing

@Suite("Spectrum writer: change request layout")
struct SpectrumWriterChangeRequestTests {
    typealias F = WriterFixture

    @Test func headerIsRepeatedOnEveryRecord() throws {
        let export = try #require(F.export(F.order()).export)
        #expect(export.records.count == 4)
        let guid = export.guid
        for record in export.records {
            #expect(record.element == "ARChangeRequest")
            #expect(Array(record.fields.prefix(11).map(\.name)) == [
                "Authorization_ID", "GUID", "Company_Code", "Job_Number", "Customer_Code", "Change_Request_Number",
                "CR_Description", "CR_Status", "Origination_Date", "Approved_Date", "Approved_Days",
            ])
            #expect(record["Authorization_ID"] == "SOVTEST")
            #expect(record["GUID"] == guid)
            #expect(record["Company_Code"] == "1")
            #expect(record["Job_Number"] == "24-1017")
            #expect(record["Customer_Code"] == "OWN100")
            #expect(record["Change_Request_Number"] == "003")
            #expect(record["CR_Description"] == "Added storm drain")
            #expect(record["CR_Status"] == "A")
            #expect(record["Origination_Date"] == "03/14/2025")
            #expect(record["Approved_Date"] == "03/20/2025")
            #expect(record["Approved_Days"] == "5")
        }
        #expect(export.key == ContractKey(company: "1", job: "24-1017", customer: "OWN100"))
    }

    @Test func aChangeOrderFromSpectrumIsNotWrittenBackToSpectrum() throws {
        var order = F.order()
        order.origin = Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100", number: "003")
        let result = F.export(order)
        #expect(result.export == nil)
        #expect(result.diagnostics.map(\.code) == [.FMT009])
        #expect(result.diagnostics.first?.message.contains("came from Spectrum") == true)
    }

    @Test func estimatesMergePhaseAndCostTypeAfterSeparatorsGo() throws {
        let export = try #require(F.export(F.order()).export)
        let estimates = export.records.filter { $0["CR_Phase_Code"] != nil }
        // 01-100 and 01.100 are one Spectrum phase: 1000.00 + 2500.00 in one record, never two.
        #expect(estimates.map { [$0["CR_Phase_Code"]!, $0["CR_Cost_Type"]!, $0["Change_Request_Amount"]!] } == [
            ["01100", "L", "3500.00"],
            ["02200", "M", "500.00"],
        ])
        #expect(estimates.allSatisfy { $0["CR_Billing_Item_Code"] == nil && $0["CR_Revenue"] == nil })
    }

    @Test func billingMergesItemsAndCarriesLinePlusMarkup() throws {
        let export = try #require(F.export(F.order()).export)
        let billing = export.records.filter { $0["CR_Billing_Item_Code"] != nil }
        // Item 1000: 1040.30 + 520.15; item 2000: 2600.75 + 208.06 (the revenue-only line).
        #expect(billing.map { [$0["CR_Billing_Item_Code"]!, $0["CR_Billing_Item_Description"]!, $0["CR_Revenue"]!] } == [
            ["1000", "Added storm drain", "1560.45"],
            ["2000", "Added storm drain", "2808.81"],
        ])
        let total = billing.reduce(F.money("0.00")) { $0 + F.money($1["CR_Revenue"]!) }
        #expect(total == F.money("4369.26"))
    }

    @Test func lineWithoutCostCodeGivesNoEstimateAndAWarning() throws {
        let export = try #require(F.export(F.order()).export)
        #expect(export.warnings.map(\.code) == [.FMT004])
        #expect(export.warnings[0].message.contains("line 4"))
        #expect(export.warnings[0].location.field == "lines[3].cost_code")
    }

    @Test func revenueOnlyChangeRequestHasOnlyBillingRecords() throws {
        let lines = F.standardLines.map { line -> F.Line in
            var copy = line
            copy.costCode = nil
            copy.costType = nil
            return copy
        }
        let export = try #require(F.export(F.order(lines: lines)).export)
        #expect(export.records.allSatisfy { $0["CR_Billing_Item_Code"] != nil })
        #expect(export.records.count == 2)
        #expect(export.warnings.first?.message.contains("lines 1, 2, 3, 4") == true)
    }

    @Test func statusAndPrefixComeFromTheConfiguration() throws {
        let writer = F.writer { $0.changeRequestStatus = "AP"; $0.numberPrefix = "PC" }
        let export = try #require(F.export(F.order(), writer).export)
        #expect(export.number == "PC003")
        #expect(export.records.allSatisfy { $0["CR_Status"] == "AP" && $0["Change_Request_Number"] == "PC003" })
    }

    @Test func missingAuthorizationIsWrittenEmpty() throws {
        let export = try #require(F.export(F.order(), F.writer(authorization: nil)).export)
        #expect(export.records.allSatisfy { $0["Authorization_ID"] == "" })
    }

    @Test func guidIsSharedByTheChangeOrderAndDiffersBetweenChangeOrders() throws {
        var generator = SplitMix64(seed: 7)
        let writer = F.writer()
        let first = try #require(writer.export(F.order(number: "1"), using: &generator).export)
        let second = try #require(writer.export(F.order(number: "2"), using: &generator).export)
        #expect(first.guid != second.guid)
        #expect(Set(first.records.map { $0["GUID"]! }) == [first.guid])
    }

    @Test func missingApprovedDataIsLeftOut() throws {
        var order = F.order()
        order.approvedDate = nil
        order.scheduleImpactDays = nil
        let result = F.export(order)
        let export = try #require(result.export)
        #expect(export.records.allSatisfy { $0["Approved_Date"] == nil && $0["Approved_Days"] == nil })
        #expect(export.warnings.contains { $0.location.field == "approved_date" })
    }
}

@Suite("Spectrum writer: change order layout")
struct SpectrumWriterChangeOrderTests {
    typealias F = WriterFixture

    @Test func oneRecordPerBillingItemWithTheFeeInTheHeader() throws {
        let export = try #require(F.export(F.order(), F.writer(.changeOrder)).export)
        #expect(export.layout == .changeOrder)
        #expect(export.records.map(\.element) == ["ARChangeOrder", "ARChangeOrder"])
        #expect(export.records[0].fields.map(\.name) == [
            "Authorization_ID", "GUID", "Company_Code", "Job_Number", "Customer_Code", "Change_Order_Number",
            "Description", "Status_Code", "Change_Order_Date", "Approved_Date", "Approved_Days",
            "Fee_Percent", "Fee_Amount", "CO_Billing_Item_Code", "Additional_Description", "Revenue",
        ])
        // Revenue = the item's extended amounts: 1010.00 + 505.00 and 2525.00 + 202.00.
        #expect(export.records.map { [$0["CO_Billing_Item_Code"]!, $0["Revenue"]!, $0["Fee_Amount"]!, $0["Fee_Percent"]!] } == [
            ["1000", "1515.00", "127.26", ""],
            ["2000", "2727.00", "127.26", ""],
        ])
        let revenue = export.records.reduce(F.money("0.00")) { $0 + F.money($1["Revenue"]!) }
        #expect(revenue + F.money("127.26") == F.money("4369.26"))
        #expect(export.records.allSatisfy { $0["Change_Order_Number"] == "003" && $0["Status_Code"] == "A" && $0["Change_Order_Date"] == "03/14/2025" })
    }

    @Test func costCodesPlayNoPartInThisLayout() throws {
        var lines = F.standardLines
        lines[0].costType = nil  // an estimate problem, not a change order one
        lines[1].costCode = "01-234-567-890-123-456-7890"
        let export = try #require(F.export(F.order(lines: lines), F.writer(.changeOrder)).export)
        #expect(export.warnings.isEmpty)
        #expect(export.records.allSatisfy { $0["CR_Phase_Code"] == nil && $0["CR_Cost_Type"] == nil })
    }

    @Test func additionalDescriptionIsTheLinesSharedOneElseTheTitle() throws {
        var lines = F.standardLines
        lines[0].additional = "North entrance"
        lines[2].additional = "North entrance"
        lines[1].additional = "South side"
        let export = try #require(F.export(F.order(lines: lines), F.writer(.changeOrder)).export)
        // Item 1000's lines agree; item 2000's do not (one has none), so it takes the title.
        #expect(export.records.map { $0["Additional_Description"]! } == ["North entrance", "Added storm drain"])
    }

    @Test func longTitleIsCutToFortyWithAWarning() throws {
        let title = "Storm drain relocation at the north entrance, per RFI 12 and ASI 4"
        let export = try #require(F.export(F.order(title: title), F.writer(.changeOrder)).export)
        #expect(export.records[0]["Additional_Description"] == "Storm drain relocation at the north entr")
        #expect(export.records[0]["Description"] == title)
        #expect(export.warnings.map(\.code) == [.FMT005])
    }
}

@Suite("Spectrum writer: limits and rejections")
struct SpectrumWriterLimitTests {
    typealias F = WriterFixture

    @Test func numberOverEightIsRejectedWithCO005() {
        #expect(F.codes(F.export(F.order(number: "123456789"))) == [.CO005])
        #expect(F.codes(F.export(F.order(number: "12345678"))) == [])
        // The prefix counts.
        #expect(F.codes(F.export(F.order(number: "123456"), F.writer { $0.numberPrefix = "PCC" })) == [.CO005])
    }

    @Test func descriptionOver250IsRejected() {
        let long = String(repeating: "a", count: 251)
        #expect(F.codes(F.export(F.order(title: long))) == [.CO005])
        #expect(F.codes(F.export(F.order(title: String(repeating: "a", count: 250)))).isEmpty)
    }

    @Test func billingDescriptionIsCutToThirtyOnlyWithAWarning() throws {
        let title = "Électricité — added storm drain conduit"
        let export = try #require(F.export(F.order(title: title)).export)
        let billing = export.records.filter { $0["CR_Billing_Item_Code"] != nil }
        #expect(billing.allSatisfy { $0["CR_Billing_Item_Description"] == "Électricité — added storm drai" })
        #expect(billing[0]["CR_Billing_Item_Description"]!.unicodeScalars.count == 30)
        #expect(export.warnings.contains { $0.code == .FMT005 && $0.severity == .warning })
    }

    /// Issue #18: `spectrum.long_text = "reject"` refuses what `cut` (the default) shortens.
    @Test func longTextRejectRefusesWhatCutShortens() throws {
        let title = "Électricité — added storm drain conduit"
        let reject = F.writer { $0.longText = .reject }
        let refused = F.export(F.order(title: title), reject)
        #expect(refused.export == nil)
        #expect(F.codes(refused) == [.CO005])
        let problem = try #require(refused.diagnostics.first { $0.code == .CO005 })
        #expect(problem.message == "CR_Billing_Item_Description holds 30 characters; 'Électricité — added storm drain conduit' has 39 and spectrum.long_text is \"reject\"")
        #expect(problem.location.field == "title")
        // The change-order layout's Additional_Description (40) likewise.
        let longer = "Storm drain relocation at the north entrance, per RFI 12 and ASI 4"
        #expect(F.codes(F.export(F.order(title: longer), F.writer(.changeOrder) { $0.longText = .reject })) == [.CO005])
        // Text that fits is written either way, without a word.
        let fits = try #require(F.export(F.order(title: "Added storm drain"), reject).export)
        #expect(fits.warnings.allSatisfy { $0.code != .FMT005 && $0.code != .CO005 })
        // The default cuts, and the warning names the setting.
        let cut = try #require(F.export(F.order(title: title)).export)
        #expect(cut.warnings.first { $0.code == .FMT005 }?.message.contains("spectrum.long_text = \"reject\" rejects it instead") == true)
    }

    @Test func codeLimits() {
        var lines = F.standardLines
        lines[0].item = "12345678901"
        #expect(F.codes(F.export(F.order(lines: lines))) == [.CO002])
        lines = F.standardLines
        lines[0].costCode = "01-234-567-890-123-456-7890"  // 21 characters without separators
        #expect(F.codes(F.export(F.order(lines: lines))) == [.CO005])
        lines = F.standardLines
        lines[0].costType = "LABR"
        #expect(F.codes(F.export(F.order(lines: lines))) == [.CO005])
        lines = F.standardLines
        lines[1].costType = nil
        #expect(F.codes(F.export(F.order(lines: lines))) == [.FMT004])
        lines = F.standardLines
        lines[2].item = " "
        #expect(F.codes(F.export(F.order(lines: lines))) == [.CO004])
        #expect(F.codes(F.export(F.order(key: ContractKey(company: "1234", job: "24-1017", customer: "OWN100")))) == [.CO005])
    }

    @Test func amountsBeyondTenDigitsAreRejected() {
        let lines = [F.Line(amount: "12345678901.00", item: "1000", costCode: "01-100", costType: "L", horizontal: "0.00", share: "0.00")]
        let result = F.export(F.order(lines: lines))
        #expect(F.codes(result).allSatisfy { $0 == .CO005 })
        #expect(result.diagnostics.contains { $0.location.field == "Change_Request_Amount" })
        #expect(result.diagnostics.contains { $0.location.field == "CR_Revenue" })
    }

    @Test func hugeAmountsDoNotTrapAndAreRejected() {
        // Built by hand: the fixture's own sums would trap on these amounts.
        var order = F.order()
        order.lines = [
            ChangeOrderLine(amount: Money(minorUnits: Int64.max - 10), associatedLine: "1000", costCode: "01-100", costType: "L"),
            ChangeOrderLine(amount: Money(minorUnits: 100), associatedLine: "1000", costCode: "01-100", costType: "L"),
        ]
        order.computed = ComputedMarkup(
            lines: order.lines.map { ComputedLine(horizontal: [], extendedAmount: $0.amount, verticalShares: [], revenue: $0.amount) },
            subtotal: Money(minorUnits: 0), vertical: [], grandTotal: Money(minorUnits: 0))
        let result = F.export(order)
        #expect(result.export == nil)
        #expect(F.codes(result).contains(.CO005))
    }

    @Test func unapprovedUndatedAndUnmarkedOrdersAreRejected() {
        #expect(F.codes(F.export(F.order(approved: false))) == [.CO003])
        #expect(F.codes(F.export(F.order(date: nil))) == [.CO001])
        var order = F.order()
        order.computed = nil
        let result = F.export(order)
        #expect(F.codes(result) == [.FMT004])
        #expect(result.diagnostics[0].message.contains("run sov-markup"))
        #expect(result.diagnostics[0].location.field == "computed")
    }

    @Test func everyProblemIsReportedNotOnlyTheFirst() {
        var lines = F.standardLines
        lines[0].item = nil
        lines[1].costType = "LONG"
        let result = F.export(F.order(lines: lines, number: "123456789", approved: false, date: nil))
        #expect(Set(F.codes(result)) == [.CO003, .CO005, .CO001, .CO004])
        #expect(result.diagnostics.contains { $0.location.field == "prime_contract_line_item" && $0.location.file == "pcco.json" })
    }

    /// MAP003 as the validator says it, naming the project map the writer was given.
    @Test func anUnknownSpectrumContractIsSaidAsTheValidatorSaysIt() {
        let order = F.order(key: nil)
        let result = F.export(order, SpectrumChangeRequestWriter(config: SpectrumExportConfig(authorizationId: "SOVTEST"), projectMapFile: "map.csv"))
        #expect(result.diagnostics.contains(Rulebook.unknownSpectrumContract(order, projectMap: "map.csv")))
    }

    /// A rule the validator and the writer both check is said in the same words (Rulebook).
    @Test func theWriterSaysARuleAsTheValidatorDoes() throws {
        var lines = F.standardLines
        lines[0].item = "ABCDEFGHIJKL"
        let order = F.order(lines: lines, number: "123456789", approved: false, date: nil)
        let result = F.export(order)
        for rule in [Rulebook.approval(order), Rulebook.changeOrderDate(order), Rulebook.billingItemLength(order, line: 0)] {
            let expected = try #require(rule)
            #expect(result.diagnostics.contains(expected), "\(expected.humanLine)")
        }
    }
}

@Suite("Spectrum writer: company, job and customer")
struct SpectrumWriterKeyTests {
    typealias F = WriterFixture

    @Test func fromTheProjectMapWhenTheDocumentLacksThem() throws {
        let order = F.order(key: nil)
        #expect(F.codes(F.export(order)) == [.MAP003])
        var writer = F.writer()
        writer.keyLookup = { order in
            order.procore?.projectId == "562949953421312" ? ContractKey(company: "2", job: "25-0001", customer: "CITY") : nil
        }
        let export = try #require(F.export(order, writer).export)
        #expect(export.key == ContractKey(company: "2", job: "25-0001", customer: "CITY"))
        #expect(export.records[0]["Company_Code"] == "2")
    }

    @Test func theDocumentWinsOverTheMap() throws {
        var writer = F.writer()
        writer.keyLookup = { _ in ContractKey(company: "9", job: "X", customer: "Y") }
        let export = try #require(F.export(F.order(), writer).export)
        #expect(export.key.company == "1")
    }

    @Test func optionsFillWhatIsMissing() throws {
        var order = F.order(key: nil)
        order.origin.job = "24-1017"  // Procore's project.origin_code
        let writer = F.writer { $0.company = "1"; $0.customer = "OWN100"; $0.job = "IGNORED" }
        let export = try #require(F.export(order, writer).export)
        #expect(export.key == ContractKey(company: "1", job: "24-1017", customer: "OWN100"))
        #expect(F.codes(F.export(order, F.writer { $0.company = "1" })) == [.MAP003])
    }
}

@Suite("Spectrum writer: reconciliation")
struct SpectrumWriterReconciliationTests {
    typealias F = WriterFixture

    @Test func grandTotalOffByOneCentIsRejectedNeverWritten() {
        var order = F.order()
        order.computed!.grandTotal = F.money("4369.27")
        for layout in SpectrumExportLayout.allCases {
            let result = F.export(order, F.writer(layout))
            #expect(result.export == nil)
            #expect(F.codes(result).allSatisfy { $0 == .REC001 })
            #expect(result.diagnostics.contains { $0.message.contains("4369.27") })
        }
    }

    @Test func lineRevenueThatIsNotExtendedPlusSharesIsRejected() {
        var order = F.order()
        order.computed!.lines[1].revenue = F.money("2600.76")
        order.computed!.grandTotal = F.money("4369.27")  // totals agree with the bad line
        let result = F.export(order)
        #expect(F.codes(result).contains(.REC001))
        #expect(result.diagnostics.contains { $0.location.field == "computed.lines[1].revenue" })
    }

    @Test func computedFromAnotherVersionOfTheLinesIsRejected() {
        var order = F.order()
        order.lines[0].amount = F.money("1100.00")  // edited after sov-markup
        let result = F.export(order)
        #expect(result.diagnostics.contains { $0.code == .REC001 && $0.location.field == "computed.lines[0].extended_amount" })
        order.computed!.lines.removeLast()
        #expect(F.codes(F.export(order)) == [.REC001])
    }

    @Test func verticalSharesMustAddUpToTheMarkup() {
        var order = F.order()
        order.computed!.vertical = [MarkupAmount(name: "Fee", amount: F.money("127.25"))]
        order.computed!.grandTotal = F.money("4369.25")
        #expect(F.codes(F.export(order)).contains(.REC001))
    }

    @Test func negativeChangeOrdersReconcileToo() throws {
        let lines = [
            F.Line(amount: "-1000.00", item: "1000", costCode: "01-100", costType: "L", horizontal: "-10.00", share: "-30.30"),
            F.Line(amount: "250.00", item: "1000", costCode: "01-100", costType: "L", horizontal: "2.50", share: "7.58"),
        ]
        let export = try #require(F.export(F.order(lines: lines)).export)
        #expect(export.records.map { $0["Change_Request_Amount"] ?? $0["CR_Revenue"]! } == ["-750.00", "-780.22"])
    }
}
