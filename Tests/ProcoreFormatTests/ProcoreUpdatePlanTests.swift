import SOVCore
import Testing
@testable import ProcoreFormat

/// A document exported before and changed since becomes PATCH calls on what the earlier import
/// created, never a second create.
@Suite struct ProcoreUpdatePlanTests {
    let lookup: ProcoreProjectLookup = { key in
        key.job == "24-1017" ? ProcoreLink(projectId: "562949953421312", primeContractId: "5000123") : nil
    }

    func contract(_ lines: [(String, String, String)]) -> CanonicalDocument {
        let sov = lines.map { SOVLine(code: $0.0, description: $0.1, amount: try! Money.parse($0.2)) }
        return .primeContract(PrimeContract(
            origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100"),
            source: SourceLocation(file: "jobs.csv", line: 2), number: "C-1017", title: "Clinic", status: "A",
            customer: Party(code: "OWN100"), priceMethod: "F",
            originalAmount: sov.reduce(Money.zero()) { $0 + $1.amount }, lines: sov))
    }

    func changeOrder(amounts: [String], markups: [(String, MarkupSet, String)]) -> CanonicalDocument {
        .changeOrder(ChangeOrder(
            origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100", number: "003"),
            source: SourceLocation(file: "co.csv", line: 2), number: "003", title: "Casework", status: "A", approved: true,
            date: CalendarDate(year: 2025, month: 3, day: 14), contract: ContractKey(company: "1", job: "24-1017", customer: "OWN100"),
            lines: amounts.map { ChangeOrderLine(description: "Casework", amount: try! Money.parse($0), associatedLine: "300") },
            markups: markups.enumerated().map { Markup(name: $0.element.0, set: $0.element.1, percent: try! Percent.parse($0.element.2), position: $0.offset + 1) }))
    }

    func update(_ document: CanonicalDocument, previous: CanonicalDocument) throws -> ProcoreImport {
        guard case .written(let result) = ProcoreUpdatePlan.makeUpdate(for: document, previous: previous, projectLookup: lookup) else {
            Issue.record("the update was rejected")
            throw CancellationError()
        }
        return result
    }

    func calls(_ result: ProcoreImport) -> [String] { result.requests.map { "\($0.method) \($0.path)" } }

    @Test func aContractUpdatePatchesChangedLinesAddsNewOnesAndZeroesRemovedOnes() throws {
        let before = contract([("0100", "Sitework", "1000.00"), ("0200", "Building", "2500.00"), ("0300", "Paving", "400.00")])
        let after = contract([("0100", "Sitework", "1000.00"), ("0200", "Building shell", "2600.00"), ("0400", "Landscaping", "300.00")])
        let result = try update(after, previous: before)
        #expect(result.kind == "prime_contract")
        #expect(result.originId == "spectrum:1:24-1017:OWN100")
        #expect(calls(result) == [
            "PATCH /rest/v1.0/prime_contract/{prime_contract_id}",
            "PATCH /rest/v1.0/prime_contracts/{prime_contract_id}/line_items/{line_item_id}",
            "POST /rest/v1.0/prime_contracts/{prime_contract_id}/line_items",
            "PATCH /rest/v1.0/prime_contracts/{prime_contract_id}/line_items/{line_item_id}",
        ])
        let items = result.requests.dropFirst().map { ($0.body["line_item"]?["origin_id"]?.stringValue, $0.body["line_item"]?["amount"]?.stringValue) }
        #expect(items.map(\.0) == ["spectrum:1:24-1017:OWN100:0200", "spectrum:1:24-1017:OWN100:0400", "spectrum:1:24-1017:OWN100:0300"])
        #expect(items.map(\.1) == ["2600.00", "300.00", "0.00"])
        // The header PATCH carries the same body as the create, so it validates the same way.
        guard case .written(let create) = ProcoreImportWriter.makeImport(for: after, projectLookup: lookup) else {
            Issue.record("the create was rejected")
            return
        }
        #expect(result.requests[0].body == create.requests[0].body)
        #expect(!result.requests.contains { $0.method == "POST" && $0.path == "/rest/v1.0/prime_contract" })
    }

    @Test func aChangeOrderUpdatePatchesItselfItsChangedLineAndItsMarkups() throws {
        let before = changeOrder(amounts: ["1000.00", "2500.00"], markups: [("Insurance", .horizontal, "1"), ("Fee", .vertical, "3"), ("Bond", .horizontal, "0.5")])
        let after = changeOrder(amounts: ["1000.00", "2750.00"], markups: [("Insurance", .horizontal, "1"), ("Fee", .vertical, "3.5")])
        let result = try update(after, previous: before)
        #expect(calls(result) == [
            "PATCH /rest/v1.0/projects/562949953421312/prime_change_orders/{prime_change_order_id}",
            "PATCH /rest/v1.0/potential_change_orders/{potential_change_order_id}/line_items/{line_item_id}",
            "PATCH /rest/v1.0/financials/markups/{markup_id}",
            "PATCH /rest/v1.0/financials/markups/{markup_id}",
        ])
        #expect(result.requests[1].body["line_item"]?["amount"] == .string("2750.00"))
        #expect(result.requests[2].body["markup"]?["name"] == .string("Fee"))
        #expect(result.requests[2].body["markup"]?["percentage"] == .string("3.5"))
        #expect(result.requests[3].body["markup"]?["name"] == .string("Bond"))
        #expect(result.requests[3].body["markup"]?["percentage"] == .string("0"))
        #expect(result.requests[3].query.first { $0.key == "holder_type" }?.value == .string("PotentialChangeOrder"))
    }

    @Test func placeholdersStayOutOfBodies() throws {
        let result = try update(
            contract([("0100", "Sitework", "1000.00")]), previous: contract([("0100", "Site", "1000.00"), ("0200", "Gone", "5.00")]))
        func strings(_ value: JSONValue) -> [String] {
            switch value {
            case .string(let text): [text]
            case .array(let items): items.flatMap(strings)
            case .object(let members): members.flatMap { strings($0.value) }
            default: []
            }
        }
        #expect(result.requests.count == 3)
        for request in result.requests {
            #expect(!strings(request.body).contains { $0.contains("{") }, "\(request.path) has no placeholder in its body")
        }
    }

    /// When the earlier version cannot be written any more (its contract is no longer mapped),
    /// nothing is known to be unchanged: every child is updated in place, none created again.
    @Test func withoutAUsableEarlierVersionEveryChildIsPatchedNotCreated() throws {
        var before = contract([("0100", "Sitework", "1000.00")])
        if case .primeContract(var old) = before {
            old.origin.job = "99-0000"
            before = .primeContract(old)
        }
        let result = try update(contract([("0100", "Sitework", "1000.00"), ("0200", "Building", "2500.00")]), previous: before)
        #expect(result.requests.allSatisfy { $0.method == "PATCH" })
        #expect(result.requests.count == 3)
    }

    @Test func anUnchangedChildGivesNoCall() throws {
        let document = contract([("0100", "Sitework", "1000.00"), ("0200", "Building", "2500.00")])
        let result = try update(document, previous: document)
        #expect(calls(result) == ["PATCH /rest/v1.0/prime_contract/{prime_contract_id}"])
    }
}
