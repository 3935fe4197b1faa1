import SOVCore
import SOVRules
import Testing

struct ChangeOrderRuleTests {
    @Test func co001DateRequiredBothWays() {
        let rule = ChangeOrderDate()
        #expect(rule.codes(Fixture.spectrumOrder()) == [])
        #expect(rule.codes(Fixture.procoreOrder()) == [])
        let spectrum = rule.check(.changeOrder(Fixture.spectrumOrder(date: nil)), in: Fixture.context())
        #expect(spectrum.map(\.code) == [.CO001])
        #expect(spectrum.first?.location == SourceLocation(file: "co.csv", line: 2, field: "Change_Order_Date"))
        let procore = rule.check(.changeOrder(Fixture.procoreOrder(date: nil)), in: Fixture.context())
        #expect(procore.first?.message == "change order 007 has no date (Procore: erp_custom_fields.transaction_date or date); the change order date is required")
        #expect(procore.first?.location.field == "date")
    }

    @Test func co002LineBillingItemLength() {
        let rule = LineBillingItemLength()
        let ten = [ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "0123456789")]
        #expect(rule.codes(Fixture.procoreOrder(lines: ten)) == [])
        let eleven = [
            ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "100"),
            ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "01234567890"),
        ]
        let problems = rule.check(.changeOrder(Fixture.procoreOrder(lines: eleven)), in: Fixture.context())
        #expect(problems.map(\.code) == [.CO002])
        #expect(problems.first?.message == "billing item code '01234567890' on line 2 has 11 characters; Spectrum allows 10")
        #expect(problems.first?.location == SourceLocation(file: "pcco.json", line: 1, field: "prime_contract_line_item"))
        #expect(problems.first?.value == "01234567890")
        let spectrumLong = [ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "ABCDEFGHIJKL", source: SourceLocation(file: "co.csv", line: 8))]
        let spectrum = rule.check(.changeOrder(Fixture.spectrumOrder(lines: spectrumLong)), in: Fixture.context())
        #expect(spectrum.first?.location == SourceLocation(file: "co.csv", line: 8, field: "CO_Billing_Item_Code"))
    }

    @Test func co003OnlyApproved() {
        let rule = ApprovedStatus()
        #expect(rule.codes(Fixture.spectrumOrder(approved: true)) == [])
        #expect(rule.codes(Fixture.procoreOrder(status: "approved")) == [])
        #expect(rule.codes(Fixture.procoreOrder(status: "Approved")) == [])
        let spectrum = rule.check(.changeOrder(Fixture.spectrumOrder(approved: false, status: "P")), in: Fixture.context())
        #expect(spectrum.map(\.code) == [.CO003])
        #expect(spectrum.first?.message == "change order 003: Status_Code 'P' is not a code the profile maps to approved; only approved change orders are exported")
        #expect(spectrum.first?.location.field == "Status_Code")
        #expect(spectrum.first?.value == "P")
        #expect(rule.codes(Fixture.procoreOrder(status: "pending_in_review")) == [.CO003])
        #expect(rule.codes(Fixture.procoreOrder(status: nil)) == [.CO003])
        // Procore's status decides, not a flag that disagrees with it.
        var flagOnly = Fixture.procoreOrder(status: "draft")
        flagOnly.approved = true
        #expect(rule.codes(flagOnly) == [.CO003])
    }

    @Test func co004EveryLineDesignatesAnItem() {
        let rule = AssociatedLineItem()
        #expect(rule.codes(Fixture.procoreOrder()) == [])
        let lines = [
            ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "100"),
            ChangeOrderLine(amount: Fixture.money("1.00")),
            ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: " ", associatedLineId: "8812"),
        ]
        let problems = rule.check(.changeOrder(Fixture.procoreOrder(lines: lines)), in: Fixture.context())
        #expect(problems.map(\.code) == [.CO004, .CO004])
        #expect(problems[0].message == "line 2 designates no prime contract line item; every line must")
        #expect(problems[1].message == "line 3 designates no prime contract line item (it names Procore line item 8812 but not that item's billing item code); every line must")
        #expect(rule.codes(Fixture.procoreOrder(lines: [])) == [.CO004])
    }

    @Test func co004ItemMustBeOnAKnownSOV() {
        let rule = AssociatedLineItem()
        let ledger = FakeLedger(items: [Fixture.key: ["100", "200"]])
        // One item may serve every line.
        let same = [ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "200"), ChangeOrderLine(amount: Fixture.money("2.00"), associatedLine: "200")]
        #expect(rule.codes(Fixture.procoreOrder(lines: same), in: Fixture.context(known: ledger)) == [])
        let stray = [ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "300")]
        let problems = rule.check(.changeOrder(Fixture.procoreOrder(lines: stray)), in: Fixture.context(known: ledger))
        #expect(problems.map(\.code) == [.CO004])
        #expect(problems.first?.message == "billing item '300' on line 1 is not on the SOV of prime contract 1/24-1017/OWN100 (as seen in the ledger)")
        // Unknown contract: only the designation is checked.
        #expect(rule.codes(Fixture.procoreOrder(lines: stray), in: Fixture.context(known: FakeLedger())) == [])
        #expect(rule.codes(Fixture.spectrumOrder(lines: stray), in: Fixture.context(known: ledger)) == [.CO004])
    }

    /// The SOV of a contract of this input, its codes ascending (kept as listed, searched by
    /// halves) or not (a set): the same items are found, by String equality.
    @Test func co004ItemsOfAnSOVSeenInThisInput() {
        let kelvin = "\u{212A}"  // the Kelvin sign: the same String as "K"
        let ascending = ["01", "01-000", "02", "1", "A", "AB", "K", "Z", "a", "z"]
        let cases: [(codes: [String], on: [String], off: [String])] = [
            (ascending, ascending + [kelvin], ["", "0", "01-", "00", "03", "AA", "ABC", "k", "zz", "\u{E9}"]),
            (ascending.reversed(), ascending + [kelvin], ["0", "01-", "AA", "k", "zz"]),
            (["10", "2", "\u{E9}"], ["10", "2", "e\u{301}", "\u{E9}"], ["1", "e", "20"]),
            (["01", " ", "02"], ["01", "02"], ["03"]),
        ]
        for (codes, on, off) in cases {
            var validator = Validator(projectMap: Fixture.map)
            let lines = codes.map { SOVLine(code: $0, amount: Fixture.money("1.00")) }
            _ = validator.validate(.primeContract(Fixture.contract(original: "\(codes.count).00", lines: lines)))
            for item in on + off {
                let order = Fixture.spectrumOrder(lines: [ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: item)])
                let found = !validator.check(.changeOrder(order)).contains { $0.code == .CO004 }
                #expect(found == on.contains(item), "\(item) of \(codes)")
            }
        }
    }

    @Test func co005ProcoreOrderFitsSpectrum() {
        let rule = SpectrumLimits()
        #expect(rule.codes(Fixture.procoreOrder(number: "12345678", description: String(repeating: "d", count: 250))) == [])
        let problems = rule.check(.changeOrder(Fixture.procoreOrder(number: "123456789", description: String(repeating: "d", count: 251))), in: Fixture.context())
        #expect(problems.map(\.code) == [.CO005, .CO005])
        #expect(problems.map(\.location.field) == ["number", "description"])
        #expect(problems[0].message == "change order number '123456789' has 9 characters; Spectrum's Change_Order_Number holds 8")
        #expect(problems[1].message == "the description has 251 characters; Spectrum's Description holds 250")
        let additional = [
            ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "100", additionalDescription: String(repeating: "a", count: 40)),
            ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "100", additionalDescription: String(repeating: "a", count: 41)),
        ]
        let long = rule.check(.changeOrder(Fixture.procoreOrder(lines: additional)), in: Fixture.context())
        #expect(long.map(\.message) == ["the additional description of line 2 has 41 characters; Spectrum's Additional_Description holds 40"])
    }

    @Test func co005RevenuePerBillingItem() {
        let rule = SpectrumLimits()
        let fits = [ChangeOrderLine(amount: Fixture.money("9999999999.99"), associatedLine: "100")]
        #expect(rule.codes(Fixture.procoreOrder(lines: fits)) == [])
        let negative = [ChangeOrderLine(amount: Fixture.money("-9999999999.99"), associatedLine: "100")]
        #expect(rule.codes(Fixture.procoreOrder(lines: negative)) == [])
        // Lines naming the same item become one Spectrum record: their sum must fit.
        let summed = [
            ChangeOrderLine(amount: Fixture.money("6000000000.00"), associatedLine: "100"),
            ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "200"),
            ChangeOrderLine(amount: Fixture.money("4000000000.00"), associatedLine: "100"),
        ]
        let problems = rule.check(.changeOrder(Fixture.procoreOrder(lines: summed)), in: Fixture.context())
        #expect(problems.map(\.code) == [.CO005])
        #expect(problems.first?.message == "the amount before markup for billing item '100' is 10000000000.00; Spectrum's Revenue holds at most 10 digits before the decimal point")
        // After sov-markup, the computed revenue is what Spectrum gets.
        var marked = Fixture.procoreOrder(lines: fits)
        let revenue = Fixture.money("10999999999.98")
        marked.computed = ComputedMarkup(
            lines: [ComputedLine(horizontal: [], extendedAmount: fits[0].amount, verticalShares: [MarkupAmount(name: "Fee", amount: Fixture.money("999999999.99"))], revenue: revenue)],
            subtotal: fits[0].amount, vertical: [MarkupAmount(name: "Fee", amount: Fixture.money("999999999.99"))], grandTotal: revenue)
        #expect(rule.check(.changeOrder(marked), in: Fixture.context()).first?.message == "the revenue for billing item '100' is 10999999999.98; Spectrum's Revenue holds at most 10 digits before the decimal point")
    }

    @Test func co005FeePercentOfSpectrumOrders() {
        let rule = SpectrumLimits()
        func fee(_ text: String) -> [Markup] { [Markup(name: "Fee", set: .vertical, percent: Fixture.percent(text), position: 1)] }
        #expect(rule.codes(Fixture.spectrumOrder(markups: fee("10.25"))) == [])
        #expect(rule.codes(Fixture.spectrumOrder(markups: fee("999.99"))) == [])
        #expect(rule.codes(Fixture.spectrumOrder(markups: [Markup(name: "Fee", set: .vertical, amount: Fixture.money("125.00"), position: 1)])) == [])
        let precise = rule.check(.changeOrder(Fixture.spectrumOrder(markups: fee("10.125"))), in: Fixture.context())
        #expect(precise.map(\.code) == [.CO005])
        #expect(precise.first?.message == "Fee_Percent 10.125 does not fit Spectrum's 3.2 (at most 2 decimals)")
        #expect(precise.first?.location.field == "Fee_Percent")
        #expect(rule.codes(Fixture.spectrumOrder(markups: fee("0"))) == [.CO005])
        #expect(rule.codes(Fixture.spectrumOrder(markups: fee("-1.5"))) == [.CO005])
        #expect(rule.codes(Fixture.spectrumOrder(markups: fee("1000"))) == [.CO005])
        // Procore's markups are exempt: the writer sends the fee as Fee_Amount.
        #expect(rule.codes(Fixture.procoreOrder(markups: [Markup(name: "Fee", set: .vertical, percent: Fixture.percent("10.125"), position: 1)])) == [])
        // Spectrum documents are not held to the Procore-bound text limits.
        #expect(rule.codes(Fixture.spectrumOrder(number: "123456789")) == [])
    }
}

struct FormatRuleTests {
    @Test func fmt004RequiredValues() {
        let rule = RequiredValues()
        #expect(rule.codes(Fixture.contract()) == [])
        #expect(rule.codes(Fixture.procoreOrder()) == [])
        var contract = Fixture.contract()
        contract.origin.company = nil
        contract.origin.customer = " "
        let problems = rule.check(.primeContract(contract), in: Fixture.context())
        #expect(problems.map(\.code) == [.FMT004, .FMT004])
        #expect(problems.map(\.location.field) == ["Company_Code", "Customer_Code"])
        // A change order whose contract key is known needs no origin key.
        var order = Fixture.spectrumOrder()
        order.origin.job = nil
        #expect(rule.codes(order) == [])
        order.contract = nil
        #expect(rule.codes(order) == [.FMT004])
        #expect(rule.codes(Fixture.procoreOrder(number: "")) == [.FMT004])
    }

    @Test func fmt009ContractsGoToProcoreOnly() {
        var contract = Fixture.contract()
        #expect(SupportedDirection().codes(contract) == [])
        contract.origin.system = .procore
        #expect(SupportedDirection().codes(contract) == [.FMT009])
    }
}
