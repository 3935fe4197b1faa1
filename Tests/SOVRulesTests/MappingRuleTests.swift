import SOVCore
import SOVRules
import SOVTestSupport
import Testing

struct MappingRuleTests {
    @Test func map001ContractAndChangeOrderNeedAProject() {
        let rule = ProjectMapped()
        #expect(rule.codes(Fixture.contract()) == [])
        #expect(rule.codes(Fixture.spectrumOrder()) == [])
        // Wildcard company and customer.
        #expect(rule.codes(Fixture.contract(key: ContractKey(company: "9", job: "24-2040", customer: "ANY"))) == [])
        let unmapped = ContractKey(company: "1", job: "99-0001", customer: "OWN100")
        let problems = rule.check(.primeContract(Fixture.contract(key: unmapped)), in: Fixture.context())
        #expect(problems.map(\.code) == [.MAP001])
        #expect(problems.first?.message == "no Procore project for Spectrum job 99-0001 (company 1, customer OWN100): the project map map.csv has no row for it")
        #expect(problems.first?.location == SourceLocation(file: "jobs.csv", line: 2, field: "Job_Number"))
        #expect(rule.codes(Fixture.spectrumOrder(key: unmapped)) == [.MAP001])
        // A row for another customer of the job does not serve this one.
        #expect(rule.codes(Fixture.contract(key: ContractKey(company: "1", job: "24-1017", customer: "OWN200"))) == [.MAP001])
    }

    @Test func map001WithoutAMapSaysSo() {
        let problems = ProjectMapped().check(.primeContract(Fixture.contract()), in: Fixture.context(map: nil))
        #expect(problems.first?.message == "no Procore project for Spectrum job 24-1017 (company 1, customer OWN100): no --project-map was given")
    }

    @Test func map001DocumentLinkMustAgreeWithTheMap() {
        var contract = Fixture.contract()
        contract.procore = ProcoreLink(projectId: "100", primeContractId: "1001")
        #expect(ProjectMapped().codes(contract) == [])
        #expect(ProjectMapped().codes(contract, in: Fixture.context(map: nil)) == [])
        contract.procore = ProcoreLink(projectId: "999")
        let problems = ProjectMapped().check(.primeContract(contract), in: Fixture.context())
        #expect(problems.map(\.code) == [.MAP001])
        #expect(problems.first?.message == "the document is bound for Procore project 999 but the project map (map.csv:2) maps job 24-1017 to project 100, prime contract 1001")
    }

    @Test func map001ProcoreDocumentsAreNotItsConcern() {
        #expect(ProjectMapped().codes(Fixture.procoreOrder(), in: Fixture.context(map: nil)) == [])
    }

    @Test func map002TheMapsPrimeContractIdIsOptional() {
        let rule = PrimeContractMapped()
        #expect(rule.codes(Fixture.spectrumOrder()) == [])
        // No prime_contract_id in the map: the change order follows the contract SOVBridge
        // creates for the job (the batch runner holds it until that contract is known).
        let noPrime = ContractKey(company: "1", job: "24-2040", customer: "OWN100")
        #expect(rule.check(.changeOrder(Fixture.spectrumOrder(key: noPrime)), in: Fixture.context()).isEmpty)
        // Contracts need no prime contract id: it is created with them.
        #expect(rule.codes(Fixture.contract(key: noPrime)) == [])
        // Unmapped jobs are MAP001's alone.
        #expect(rule.codes(Fixture.spectrumOrder(key: ContractKey(company: "1", job: "99-0001", customer: "X"))) == [])
    }

    @Test func map002CarriedPrimeContractMustBeInTheMap() {
        var order = Fixture.spectrumOrder(key: ContractKey(company: "7", job: "77-0001", customer: "Z"))
        order.procore = ProcoreLink(projectId: "700", primeContractId: "7001")
        #expect(PrimeContractMapped().codes(order) == [.MAP002])
        order.procore = ProcoreLink(projectId: "700", primeContractId: "1001")
        #expect(PrimeContractMapped().codes(order) == [])
    }

    @Test func map003ProcoreChangeOrderNeedsItsSpectrumContract() {
        let rule = SpectrumContractKnown()
        // Found in the map by prime contract id, by project id, or by job.
        #expect(rule.codes(Fixture.procoreOrder()) == [])
        #expect(rule.codes(Fixture.procoreOrder(origin: Origin(system: .procore), procore: ProcoreLink(projectId: "100"))) == [])
        #expect(rule.codes(Fixture.procoreOrder(origin: Origin(system: .procore, job: "24-1017"), procore: nil)) == [])
        // In the document, no map needed.
        let full = Origin(system: .procore, company: "1", job: "24-1017", customer: "OWN100")
        #expect(rule.codes(Fixture.procoreOrder(origin: full), in: Fixture.context(map: nil)) == [])
        // The wildcard row of job 24-2040 cannot say which customer.
        let unknown = Fixture.procoreOrder(origin: Origin(system: .procore, job: "24-2040"), procore: ProcoreLink(projectId: "200"))
        let problems = rule.check(.changeOrder(unknown), in: Fixture.context())
        #expect(problems.map(\.code) == [.MAP003])
        #expect(problems.first?.message == "the Spectrum contract of change order 007 is unknown: origin has no company, customer, and the project map map.csv has no single row naming company and customer for project 200, job 24-2040; add the project to the map, or give --company, --job and --customer where the writer runs")
        #expect(rule.codes(Fixture.procoreOrder(), in: Fixture.context(map: nil)) == [.MAP003])
        // Spectrum documents are not its concern.
        #expect(rule.codes(Fixture.spectrumOrder(), in: Fixture.context(map: nil)) == [])
    }

    @Test func contextLookups() {
        let context = Fixture.context()
        #expect(context.procoreTarget(for: .primeContract(Fixture.contract())).link == ProcoreLink(projectId: "100", primeContractId: "1001"))
        #expect(context.procoreTarget(for: .changeOrder(Fixture.spectrumOrder(key: ContractKey(company: "3", job: "24-2040", customer: "Q")))).link == ProcoreLink(projectId: "200"))
        #expect(context.spectrumContract(for: Fixture.procoreOrder()) == .fromMap(Fixture.key))
        let inDocument = Fixture.procoreOrder(origin: Origin(system: .procore, company: "2", job: "J", customer: "C"))
        #expect(context.spectrumContract(for: inDocument) == .inDocument(ContractKey(company: "2", job: "J", customer: "C")))
    }

    @Test func projectMapCheck() throws {
        #expect(ProjectMapCheck.problems(in: Fixture.map).isEmpty)
        let bad = ProjectMap(file: "bad.csv", mappings: [
            ProjectMapping(company: "1", job: "A", customer: nil, projectId: "P-1", primeContractId: "12x", line: 2),
            ProjectMapping(company: "1", job: "B", customer: nil, projectId: "5", primeContractId: nil, line: 3),
            ProjectMapping(company: "1", job: "B", customer: nil, projectId: "6", primeContractId: nil, line: 4),
            ProjectMapping(company: "1", job: "B", customer: nil, projectId: "5", primeContractId: nil, line: 5),
        ])
        let problems = ProjectMapCheck.problems(in: bad)
        #expect(problems.map(\.code) == [.FMT006, .FMT006, .MAP001])
        #expect(problems.map(\.location.line) == [2, 2, 4])
        #expect(problems.map(\.location.field) == ["project_id", "prime_contract_id", "project_id"])
        #expect(problems.allSatisfy { $0.location.file == "bad.csv" })
        #expect(problems[2].message == "this row maps job B like line 3 but to another project or prime contract")
    }

    @Test func projectMapFromAFile() throws {
        let scratch = TemporaryFolder()
        let path = scratch.write("map.csv", "company,job,customer,project_id,prime_contract_id\n1,24-1017,OWN100,100,1001\n,24-2040,,200,\n")
        let map = try ProjectMap.load(path)
        #expect(ProjectMapCheck.problems(in: map).isEmpty)
        var validator = Validator(projectMap: map)
        let result = validator.validate(.primeContract(Fixture.contract(key: ContractKey(company: "5", job: "24-2040", customer: "X"))))
        #expect(result.accepted?.procore == ProcoreLink(projectId: "200"))
    }
}
