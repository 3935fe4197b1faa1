import SOVCore

/// The REST change order package (`GET /rest/v1.0/change_order_packages/{id}`), with its markups
/// (the shape of `GET /rest/v1.0/financials/markups`) in the document or given separately. Here a
/// line's `amount` is the line *before* markup (else `total_amount`): the opposite of the event.
enum ProcorePackageShape {
    static let primeTypes: Set<String> = ["PrimeContractChangeOrder", "ChangeOrderPackage"]

    /// A line before markup, with its shares of the markups (`markup_line_items`).
    private typealias PackageLine = (line: ChangeOrderLine, shares: [ProcoreObject])

    static func changeOrder(document: ProcoreObject, markupList: JSONValue?) -> ChangeOrder? {
        let problems = document.problems
        let currency = ProcoreCurrency.of(document)
        if let type = document.text("type"), !primeTypes.contains(type) {
            document.problem("type", .FMT010, "not a prime contract change order (type \(type))", value: type)
        }
        let project = document.object("project")
        let projectId = project?.id("id") ?? document.id("project_id")
        let contractId = document.id("contract_id")
        // Lines first: a markup may name a prime line item by id, which the lines map to billing items.
        var (lines, billingItemById) = packageLines(document, currency)
        let markups = MarkupCollector(problems: problems, location: document.location)
        collectMarkups(document, markupList, projectId: projectId, contractId: contractId, into: markups, lines: &lines, billingItemById: billingItemById, currency)

        let originObject = document.object("origin")
        let number = document.requireText("number", "change order number")
        let status = document.text("status").map(ProcoreStatus.normalised)
        let origin = Origin(
            system: .procore, company: originObject?.code("company"),
            job: originObject?.code("job") ?? project?.code("origin_code"),
            customer: originObject?.code("customer"), number: number)
        let date = document.date("date") ?? document.date("change_order_date")
        let approvedDate = document.date("approved_date") ?? document.date("approved_on")
        let dueDate = document.date("due_date")
        let executed = document.bool("executed")
        let scheduleImpact = document.int("schedule_impact_amount")
        let title = document.text("title")
        let description = document.text("description")
        let link = ProcoreLink(projectId: projectId, primeContractId: contractId, changeOrderId: document.id("id"))
        let canonicalMarkups = markups.markups()
        guard let number, problems.isEmpty else { return nil }
        return ChangeOrder(
            origin: origin, source: document.location, number: number, title: title, description: description,
            status: status, approved: status == "approved", date: date, approvedDate: approvedDate, dueDate: dueDate,
            scheduleImpactDays: scheduleImpact, executed: executed, contract: origin.contractKey, currency: currency,
            lines: lines.map(\.line), markups: canonicalMarkups, procore: link)
    }

    /// The package's lines, and the billing item of each prime line item they name by id.
    private static func packageLines(_ document: ProcoreObject, _ currency: Currency) -> ([PackageLine], [String: String]) {
        var billingItemById: [String: String] = [:]
        var lines: [PackageLine] = []
        if !document.has("line_items") {
            document.problem("line_items", .FMT004, "missing \"line_items\" (the change order's lines)")
        }
        for item in document.objects("line_items") ?? [] {
            let amount = item.money("amount", currency) ?? item.money("total_amount", currency)
            if amount == nil, !item.has("amount"), !item.has("total_amount") {
                item.problem("amount", .FMT004, "missing the line amount before markup (\"amount\" or \"total_amount\")")
            }
            var lineId: String?
            var billingItem: String?
            if let primeItem = item.object("prime_contract_line_item") {
                lineId = primeItem.id("id")
                billingItem = primeItem.code("billing_item_code") ?? primeItem.code("origin_id").map(billingItemCode(fromOriginId:))
                if let lineId, let billingItem { billingItemById[lineId] = billingItem }
            }
            let shares = item.objects("markup_line_items") ?? []
            guard let amount else { continue }
            lines.append((ChangeOrderLine(
                description: item.text("description"), amount: amount,
                associatedLine: billingItem, associatedLineId: lineId,
                costCode: costCode(item), costType: item.object("line_item_type")?.code("code")), shares))
        }
        return (lines, billingItemById)
    }

    /// The markup definitions into `markups`, and each line's share of them onto the line.
    /// Definitions come from the markups list when there is one; the copies inside each line's
    /// `markup_line_items` lack the compounding, so they only serve when there is no list.
    private static func collectMarkups(
        _ document: ProcoreObject, _ markupList: JSONValue?, projectId: String?, contractId: String?,
        into markups: MarkupCollector, lines: inout [PackageLine], billingItemById: [String: String], _ currency: Currency
    ) {
        let list = markupDefinitions(document, markupList)
        for definition in list ?? [] where belongs(definition, projectId: projectId, contractId: contractId) {
            markups.add(definition) { billingItemById[$0] }
        }
        for index in lines.indices {
            for share in lines[index].shares {
                let amount = share.money("amount", currency)
                if !share.has("amount") { share.problem("amount", .FMT004, "missing the markup amount of this line") }
                guard let definition = share.object("markup") else {
                    if !share.has("markup") { share.problem("markup", .FMT004, "missing the markup this amount belongs to") }
                    continue
                }
                let name: String?
                if list != nil {
                    name = markups.knownName(id: definition.code("id"), name: definition.text("name"))
                    if name == nil {
                        definition.problem("", .FMT004, "this share's markup is not in the markups list of the change order", value: definition.code("id") ?? definition.text("name"))
                    }
                } else {
                    name = markups.add(definition) { billingItemById[$0] }
                }
                if let name, let amount { lines[index].line.procoreMarkup.append(MarkupAmount(name: name, amount: amount)) }
            }
        }
    }

    /// The document's own `markups`, else those given with `--procore-markups`; nil when there are neither.
    private static func markupDefinitions(_ document: ProcoreObject, _ markupList: JSONValue?) -> [ProcoreObject]? {
        if document.has("markups") { return document.objects("markups") ?? [] }
        guard let markupList else { return nil }
        let holder = ProcoreObject(value: .object([JSONMember("--markups", markupList)]), path: "", location: document.location, problems: document.problems)
        return holder.objects("--markups") ?? []
    }

    /// A markups file may list markups of several contracts or projects: keep those that are this
    /// change order's, or that say nothing about where they belong.
    private static func belongs(_ markup: ProcoreObject, projectId: String?, contractId: String?) -> Bool {
        if let project = markup.value["project_id"]?.scalarText, let projectId, project != projectId { return false }
        if markup.value["holder_type"]?.stringValue == "Contract", let holder = markup.value["holder_id"]?.scalarText,
            let contractId, holder != contractId
        {
            return false
        }
        return true
    }

    /// `cost_code` is an object (`full_code`, else `code`) or, in some exports, the code itself.
    private static func costCode(_ item: ProcoreObject) -> String? {
        if case .string(let text)? = item.raw("cost_code") { return text }
        guard let code = item.object("cost_code") else { return nil }
        return code.code("full_code") ?? code.code("code")
    }

    /// A prime line item's `origin_id`: ours is `spectrum:<company>:<job>:<customer>:<billing item>`
    /// (what `sov-emit --to procore` writes); any other origin id is taken as the billing item.
    static func billingItemCode(fromOriginId id: String) -> String {
        if id.hasPrefix("spectrum:") {
            let parts = id.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false)
            if parts.count == 5 { return String(parts[4]) }
        }
        return id
    }
}
