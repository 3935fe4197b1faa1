import SOVCore
import SOVRules
import Testing

struct ValidatorTests {
    @Test func everyProblemOfADocumentIsReported() {
        var validator = Validator(projectMap: Fixture.map)
        var contract = Fixture.contract(
            key: ContractKey(company: "1", job: "99-0001", customer: "OWN100"), priceMethod: "U", original: "10.00",
            lines: [
                SOVLine(code: "100", amount: Fixture.money("1.00")),
                SOVLine(code: "100", amount: Fixture.money("2.00")),
                SOVLine(code: "", amount: Fixture.money("3.00")),
            ])
        contract.origin.company = nil
        let result = validator.validate(.primeContract(contract))
        #expect(result.problems.map(\.code) == [.FMT004, .PC002, .PC003, .PC004, .PC004])
        #expect(result.rejectedDocument == CanonicalDocument.primeContract(contract).json)  // as it came in, nothing added

        let order = Fixture.procoreOrder(
            number: "123456789", status: "draft", date: nil, origin: Origin(system: .procore), procore: nil,
            lines: [ChangeOrderLine(amount: Fixture.money("1.00")), ChangeOrderLine(amount: Fixture.money("1.00"), associatedLine: "ABCDEFGHIJK")])
        let orderResult = validator.validate(.changeOrder(order))
        #expect(orderResult.problems.map(\.code) == [.MAP003, .CO001, .CO002, .CO003, .CO004, .CO005])
    }

    @Test func acceptedSpectrumDocumentsGainTheirProcoreLink() {
        var validator = Validator(projectMap: Fixture.map)
        let contract = validator.validate(.primeContract(Fixture.contract())).accepted
        #expect(contract?.procore == ProcoreLink(projectId: "100", primeContractId: "1001"))
        #expect(contract?.diagnostics == [])
        let order = validator.validate(.changeOrder(Fixture.spectrumOrder())).accepted
        #expect(order?.procore == ProcoreLink(projectId: "100", primeContractId: "1001"))
    }

    @Test func procoreOrderGainsItsSpectrumContractFromTheMap() {
        var validator = Validator(projectMap: Fixture.map)
        let procoreOrder = CanonicalDocument.changeOrder(Fixture.procoreOrder())
        #expect(validator.validate(procoreOrder).isHeld)  // held: its contract may come later
        guard case .changeOrder(let order)? = validator.judgeHeld(procoreOrder).accepted else { Issue.record("expected an accepted change order"); return }
        #expect(order.contract == Fixture.key)
        #expect(order.procore == Fixture.procoreOrder().procore)
        #expect(order.diagnostics.map(\.code) == [.MAP004])
        #expect(order.diagnostics.first?.severity == .warning)
        #expect(order.diagnostics.first?.message == "Spectrum contract 1/24-1017/OWN100 taken from the project map map.csv")
    }

    @Test func changeOrderBeforeItsContractIsCheckedAgainstIt() {
        var validator = Validator(projectMap: Fixture.map)
        let stray = Fixture.spectrumOrder(number: "004", lines: [ChangeOrderLine(amount: Fixture.money("5.00"), associatedLine: "999")])
        let fine = Fixture.spectrumOrder(number: "005")
        #expect(validator.validate(.changeOrder(stray)).isHeld)
        #expect(validator.validate(.changeOrder(fine)).isHeld)
        #expect(validator.validate(.primeContract(Fixture.contract())).accepted != nil)
        // After its contract, a change order is checked at once.
        let after = validator.validate(.changeOrder(Fixture.spectrumOrder(number: "006", lines: [ChangeOrderLine(amount: Fixture.money("5.00"), associatedLine: "998")])))
        #expect(after.problems.first?.message == "billing item '998' on line 1 is not on the SOV of prime contract 1/24-1017/OWN100 (as seen in jobs.csv:2)")
        // The held ones, judged once the input is read, against the contract that came later.
        #expect(validator.judgeHeld(.changeOrder(stray)).problems.map(\.code) == [.CO004])
        #expect(validator.judgeHeld(.changeOrder(fine)).accepted != nil)
    }

    @Test func inputSOVWinsOverTheLedger() {
        let ledger = FakeLedger(items: [Fixture.key: ["OLD"]])
        var validator = Validator(projectMap: Fixture.map, knownContracts: ledger)
        #expect(validator.validate(.primeContract(Fixture.contract())).accepted != nil)
        #expect(validator.validate(.changeOrder(Fixture.spectrumOrder())).accepted != nil)
    }

    @Test func documentsWithoutAKeyAreNotHeld() {
        var validator = Validator(projectMap: nil)
        let orphan = Fixture.procoreOrder(origin: Origin(system: .procore), procore: nil)
        #expect(validator.validate(.changeOrder(orphan)).problems.map(\.code) == [.MAP003])
    }

    @Test func earlierWarningsAreKept() {
        var validator = Validator(projectMap: Fixture.map)
        var contract = Fixture.contract()
        let warning = Diagnostic.warning(.FMT005, "Job_Description longer than 25", at: SourceLocation(file: "jobs.csv", line: 2))
        contract.diagnostics = [warning]
        #expect(validator.validate(.primeContract(contract)).accepted?.diagnostics == [warning])
    }

    @Test func rulesHaveDistinctCodes() {
        let codes = Validator.standardRules.map(\.code)
        #expect(Set(codes).count == codes.count)
        let spec: Set<DiagnosticCode> = [.PC001, .PC002, .PC003, .PC004, .MAP001, .MAP002, .MAP003, .CO001, .CO002, .CO003, .CO004, .CO005]
        #expect(spec.isSubset(of: Set(codes)))
    }
}
