import SOVCore
import SOVRules

/// Documents built in code, valid by default; each test spoils what it is about.
enum Fixture {
    static let key = ContractKey(company: "1", job: "24-1017", customer: "OWN100")

    static func money(_ text: String) -> Money { try! Money.parse(text) }
    static func percent(_ text: String) -> Percent { try! Percent.parse(text) }
    static func date(_ text: String) -> CalendarDate { CalendarDate.parse(text)! }

    static func contract(
        key: ContractKey = Fixture.key, priceMethod: String? = "F", original: String = "3500.00",
        lines: [SOVLine]? = nil, file: String = "jobs.csv", line: Int = 2
    ) -> PrimeContract {
        PrimeContract(
            origin: Origin(system: .spectrum, company: key.company, job: key.job, customer: key.customer, number: "C-100"),
            source: SourceLocation(file: file, line: line), number: "C-100", title: "Harbor Point",
            status: "A", customer: Party(code: key.customer, name: "Owner"), priceMethod: priceMethod,
            originalAmount: money(original),
            lines: lines ?? [
                SOVLine(code: "100", description: "General conditions", amount: money("1000.00"), source: SourceLocation(file: "sov.csv", line: 2)),
                SOVLine(code: "200", description: "Sitework", amount: money("2500.00"), source: SourceLocation(file: "sov.csv", line: 3)),
            ])
    }

    static func spectrumOrder(
        key: ContractKey = Fixture.key, number: String = "003", approved: Bool = true, status: String = "A",
        date: CalendarDate? = Fixture.date("2024-05-01"), lines: [ChangeOrderLine]? = nil, markups: [Markup] = []
    ) -> ChangeOrder {
        ChangeOrder(
            origin: Origin(system: .spectrum, company: key.company, job: key.job, customer: key.customer, number: number),
            source: SourceLocation(file: "co.csv", line: 2), number: number, description: "Add storm drain",
            status: status, approved: approved, date: date, contract: key,
            lines: lines ?? [
                ChangeOrderLine(description: "Drain", amount: money("1000.00"), associatedLine: "200", source: SourceLocation(file: "co.csv", line: 2)),
                ChangeOrderLine(description: "Inlet", amount: money("2500.00"), associatedLine: "200", source: SourceLocation(file: "co.csv", line: 3)),
            ],
            markups: markups)
    }

    static func procoreOrder(
        number: String = "007", status: String? = "approved", date: CalendarDate? = Fixture.date("2024-06-03"),
        origin: Origin = Origin(system: .procore, job: "24-1017", number: "007"),
        procore: ProcoreLink? = ProcoreLink(projectId: "100", primeContractId: "1001", changeOrderId: "55"),
        title: String? = "Storm drain", description: String? = "Add a storm drain at the north gate",
        lines: [ChangeOrderLine]? = nil, markups: [Markup] = []
    ) -> ChangeOrder {
        ChangeOrder(
            origin: origin, source: SourceLocation(file: "pcco.json", line: 1), number: number, title: title,
            description: description, status: status, approved: status == "approved", date: date,
            lines: lines ?? [
                ChangeOrderLine(description: "Drain", amount: money("1000.00"), associatedLine: "100"),
                ChangeOrderLine(description: "Inlet", amount: money("2500.00"), associatedLine: "200"),
            ],
            markups: markups.isEmpty ? [Markup(name: "Contractor's Fee", set: .vertical, percent: percent("10.125"), position: 1)] : markups,
            procore: procore)
    }

    /// Job 24-1017 of customer OWN100 is project 100 with prime contract 1001; job 24-2040 (any
    /// customer) is project 200 without a prime contract yet.
    static let map = ProjectMap(file: "map.csv", mappings: [
        ProjectMapping(company: "1", job: "24-1017", customer: "OWN100", projectId: "100", primeContractId: "1001", line: 2),
        ProjectMapping(company: nil, job: "24-2040", customer: nil, projectId: "200", primeContractId: nil, line: 3),
    ])

    static func context(map: ProjectMap? = Fixture.map, known: (any KnownContracts)? = nil) -> ValidationContext {
        ValidationContext(projectMap: map, knownContracts: known)
    }
}

/// A ledger stand-in: what earlier runs exported.
struct FakeLedger: KnownContracts {
    var exported: [String: String] = [:]
    var items: [ContractKey: Set<String>] = [:]

    func exportedContract(forProject projectId: String) -> String? { exported[projectId] }
    func billingItems(of key: ContractKey) -> Set<String>? { items[key] }
}

extension ValidationRule {
    func codes(_ document: PrimeContract, in context: ValidationContext = Fixture.context()) -> [DiagnosticCode] {
        check(.primeContract(document), in: context).map(\.code)
    }

    func codes(_ document: ChangeOrder, in context: ValidationContext = Fixture.context()) -> [DiagnosticCode] {
        check(.changeOrder(document), in: context).map(\.code)
    }
}

extension Verdict {
    var accepted: CanonicalDocument? {
        if case .accepted(let document) = self { return document }
        return nil
    }

    var problems: [Diagnostic] {
        if case .rejected(let reject) = self { return reject.diagnostics }
        return []
    }

    /// The rejected document as the rejects stream carries it.
    var rejectedDocument: JSONValue? {
        if case .rejected(let reject) = self { return reject.document }
        return nil
    }

    var isHeld: Bool {
        if case .held = self { return true }
        return false
    }
}
