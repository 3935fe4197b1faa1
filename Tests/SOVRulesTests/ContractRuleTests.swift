import SOVCore
import SOVRules
import Testing

struct ContractRuleTests {
    @Test func pc001FirstContractOfAProjectWins() {
        var validator = Validator(projectMap: Fixture.map)
        let first = Fixture.contract(key: ContractKey(company: "1", job: "24-2040", customer: "OWN100"), line: 2)
        let second = Fixture.contract(key: ContractKey(company: "1", job: "24-2040", customer: "OWN200"), line: 9)
        #expect(validator.validate(.primeContract(first)).accepted != nil)
        let result = validator.validate(.primeContract(second))
        #expect(result.problems.map(\.code) == [.PC001])
        let problem = result.problems.first
        #expect(problem?.message == "Procore project 200 already receives prime contract 1/24-2040/OWN100 (jobs.csv:2); a Procore project holds one prime contract")
        #expect(problem?.location == SourceLocation(file: "jobs.csv", line: 9, field: "Job_Number"))
        #expect(problem?.value == "24-2040")
    }

    @Test func pc001SameContractAgainIsNoConflict() {
        var validator = Validator(projectMap: Fixture.map)
        #expect(validator.validate(.primeContract(Fixture.contract())).accepted != nil)
        #expect(validator.validate(.primeContract(Fixture.contract(line: 30))).accepted != nil)
    }

    @Test func pc001RejectedFirstContractStillClaimsItsProject() {
        var validator = Validator(projectMap: Fixture.map)
        let broken = Fixture.contract(key: ContractKey(company: "1", job: "24-2040", customer: "OWN100"), original: "1.00")
        #expect(validator.validate(.primeContract(broken)).problems.map(\.code) == [.PC003])
        let second = Fixture.contract(key: ContractKey(company: "1", job: "24-2040", customer: "OWN200"))
        #expect(validator.validate(.primeContract(second)).problems.map(\.code) == [.PC001])
    }

    @Test func pc001LedgerCounts() {
        let rule = OneContractPerProject()
        let other = FakeLedger(exported: ["100": "spectrum:1:24-1017:OWN900"])
        let same = FakeLedger(exported: ["100": Fixture.key.originId])
        #expect(rule.codes(Fixture.contract(), in: Fixture.context(known: other)) == [.PC001])
        #expect(rule.codes(Fixture.contract(), in: Fixture.context(known: same)) == [])
        #expect(rule.codes(Fixture.contract(), in: Fixture.context(known: FakeLedger())) == [])
    }

    @Test func pc002UnitPrice() {
        let rule = UnitPriceContract()
        #expect(rule.codes(Fixture.contract(priceMethod: "F")) == [])
        #expect(rule.codes(Fixture.contract(priceMethod: nil)) == [])
        let byMethod = rule.check(.primeContract(Fixture.contract(priceMethod: "U")), in: Fixture.context())
        #expect(byMethod.map(\.code) == [.PC002])
        #expect(byMethod.first?.location.field == "Price_Method_Code")
        #expect(byMethod.first?.value == "U")
        let unitLines = Fixture.contract(lines: [
            SOVLine(code: "100", amount: Fixture.money("1000.00"), unitPrice: Fixture.money("10.00"), quantity: "100", source: SourceLocation(file: "sov.csv", line: 2)),
            SOVLine(code: "200", amount: Fixture.money("2500.00"), unitOfMeasure: "LF"),
        ])
        let byLine = rule.check(.primeContract(unitLines), in: Fixture.context())
        #expect(byLine.map(\.code) == [.PC002, .PC002])
        #expect(byLine.map(\.location.field) == ["Unit_Price", "Unit_Of_Measure"])
        #expect(byLine[0].location.file == "sov.csv")
        #expect(byLine[1].location.file == "jobs.csv")  // no line source: the contract's
    }

    @Test func pc003SOVAddsUpToTheCent() {
        let rule = SOVTotal()
        #expect(rule.codes(Fixture.contract(original: "3500.00")) == [])
        let off = rule.check(.primeContract(Fixture.contract(original: "3500.01")), in: Fixture.context())
        #expect(off.map(\.code) == [.PC003])
        #expect(off.first?.message == "the 2 SOV lines add up to 3500.00 but Original_Contract is 3500.01 (difference 0.01)")
        #expect(off.first?.location.field == "Original_Contract")
        #expect(off.first?.value == "3500.01")
        #expect(rule.codes(Fixture.contract(original: "0.00", lines: [])) == [])
        #expect(rule.codes(Fixture.contract(original: "10.00", lines: [])) == [.PC003])
        let negative = [
            SOVLine(code: "100", amount: Fixture.money("1000.00")), SOVLine(code: "200", amount: Fixture.money("-250.50")),
        ]
        #expect(rule.codes(Fixture.contract(original: "749.50", lines: negative)) == [])
    }

    @Test func pc003HugeLinesDoNotCrash() {
        let lines = [
            SOVLine(code: "1", amount: Money(minorUnits: .max)), SOVLine(code: "2", amount: Money(minorUnits: .max)),
        ]
        let problems = SOVTotal().check(.primeContract(Fixture.contract(original: "1.00", lines: lines)), in: Fixture.context())
        #expect(problems.map(\.code) == [.PC003])
        #expect(problems.first?.message == "the SOV lines are too large to add up")
    }

    @Test func pc004BillingItemCodes() {
        let rule = BillingItemCodes()
        #expect(rule.codes(Fixture.contract()) == [])
        let exactlyTen = [SOVLine(code: "ABCDEFGHIJ", amount: Fixture.money("3500.00"))]
        #expect(rule.codes(Fixture.contract(lines: exactlyTen)) == [])
        let bad = Fixture.contract(lines: [
            SOVLine(code: "100", amount: Fixture.money("1.00"), source: SourceLocation(file: "sov.csv", line: 2)),
            SOVLine(code: "  ", amount: Fixture.money("1.00"), source: SourceLocation(file: "sov.csv", line: 3)),
            SOVLine(code: "ABCDEFGHIJK", amount: Fixture.money("1.00"), source: SourceLocation(file: "sov.csv", line: 4)),
            SOVLine(code: "100", amount: Fixture.money("1.00"), source: SourceLocation(file: "sov.csv", line: 5)),
        ])
        let problems = rule.check(.primeContract(bad), in: Fixture.context())
        #expect(problems.map(\.code) == [.PC004, .PC004, .PC004])
        #expect(problems.map(\.location.line) == [3, 4, 5])
        #expect(problems.allSatisfy { $0.location.field == "Billing_Item" })
        #expect(problems[0].message == "SOV line 2 has no billing item code")
        #expect(problems[1].message == "billing item code 'ABCDEFGHIJK' on SOV line 3 has 11 characters; Spectrum allows 10")
        #expect(problems[2].message == "billing item code '100' on SOV line 4 repeats SOV line 1 (sov.csv:2)")
        // Length in characters, not bytes: ten accented letters pass, eleven do not.
        let accented = Fixture.contract(lines: [
            SOVLine(code: String(repeating: "é", count: 10), amount: Fixture.money("1.00")),
            SOVLine(code: String(repeating: "é", count: 11), amount: Fixture.money("1.00")),
            SOVLine(code: "\t \t", amount: Fixture.money("1.00")), SOVLine(code: " \u{301}", amount: Fixture.money("1.00")),
        ])
        #expect(rule.check(.primeContract(accented), in: Fixture.context()).map(\.message) == [
            "billing item code 'ééééééééééé' on SOV line 2 has 11 characters; Spectrum allows 10",
            "SOV line 3 has no billing item code",
        ])
    }

    /// Codes that ascend skip the dictionary of first lines; any other order, and any code not
    /// ASCII (where equal Strings may differ in bytes), still finds every repeat.
    @Test func pc004RepeatsAreFoundInAnyOrder() {
        let rule = BillingItemCodes()
        func repeats(_ codes: [String]) -> [String] {
            let contract = Fixture.contract(lines: codes.map { SOVLine(code: $0, amount: Fixture.money("1.00")) })
            return rule.check(.primeContract(contract), in: Fixture.context()).map(\.message)
        }
        #expect(repeats(["01-000", "01-001", " ", "02", "02-0", "10"]) == ["SOV line 3 has no billing item code"])
        #expect(repeats(["01", "02", "02", "03"]) == ["billing item code '02' on SOV line 3 repeats SOV line 2"])
        #expect(repeats(["01", "02", " ", "02"]).count == 2)
        #expect(repeats(["03", "02", "01", "03"]) == ["billing item code '03' on SOV line 4 repeats SOV line 1"])
        #expect(repeats(["A", "AB", "A"]) == ["billing item code 'A' on SOV line 3 repeats SOV line 1"])
        // "é" precomposed, then as "e" and a combining accent: the same String, bytes that ascend.
        #expect(repeats(["\u{E9}", "e\u{301}"]) == ["billing item code 'e\u{301}' on SOV line 2 repeats SOV line 1"])
        #expect(repeats(["e\u{301}", "\u{E9}"]).count == 1)
    }
}
