import SOVCore

/// An import the writer has checked and can write: what `sov-emit --to procore` writes for one
/// document, `{kind, origin_id, project_id, [contract_origin_id], requests}`, each request
/// `{method, path, query, body}`. Its JSON is described once (`encode(into:)`), as
/// `CanonicalDocument`'s is: written straight as bytes on the hot paths (`writeJSON(into:)`), or
/// built as a tree (`procoreImport`) where something looks inside (the update plan, tests).
public struct ProcoreImportDraft: Sendable {
    public let kind: String
    public let originId: String
    public let projectId: String
    /// Things the import cannot say to Procore, which did not stop it.
    public let warnings: [Diagnostic]
    /// See `ProcoreImport.contractOriginId`.
    public let contractOriginId: String?
    let content: Content

    enum Content: Sendable {
        case primeContract(PrimeContract, key: ContractKey, status: ProcorePrimeContractStatus)
        /// `markups` in the order their requests go (horizontal before vertical, by position),
        /// each with a percentage (the writer rejects the others).
        case changeOrder(ChangeOrder, contractOriginId: String, primeContractId: String?, markups: [Markup])
    }

    /// The file name for `--out DIR`, from the origin id.
    public var fileName: String { AtomicFile.safeFileName(originId) + ".json" }

    /// Appends the import's JSON to `buffer` (no tree in between). A prime contract's line item
    /// requests, nearly all of its bytes, are written by `ProcoreLineItemBytes`.
    public func writeJSON(into buffer: inout [UInt8]) {
        guard case .primeContract(let contract, let key, let status) = content else {
            JSONByteOutput.write(into: &buffer) { encode(into: &$0) }
            return
        }
        JSONByteOutput.write(into: &buffer) { output in
            encodeOpening(into: &output)
            Self.encodeContractRequest(contract, key: key, status: status, projectId: projectId, into: &output)
        }
        var lineItems = ProcoreLineItemBytes(path: Self.contractLinePath, projectId: projectId, contractOriginId: key.originId)
        // The line items go straight into a new array holding what `buffer` holds, sized for
        // them, the closing brackets and the caller's newline: an array has no room to write
        // into past its end, and copying them in from a buffer of their own cost more than
        // moving the few hundred bytes before them.
        let before = buffer
        buffer = [UInt8](unsafeUninitializedCapacity: before.count + lineItems.room(for: contract.lines) + 3) { out, count in
            let start = out.baseAddress!
            before.withUnsafeBufferPointer { before in
                if let base = before.baseAddress { start.initialize(from: base, count: before.count) }
            }
            var end = before.count
            end += lineItems.write(contract.lines, to: start + end)
            out[end] = UInt8(ascii: "]")
            out[end + 1] = UInt8(ascii: "}")
            count = end + 2
        }
    }

    public var json: JSONValue { JSONTreeOutput.build { encode(into: &$0) } }

    /// The import as a tree of requests, for code that compares or inspects bodies.
    public var procoreImport: ProcoreImport {
        let requests = json["requests"]?.arrayValue ?? []
        return ProcoreImport(
            kind: kind, originId: originId, projectId: projectId,
            requests: requests.map { request in
                ProcoreRequest(
                    method: request["method"]?.stringValue ?? "POST", path: request["path"]?.stringValue ?? "",
                    query: request["query"]?.members ?? [], body: request["body"] ?? .null)
            },
            warnings: warnings, contractOriginId: contractOriginId)
    }

    public func encode(into output: inout some JSONOutput) {
        encodeOpening(into: &output)
        switch content {
        case .primeContract(let contract, let key, let status):
            Self.encodeRequests(contract, key: key, status: status, projectId: projectId, into: &output)
        case .changeOrder(let order, let contractOriginId, let primeContractId, let markups):
            Self.encodeRequests(order, originId: originId, contractOriginId: contractOriginId, primeContractId: primeContractId, markups: markups, projectId: projectId, into: &output)
        }
        output.endArray()
        output.endObject()
    }

    /// The import up to its first request: `{kind, origin_id, project_id, [contract_origin_id], requests: [`.
    private func encodeOpening(into output: inout some JSONOutput) {
        output.beginObject()
        output.key("kind")
        output.string(kind)
        output.key("origin_id")
        output.string(originId)
        output.key("project_id")
        output.number(projectId)
        if let contractOriginId {
            output.key("contract_origin_id")
            output.string(contractOriginId)
        }
        output.key("requests")
        output.beginArray()
    }

    /// Keys written once per line item: quoted once here, copied as bytes (`JSONKey`), where a
    /// String key is checked for escapes and quoted on every write.
    private enum Keys {
        static let method = JSONKey("method")
        static let path = JSONKey("path")
        static let query = JSONKey("query")
        static let body = JSONKey("body")
        static let projectId = JSONKey("project_id")
        static let lineItem = JSONKey("line_item")
        static let amount = JSONKey("amount")
        static let description = JSONKey("description")
        static let originId = JSONKey("origin_id")
        static let originData = JSONKey("origin_data")
    }

    /// One request, `{method, path, query, body}`: `query` members (string values) or `{}`.
    static func request<Output: JSONOutput>(
        _ output: inout Output, method: String = "POST", path: String, query: [(String, String)] = [], body: (inout Output) -> Void
    ) {
        output.beginObject()
        output.key(Keys.method)
        output.string(method)
        output.key(Keys.path)
        output.string(path)
        output.key(Keys.query)
        output.beginObject()
        for (name, value) in query {
            output.key(name)
            output.string(value)
        }
        output.endObject()
        output.key(Keys.body)
        body(&output)
        output.endObject()
    }

    /// The body of a line item request, an SOV line's or a change order line's: one shape.
    private static func lineItem(_ output: inout some JSONOutput, projectId: String, amount: Money, description: String?, originId: String, originData: String?) {
        output.beginObject()
        output.key(Keys.projectId)
        output.number(projectId)
        output.key(Keys.lineItem)
        output.beginObject()
        output.key(Keys.amount)
        output.money(amount)
        if let description {
            output.key(Keys.description)
            output.string(description)
        }
        output.key(Keys.originId)
        output.string(originId)
        if let originData {
            output.key(Keys.originData)
            output.string(originData)
        }
        output.endObject()
        output.endObject()
    }

    /// Where an SOV line's line item is created, under the prime contract the first request creates.
    static let contractLinePath = "/rest/v1.0/prime_contracts/\(ProcorePlaceholder.primeContractId)/line_items"

    /// The requests of a prime contract: the contract, then a line item per SOV line (which
    /// `writeJSON` writes as `ProcoreLineItemBytes`: the same bytes).
    static func encodeRequests(_ contract: PrimeContract, key: ContractKey, status: ProcorePrimeContractStatus, projectId: String, into output: inout some JSONOutput) {
        encodeContractRequest(contract, key: key, status: status, projectId: projectId, into: &output)
        let originId = key.originId
        let lineOriginPrefix = originId + ":"
        // One buffer for every line's origin data, not an array of fields and one grown per line.
        var dataBytes: [UInt8] = []
        dataBytes.reserveCapacity(128)
        for line in contract.lines {
            // Procore's line item has one text field; the billing item code and the second
            // description line keep their Spectrum names here, readable by an integration.
            dataBytes.removeAll(keepingCapacity: true)
            OriginData.add("billing_item", line.code, to: &dataBytes)
            OriginData.add("additional_description", line.description == nil ? nil : line.additionalDescription, to: &dataBytes)
            OriginData.add("group_code", line.group, to: &dataBytes)
            let data = OriginData.text(of: dataBytes)
            request(&output, path: contractLinePath) { output in
                lineItem(&output, projectId: projectId, amount: line.amount, description: line.description ?? line.additionalDescription, originId: lineOriginPrefix + line.code, originData: data)
            }
        }
    }

    /// The request creating the prime contract.
    static func encodeContractRequest(_ contract: PrimeContract, key: ContractKey, status: ProcorePrimeContractStatus, projectId: String, into output: inout some JSONOutput) {
        let originId = key.originId
        request(&output, path: "/rest/v1.0/prime_contract") { output in
            output.beginObject()
            output.key("project_id")
            output.number(projectId)
            output.key("prime_contract")
            output.beginObject()
            output.key("number")
            output.string(contract.number)
            if let title = contract.title { output.key("title"); output.string(title) }
            if let description = contract.description { output.key("description"); output.string(description) }
            output.key("status")
            output.string(status.rawValue)
            output.key("executed")
            output.bool(status.isExecuted)
            if let date = contract.contractDate { output.key("contract_date"); output.string(date.iso) }
            if let date = contract.startDate { output.key("contract_start_date"); output.string(date.iso) }
            if let date = contract.estimatedCompletionDate { output.key("contract_estimated_completion_date"); output.string(date.iso) }
            if let date = contract.completionDate { output.key("actual_completion_date"); output.string(date.iso) }
            if let percent = contract.retainagePercent { output.key("retainage_percent"); output.string(percent.description) }
            output.key("accounting_method")
            output.string("amount")
            output.key("origin_id")
            output.string(originId)
            if let data = OriginData.text([
                ("customer_code", contract.customer.code), ("customer_name", contract.customer.name),
                ("owner_name", contract.ownerName), ("status_code", contract.status), ("price_method_code", contract.priceMethod),
            ]) {
                output.key("origin_data")
                output.string(data)
            }
            output.endObject()
            output.endObject()
        }
    }

    static func encodeRequests(
        _ order: ChangeOrder, originId: String, contractOriginId: String, primeContractId: String?, markups: [Markup], projectId: String,
        into output: inout some JSONOutput
    ) {
        request(&output, path: "/rest/v1.0/projects/\(projectId)/prime_change_orders") { output in
            output.beginObject()
            output.key("change_order")
            output.beginObject()
            // Without a mapped id the contract is the one SOVBridge creates from this job: its id
            // is known only once that create is delivered, and the delivery fills it in (keyed by
            // the contract's origin id, which the import names).
            output.key("contract_id")
            if let primeContractId { output.number(primeContractId) } else { output.string(ProcorePlaceholder.primeContractId) }
            output.key("number")
            output.string(order.number)
            if let title = order.title ?? order.description { output.key("title"); output.string(title) }
            if let description = order.description { output.key("description"); output.string(description) }
            output.key("status")
            output.string("approved")
            output.key("executed")
            output.bool(order.executed ?? true)
            if let due = order.dueDate { output.key("due_date"); output.string(due.iso) }
            // Spectrum's Approved_Date is the day the owner approved the change: in Procore, the day
            // the signed change order came back. (Change_Order_Date has no field in this body.)
            if let approved = order.approvedDate { output.key("signed_change_order_received_date"); output.string(approved.iso) }
            if let days = order.scheduleImpactDays { output.key("schedule_impact_amount"); output.integer(days) }
            output.endObject()
            output.endObject()
        }
        let linePath = "/rest/v1.0/potential_change_orders/\(ProcorePlaceholder.potentialChangeOrderId)/line_items"
        for (index, line) in order.lines.enumerated() {
            let data = ProcoreImportWriter.changeOrderLineData(line, contractOriginId: contractOriginId)
            request(&output, path: linePath) { output in
                lineItem(&output, projectId: projectId, amount: line.amount, description: line.description ?? line.additionalDescription, originId: "\(originId):line:\(index + 1)", originData: data)
            }
        }
        let query = [("project_id", projectId), ("holder_type", "PotentialChangeOrder"), ("holder_id", ProcorePlaceholder.potentialChangeOrderId)]
        for markup in markups {
            request(&output, path: "/rest/v1.0/financials/markups", query: query) { output in
                output.beginObject()
                output.key("markup")
                output.beginObject()
                output.key("markup_set")
                output.string(markup.set.rawValue)
                output.key("name")
                output.string(markup.name)
                output.key("percentage")
                output.string(markup.percent?.description ?? "0")
                output.key("position")
                output.integer(markup.position)
                if case .above = markup.compound {
                    output.key("compound")
                    output.beginObject()
                    output.key("type")
                    output.string("above")
                    output.endObject()
                }
                output.endObject()
                output.endObject()
            }
        }
    }
}
