import SOVCore

/// The run report (`--report FILE`): one self-contained HTML page (inline CSS and one inline
/// script, no external assets) that an accountant or a project manager opens after a nightly run.
/// Exceptions come first (rejects, held documents, unusable inputs, warnings), then a summary
/// per contract that puts Spectrum's figure beside what is in Procore and says why they differ,
/// then the detail. Every piece of data is escaped; nothing from an input can become markup.
/// The page works without its script; the script adds the filter box and local times. Sections
/// are laid out only when scrolled to (`content-visibility`), so a run of thousands of documents
/// opens as fast as a small one.
/// `csvTables` gives the same tables as CSV (`--report-csv DIR`).
public enum RunReport {
    /// One page for one or more runs (the drop folder reports every file of a pass together).
    public static func html(_ runs: [RunResult], generatedAt: String = Timestamp.now()) -> String {
        var page = Page()
        let model = Model(runs)
        let dryRun = runs.contains(where: \.dryRun)
        let runIds = runs.compactMap(\.runId)
        let title = "SOVBridge run report" + (runIds.count == 1 ? " — run \(runIds[0])" : "")

        page.add("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        page.add("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        page.add("<title>\(escape(title))</title>\n<style>\(css)</style>\n</head>\n<body>\n<main>\n")

        // Header
        let status = runs.map(\.status).reduce(ExitStatus.ok) { $0.worst($1) }
        page.add("<header><h1>SOVBridge run report</h1>")
        page.add("<p class=\"status status-\(status == .ok ? "ok" : (status == .someRejected ? "warn" : "bad"))\">\(escape(describe(status)))</p>")
        page.add("<dl class=\"meta\">")
        if !runIds.isEmpty { page.add("<div><dt>Run\(runIds.count == 1 ? "" : "s")</dt><dd>\(escape(runIds.map(String.init).joined(separator: ", ")))</dd></div>") }
        if let mode = runs.first?.mode { page.add("<div><dt>Command</dt><dd>sov-\(escape(mode))\(dryRun ? " (dry run)" : "")</dd></div>") }
        if let start = runs.map(\.startedAt).filter({ !$0.isEmpty }).min() { page.add("<div><dt>Started</dt><dd>\(time(start))</dd></div>") }
        if let end = runs.map(\.endedAt).filter({ !$0.isEmpty }).max() { page.add("<div><dt>Ended</dt><dd>\(time(end))</dd></div>") }
        page.add("<div><dt>Exit status</dt><dd>\(status.rawValue)</dd></div>")
        page.add("</dl></header>\n")

        // Counts
        var counts = RunCounts()
        for run in runs {
            let c = run.counts
            counts.inputs += c.inputs
            counts.failedInputs += c.failedInputs
            counts.documentsIn += c.documentsIn
            counts.exported += c.exported
            counts.updated += c.updated
            counts.unchanged += c.unchanged
            counts.rejected += c.rejected
            counts.held += c.held
        }
        page.add("<section class=\"cards\">")
        for (label, value, style) in [
            ("inputs", counts.inputs, ""), ("documents", counts.documentsIn, ""),
            (dryRun ? "would export" : "exported", counts.exported, "exported"), (dryRun ? "would update" : "updated", counts.updated, "updated"),
            ("unchanged", counts.unchanged, "unchanged"), ("rejected", counts.rejected, counts.rejected > 0 ? "rejected" : ""),
            ("held", counts.held, counts.held > 0 ? "held" : ""),
            ("unusable inputs", counts.failedInputs, counts.failedInputs > 0 ? "rejected" : ""),
        ] {
            page.add("<div class=\"card \(style)\"><span class=\"number\">\(value)</span><span class=\"label\">\(label)</span></div>")
        }
        page.add("</section>\n")
        page.add("<div class=\"filter\" id=\"filter\" hidden><label>Filter every table <input type=\"search\" id=\"filter-text\" placeholder=\"job, change order, code, file…\" autocomplete=\"off\"></label> <span id=\"filter-count\" class=\"muted\"></span></div>\n")

        // Exceptions first, then the summary, then the detail.
        rejects(model.outcomes, into: &page)
        held(model.outcomes, into: &page)
        if !model.failures.isEmpty {
            page.add("<section><h2>Inputs that could not be used</h2><table class=\"filterable\"><thead><tr><th>Input</th><th>Exit status</th><th>Problem</th></tr></thead><tbody>")
            for failure in model.failures {
                page.add("<tr><td class=\"path\">\(escape(failure.path))</td><td>\(failure.status.rawValue)</td><td>\(escape(failure.message))")
                if !failure.diagnostics.isEmpty {
                    page.add("<ul class=\"problems\">")
                    for diagnostic in failure.diagnostics { page.add("<li>\(escape(diagnostic.humanLine))</li>") }
                    page.add("</ul>")
                }
                page.add("</td></tr>")
            }
            page.add("</tbody></table></section>\n")
        }
        warnings(model.outcomes, into: &page)
        contracts(model, into: &page)
        changeOrders(model.outcomes, into: &page)
        updates(model.outcomes, into: &page)
        documents(model.outcomes, into: &page)

        let inputs = runs.flatMap(\.inputs)
        if !inputs.isEmpty {
            page.add("<section><h2>Inputs</h2><ul class=\"inputs\">")
            for input in inputs { page.add("<li class=\"path\">\(escape(input))</li>") }
            page.add("</ul></section>\n")
        }
        page.add("<footer>Generated by SOVBridge at \(time(generatedAt)).</footer>\n</main>\n<script>\(script)</script>\n</body>\n</html>\n")
        return page.text
    }

    // MARK: The figures behind the tables

    /// What the tables are made of, shared by the page and the CSV files.
    struct Model {
        var outcomes: [DocumentOutcome]
        var failures: [InputFailure]
        var contracts: [ContractRow]

        init(_ runs: [RunResult]) {
            outcomes = runs.flatMap(\.outcomes)
            failures = runs.flatMap { $0.failures + ($0.fatal.map { [$0] } ?? []) }
            contracts = Self.contractRows(outcomes)
        }

        static func contractRows(_ outcomes: [DocumentOutcome]) -> [ContractRow] {
            var rows: [String: ContractRow] = [:]
            for outcome in outcomes {
                guard let document = outcome.document else { continue }
                let job = jobName(document)
                var row = rows[job] ?? ContractRow(job: job)
                let value = amount(document)
                let landed = outcome.action == .exported || outcome.action == .updated || outcome.action == .unchanged
                switch document {
                case .primeContract(let contract):
                    row.contractNumber = contract.number
                    row.contractAction = outcome.action
                    row.original.add(value)
                    row.spectrum.add(value)
                    if landed {
                        row.revised.add(value)
                    } else {
                        row.setAside(value, held: outcome.action == .held)
                    }
                case .changeOrder(let order) where order.origin.system == .spectrum:
                    let pending = outcome.action == .rejected && isPending(outcome)
                    // Spectrum's revised contract counts its approved change orders only.
                    if order.approved { row.spectrum.add(value) }
                    if landed {
                        row.approved.add(value)
                        row.approvedCount += 1
                        row.revised.add(value)
                    } else if pending {
                        row.pending.add(value)
                        row.pendingCount += 1
                    } else {
                        row.setAside(value, held: outcome.action == .held)
                    }
                case .changeOrder:
                    if landed {
                        row.toSpectrum.add(value)
                        row.toSpectrumCount += 1
                    } else if outcome.action == .held {
                        row.heldCount += 1
                        row.held.add(value)
                    } else {
                        row.rejectedCount += 1
                    }
                }
                rows[job] = row
            }
            return rows.values.sorted { $0.job < $1.job }
        }
    }

    /// One contract (company / job / customer) in the summary.
    struct ContractRow {
        /// Every currency the row has an amount in (one CSV row each); US dollars when none.
        var currencies: [Currency] {
            var all = Set<Currency>()
            for total in [original, approved, pending, held, rejected, revised, spectrum, toSpectrum] { all.formUnion(total.sums.keys) }
            return all.isEmpty ? [.usd] : all.sorted { $0.code < $1.code }
        }

        var job: String
        var contractNumber: String?
        var contractAction: DocumentAction?
        var original = Total()
        /// Spectrum change orders that are in Procore after this run (exported now or before).
        var approved = Total()
        var approvedCount = 0
        /// Not approved in Spectrum (rejected only for CO003): not a difference, Spectrum's
        /// revised contract does not count them either.
        var pending = Total()
        var pendingCount = 0
        /// Waiting for their prime contract (DEP001).
        var held = Total()
        var heldCount = 0
        var rejected = Total()
        var rejectedCount = 0
        /// In Procore: the contract and its approved change orders.
        var revised = Total()
        /// Spectrum's revised contract: the original and every approved change order read.
        var spectrum = Total()
        /// Procore change orders written for Spectrum.
        var toSpectrum = Total()
        var toSpectrumCount = 0

        var difference: Total? { spectrum.minus(revised) }

        /// A Spectrum document that did not reach Procore: held for its contract, or rejected.
        mutating func setAside(_ value: Money, held isHeld: Bool) {
            if isHeld {
                held.add(value)
                heldCount += 1
            } else {
                rejected.add(value)
                rejectedCount += 1
            }
        }

        /// Why Spectrum and Procore differ, in words; nil when they agree.
        var explanation: String? {
            guard let difference, !difference.isZero else { return difference == nil ? "mixed currencies or out of range" : nil }
            var parts: [String] = []
            if !held.isZero { parts.append("held \(held.plain)") }
            if !rejected.isZero { parts.append("rejected \(rejected.plain)") }
            if parts.isEmpty { parts.append("not explained by this run") }
            return parts.joined(separator: ", ")
        }

        /// Red only for what someone must fix; a difference made of held documents only is amber.
        var differenceClass: String {
            guard let difference else { return "differs" }
            if difference.isZero { return "" }
            if rejected.isZero, let rest = difference.minus(held), rest.isZero { return "held-diff" }
            return "differs"
        }
    }

    /// A change order rejected only because it is not approved: pending in Spectrum, not an error
    /// anyone must fix.
    static func isPending(_ outcome: DocumentOutcome) -> Bool {
        let errors = outcome.diagnostics.filter(\.isError)
        return !errors.isEmpty && errors.allSatisfy { $0.code == .CO003 }
    }

    // MARK: Sections

    /// Per contract: original, approved change orders in Procore, pending and held ones apart,
    /// the revised amount, and Spectrum's figure beside it with the difference explained.
    private static func contracts(_ model: Model, into page: inout Page) {
        guard !model.contracts.isEmpty else { return }
        page.add("<section><h2>Contracts</h2>")
        page.add("<p class=\"note\">Original: the contract amount. Approved: Spectrum change orders in Procore after this run (exported now or before). Pending: not approved in Spectrum (CO003), so in neither total. Held: waiting for their prime contract; exported by a later run. Revised = original + approved, as Procore has it. Spectrum = original + approved change orders, as Spectrum has it. A red difference is rejected documents; amber is held ones only.</p>")
        page.add("<table class=\"filterable compact\"><thead><tr><th>Contract</th><th class=\"num\">Original</th><th class=\"num\">Approved COs</th><th class=\"num\">Pending COs</th><th class=\"num\">Held</th><th class=\"num\">Rejected</th><th class=\"num\">Revised (Procore)</th><th class=\"num\">Spectrum</th><th class=\"num\">Difference</th><th class=\"num\">Procore COs to Spectrum</th></tr></thead><tbody>")
        var totals = ContractRow(job: "")
        for row in model.contracts {
            page.add("<tr><td>\(escape(row.job)) \(row.contractAction.map { badge($0) } ?? "<span class=\"muted\">contract not in this run</span>")\(row.contractNumber.map { "<div class=\"id\">\(escape($0))</div>" } ?? "")</td>")
            page.add("<td class=\"num\">\(row.contractAction == nil ? "—" : row.original.display)</td>")
            page.add(countedCell(row.approved, row.approvedCount))
            page.add(countedCell(row.pending, row.pendingCount, style: "pending"))
            page.add(countedCell(row.held, row.heldCount, style: "held-diff", alwaysAmount: true))
            page.add(countedCell(row.rejected, row.rejectedCount, style: "differs", alwaysAmount: true))
            page.add("<td class=\"num strong\">\(row.revised.display)</td><td class=\"num\">\(row.spectrum.display)</td>")
            let style = row.differenceClass
            page.add("<td class=\"num\(style.isEmpty ? "" : " " + style)\">\(row.difference?.display ?? "—")\(row.explanation.map { "<div class=\"why\">\(escape($0))</div>" } ?? "")</td>")
            page.add(countedCell(row.toSpectrum, row.toSpectrumCount))
            page.add("</tr>")
            totals.original.add(row.original)
            totals.approved.add(row.approved)
            totals.approvedCount += row.approvedCount
            totals.pending.add(row.pending)
            totals.pendingCount += row.pendingCount
            totals.held.add(row.held)
            totals.heldCount += row.heldCount
            totals.rejected.add(row.rejected)
            totals.rejectedCount += row.rejectedCount
            totals.revised.add(row.revised)
            totals.spectrum.add(row.spectrum)
            totals.toSpectrum.add(row.toSpectrum)
            totals.toSpectrumCount += row.toSpectrumCount
        }
        page.add("</tbody><tfoot><tr><th>Total, \(model.contracts.count) contract\(model.contracts.count == 1 ? "" : "s")</th><th class=\"num\">\(totals.original.display)</th>")
        page.add(countedCell(totals.approved, totals.approvedCount, header: true))
        page.add(countedCell(totals.pending, totals.pendingCount, header: true))
        page.add(countedCell(totals.held, totals.heldCount, header: true, alwaysAmount: true))
        page.add(countedCell(totals.rejected, totals.rejectedCount, header: true, alwaysAmount: true))
        page.add("<th class=\"num\">\(totals.revised.display)</th><th class=\"num\">\(totals.spectrum.display)</th><th class=\"num\">\(totals.difference?.display ?? "—")</th>")
        page.add(countedCell(totals.toSpectrum, totals.toSpectrumCount, header: true))
        page.add("</tr></tfoot></table></section>\n")
    }

    /// `12,980.00 (1)`, or a dash when there is nothing.
    private static func countedCell(_ total: Total, _ count: Int, style: String = "", header: Bool = false, alwaysAmount: Bool = false) -> String {
        let tag = header ? "th" : "td"
        guard count > 0 || (alwaysAmount && !total.isZero) else { return "<\(tag) class=\"num muted\">—</\(tag)>" }
        let countText = count > 0 ? " <span class=\"count\">\(count) document\(count == 1 ? "" : "s")</span>" : ""
        return "<\(tag) class=\"num\(style.isEmpty || header ? "" : " " + style)\">\(total.display)\(countText)</\(tag)>"
    }

    /// Per change order: lines, each markup, subtotal and grand total, as sov-markup computed them.
    private static func changeOrders(_ outcomes: [DocumentOutcome], into page: inout Page) {
        let orders: [(DocumentOutcome, ChangeOrder)] = outcomes.compactMap { outcome in
            if case .changeOrder(let order)? = outcome.document { return (outcome, order) }
            return nil
        }
        guard !orders.isEmpty else { return }
        page.add("<section><h2>Change orders and markup</h2>")
        page.add("<table class=\"filterable\"><thead><tr><th>Change order</th><th>Result</th><th class=\"num\">Lines</th><th>Horizontal markup</th><th class=\"num\">Subtotal</th><th>Vertical markup</th><th class=\"num\">Grand total</th></tr></thead><tbody>")
        var landedLines = Total(), landedSubtotal = Total(), landedGrand = Total()
        var landedCount = 0
        for (outcome, order) in orders {
            var linesTotal = Total()
            for line in order.lines { linesTotal.add(line.amount) }
            let landed = outcome.action == .exported || outcome.action == .updated || outcome.action == .unchanged
            page.add("<tr><td>\(escape(outcome.name))<div class=\"id\">\(escape(outcome.originId ?? ""))</div></td><td>\(badge(outcome.action, pending: isPending(outcome)))</td>")
            page.add("<td class=\"num\">\(linesTotal.display)</td>")
            guard let computed = order.computed else {
                page.add("<td colspan=\"4\" class=\"muted\">markup not computed</td></tr>")
                if landed {
                    landedCount += 1
                    landedLines.add(linesTotal)
                    landedSubtotal.add(linesTotal)
                    landedGrand.add(linesTotal)
                }
                continue
            }
            if landed {
                landedCount += 1
                landedLines.add(linesTotal)
                landedSubtotal.add(computed.subtotal)
                landedGrand.add(computed.grandTotal)
            }
            var horizontal: [(String, Total)] = []
            for line in computed.lines {
                for share in line.horizontal {
                    if let index = horizontal.firstIndex(where: { $0.0 == share.name }) {
                        horizontal[index].1.add(share.amount)
                    } else {
                        var total = Total()
                        total.add(share.amount)
                        horizontal.append((share.name, total))
                    }
                }
            }
            page.add("<td>\(markupList(horizontal.map { ($0.0, $0.1.display) }, order.markups))</td>")
            page.add("<td class=\"num\">\(formatted(computed.subtotal))</td>")
            page.add("<td>\(markupList(computed.vertical.map { ($0.name, formatted($0.amount)) }, order.markups))</td>")
            page.add("<td class=\"num strong\">\(formatted(computed.grandTotal))</td></tr>")
        }
        page.add("</tbody><tfoot><tr><th>Total of the \(landedCount) in Procore or Spectrum after this run</th><th></th><th class=\"num\">\(landedLines.display)</th><th></th><th class=\"num\">\(landedSubtotal.display)</th><th></th><th class=\"num\">\(landedGrand.display)</th></tr></tfoot></table></section>\n")
    }

    private static func markupList(_ items: [(String, String)], _ markups: [Markup]) -> String {
        guard !items.isEmpty else { return "<span class=\"muted\">none</span>" }
        var html = "<ul class=\"markups\">"
        for (name, amount) in items {
            let definition = markups.first { $0.name == name }
            let rate = definition?.percent.map { " \($0)%" } ?? (definition?.amount != nil ? " lump sum" : "")
            html += "<li><span>\(escape(name))\(escape(rate))</span><span class=\"num\">\(amount)</span></li>"
        }
        return html + "</ul>"
    }

    private static func updates(_ outcomes: [DocumentOutcome], into page: inout Page) {
        let updated = outcomes.filter { $0.action == .updated }
        guard !updated.isEmpty else { return }
        page.add("<section><h2>Updates: what changed since the last export</h2><table class=\"filterable\"><thead><tr><th>Document</th><th>Last exported</th><th>Changes</th></tr></thead><tbody>")
        for outcome in updated {
            page.add("<tr><td>\(escape(outcome.name))<div class=\"id\">\(escape(outcome.originId ?? ""))</div></td>")
            page.add("<td>run \(outcome.previousRun.map(String.init) ?? "?")<div class=\"id\">\(outcome.previousExportAt.map(time) ?? "")</div></td><td><ul class=\"changes\">")
            for change in outcome.changes.isEmpty ? ["content changed"] : outcome.changes { page.add("<li>\(escape(change))</li>") }
            page.add("</ul></td></tr>")
        }
        page.add("</tbody></table></section>\n")
    }

    private static func rejects(_ outcomes: [DocumentOutcome], into page: inout Page) {
        // What someone must fix first; change orders that only wait for approval last.
        let all = outcomes.filter { $0.action == .rejected }
        let rejected = all.filter { !isPending($0) } + all.filter(isPending)
        guard !rejected.isEmpty else { return }
        let pending = rejected.filter(isPending).count
        page.add("<section class=\"exceptions\"><h2>Rejects</h2>")
        page.add("<p class=\"note\">\(rejected.count) document\(rejected.count == 1 ? "" : "s") not exported\(pending > 0 ? "; \(pending) of them only because \(pending == 1 ? "it is" : "they are") not approved yet (CO003, marked pending)" : ""). Each is in the rejects file whole, with every problem found.</p>")
        page.add("<table class=\"filterable\"><thead><tr><th>Document</th><th>Where</th><th>Codes</th><th class=\"num\">Amount</th><th>Problems</th></tr></thead><tbody>")
        var total = Total()
        for outcome in rejected {
            let errors = outcome.diagnostics.filter(\.isError)
            let codes = errors.map(\.code.rawValue).reduce(into: [String]()) { list, code in if !list.contains(code) { list.append(code) } }
            page.add("<tr><td>\(escape(outcome.name))<div class=\"id\">\(escape(outcome.originId ?? ""))</div>\(isPending(outcome) ? " <span class=\"badge pending\">pending</span>" : "")</td>")
            page.add("<td class=\"path\">\(escape(location(outcome.document?.source ?? outcome.diagnostics.first?.location)))</td>")
            page.add("<td>\(codes.map { "<span class=\"code\">\(escape($0))</span>" }.joined(separator: " "))</td>")
            if let document = outcome.document {
                total.add(amount(document))
                page.add("<td class=\"num\">\(formatted(amount(document)))</td><td>")
            } else {
                page.add("<td class=\"num muted\">—</td><td>")
            }
            problems(outcome.diagnostics, into: &page)
            page.add("</td></tr>")
        }
        page.add("</tbody><tfoot><tr><th>Total, \(rejected.count) rejected</th><th></th><th></th><th class=\"num\">\(total.display)</th><th></th></tr></tfoot></table></section>\n")
    }

    /// Documents that wait for their prime contract (DEP001): not rejected, not exported yet.
    private static func held(_ outcomes: [DocumentOutcome], into page: inout Page) {
        let held = outcomes.filter { $0.action == .held }
        guard !held.isEmpty else { return }
        page.add("<section class=\"exceptions\"><h2>Held: waiting for their prime contract</h2><p class=\"note\">Kept in the ledger and exported by the first run that knows the contract.</p><table class=\"filterable\"><thead><tr><th>Document</th><th>Where</th><th class=\"num\">Amount</th><th>Why</th></tr></thead><tbody>")
        var total = Total()
        for outcome in held {
            page.add("<tr><td>\(escape(outcome.name))<div class=\"id\">\(escape(outcome.originId ?? ""))</div></td>")
            page.add("<td class=\"path\">\(escape(location(outcome.document?.source)))</td>")
            if let document = outcome.document {
                total.add(amount(document))
                page.add("<td class=\"num\">\(formatted(amount(document)))</td><td>")
            } else {
                page.add("<td class=\"num muted\">—</td><td>")
            }
            problems(outcome.diagnostics, into: &page)
            page.add("</td></tr>")
        }
        page.add("</tbody><tfoot><tr><th>Total, \(held.count) held</th><th></th><th class=\"num\">\(total.display)</th><th></th></tr></tfoot></table></section>\n")
    }

    /// Documents that went through with something to say (a description cut to Spectrum's
    /// length, a contract taken from the project map, no Authorization_ID).
    private static func warnings(_ outcomes: [DocumentOutcome], into page: inout Page) {
        // Held documents have their own section, with the same words.
        let warned = outcomes.filter { $0.action != .rejected && $0.action != .held && $0.diagnostics.contains { !$0.isError } }
        guard !warned.isEmpty else { return }
        page.add("<section><h2>Warnings</h2><table class=\"filterable\"><thead><tr><th>Document</th><th>Result</th><th>Where</th><th>Warnings</th></tr></thead><tbody>")
        for outcome in warned {
            page.add("<tr><td>\(escape(outcome.name))<div class=\"id\">\(escape(outcome.originId ?? ""))</div></td><td>\(badge(outcome.action))</td>")
            page.add("<td class=\"path\">\(escape(location(outcome.document?.source ?? outcome.diagnostics.first?.location)))</td><td>")
            problems(outcome.diagnostics.filter { !$0.isError }, into: &page)
            page.add("</td></tr>")
        }
        page.add("</tbody></table></section>\n")
    }

    private static func problems(_ diagnostics: [Diagnostic], into page: inout Page) {
        page.add("<ul class=\"problems\">")
        for diagnostic in diagnostics {
            var text = "<span class=\"code\(diagnostic.isError ? "" : " warning")\">\(escape(diagnostic.code.rawValue))</span> \(escape(diagnostic.message))"
            var details: [String] = []
            if let field = diagnostic.location.field { details.append("field \(field)") }
            if let value = diagnostic.value { details.append("value ‘\(value)’") }
            let at = location(diagnostic.location)
            if !at.isEmpty { details.append(at) }
            if !details.isEmpty { text += " <span class=\"where\">(\(escape(details.joined(separator: ", "))))</span>" }
            page.add("<li>\(text)</li>")
        }
        page.add("</ul>")
    }

    /// Every document, last: on a large run this is most of the page.
    private static func documents(_ outcomes: [DocumentOutcome], into page: inout Page) {
        guard !outcomes.isEmpty else { return }
        page.add("<section class=\"long\"><h2>All documents</h2><table class=\"filterable\"><thead><tr><th>Document</th><th>To</th><th>Result</th><th class=\"num\">Amount</th><th>Export file</th></tr></thead><tbody>")
        var byAction: [(DocumentAction, Int, Total)] = []
        for outcome in outcomes {
            page.add("<tr><td>\(escape(outcome.name))<div class=\"id\">\(escape(outcome.originId ?? ""))</div></td>")
            page.add("<td>\(escape(outcome.target.map { $0 == .procore ? "Procore" : "Spectrum" } ?? "—"))</td><td>\(badge(outcome.action, pending: outcome.action == .rejected && isPending(outcome)))</td>")
            page.add("<td class=\"num\">\(outcome.document.map { formatted(amount($0)) } ?? "—")</td>")
            page.add("<td class=\"path\">\(escape(outcome.outputFile ?? "—"))</td></tr>")
            if !byAction.contains(where: { $0.0 == outcome.action }) { byAction.append((outcome.action, 0, Total())) }
            let index = byAction.firstIndex { $0.0 == outcome.action }!
            byAction[index].1 += 1
            if let document = outcome.document { byAction[index].2.add(amount(document)) }
        }
        page.add("</tbody><tfoot>")
        for (action, count, total) in byAction {
            page.add("<tr><th>Total \(action.rawValue), \(count) document\(count == 1 ? "" : "s")</th><th></th><th>\(badge(action))</th><th class=\"num\">\(total.display)</th><th></th></tr>")
        }
        page.add("</tfoot></table></section>\n")
    }

    // MARK: CSV

    /// The report's tables as CSV files (`--report-csv DIR`), for reconciling in a spreadsheet:
    /// `contracts.csv`, `change-orders.csv`, `rejects.csv` (one row per problem), `held.csv`,
    /// `warnings.csv` and `documents.csv`. RFC 4180, UTF-8 with a byte order mark (so Excel reads
    /// accents), CRLF; amounts plain (`-1234.56`) with their currency in a column of its own.
    public static func csvTables(_ runs: [RunResult]) -> [(name: String, text: String)] {
        let model = Model(runs)
        var contracts = CSVTable(["company / job / customer", "contract number", "contract result", "currency", "original", "approved change orders", "approved amount", "pending change orders", "pending amount", "held documents", "held amount", "rejected documents", "rejected amount", "revised (Procore)", "Spectrum", "difference", "why", "Procore change orders to Spectrum", "Procore change orders amount"])
        for row in model.contracts {
            for currency in row.currencies {
                contracts.add([
                    .text(row.job), .text(row.contractNumber ?? ""), .text(row.contractAction?.rawValue ?? "not in this run"), .text(currency.code),
                    .money(row.original.sums[currency]), .count(row.approvedCount), .money(row.approved.sums[currency]),
                    .count(row.pendingCount), .money(row.pending.sums[currency]), .count(row.heldCount), .money(row.held.sums[currency]),
                    .count(row.rejectedCount), .money(row.rejected.sums[currency]), .money(row.revised.sums[currency] ?? .zero(currency)),
                    .money(row.spectrum.sums[currency] ?? .zero(currency)), .money(row.difference?.sums[currency] ?? .zero(currency)),
                    .text(row.explanation ?? ""), .count(row.toSpectrumCount), .money(row.toSpectrum.sums[currency]),
                ])
            }
        }
        var orders = CSVTable(["change order", "origin id", "result", "currency", "lines", "subtotal", "vertical markup", "grand total", "markups"])
        var rejects = CSVTable(["document", "origin id", "pending", "amount", "currency", "code", "severity", "message", "file", "line", "field", "value"])
        var held = CSVTable(["document", "origin id", "amount", "currency", "code", "message", "file", "line"])
        var warnings = CSVTable(["document", "origin id", "result", "code", "message", "file", "line", "field", "value"])
        var documents = CSVTable(["document", "origin id", "kind", "to", "result", "amount", "currency", "input file", "export file"])
        for outcome in model.outcomes {
            let value = outcome.document.map(amount)
            documents.add([
                .text(outcome.name), .text(outcome.originId ?? ""), .text(outcome.document?.kind ?? ""),
                .text(outcome.target.map { $0 == .procore ? "Procore" : "Spectrum" } ?? ""),
                .text(outcome.action == .rejected && isPending(outcome) ? "pending" : outcome.action.rawValue),
                .money(value), .text(value?.currency.code ?? ""), .text(outcome.inputFile ?? ""), .text(outcome.outputFile ?? ""),
            ])
            if case .changeOrder(let order)? = outcome.document {
                var lines = Money.zero(order.currency)
                for line in order.lines { lines = lines.adding(line.amount) ?? lines }
                let vertical = order.computed.map { computed in computed.vertical.reduce(Money.zero(order.currency)) { $0.adding($1.amount) ?? $0 } }
                orders.add([
                    .text(outcome.name), .text(outcome.originId ?? ""), .text(outcome.action == .rejected && isPending(outcome) ? "pending" : outcome.action.rawValue),
                    .text(order.currency.code), .money(lines), .money(order.computed?.subtotal), .money(vertical), .money(order.computed?.grandTotal),
                    .text(order.markups.map { "\($0.name) \($0.set.rawValue) \($0.percent.map { "\($0)%" } ?? $0.amount?.description ?? "")" }.joined(separator: "; ")),
                ])
            }
            switch outcome.action {
            case .rejected:
                for diagnostic in outcome.diagnostics {
                    rejects.add([
                        .text(outcome.name), .text(outcome.originId ?? ""), .text(isPending(outcome) ? "yes" : "no"), .money(value), .text(value?.currency.code ?? ""),
                        .text(diagnostic.code.rawValue), .text(diagnostic.severity.rawValue), .text(diagnostic.message), .text(diagnostic.location.file ?? ""),
                        .count(diagnostic.location.line), .text(diagnostic.location.field ?? ""), .text(diagnostic.value ?? ""),
                    ])
                }
            case .held:
                for diagnostic in outcome.diagnostics {
                    held.add([
                        .text(outcome.name), .text(outcome.originId ?? ""), .money(value), .text(value?.currency.code ?? ""), .text(diagnostic.code.rawValue),
                        .text(diagnostic.message), .text(diagnostic.location.file ?? outcome.inputFile ?? ""), .count(diagnostic.location.line),
                    ])
                }
            default:
                for diagnostic in outcome.diagnostics where !diagnostic.isError {
                    warnings.add([
                        .text(outcome.name), .text(outcome.originId ?? ""), .text(outcome.action.rawValue), .text(diagnostic.code.rawValue), .text(diagnostic.message),
                        .text(diagnostic.location.file ?? ""), .count(diagnostic.location.line), .text(diagnostic.location.field ?? ""), .text(diagnostic.value ?? ""),
                    ])
                }
            }
        }
        for failure in model.failures {
            rejects.add([
                .text(failure.path), .text(""), .text("no"), .money(nil), .text(""), .text(failure.diagnostics.first?.code.rawValue ?? "exit \(failure.status.rawValue)"),
                .text("error"), .text(failure.message), .text(failure.path), .count(failure.diagnostics.first?.location.line), .text(""), .text(""),
            ])
        }
        return [
            ("contracts.csv", contracts.text), ("change-orders.csv", orders.text), ("rejects.csv", rejects.text),
            ("held.csv", held.text), ("warnings.csv", warnings.text), ("documents.csv", documents.text),
        ]
    }

    /// Writes `csvTables` into `folder` (made when missing), each file atomically.
    public static func writeCSV(_ runs: [RunResult], to folder: String) throws(IOFailure) {
        try AtomicFile.makeFolder(folder)
        for (name, text) in csvTables(runs) {
            try AtomicFile.write(Array(text.utf8), to: folder.hasSuffix("/") ? folder + name : folder + "/" + name)
        }
    }

    enum CSVCell {
        case text(String)
        case money(Money?)
        case count(Int?)
    }

    struct CSVTable {
        var text: String

        init(_ header: [String]) {
            text = "\u{FEFF}"
            add(header.map { .text($0) })
        }

        mutating func add(_ cells: [CSVCell]) {
            var first = true
            for cell in cells {
                if !first { text += "," }
                first = false
                switch cell {
                case .text(let value): text += Self.field(value)
                case .money(let money): text += money?.description ?? ""
                case .count(let count): text += count.map(String.init) ?? ""
                }
            }
            text += "\r\n"
        }

        /// Quoted when needed (RFC 4180). Text a spreadsheet would take for a formula (`=`, `+`,
        /// `-`, `@` first) gets a leading apostrophe: data from an input must not run in Excel.
        static func field(_ value: String) -> String {
            var value = value
            if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { value = "'" + value }
            guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
            var quoted = "\""
            for character in value {
                quoted.append(character)
                if character == "\"" { quoted.append("\"") }
            }
            return quoted + "\""
        }
    }

    // MARK: Helpers

    /// The amount a document stands for: a contract's original amount, a change order's grand
    /// total (or its lines before markup when markup was not computed).
    static func amount(_ document: CanonicalDocument) -> Money {
        switch document {
        case .primeContract(let contract): return contract.originalAmount
        case .changeOrder(let order):
            if let total = order.computed?.grandTotal { return total }
            var sum = Money.zero(order.currency)
            for line in order.lines { sum = sum.adding(line.amount) ?? sum }
            return sum
        }
    }

    static func jobName(_ document: CanonicalDocument) -> String {
        switch document {
        case .primeContract(let contract):
            return contract.origin.contractKey.map { "\($0.company) / \($0.job) / \($0.customer)" } ?? "contract \(contract.number)"
        case .changeOrder(let order):
            if let key = order.contract ?? order.origin.contractKey { return "\(key.company) / \(key.job) / \(key.customer)" }
            return "Procore project \(order.procore?.projectId ?? "unknown")"
        }
    }

    private static func location(_ location: SourceLocation?) -> String {
        guard let location, let file = location.file else { return "" }
        if let line = location.line { return "\(file):\(line)" }
        if let record = location.record { return "\(file), record \(record)" }
        return file
    }

    /// A not-approved change order (rejected for CO003 only) is marked pending: it waits in
    /// Spectrum, nobody has to fix it.
    private static func badge(_ action: DocumentAction, pending: Bool = false) -> String {
        if pending { return "<span class=\"badge pending\">pending</span>" }
        return "<span class=\"badge \(action.rawValue)\">\(action.rawValue)</span>"
    }

    /// A UTC timestamp (`2026-11-27T07:00:00Z`) as a `<time>` element: the page's script shows it
    /// in the reader's local time and keeps the UTC text in the tooltip; without the script the
    /// UTC text stays.
    static func time(_ utc: String) -> String {
        let text = escape(utc)
        return "<time datetime=\"\(text)\" title=\"\(text) UTC\">\(text)</time>"
    }

    static func describe(_ status: ExitStatus) -> String {
        switch status {
        case .ok: "All documents went through"
        case .someRejected: "Finished; some documents were rejected"
        case .usage: "Wrong command line"
        case .dataError: "Finished; some inputs were unusable as a whole"
        case .noInput: "Finished; some inputs were missing or unreadable"
        case .software: "Stopped by an internal error"
        case .cannotCreate: "Stopped: an output could not be created"
        case .ioError: "Stopped by an I/O error"
        case .locked: "Another watcher holds the drop folder"
        case .unavailable: "A delivery target was unreachable or given up on; the next run resumes"
        case .notPermitted: "A delivery target refused the credentials"
        }
    }

    /// `1234567.5` -> `1,234,567.50` for reading; the data files keep the plain form.
    static func formatted(_ money: Money) -> String {
        let plain = money.description
        let negative = plain.hasPrefix("-")
        let digits = negative ? String(plain.dropFirst()) : plain
        let parts = digits.split(separator: ".", maxSplits: 1)
        var whole = String(parts[0])
        var grouped = ""
        while whole.count > 3 {
            grouped = "," + whole.suffix(3) + grouped
            whole = String(whole.dropLast(3))
        }
        grouped = whole + grouped
        let text = (negative ? "−" : "") + grouped + (parts.count > 1 ? "." + parts[1] : "")
        return money.currency == .usd ? text : text + " " + money.currency.code
    }

    /// Sums money per currency without trapping on overflow or mixing currencies.
    struct Total {
        var sums: [Currency: Money] = [:]
        var overflow = false

        mutating func add(_ other: Total) {
            if other.overflow { overflow = true }
            for money in other.sums.values { add(money) }
        }

        /// For sentences: plain amounts, one per currency.
        var plain: String {
            if overflow { return "out of range" }
            return sums.values.sorted { $0.currency.code < $1.currency.code }.map(formatted).joined(separator: " + ")
        }

        mutating func add(_ money: Money) {
            guard let sum = (sums[money.currency] ?? .zero(money.currency)).adding(money) else {
                overflow = true
                return
            }
            sums[money.currency] = sum
        }

        /// `self − other` in the one currency both use, nil when that is not one currency.
        func minus(_ other: Total) -> Total? {
            guard !overflow, !other.overflow else { return nil }
            var result = Total()
            for currency in Set(sums.keys).union(other.sums.keys) {
                let (difference, overflow) = (sums[currency]?.minorUnits ?? 0).subtractingReportingOverflow(other.sums[currency]?.minorUnits ?? 0)
                if overflow { return nil }
                result.sums[currency] = Money(minorUnits: difference, currency: currency)
            }
            return result
        }

        var isZero: Bool { sums.values.allSatisfy(\.isZero) }

        var display: String {
            if overflow { return "out of range" }
            if sums.isEmpty { return formatted(.zero()) }
            return sums.values.sorted { $0.currency.code < $1.currency.code }.map(formatted).joined(separator: "<br>")
        }
    }

    private struct Page {
        var text = ""
        mutating func add(_ html: String) { text += html }
    }

    /// Text made safe for HTML content and attribute values.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default:
                // Control characters other than tab and newline cannot be shown; make them visible.
                if character.value < 0x20 && character != "\t" && character != "\n" {
                    result += "\\u{\(String(character.value, radix: 16))}"
                } else {
                    result.unicodeScalars.append(character)
                }
            }
        }
        return result
    }

    static let css = """
        :root { --ink: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f6f7f9; --green: #067647; --blue: #175cd3; --red: #b42318; --amber: #b54708; }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
        main { max-width: 1380px; margin: 0 auto; padding: 28px 24px 40px; }
        header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 20px; margin-bottom: 18px; }
        h1 { font-size: 24px; margin: 0; }
        h2 { font-size: 17px; margin: 0 0 10px; }
        .status { margin: 0; padding: 3px 10px; border-radius: 999px; font-weight: 600; font-size: 13px; }
        .status-ok { background: #dcfae6; color: var(--green); }
        .status-warn { background: #fef0c7; color: var(--amber); }
        .status-bad { background: #fee4e2; color: var(--red); }
        .meta { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 0; width: 100%; color: var(--muted); }
        .meta div { display: flex; gap: 6px; }
        .meta dt { font-weight: 600; }
        .meta dd { margin: 0; font-variant-numeric: tabular-nums; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(130px, 1fr)); gap: 12px; margin-bottom: 22px; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; display: flex; flex-direction: column; }
        .card .number { font-size: 26px; font-weight: 700; font-variant-numeric: tabular-nums; }
        .card .label { color: var(--muted); }
        .card.exported .number { color: var(--green); }
        .card.updated .number { color: var(--blue); }
        .card.unchanged .number { color: var(--muted); }
        .card.rejected .number { color: var(--red); }
        section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin-bottom: 18px; overflow-x: auto; }
        .note { color: var(--muted); margin: -4px 0 10px; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; vertical-align: top; padding: 7px 10px; border-bottom: 1px solid var(--line); }
        th { font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); background: #fafbfc; }
        tbody tr:nth-child(even) td { background: #fcfcfd; }
        .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .strong { font-weight: 700; }
        .differs { color: var(--red); font-weight: 700; }
        .muted { color: var(--muted); }
        .id { color: var(--muted); font-size: 12px; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; word-break: break-all; }
        .path { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12px; word-break: break-all; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
        .badge.exported { background: #dcfae6; color: var(--green); }
        .badge.updated { background: #d1e9ff; color: var(--blue); }
        .badge.unchanged { background: #f2f4f7; color: var(--muted); }
        .badge.held, .card.held .number { color: #b54708; }
        .badge.rejected { background: #fee4e2; color: var(--red); }
        .code { display: inline-block; padding: 0 6px; border-radius: 4px; background: #fee4e2; color: var(--red); font: 600 12px ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
        .code.warning { background: #fef0c7; color: var(--amber); }
        ul { margin: 0; padding-left: 18px; }
        ul.markups { list-style: none; padding: 0; min-width: 200px; }
        ul.markups li { display: flex; justify-content: space-between; gap: 14px; }
        ul.problems li, ul.changes li { margin-bottom: 3px; }
        .where { color: var(--muted); }
        ul.inputs { columns: 2; }
        footer { color: var(--muted); font-size: 12px; text-align: center; }
        tfoot th { text-transform: none; font-size: 13px; color: var(--ink); background: #f2f4f7; border-top: 2px solid var(--line); }
        .held-diff { color: var(--amber); font-weight: 700; }
        .pending { color: var(--muted); }
        .badge.pending { background: #f2f4f7; color: #475467; border: 1px dashed #98a2b3; }
        .badge.held { background: #fef0c7; }
        .why { font-size: 12px; font-weight: 400; color: var(--muted); white-space: normal; }
        .count { display: block; font-size: 12px; color: var(--muted); font-weight: 400; }
        section.exceptions { border-left: 4px solid var(--red); }
        .filter { position: sticky; top: 0; z-index: 2; background: var(--bg); padding: 8px 0 10px; margin-bottom: 8px; }
        .filter input { font: inherit; padding: 5px 9px; width: min(420px, 70vw); border: 1px solid #d0d5dd; border-radius: 8px; }
        section:not(.cards) { content-visibility: auto; contain-intrinsic-size: auto 900px; }
        tr.hidden { display: none; }
        table.compact { font-size: 13px; }
        table.compact th, table.compact td { padding: 6px 6px; }
        table.compact th { font-size: 11px; }
        """

    /// The page's one script, inline: the filter box (rows whose text does not hold every word
    /// typed are hidden, in every table) and local times. Plain DOM, nothing fetched.
    static let script = """
        (function () {
          var tables = Array.prototype.slice.call(document.querySelectorAll('table.filterable'));
          var box = document.getElementById('filter'), input = document.getElementById('filter-text'), count = document.getElementById('filter-count');
          var rows = null, timer = 0;
          function collect() {
            rows = [];
            tables.forEach(function (table) {
              Array.prototype.forEach.call(table.tBodies, function (body) {
                Array.prototype.forEach.call(body.rows, function (row) { rows.push([row, row.textContent.toLowerCase()]); });
              });
            });
          }
          function apply() {
            if (rows === null) collect();
            var words = input.value.toLowerCase().split(/\\s+/).filter(function (w) { return w.length > 0; });
            var shown = 0;
            for (var i = 0; i < rows.length; i++) {
              var text = rows[i][1], match = true;
              for (var j = 0; j < words.length && match; j++) match = text.indexOf(words[j]) >= 0;
              if (match) shown++;
              if (rows[i][0].classList.contains('hidden') === match) rows[i][0].classList.toggle('hidden', !match);
            }
            count.textContent = words.length ? shown + ' of ' + rows.length + ' rows' : '';
          }
          if (tables.length && box) {
            box.hidden = false;
            input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
            // report.html#filter=24-1017 opens the page filtered (a link to send someone).
            var hash = decodeURIComponent(location.hash || '');
            if (hash.indexOf('#filter=') === 0) { input.value = hash.slice(8); apply(); }
          }
          Array.prototype.forEach.call(document.querySelectorAll('time[datetime]'), function (element) {
            var date = new Date(element.getAttribute('datetime'));
            if (isNaN(date.getTime())) return;
            element.textContent = date.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
          });
        })();
        """
}
