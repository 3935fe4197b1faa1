import SOVCore

extension ProcorePlaceholder {
    /// In an update: the prime change order the earlier import created, found by its number on
    /// the prime contract.
    public static let primeChangeOrderId = "{prime_change_order_id}"
    /// In an update: the line item the earlier import created, found by the `origin_id` in the
    /// request's body.
    public static let lineItemId = "{line_item_id}"
    /// In an update: the markup the earlier import created, found by its `name` and `markup_set`
    /// on the same holder.
    public static let markupId = "{markup_id}"
}

/// A document exported before and changed since: the calls that bring what the earlier import
/// created up to date, instead of creating it a second time. Built by comparing the create
/// calls of both versions, request by request:
///
/// - the contract or change order itself: `PATCH` on it, always (so an update is never empty);
/// - a line item or markup that is new: the same `POST` as a create;
/// - one whose body changed: `PATCH` on it with the new body;
/// - one that is gone: `PATCH` to zero (line `amount` "0.00", markup `percentage` "0"), never a
///   delete: Procore refuses to delete a billed SOV line, and a zero keeps its history;
/// - one that did not change: no call.
///
/// Every `PATCH` body has the shape of the create body for the same collection (Procore's update
/// takes the create fields), so the schema check applies to it as well.
public enum ProcoreUpdatePlan {
    public static func makeUpdate(
        for document: CanonicalDocument, previous: CanonicalDocument,
        options: ProcoreImportOptions = ProcoreImportOptions(), projectLookup: ProcoreProjectLookup? = nil
    ) -> ProcoreImportOutcome {
        let current: ProcoreImport
        switch ProcoreImportWriter.makeImport(for: document, options: options, projectLookup: projectLookup) {
        case .rejected(let diagnostics): return .rejected(diagnostics)
        case .written(let made): current = made
        }
        // The earlier version may no longer be writable (its mapping changed, say): then nothing
        // is known to be unchanged, and every child is updated in place by its key. Never a
        // create: that would duplicate what the earlier import made.
        let earlier: ProcoreImport?
        if case .written(let made) = ProcoreImportWriter.makeImport(for: previous, options: options, projectLookup: projectLookup) {
            earlier = made
        } else {
            earlier = nil
        }
        return .written(plan(current, earlier: earlier))
    }

    static func plan(_ current: ProcoreImport, earlier: ProcoreImport?) -> ProcoreImport {
        guard let header = current.requests.first else { return current }
        var requests = [ProcoreRequest(method: "PATCH", path: updatePath(ofCreate: header.path, kind: current.kind), query: header.query, body: header.body)]

        var before: [String: ProcoreRequest] = [:]
        var beforeOrder: [String] = []
        for request in earlier?.requests.dropFirst() ?? [] {
            guard let key = childKey(request), before[key] == nil else { continue }
            before[key] = request
            beforeOrder.append(key)
        }
        var seen: Set<String> = []
        for request in current.requests.dropFirst() {
            guard let key = childKey(request) else {
                requests.append(request)
                continue
            }
            seen.insert(key)
            if let old = before[key] {
                if old != request { requests.append(patch(request)) }
            } else if earlier == nil {
                requests.append(patch(request))
            } else {
                requests.append(request)
            }
        }
        for key in beforeOrder where !seen.contains(key) {
            if let old = before[key], let zeroed = zeroed(old) { requests.append(patch(zeroed)) }
        }
        var update = current
        update.requests = requests
        return update
    }

    /// The create of a child (line item, markup) made into an update of the same object.
    static func patch(_ create: ProcoreRequest) -> ProcoreRequest {
        let placeholder = isMarkup(create) ? ProcorePlaceholder.markupId : ProcorePlaceholder.lineItemId
        return ProcoreRequest(method: "PATCH", path: create.path + "/" + placeholder, query: create.query, body: create.body)
    }

    static func updatePath(ofCreate path: String, kind: String) -> String {
        path + "/" + (kind == "prime_contract" ? ProcorePlaceholder.primeContractId : ProcorePlaceholder.primeChangeOrderId)
    }

    /// What identifies a child across versions: a line item's origin id, a markup's set and name.
    static func childKey(_ request: ProcoreRequest) -> String? {
        if let originId = request.body["line_item"]?["origin_id"]?.stringValue { return "line:" + originId }
        if let markup = request.body["markup"], let name = markup["name"]?.stringValue, let set = markup["markup_set"]?.stringValue {
            return "markup:\(set):\(name)"
        }
        return nil
    }

    static func isMarkup(_ request: ProcoreRequest) -> Bool { request.body["markup"] != nil }

    /// A child that is gone, as an update that sets its amount (or percentage) to zero.
    static func zeroed(_ create: ProcoreRequest) -> ProcoreRequest? {
        let (member, field, zero) = isMarkup(create) ? ("markup", "percentage", "0") : ("line_item", "amount", "0.00")
        guard case .object(let members) = create.body else { return nil }
        var request = create
        request.body = .object(members.map { outer in
            guard outer.key == member, case .object(let inner) = outer.value else { return outer }
            return JSONMember(outer.key, .object(inner.map { $0.key == field ? JSONMember(field, .string(zero)) : $0 }))
        })
        return request
    }
}
