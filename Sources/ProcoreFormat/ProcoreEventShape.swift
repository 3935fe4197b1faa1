import SOVCore

/// The ERP export event Procore sends an integrator when an accounting approver accepts a prime
/// contract change order for export (`create_prime_contract_change_order`), as docs/FORMATS.md, "ERP export event" describes
/// its `request_data`. In this shape an item's `amount` is the line *with* its markup; the line
/// before markup is `total_amount` (else `extended_amount`).
enum ProcoreEventShape {
    static let requestType = "create_prime_contract_change_order"

    /// `data` is the event's `request_data` (or the whole document when it is given bare);
    /// `envelope` is the whole event when there is one.
    static func changeOrder(data: ProcoreObject, envelope: ProcoreObject?) -> ChangeOrder? {
        let problems = data.problems
        let project = data.object("project")
        let primeContract = data.object("prime_contract")
        guard let order = data.object("prime_contract_change_order") else {
            if !data.has("prime_contract_change_order") {
                data.problem("prime_contract_change_order", .FMT004, "missing \"\(data.fieldPath("prime_contract_change_order"))\"")
            }
            return nil
        }
        let currency = ProcoreCurrency.of(order)

        // Procore's prime line item id -> the Spectrum billing item it was created from.
        var billingItemById: [String: String] = [:]
        for item in data.objects("prime_contract_items") ?? [] {
            if let id = item.id("id"), let code = item.code("origin_code") { billingItemById[id] = code }
        }

        let markups = MarkupCollector(problems: problems, location: data.location)
        let items = data.objects("prime_contract_change_order_items") ?? order.objects("prime_contract_change_order_items") ?? []
        var lines: [ChangeOrderLine] = []
        // For the ERP loop: Procore's ids of the lines and markups, written back with the
        // Spectrum keys once the change request is in Spectrum.
        var lineIds: [String?] = []
        var markupIds: [String: String] = [:]
        for item in items {
            let amount = item.money("total_amount", currency) ?? item.money("extended_amount", currency)
            if amount == nil, !item.has("total_amount"), !item.has("extended_amount") {
                item.problem("total_amount", .FMT004, "missing the line amount before markup (\"total_amount\" or \"extended_amount\")")
            }
            var shares: [MarkupAmount] = []
            for share in item.objects("markup_line_items") ?? [] {
                let shareAmount = share.money("amount", currency)
                if !share.has("amount") { share.problem("amount", .FMT004, "missing the markup amount of this line") }
                var name: String?
                if let definition = share.object("markup") {
                    name = markups.add(definition) { billingItemById[$0] }
                    if let name, let id = definition.id("id") { markupIds[name] = id }
                } else if !share.has("markup") {
                    share.problem("markup", .FMT004, "missing the markup this amount belongs to")
                }
                if let name, let shareAmount { shares.append(MarkupAmount(name: name, amount: shareAmount)) }
            }
            let lineId = item.id("prime_line_item_id")
            let billingItem = item.code("prime_line_item_origin_code") ?? lineId.flatMap { billingItemById[$0] }
            guard let amount else { continue }
            lineIds.append(item.id("id"))
            lines.append(ChangeOrderLine(
                description: item.text("description"), amount: amount,
                associatedLine: billingItem, associatedLineId: lineId,
                costCode: item.object("cost_code")?.code("full_code"),
                costType: item.object("line_item_type")?.code("code"),
                procoreMarkup: shares))
        }
        if !data.has("prime_contract_change_order_items"), !order.has("prime_contract_change_order_items") {
            data.problem("prime_contract_change_order_items", .FMT004, "missing \"prime_contract_change_order_items\" (the change order's lines)")
        }

        let originObject = data.object("origin") ?? envelope?.object("origin")
        let number = order.requireText("number", "change order number")
        let status = order.text("status").map(ProcoreStatus.normalised)
        let origin = Origin(
            system: .procore, company: originObject?.code("company"),
            job: originObject?.code("job") ?? project?.code("origin_code"),
            customer: originObject?.code("customer"), number: number)
        let link = ProcoreLink(
            projectId: project?.id("id") ?? data.id("project_id") ?? envelope?.id("project_id"),
            primeContractId: order.id("contract_id") ?? primeContract?.id("id"),
            changeOrderId: order.id("id"))
        let date = order.object("erp_custom_fields")?.date("transaction_date")
        let approvedDate = order.date("approved_on")
        let dueDate = order.date("due_date")
        let executed = order.bool("executed")
        let scheduleImpact = order.int("schedule_impact_amount")
        let title = order.text("title")
        let description = order.text("description")
        let canonicalMarkups = markups.markups()
        let erp = ERPLink(
            requestId: envelope?.id("resource_id"), requestDetailId: data.id("request_detail_id") ?? envelope?.id("request_detail_id"),
            lineIds: lineIds, markupIds: markupIds)
        guard let number, problems.isEmpty else { return nil }
        return ChangeOrder(
            origin: origin, source: data.location, number: number, title: title, description: description,
            status: status, approved: status == "approved", date: date, approvedDate: approvedDate, dueDate: dueDate,
            scheduleImpactDays: scheduleImpact, executed: executed, contract: origin.contractKey, currency: currency,
            lines: lines, markups: canonicalMarkups, procore: link, erp: erp)
    }
}
