import SOVBatch
import SOVCore

/// What Procore holds per prime contract, by the ledger: the contract's original amount, the
/// change orders delivered, those still waiting, and the revised amount.
public struct ContractTotals: Sendable {
    public var originId: String
    public var title: String
    public var original: Money?
    public var approved: Money = .zero()
    public var approvedCount = 0
    public var waiting: Money = .zero()
    public var waitingCount = 0
    public var contractDelivered = false

    public var revised: Money? { original.map { $0 + approved } }

    /// Every Procore prime contract the ledger knows, with its change orders.
    static func collect(_ ledger: Ledger) throws -> [ContractTotals] {
        var byKey: [String: ContractTotals] = [:]
        var latest: [String: OutboxUnit] = [:]
        for unit in try ledger.units() where unit.target == .procore && unit.state != .superseded {
            // Units come in sequence order. The newest delivered version is what Procore holds;
            // a newer one still pending waits (it does not replace a delivered one here).
            if unit.state == .delivered || latest[unit.originId]?.state != .delivered { latest[unit.originId] = unit }
        }
        for unit in latest.values.sorted(by: { $0.seq < $1.seq }) {
            guard let text = try ledger.unitDocument(seq: unit.seq), let document = try? JSONParser.parse(text) else { continue }
            let key = unit.kind == "prime_contract" ? unit.originId : (unit.contractOriginId ?? contractOrigin(document))
            guard let key else { continue }
            var totals = byKey[key] ?? ContractTotals(originId: key, title: key)
            if unit.kind == "prime_contract" {
                totals.title = document["title"]?.stringValue ?? document["number"]?.stringValue ?? key
                totals.original = document["original_amount"]?.stringValue.flatMap { try? Money.parse($0) }
                totals.contractDelivered = unit.state == .delivered
            } else if let total = document["computed"]?["grand_total"]?.stringValue.flatMap({ try? Money.parse($0) }) {
                if unit.state == .delivered {
                    totals.approved = totals.approved + total
                    totals.approvedCount += 1
                } else {
                    totals.waiting = totals.waiting + total
                    totals.waitingCount += 1
                }
            }
            byKey[key] = totals
        }
        return byKey.values.sorted { $0.originId < $1.originId }
    }

    private static func contractOrigin(_ document: JSONValue) -> String? {
        guard let contract = document["contract"], let company = contract["company"]?.stringValue,
            let job = contract["job"]?.stringValue, let customer = contract["customer"]?.stringValue
        else { return nil }
        return ContractKey(company: company, job: job, customer: customer).originId
    }
}

/// The push report: one self-contained HTML page. Exceptions first (refused, failed, waiting),
/// then what was delivered with the ids the target returned, then the totals per contract.
public enum PushReport {
    public static func html(_ result: PushResult, ledgerPath: String, totals: [ContractTotals] = []) -> String {
        var page = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>SOVBridge push</title><style>\(style)</style></head><body>\n"
        page += "<h1>SOVBridge push</h1><dl>"
        page += "<div><dt>Ledger</dt><dd>\(escape(ledgerPath))</dd></div>"
        page += "<div><dt>Started</dt><dd>\(escape(result.startedAt))</dd></div><div><dt>Ended</dt><dd>\(escape(result.endedAt))</dd></div>"
        page += "<div><dt>Exit status</dt><dd>\(result.status.rawValue)</dd></div></dl>\n"
        if let fatal = result.fatal { page += "<p class=\"fatal\">Stopped: \(escape(fatal))</p>\n" }
        page += "<section class=\"cards\">"
        for (label, kind) in [("delivered", UnitDelivery.Result.delivered), ("refused", .refused), ("failed", .failed), ("waiting", .waiting)] {
            page += "<div class=\"card \(label)\"><span class=\"number\">\(result.count(kind))</span><span class=\"label\">\(label)</span></div>"
        }
        page += "</section>\n"

        let exceptions = result.deliveries.filter { $0.result != .delivered }
        if !exceptions.isEmpty {
            page += "<section><h2>Not delivered</h2><table><thead><tr><th>Unit</th><th>Target</th><th>Document</th><th>State</th><th>Why</th></tr></thead><tbody>"
            for delivery in exceptions {
                page += "<tr class=\"\(delivery.result.rawValue)\"><td class=\"path\">\(escape(delivery.unit.fileName))</td><td>\(delivery.unit.target.rawValue)</td>"
                page += "<td>\(escape(delivery.unit.originId))</td><td>\(delivery.result.rawValue)</td><td>\(escape(delivery.message ?? ""))</td></tr>"
            }
            page += "</tbody></table></section>\n"
        }
        let delivered = result.deliveries.filter { $0.result == .delivered }
        if !delivered.isEmpty {
            page += "<section><h2>Delivered</h2><table><thead><tr><th>Unit</th><th>Target</th><th>Document</th><th>Action</th><th>Ids</th></tr></thead><tbody>"
            for delivery in delivered {
                let ids = delivery.ids.sorted { $0.key < $1.key }.map { "\(escape($0.key)) = \(escape($0.value))" }.joined(separator: "<br>")
                page += "<tr><td class=\"path\">\(escape(delivery.unit.fileName))</td><td>\(delivery.unit.target.rawValue)</td>"
                page += "<td>\(escape(delivery.unit.originId))</td><td>\(delivery.unit.action.rawValue)</td><td class=\"ids\">\(ids)</td></tr>"
            }
            page += "</tbody></table></section>\n"
        }
        if !totals.isEmpty {
            page += "<section><h2>Prime contracts in Procore</h2><table><thead><tr><th>Contract</th><th class=\"num\">Original</th><th class=\"num\">Approved change orders</th><th class=\"num\">Revised</th><th class=\"num\">Not delivered yet</th></tr></thead><tbody>"
            for total in totals {
                let original = total.original.map { $0.description } ?? "-"
                let revised = total.revised.map { $0.description } ?? "-"
                page += "<tr><td>\(escape(total.title))<div class=\"id\">\(escape(total.originId))\(total.contractDelivered ? "" : " (contract not delivered yet)")</div></td>"
                page += "<td class=\"num\">\(original)</td><td class=\"num\">\(total.approved.description) (\(total.approvedCount))</td>"
                page += "<td class=\"num\">\(revised)</td><td class=\"num\">\(total.waiting.description) (\(total.waitingCount))</td></tr>"
            }
            page += "</tbody></table></section>\n"
        }
        page += "</body></html>\n"
        return page
    }

    /// One HTML escaping for both reports.
    static func escape(_ text: String) -> String { RunReport.escape(text) }

    static let style = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #101828; }
        dl { display: flex; gap: 2em; } dt { color: #667085; font-size: 12px; } dd { margin: 0; }
        .cards { display: flex; gap: 1em; margin: 1em 0; } .card { border: 1px solid #eaecf0; border-radius: 8px; padding: .6em 1em; }
        .card .number { font-size: 24px; display: block; } .card.refused .number, .card.failed .number { color: #b42318; }
        .card.waiting .number { color: #b54708; } .card.delivered .number { color: #067647; }
        table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #eaecf0; padding: .3em .5em; text-align: left; vertical-align: top; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; } .path, .ids, .id { font-family: ui-monospace, monospace; font-size: 12px; }
        tr.refused td, tr.failed td { background: #fef3f2; } tr.waiting td { background: #fffaeb; } .fatal { color: #b42318; font-weight: 600; }
        """
}
