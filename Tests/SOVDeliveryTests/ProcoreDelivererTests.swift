import Foundation
import SOVCore
import SOVTestSupport
import Testing
@testable import SOVDelivery

/// End to end against tools/standins/procore_standin.py, one stand-in per test.
@Suite(.serialized) struct ProcoreDelivererTests {
    static let contractOrigin = "spectrum:1:24-1017:OWN100"
    static let changeOrderOrigin = "spectrum:1:24-1017:OWN100:co:001"

    static func launch(_ extra: [String] = []) throws -> StandIn {
        try StandIn(script: "tools/standins/procore_standin.py", arguments: ["--client-id", "cid", "--client-secret", "csecret", "--company-id", "42"] + extra)
    }

    static func deliverer(_ standIn: StandIn, secret: String = "csecret", company: String = "42") -> ProcoreDeliverer {
        let settings = ProcoreSettings(apiURL: standIn.baseURL, loginURL: standIn.baseURL, companyId: company, clientId: "cid", clientSecret: secret, requestTimeout: 5)
        var policy = RetryPolicy(baseDelay: 0.02, maxDelay: 0.2)
        policy.deadline = policy.deadline(in: 18)
        return ProcoreDeliverer(client: ProcoreClient(settings: settings, policy: policy))
    }

    static func unit(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    static func delivered(_ outcome: ProcoreDeliveryOutcome, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> [String: String] {
        guard case .delivered(let ids, _) = outcome else {
            Issue.record("expected delivered, got \(outcome)", sourceLocation: sourceLocation)
            return [:]
        }
        return ids
    }

    /// Creates (POST to /rest) the stand-in carried out: answered 2xx, or committed with the
    /// response lost (logged as 0). A throttled or refused POST changed nothing.
    static func creates(_ standIn: StandIn) throws -> [String] {
        try standIn.get("/__standin/requests").arrayValue!.compactMap { entry in
            guard entry["method"]?.stringValue == "POST", let path = entry["path"]?.stringValue, path.hasPrefix("/rest/"),
                  let status = entry["status"]?.intValue, status == 0 || (200..<300).contains(status) else { return nil }
            return path
        }
    }

    /// Every POST to /rest the stand-in received, whatever it answered.
    static func postsReceived(_ standIn: StandIn) throws -> [(path: String, status: Int)] {
        try standIn.get("/__standin/requests").arrayValue!.compactMap { entry in
            guard entry["method"]?.stringValue == "POST", let path = entry["path"]?.stringValue, path.hasPrefix("/rest/") else { return nil }
            return (path, entry["status"]?.intValue ?? -1)
        }
    }

    /// Checks the stand-in holds exactly one contract with the six lines and one change order
    /// with its two lines and its markup, each once.
    static func expectOneOfEverything(_ standIn: StandIn, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let state = try standIn.get("/__standin/state")
        let contracts = state["prime_contracts"]!.arrayValue!
        #expect(contracts.count == 1, sourceLocation: sourceLocation)
        let lines = contracts.first?["line_items"]?.arrayValue ?? []
        let origins = lines.compactMap { $0["origin_id"]?.stringValue }
        #expect(origins.count == 6 && Set(origins).count == 6, sourceLocation: sourceLocation)
        let orders = state["prime_change_orders"]!.arrayValue!
        #expect(orders.count == 1, sourceLocation: sourceLocation)
        #expect(orders.first?["contract_id"]?.scalarText == contracts.first.flatMap { $0["id"]?.scalarText }, sourceLocation: sourceLocation)
        let pcos = orders.first?["potential_change_orders"]?.arrayValue ?? []
        #expect(pcos.count == 1, sourceLocation: sourceLocation)
        let coLines = pcos.first?["line_items"]?.arrayValue ?? []
        #expect(coLines.map { $0["amount"]?.stringValue ?? "" }.sorted() == ["18450.00", "6275.50"], sourceLocation: sourceLocation)
        let markups = state["markups"]!.arrayValue!
        #expect(markups.count == 1, sourceLocation: sourceLocation)
        #expect(markups.first?["name"]?.stringValue == "Fee" && markups.first?["percentage"]?.stringValue == "5", sourceLocation: sourceLocation)
        #expect(markups.first?["holder_id"]?.scalarText == pcos.first.flatMap { $0["id"]?.scalarText }, sourceLocation: sourceLocation)
    }

    @Test func deliversContractAndChangeOrderThenRedeliversWithoutCreating() throws {
        let standIn = try Self.launch()
        defer { standIn.stop() }
        let deliverer = Self.deliverer(standIn)
        let contractIds = Self.delivered(deliverer.deliver(try Self.unit(ProcoreTestUnits.contract), ids: DictionaryIdBook()))
        #expect(contractIds[Self.contractOrigin] != nil)
        #expect(contractIds["\(Self.contractOrigin):01-000"] != nil)
        #expect(contractIds.count == 7)
        let orderIds = Self.delivered(deliverer.deliver(try Self.unit(ProcoreTestUnits.changeOrder), ids: DictionaryIdBook()))
        #expect(orderIds[Self.changeOrderOrigin] != nil)
        #expect(orderIds["\(Self.changeOrderOrigin):pco"] != nil)
        #expect(orderIds["\(Self.changeOrderOrigin):markup:vertical:Fee"] != nil)
        #expect(orderIds["\(Self.changeOrderOrigin):line:2"] != nil)
        try Self.expectOneOfEverything(standIn)
        #expect(try Self.creates(standIn) == ["/rest/v1.0/prime_contract", "/rest/v1.0/projects/2783451/prime_change_orders", "/rest/v1.0/financials/markups"])

        // Again, once knowing nothing (find by origin_id / number / name) and once from the ledger.
        for book in [DictionaryIdBook(), DictionaryIdBook(contractIds.merging(orderIds) { a, _ in a })] {
            #expect(Self.delivered(deliverer.deliver(try Self.unit(ProcoreTestUnits.contract), ids: book)) == contractIds)
            #expect(Self.delivered(deliverer.deliver(try Self.unit(ProcoreTestUnits.changeOrder), ids: book)) == orderIds)
        }
        #expect(try Self.creates(standIn).count == 3)
        try Self.expectOneOfEverything(standIn)

        // A changed amount updates the line in place.
        let changed = ProcoreTestUnits.contract.replacingOccurrences(of: #""amount":"98500.00""#, with: #""amount":"99125.00""#)
        #expect(changed != ProcoreTestUnits.contract)
        #expect(Self.delivered(deliverer.deliver(try Self.unit(changed), ids: DictionaryIdBook(contractIds))) == contractIds)
        let lines = try standIn.get("/__standin/state")["prime_contracts"]!.arrayValue![0]["line_items"]!.arrayValue!
        let general = lines.first { $0["origin_id"]?.stringValue == "\(Self.contractOrigin):01-000" }
        #expect(general?["amount"]?.stringValue == "99125.00")
        #expect(general?["id"]?.scalarText == contractIds["\(Self.contractOrigin):01-000"])
        #expect(lines.count == 6)
        #expect(try Self.creates(standIn).count == 3)
    }

    @Test func survivesThrottlingOutagesExpiredTokenAndLostResponses() throws {
        let standIn = try Self.launch()
        defer { standIn.stop() }
        try standIn.post("/__standin/faults", json: """
            {"every_nth_429": 3, "every_nth_503": 5, "retry_after": 0, "expire_tokens_at_call": 12,
             "lose_response": [{"method": "POST", "path_regex": "^/rest/v1\\\\.0/prime_contract$", "count": 1},
                               {"method": "POST", "path_regex": "/prime_change_orders$", "count": 1}]}
            """)
        let deliverer = Self.deliverer(standIn)
        _ = Self.delivered(deliverer.deliver(try Self.unit(ProcoreTestUnits.contract), ids: DictionaryIdBook()))
        _ = Self.delivered(deliverer.deliver(try Self.unit(ProcoreTestUnits.changeOrder), ids: DictionaryIdBook()))
        try Self.expectOneOfEverything(standIn)

        let log = try standIn.get("/__standin/requests").arrayValue!
        let statuses = log.compactMap { $0["status"]?.intValue }
        #expect(statuses.contains(429))
        #expect(statuses.contains(503))
        #expect(statuses.filter { $0 == 0 }.count == 2)  // both lost responses happened
        #expect(log.contains { $0["status"]?.intValue == 401 })  // the expired token was refused …
        #expect(log.filter { $0["path"]?.stringValue == "/oauth/token" && $0["status"]?.intValue == 200 }.count >= 2)  // … and renewed
        // Each create was carried out once; after a lost response the object was found, not re-POSTed
        // (a POST is repeated only when the lookup after a 429/503 found nothing). A 409 would mean
        // a create sent again for an object that existed.
        #expect(try Self.creates(standIn).sorted() == [
            "/rest/v1.0/financials/markups", "/rest/v1.0/prime_contract", "/rest/v1.0/projects/2783451/prime_change_orders",
        ])
        for post in try Self.postsReceived(standIn) where post.path.hasSuffix("/prime_contract") || post.path.hasSuffix("/prime_change_orders") {
            #expect(post.status != 409, "\(post.path) answered \(post.status)")
        }
    }

    @Test func pausesWhenTheRateLimitWindowIsUsedUp() throws {
        let standIn = try Self.launch(["--rate-limit", "6", "--rate-window", "1"])
        defer { standIn.stop() }
        let deliverer = Self.deliverer(standIn)
        _ = Self.delivered(deliverer.deliver(try Self.unit(ProcoreTestUnits.contract), ids: DictionaryIdBook()))
        _ = Self.delivered(deliverer.deliver(try Self.unit(ProcoreTestUnits.changeOrder), ids: DictionaryIdBook()))
        try Self.expectOneOfEverything(standIn)
        // Remaining 0 made the client wait for the reset, so the server never had to refuse.
        let statuses = try standIn.get("/__standin/requests").arrayValue!.compactMap { $0["status"]?.intValue }
        #expect(statuses.count > 6)
        #expect(!statuses.contains(429))
    }

    @Test func refusalsAndMissingDependencyAreReported() throws {
        let standIn = try Self.launch()
        defer { standIn.stop() }
        let deliverer = Self.deliverer(standIn)

        // A change order before its contract exists.
        guard case .missingDependency(let text) = deliverer.deliver(try Self.unit(ProcoreTestUnits.changeOrder), ids: DictionaryIdBook()) else {
            Issue.record("expected missingDependency")
            return
        }
        #expect(text.contains(Self.contractOrigin))

        // A field Procore does not know: 400 with the stand-in's message verbatim, nothing created.
        let misspelt = ProcoreTestUnits.contract.replacingOccurrences(of: #""retainage_percent""#, with: #""retainage_pct""#)
        guard case .refused(let message, let status) = deliverer.deliver(try Self.unit(misspelt), ids: DictionaryIdBook()) else {
            Issue.record("expected refused")
            return
        }
        #expect(status == 400)
        #expect(message.contains("retainage_pct"))

        // A line Procore's sync refuses: refused with the sync's own message.
        let badAmount = ProcoreTestUnits.contract.replacingOccurrences(of: #""amount":"187250.00""#, with: #""amount":"lots""#)
        guard case .refused(let syncMessage, nil) = deliverer.deliver(try Self.unit(badAmount), ids: DictionaryIdBook()) else {
            Issue.record("expected refused by sync")
            return
        }
        #expect(syncMessage.contains("\(Self.contractOrigin):03-300") && syncMessage.contains("is not a number"))

        // Wrong secret and wrong company: authentication errors naming what to check.
        guard case .authenticationRefused(let secretText) = Self.deliverer(standIn, secret: "nope").deliver(try Self.unit(ProcoreTestUnits.contract), ids: DictionaryIdBook()) else {
            Issue.record("expected authenticationRefused")
            return
        }
        #expect(secretText.contains("client_secret"))
        guard case .authenticationRefused(let companyText) = Self.deliverer(standIn, company: "43").deliver(try Self.unit(ProcoreTestUnits.contract), ids: DictionaryIdBook()) else {
            Issue.record("expected authenticationRefused")
            return
        }
        #expect(companyText.contains("company_id"))
    }

    @Test func dryRunListsCallsWithoutSending() throws {
        let standIn = try Self.launch()
        defer { standIn.stop() }
        let deliverer = Self.deliverer(standIn)
        let calls = try deliverer.dryRun(try Self.unit(ProcoreTestUnits.contract), ids: DictionaryIdBook())
        #expect(calls.map { "\($0.method) \($0.path)" } == [
            "GET /rest/v1.0/prime_contracts?project_id=2783451",
            "POST /rest/v1.0/prime_contract",
            "PATCH /rest/v1.0/prime_contracts/{prime_contract_id}/line_items/sync?project_id=2783451",
        ])
        let header = try Self.unit(ProcoreTestUnits.contract)["requests"]!.arrayValue![0]["body"]!
        #expect(calls[1].bodySHA256 == SHA256.hex(Array(header.text.utf8)))
        #expect(calls[0].bodySHA256 == nil)

        let known = DictionaryIdBook([Self.changeOrderOrigin: "77", "\(Self.changeOrderOrigin):pco": "78", Self.contractOrigin: "5"])
        let orderCalls = try deliverer.dryRun(try Self.unit(ProcoreTestUnits.changeOrder), ids: known)
        #expect(orderCalls.map { "\($0.method) \($0.path)" } == [
            "PATCH /rest/v1.0/projects/2783451/prime_change_orders/77",
            "PATCH /rest/v1.0/potential_change_orders/78/line_items/sync?project_id=2783451",
            "GET /rest/v1.0/financials/markups?project_id=2783451&holder_type=PotentialChangeOrder&holder_id=78",
            "POST /rest/v1.0/financials/markups?project_id=2783451&holder_type=PotentialChangeOrder&holder_id=78",
        ])
        #expect(try standIn.get("/__standin/requests").arrayValue!.isEmpty)
    }
}
