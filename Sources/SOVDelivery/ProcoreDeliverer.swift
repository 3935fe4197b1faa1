import Foundation
import SOVCore

/// What the caller's ledger knows about ids Procore assigned earlier. Keys:
/// - a prime contract's origin_id → prime contract id
/// - a line's origin_id → line item id
/// - a change order's origin_id → prime change order id
/// - "<change order origin_id>:pco" → potential change order id
/// - "<unit origin_id>:markup:<markup_set>:<name>" → markup id
public protocol IdBook {
    func id(for key: String) -> String?
}

/// An IdBook over a dictionary (tests, one-off runs, or a ledger snapshot).
public struct DictionaryIdBook: IdBook, Sendable {
    public var ids: [String: String]
    public init(_ ids: [String: String] = [:]) { self.ids = ids }
    public func id(for key: String) -> String? { ids[key] }
}

public enum ProcoreDeliveryOutcome: Sendable, Hashable {
    /// Everything in the unit is in Procore. `ids` are those learnt or confirmed (IdBook keys);
    /// `calls` the HTTP exchanges the client made meanwhile (retries and token calls included).
    case delivered(ids: [String: String], calls: Int)
    /// A 4xx (or a sync `errors` entry, then httpStatus nil) that retrying cannot fix; Procore's
    /// message verbatim.
    case refused(message: String, httpStatus: Int?)
    /// Gave up after retries or at the run deadline; delivering again later is safe.
    case failed(String)
    case authenticationRefused(String)
    /// The unit needs something not in Procore yet (a change order's prime contract).
    case missingDependency(String)
}

/// One call a delivery would make (dry run). `path` includes the query string; ids not known
/// before sending stay as {placeholders}. `bodySHA256` is the hex digest of the exact body bytes.
public struct ProcorePlannedCall: Sendable, Hashable, CustomStringConvertible {
    public var method: String
    public var path: String
    public var bodySHA256: String?

    public init(method: String, path: String, bodySHA256: String?) {
        self.method = method
        self.path = path
        self.bodySHA256 = bodySHA256
    }

    public var description: String { "\(method) \(path)" + (bodySHA256.map { " sha256:\($0)" } ?? "") }
}

/// A unit that cannot be delivered as written (not a Procore failure).
public struct ProcoreUnitError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Delivers one unit (the JSON object `sov-emit --to procore` writes) so that nothing is ever
/// created twice, whatever fails and however often it is delivered again:
/// - headers and markups are found before they are created (Procore has no upsert for them),
///   and a create whose outcome is unknown is followed by another lookup, never a blind repeat;
/// - every line goes through the holder's `line_items/sync`, which upserts by origin_id.
public struct ProcoreDeliverer: Sendable {
    public let client: ProcoreClient
    /// Lines per sync call (Procore's maximum, DELIVERY.md §2.3).
    public var syncChunkSize = 1000

    public init(client: ProcoreClient) {
        self.client = client
    }

    // MARK: - Delivery

    public func deliver(_ unit: JSONValue, ids: any IdBook) -> ProcoreDeliveryOutcome {
        let before = client.callCount
        do {
            let parsed = try Unit(unit)
            var learnt: [String: String] = [:]
            switch parsed.kind {
            case .primeContract: try deliverContract(parsed, ids: ids, learnt: &learnt)
            case .changeOrder: try deliverChangeOrder(parsed, ids: ids, learnt: &learnt)
            }
            return .delivered(ids: learnt, calls: client.callCount - before)
        } catch let error as ProcoreError {
            switch error {
            case .refused(let message, let status): return .refused(message: message, httpStatus: status == 0 ? nil : status)
            case .failed(let text): return .failed(text)
            case .uncertain(let text): return .failed("outcome unknown: \(text)")
            case .authentication(let text): return .authenticationRefused(text)
            }
        } catch let stop as Stop {
            switch stop {
            case .missingDependency(let text): return .missingDependency(text)
            case .syncErrors(let text): return .refused(message: text, httpStatus: nil)
            }
        } catch let error as ProcoreUnitError {
            return .refused(message: "unit not deliverable: \(error.message)", httpStatus: nil)
        } catch {
            return .failed("\(error)")
        }
    }

    private enum Stop: Error {
        case missingDependency(String)
        case syncErrors(String)
    }

    private func deliverContract(_ unit: Unit, ids: any IdBook, learnt: inout [String: String]) throws {
        let body = unit.header.body
        var contractId: String? = unit.header.literalId ?? ids.id(for: unit.originId)
        if let known = contractId {
            if try patch("/rest/v1.0/prime_contract/\(known)", query: unit.header.query, body: body, ledgerId: unit.header.literalId == nil) == nil {
                contractId = nil
            }
        }
        if contractId == nil {
            let result = try findOrCreate(
                what: "prime contract \(unit.originId)",
                find: { try findContract(project: unit.projectId, originId: unit.originId) },
                create: { try client.send(method: "POST", path: "/rest/v1.0/prime_contract", query: unit.header.query, body: body).json })
            contractId = result.id
            if result.created == nil {
                _ = try client.send(method: "PATCH", path: "/rest/v1.0/prime_contract/\(result.id)", query: unit.header.query, body: body)
            }
        }
        guard let contractId else { return }
        learnt[unit.originId] = contractId
        let placeholders = ["{prime_contract_id}": contractId]
        try syncLines(unit.lines.map { $0.substituting(placeholders) }, path: "/rest/v1.0/prime_contracts/\(contractId)/line_items/sync",
                      project: unit.projectId, learnt: &learnt)
        try deliverMarkups(unit, holderPlaceholders: placeholders, ids: ids, learnt: &learnt)
    }

    private func deliverChangeOrder(_ unit: Unit, ids: any IdBook, learnt: inout [String: String]) throws {
        let changeOrder = unit.header.body["change_order"] ?? .object([])
        let contractId = try resolveContract(unit, ids: ids)
        var placeholders = ["{prime_contract_id}": contractId]
        let body = unit.header.body.substituting(placeholders)
        let collection = "/rest/v1.0/projects/\(unit.projectId)/prime_change_orders"
        var orderId: String? = unit.header.literalId ?? ids.id(for: unit.originId)
        var representation: JSONValue?
        if let known = orderId {
            if let answer = try patch("\(collection)/\(known)", query: unit.header.query, body: body, ledgerId: unit.header.literalId == nil) {
                representation = answer
            } else {
                orderId = nil
            }
        }
        if orderId == nil {
            guard let number = changeOrder["number"]?.scalarText else {
                throw ProcoreUnitError(message: "change order \(unit.originId) has no number to look it up by")
            }
            var found: JSONValue?
            let result = try findOrCreate(
                what: "prime change order \(unit.originId)",
                find: {
                    let list = try client.getAll(path: collection, query: [("filters[contract_id]", contractId)])
                    found = list.first { $0["number"]?.scalarText == number && $0["contract_id"]?.scalarText ?? contractId == contractId }
                    return found.flatMap(ProcoreResponseShapes.id(of:))
                },
                create: { try client.send(method: "POST", path: collection, query: unit.header.query, body: body).json })
            orderId = result.id
            if let created = result.created {
                representation = created
            } else {
                representation = try client.send(method: "PATCH", path: "\(collection)/\(result.id)", query: unit.header.query, body: body).json ?? found
            }
        }
        guard let orderId else { return }
        learnt[unit.originId] = orderId
        guard let pcoId = representation.flatMap(ProcoreResponseShapes.potentialChangeOrderId(ofPrimeChangeOrder:)) ?? ids.id(for: unit.originId + ":pco") else {
            throw ProcoreError.failed(
                "prime change order \(orderId) came back without potential_change_orders[0].id (ProcoreResponseShapes assumption); its lines were not sent")
        }
        learnt[unit.originId + ":pco"] = pcoId
        placeholders["{prime_change_order_id}"] = orderId
        placeholders["{potential_change_order_id}"] = pcoId
        try syncLines(unit.lines.map { $0.substituting(placeholders) }, path: "/rest/v1.0/potential_change_orders/\(pcoId)/line_items/sync",
                      project: unit.projectId, learnt: &learnt)
        try deliverMarkups(unit, holderPlaceholders: placeholders, ids: ids, learnt: &learnt)
    }

    /// The change order's prime contract: from the body, the ledger, or the project's contracts.
    private func resolveContract(_ unit: Unit, ids: any IdBook) throws -> String {
        if let value = unit.header.body["change_order"]?["contract_id"], case .number(let text) = value { return text }
        if let origin = unit.contractOriginId, let known = ids.id(for: origin) { return known }
        let contracts = try client.getAll(path: "/rest/v1.0/prime_contracts", query: [("project_id", unit.projectId)])
        if let origin = unit.contractOriginId {
            if let match = contracts.first(where: { $0["origin_id"]?.stringValue == origin }), let id = ProcoreResponseShapes.id(of: match) { return id }
            throw Stop.missingDependency("prime contract \(origin) is not in Procore project \(unit.projectId) yet")
        }
        guard !contracts.isEmpty else {
            throw Stop.missingDependency("Procore project \(unit.projectId) has no prime contract for change order \(unit.originId)")
        }
        guard contracts.count == 1, let id = ProcoreResponseShapes.id(of: contracts[0]) else {
            throw ProcoreUnitError(message: "Procore project \(unit.projectId) has \(contracts.count) prime contracts and change order \(unit.originId) does not say which")
        }
        return id
    }

    /// PATCH of an object by id. Nil when the id came from the ledger and Procore answers 404:
    /// the object was deleted there, so the caller finds or creates it again.
    private func patch(_ path: String, query: [(String, String)], body: JSONValue, ledgerId: Bool) throws(ProcoreError) -> JSONValue?? {
        do throws(ProcoreError) {
            return .some(try client.send(method: "PATCH", path: path, query: query, body: body).json)
        } catch {
            if case .refused(_, 404) = error, ledgerId { return nil }
            throw error
        }
    }

    private func findContract(project: String, originId: String) throws(ProcoreError) -> String? {
        let contracts = try client.getAll(path: "/rest/v1.0/prime_contracts", query: [("project_id", project)])
        return contracts.first { $0["origin_id"]?.stringValue == originId }.flatMap(ProcoreResponseShapes.id(of:))
    }

    /// Find, else create; a create with an unknown outcome is followed by another find, a 409 too
    /// (someone holds the origin_id). Bounded by the retry policy's attempts and deadline.
    private func findOrCreate(
        what: String, find: () throws -> String?, create: () throws -> JSONValue?
    ) throws -> (id: String, created: JSONValue?) {
        let policy = client.retryPolicy
        var lastReason = "no attempt made"
        var conflict: String?
        for round in 1...policy.maxAttempts {
            if let id = try find() { return (id, nil) }
            if let conflict { throw ProcoreError.refused(message: conflict, status: 409) }
            do {
                guard let json = try create(), let id = ProcoreResponseShapes.id(of: json) else {
                    throw ProcoreError.failed("\(what): created, but the response names no id")
                }
                return (id, json)
            } catch ProcoreError.uncertain(let reason) {
                lastReason = reason
            } catch ProcoreError.refused(let message, 409) {
                conflict = message
                continue
            }
            if round < policy.maxAttempts, !policy.sleep(policy.backoff(retry: round)) { break }
        }
        throw ProcoreError.failed("\(what): could not confirm the create: \(lastReason)")
    }

    private func syncLines(_ lines: [JSONValue], path: String, project: String, learnt: inout [String: String]) throws {
        guard !lines.isEmpty else { return }
        var start = 0
        while start < lines.count {
            let chunk = Array(lines[start..<min(start + syncChunkSize, lines.count)])
            start += chunk.count
            let response = try client.send(method: "PATCH", path: path, query: [("project_id", project)], body: .object(["updates": .array(chunk)]))
            guard let json = response.json, let result = ProcoreResponseShapes.syncResult(json) else {
                throw ProcoreError.failed("PATCH \(path): expected {entities, errors}")
            }
            if !result.errors.isEmpty {
                throw Stop.syncErrors(result.errors.map(ProcoreResponseShapes.describeSyncError).joined(separator: "\n"))
            }
            for entity in result.entities {
                if let origin = entity["origin_id"]?.stringValue, let id = ProcoreResponseShapes.id(of: entity) { learnt[origin] = id }
            }
            let missing = chunk.compactMap { $0["origin_id"]?.stringValue }.filter { learnt[$0] == nil }
            if !missing.isEmpty {
                throw ProcoreError.failed("PATCH \(path): no entity came back for \(missing.joined(separator: ", "))")
            }
        }
    }

    private func deliverMarkups(_ unit: Unit, holderPlaceholders: [String: String], ids: any IdBook, learnt: inout [String: String]) throws {
        var existing: [String: [JSONValue]] = [:]  // per holder query, listed at most once per round
        for markup in unit.markups {
            let query = markup.query.map { ($0.0, substitute($0.1, holderPlaceholders)) }
            if let unresolved = query.first(where: { $0.1.hasPrefix("{") }) {
                throw ProcoreUnitError(message: "markup \(markup.name): unknown placeholder \(unresolved.1)")
            }
            let key = "\(unit.originId):markup:\(markup.set):\(markup.name)"
            let listKey = query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
            var markupId: String? = markup.literalId ?? ids.id(for: key)
            if let known = markupId {
                if try patch("/rest/v1.0/financials/markups/\(known)", query: query, body: markup.body, ledgerId: markup.literalId == nil) == nil {
                    markupId = nil
                }
            }
            if markupId == nil {
                let result = try findOrCreate(
                    what: "markup \(markup.set)/\(markup.name) of \(unit.originId)",
                    find: {
                        if existing[listKey] == nil {
                            let response = try client.send(method: "GET", path: "/rest/v1.0/financials/markups", query: query)
                            existing[listKey] = response.json.flatMap(ProcoreResponseShapes.listItems) ?? []
                        }
                        let found = existing[listKey]?.first { $0["markup_set"]?.stringValue == markup.set && $0["name"]?.stringValue == markup.name }
                        if found == nil { existing[listKey] = nil }  // after an unknown create, list again
                        return found.flatMap(ProcoreResponseShapes.id(of:))
                    },
                    create: { try client.send(method: "POST", path: "/rest/v1.0/financials/markups", query: query, body: markup.body).json })
                markupId = result.id
                if result.created == nil {
                    _ = try client.send(method: "PATCH", path: "/rest/v1.0/financials/markups/\(result.id)", query: query, body: markup.body)
                }
            }
            if let markupId { learnt[key] = markupId }
        }
    }

    // MARK: - Dry run

    /// The calls `deliver` would make, given only what the IdBook knows (lookups that would
    /// decide between PATCH and POST are listed, followed by the POST). Nothing is sent.
    public func dryRun(_ unit: JSONValue, ids: any IdBook) throws(ProcoreUnitError) -> [ProcorePlannedCall] {
        let parsed = try Unit(unit)
        var calls: [ProcorePlannedCall] = []
        func plan(_ method: String, _ path: String, _ query: [(String, String)], _ body: JSONValue?) {
            let queryText = query.isEmpty ? "" : "?" + query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
            var bytes: [UInt8] = []
            if let body { JSONWriter.write(body, into: &bytes) }
            calls.append(ProcorePlannedCall(method: method, path: path + queryText, bodySHA256: body == nil ? nil : SHA256.hex(bytes)))
        }
        var placeholders: [String: String] = [:]
        let project = parsed.projectId
        let linesPath: String
        switch parsed.kind {
        case .primeContract:
            let contract = parsed.header.literalId ?? ids.id(for: parsed.originId)
            if let contract {
                plan("PATCH", "/rest/v1.0/prime_contract/\(contract)", parsed.header.query, parsed.header.body)
                placeholders["{prime_contract_id}"] = contract
            } else {
                plan("GET", "/rest/v1.0/prime_contracts", [("project_id", project)], nil)
                plan("POST", "/rest/v1.0/prime_contract", parsed.header.query, parsed.header.body)
            }
            linesPath = "/rest/v1.0/prime_contracts/\(placeholders["{prime_contract_id}"] ?? "{prime_contract_id}")/line_items/sync"
        case .changeOrder:
            if let value = parsed.header.body["change_order"]?["contract_id"], case .number(let text) = value {
                placeholders["{prime_contract_id}"] = text
            } else if let origin = parsed.contractOriginId, let known = ids.id(for: origin) {
                placeholders["{prime_contract_id}"] = known
            } else {
                plan("GET", "/rest/v1.0/prime_contracts", [("project_id", project)], nil)
            }
            let body = parsed.header.body.substituting(placeholders)
            let collection = "/rest/v1.0/projects/\(project)/prime_change_orders"
            if let order = parsed.header.literalId ?? ids.id(for: parsed.originId) {
                plan("PATCH", "\(collection)/\(order)", parsed.header.query, body)
                placeholders["{prime_change_order_id}"] = order
            } else {
                plan("GET", collection, [("filters[contract_id]", placeholders["{prime_contract_id}"] ?? "{prime_contract_id}")], nil)
                plan("POST", collection, parsed.header.query, body)
            }
            if let pco = ids.id(for: parsed.originId + ":pco") { placeholders["{potential_change_order_id}"] = pco }
            linesPath = "/rest/v1.0/potential_change_orders/\(placeholders["{potential_change_order_id}"] ?? "{potential_change_order_id}")/line_items/sync"
        }
        let lines = parsed.lines.map { $0.substituting(placeholders) }
        var start = 0
        while start < lines.count {
            let chunk = Array(lines[start..<min(start + syncChunkSize, lines.count)])
            start += chunk.count
            plan("PATCH", linesPath, [("project_id", project)], .object(["updates": .array(chunk)]))
        }
        var listed: Set<String> = []
        for markup in parsed.markups {
            let query = markup.query.map { ($0.0, substitute($0.1, placeholders)) }
            if let known = markup.literalId ?? ids.id(for: "\(parsed.originId):markup:\(markup.set):\(markup.name)") {
                plan("PATCH", "/rest/v1.0/financials/markups/\(known)", query, markup.body)
            } else {
                let listKey = query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
                if listed.insert(listKey).inserted { plan("GET", "/rest/v1.0/financials/markups", query, nil) }
                plan("POST", "/rest/v1.0/financials/markups", query, markup.body)
            }
        }
        return calls
    }
}

// MARK: - The unit as written by sov-emit

private func substitute(_ text: String, _ placeholders: [String: String]) -> String {
    placeholders[text] ?? text
}

private extension JSONValue {
    /// Strings that are exactly a known {placeholder} become the (integer) id.
    func substituting(_ placeholders: [String: String]) -> JSONValue {
        switch self {
        case .string(let text): placeholders[text].map(JSONValue.number) ?? self
        case .array(let values): .array(values.map { $0.substituting(placeholders) })
        case .object(let members): .object(members.map { JSONMember($0.key, $0.value.substituting(placeholders)) })
        default: self
        }
    }
}

private struct Unit {
    enum Kind { case primeContract, changeOrder }

    struct Header {
        var query: [(String, String)]
        var body: JSONValue
        /// An id written literally in a PATCH path (instead of a placeholder).
        var literalId: String?
    }

    struct Markup {
        var set: String
        var name: String
        var query: [(String, String)]
        var body: JSONValue
        var literalId: String?
    }

    var kind: Kind
    var originId: String
    var projectId: String
    var contractOriginId: String?
    var header: Header
    /// Sync items: each line request's `line_item` object (keyed by its origin_id).
    var lines: [JSONValue] = []
    var markups: [Markup] = []

    init(_ unit: JSONValue) throws(ProcoreUnitError) {
        guard let kindText = unit["kind"]?.stringValue else { throw ProcoreUnitError(message: "no kind") }
        switch kindText {
        case "prime_contract": kind = .primeContract
        case "change_order": kind = .changeOrder
        default: throw ProcoreUnitError(message: "unknown kind \(kindText)")
        }
        guard let origin = unit["origin_id"]?.stringValue, !origin.isEmpty else { throw ProcoreUnitError(message: "no origin_id") }
        originId = origin
        guard let project = unit["project_id"]?.scalarText, !project.isEmpty, project.allSatisfy(\.isNumber) else {
            throw ProcoreUnitError(message: "no integer project_id")
        }
        projectId = project
        contractOriginId = unit["contract_origin_id"]?.stringValue
        guard let requests = unit["requests"]?.arrayValue, let first = requests.first else { throw ProcoreUnitError(message: "no requests") }

        let headerPath = kind == .primeContract ? "/rest/v1.0/prime_contract" : "/rest/v1.0/projects/\(project)/prime_change_orders"
        let (method, path, query, body) = try Self.parts(first)
        var literalId: String?
        if method == "POST", path == headerPath {
            literalId = nil
        } else if method == "PATCH", path.hasPrefix(headerPath + "/") {
            let last = String(path.dropFirst(headerPath.count + 1))
            literalId = last.allSatisfy(\.isNumber) && !last.isEmpty ? last : nil
        } else {
            throw ProcoreUnitError(message: "first request \(method) \(path) is not the \(kindText) itself")
        }
        header = Header(query: query, body: body, literalId: literalId)

        for request in requests.dropFirst() {
            let (method, path, query, body) = try Self.parts(request)
            if let line = body["line_item"], line.members != nil {
                var item = line
                if item["origin_id"]?.stringValue == nil {
                    // Without an origin_id a sync can only match by a literal id in the path.
                    guard method == "PATCH", let last = path.split(separator: "/").last, last.allSatisfy(\.isNumber) else {
                        throw ProcoreUnitError(message: "\(method) \(path): a line without origin_id cannot be synced")
                    }
                    item = item.setting("id", to: .number(String(last)))
                }
                lines.append(item)
            } else if let markup = body["markup"], let set = markup["markup_set"]?.stringValue, let name = markup["name"]?.stringValue {
                let last = path.split(separator: "/").last.map(String.init) ?? ""
                markups.append(Markup(set: set, name: name, query: query, body: body,
                                      literalId: method == "PATCH" && last.allSatisfy(\.isNumber) && !last.isEmpty ? last : nil))
            } else {
                throw ProcoreUnitError(message: "unsupported request \(method) \(path)")
            }
        }
    }

    static func parts(_ request: JSONValue) throws(ProcoreUnitError) -> (String, String, [(String, String)], JSONValue) {
        guard let method = request["method"]?.stringValue, let path = request["path"]?.stringValue, let body = request["body"] else {
            throw ProcoreUnitError(message: "a request is {method, path, query, body}")
        }
        var query: [(String, String)] = []
        for member in request["query"]?.members ?? [] {
            guard let text = member.value.scalarText else { throw ProcoreUnitError(message: "\(path): query \(member.key) is not text") }
            query.append((member.key, text))
        }
        return (method.uppercased(), path, query, body)
    }
}
