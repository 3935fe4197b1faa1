import Foundation
import SOVTestSupport
@testable import SOVBatch
import SOVCore
import Testing

struct ReportTests {
    /// A realistic second run: updates, unchanged documents, rejects of every kind, a Procore
    /// change order, an unusable input. Set SOV_REPORT_SAMPLE=/path.html to keep the page (to
    /// look at it in a browser).
    func sampleReport() throws -> (RunResult, String) {
        let folder = TemporaryFolder()
        let first = folder.write("in/1-spectrum-contracts.jsonl", Fixtures.jsonl([
            Fixtures.contract(job: "24-1017", project: "5001"),
            Fixtures.contract(job: "24-2000", project: "5002", amounts: ["125000.00", "48250.50", "9900.00"]),
            Fixtures.contract(job: "24-3100", project: "5003", amounts: ["2000000.00"]),
        ]))
        _ = try runBatch(.test(folder, inputs: [first]))
        folder.write("in/1-spectrum-contracts.jsonl", Fixtures.jsonl([
            Fixtures.contract(job: "24-1017", project: "5001"),
            Fixtures.contract(job: "24-2000", project: "5002", amounts: ["125000.00", "52250.50", "9900.00"], title: "Warehouse <phase 2> & yard"),
            Fixtures.contract(job: "24-3100", project: "5003", amounts: ["2000000.00"]),
            Fixtures.contract(job: "24-4400", project: "5001", amounts: ["500.00"]),
            Fixtures.contract(job: "24-5000", project: "5005", amounts: ["100.00", "200.00"], total: "350.00"),
        ]))
        folder.write("in/2-spectrum-change-orders.jsonl", Fixtures.jsonl([
            Fixtures.changeOrder(job: "24-1017", number: "003"),
            Fixtures.changeOrder(job: "24-2000", number: "011"),
            Fixtures.changeOrder(job: "24-3100", number: "002", associated: ["0100", "0999"]),
        ]))
        folder.write("in/3-procore.jsonl", Fixtures.jsonl([Fixtures.procoreChangeOrder(id: "88412", job: "24-1017")]) + "{\"kind\": \"change_order\", \"schema\": 1, \"origin\": {\"system\": \"procore\"}}\n")
        folder.write("in/4-broken.jsonl", "<script>alert('x')</script>\n")
        let (result, _, _) = try runBatch(.test(folder, inputs: [folder.file("in")], report: "report.html"))
        let html = try #require(folder.text("report.html"))
        if let keep = ProcessInfo.processInfo.environment["SOV_REPORT_SAMPLE"] {
            try html.write(toFile: keep, atomically: true, encoding: .utf8)
        }
        return (result, html)
    }

    @Test func isOneSelfContainedPage() throws {
        let (_, html) = try sampleReport()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<meta charset=\"utf-8\">"))
        #expect(html.contains("<style>"))
        for external in ["<script ", "<link", "src=", "href=", "url(", "@import", "http:", "https:", "fetch(", "XMLHttpRequest"] {
            #expect(!html.contains(external), "no \(external)")
        }
        // One inline script (filter box, local times), after all the data.
        #expect(html.components(separatedBy: "<script>").count == 2)
        #expect(html.range(of: "<script>")!.lowerBound > html.range(of: "<h2>All documents</h2>")!.lowerBound)
        #expect(html.hasSuffix("</html>\n"))
    }

    @Test func escapesEverythingFromTheInputs() throws {
        let (_, html) = try sampleReport()
        #expect(html.contains("title: Main contract -&gt; Warehouse &lt;phase 2&gt; &amp; yard"))
        #expect(!html.contains("<phase 2>"))
        #expect(RunReport.escape("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(RunReport.escape("bell\u{07}") == "bell\\u{7}")
    }

    @Test func showsCountsJobsMarkupAndEveryReject() throws {
        let (result, html) = try sampleReport()
        #expect(result.counts.exported == 3)
        #expect(result.counts.updated == 1)
        #expect(result.counts.unchanged == 2)
        #expect(result.counts.rejected == 4)
        #expect(result.failures.count == 1)
        for section in ["Contracts", "Change orders and markup", "Updates: what changed since the last export", "Rejects", "Inputs that could not be used", "All documents"] {
            #expect(html.contains("<h2>\(section)</h2>"), "section \(section)")
        }
        // Job 24-3100: Spectrum says 2,003,641.05 (contract + CO 002); the CO was rejected.
        #expect(html.contains("<td class=\"num strong\">2,000,000.00</td><td class=\"num\">2,003,641.05</td><td class=\"num differs\">3,641.05<div class=\"why\">rejected 3,641.05</div></td>"))
        // Markup breakdown of the example in docs/FORMATS.md, "Markup".
        #expect(html.contains("<li><span>Insurance 1%</span><span class=\"num\">35.00</span></li>"))
        #expect(html.contains("<li><span>Fee 3%</span><span class=\"num\">106.05</span></li>"))
        #expect(html.contains("<td class=\"num strong\">3,641.05</td>"))
        // Every reject with its codes and where.
        for code in ["PC001", "PC003", "CO004", "FMT009"] {
            #expect(html.contains("<span class=\"code\">\(code)</span>"), "code \(code)")
        }
        #expect(html.contains("(field lines[1].associated_line, value ‘0999’, input.jsonl:1)"))
        #expect(html.contains("4-broken.jsonl"))
    }

    @Test func listsTheWarningsOfDocumentsThatWentThrough() throws {
        let warned = DocumentOutcome(
            action: .exported, name: "change order 007 of 1/24-1017/OWN100", originId: "procore:pcco:1186921",
            diagnostics: [.warning(.FMT005, "CR_Billing_Item_Description holds 30 characters: 'A & B' is cut", at: SourceLocation(file: "pcco.json", line: 1, field: "title"))])
        let quiet = DocumentOutcome(action: .exported, name: "prime contract 1/24-1017/OWN100", originId: "spectrum:1:24-1017:OWN100")
        let run = RunResult(mode: "run", startedAt: "2026-11-27T07:00:00Z", inputs: ["in"], dryRun: false, outcomes: [warned, quiet])
        let html = RunReport.html([run])
        let section = try #require(html.range(of: "<h2>Warnings</h2>").map { String(html[$0.lowerBound...]) })
        let table = String(section[..<(section.range(of: "</section>")?.lowerBound ?? section.endIndex)])
        #expect(table.contains("change order 007 of 1/24-1017/OWN100"))
        #expect(table.contains("FMT005"))
        #expect(table.contains("&#39;A &amp; B&#39; is cut") || table.contains("'A &amp; B' is cut"))
        #expect(table.contains("field title"))
        #expect(!table.contains("prime contract 1/24-1017/OWN100"))
        // Nothing to say, no section.
        #expect(!RunReport.html([RunResult(mode: "run", startedAt: "", inputs: [], dryRun: false, outcomes: [quiet])]).contains("<h2>Warnings</h2>"))
    }

    @Test func formatsMoneyForReading() {
        #expect(RunReport.formatted(Fixtures.money("1234567.50")) == "1,234,567.50")
        #expect(RunReport.formatted(Fixtures.money("-1000.00")) == "−1,000.00")
        #expect(RunReport.formatted(Fixtures.money("999.99")) == "999.99")
        #expect(RunReport.formatted(Money(minorUnits: 150, currency: .cad)) == "1.50 CAD")
    }

    // MARK: Issue #18: for the accountant and the project manager

    static let key = ContractKey(company: "1", job: "24-1017", customer: "OWN100")

    static func contract(_ amount: String) -> CanonicalDocument {
        .primeContract(PrimeContract(
            origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100", number: "SMH-1"), source: SourceLocation(file: "jobs.csv", line: 2),
            number: "SMH-1", customer: Party(code: "OWN100"), originalAmount: Fixtures.money(amount)))
    }

    static func order(_ number: String, _ amount: String, approved: Bool = true) -> CanonicalDocument {
        .changeOrder(ChangeOrder(
            origin: Origin(system: .spectrum, company: "1", job: "24-1017", customer: "OWN100", number: number), source: SourceLocation(file: "change_orders.csv", line: 3),
            number: number, status: approved ? "A" : "P", approved: approved, contract: key,
            lines: [ChangeOrderLine(amount: Fixtures.money(amount), associatedLine: "01-000")]))
    }

    /// The samples' case: contract 1,250,000.00, an approved change order exported, one pending
    /// (CO003) of 12,980.00, one held (DEP001) of 50.00, one rejected (CO004) of 7.00.
    static func mixedRun() -> RunResult {
        RunResult(mode: "run", startedAt: "2026-11-27T07:00:00Z", endedAt: "2026-11-27T07:00:03Z", inputs: ["in"], dryRun: false, outcomes: [
            DocumentOutcome(action: .exported, name: "prime contract 1/24-1017/OWN100", originId: "spectrum:1:24-1017:OWN100", document: contract("1250000.00"), target: .procore),
            DocumentOutcome(action: .exported, name: "change order 001 of 1/24-1017/OWN100", originId: "spectrum:1:24-1017:OWN100:co:001", document: order("001", "25961.78"), target: .procore),
            DocumentOutcome(action: .rejected, name: "change order 002 of 1/24-1017/OWN100", originId: "spectrum:1:24-1017:OWN100:co:002", document: order("002", "12980.00", approved: false), target: .procore,
                            diagnostics: [.error(.CO003, "change order 002 is not approved", at: SourceLocation(file: "change_orders.csv", line: 5, field: "Status_Code"), value: "P")]),
            DocumentOutcome(action: .held, name: "change order 004 of 1/24-1017/OWN100", originId: "spectrum:1:24-1017:OWN100:co:004", document: order("004", "50.00"), target: .procore,
                            diagnostics: [.error(.DEP001, "waits for its prime contract", at: SourceLocation(file: "change_orders.csv", line: 6))]),
            DocumentOutcome(action: .rejected, name: "change order 005 of 1/24-1017/OWN100", originId: "spectrum:1:24-1017:OWN100:co:005", document: order("005", "7.00"), target: .procore,
                            diagnostics: [.error(.CO004, "line 1 names billing item 99-999, which is not on the contract", at: SourceLocation(file: "change_orders.csv", line: 7, field: "CO_Billing_Item_Code"), value: "=cmd|' /C calc'!A0")]),
        ], status: .someRejected)
    }

    @Test func pendingChangeOrderIsNotADifference() throws {
        let html = RunReport.html([Self.mixedRun()], generatedAt: "2026-11-27T07:00:04Z")
        let model = RunReport.Model([Self.mixedRun()])
        let row = try #require(model.contracts.first)
        #expect(model.contracts.count == 1)
        #expect(row.original.display == "1,250,000.00")
        #expect(row.approved.display == "25,961.78" && row.approvedCount == 1)
        #expect(row.pending.display == "12,980.00" && row.pendingCount == 1)
        #expect(row.held.display == "50.00" && row.heldCount == 1)
        #expect(row.rejected.display == "7.00" && row.rejectedCount == 1)
        #expect(row.revised.display == "1,275,961.78")
        // Spectrum's revised contract counts approved change orders only: not the pending 12,980.00.
        #expect(row.spectrum.display == "1,276,018.78")
        #expect(row.difference?.display == "57.00")
        #expect(row.explanation == "held 50.00, rejected 7.00")
        #expect(row.differenceClass == "differs")
        #expect(html.contains("<td class=\"num pending\">12,980.00 <span class=\"count\">1 document</span></td>"))
        #expect(!html.contains("differs\">12,980.00"))
        #expect(html.contains("<span class=\"badge pending\">pending</span>"))

        // Without the rejected one, what is left is held: amber, not red.
        var heldOnly = Self.mixedRun()
        heldOnly.outcomes.removeLast()
        let heldRow = try #require(RunReport.Model([heldOnly]).contracts.first)
        #expect(heldRow.difference?.display == "50.00" && heldRow.differenceClass == "held-diff" && heldRow.explanation == "held 50.00")
        // Without held and rejected, no difference at all although a change order is pending.
        heldOnly.outcomes.removeLast()
        let clean = try #require(RunReport.Model([heldOnly]).contracts.first)
        #expect(clean.difference?.isZero == true && clean.explanation == nil && clean.differenceClass.isEmpty)
    }

    @Test func exceptionsComeFirstWithTotals() throws {
        let html = RunReport.html([Self.mixedRun()], generatedAt: "2026-11-27T07:00:04Z")
        let order = ["<h2>Rejects</h2>", "<h2>Held: waiting for their prime contract</h2>", "<h2>Contracts</h2>", "<h2>Change orders and markup</h2>", "<h2>All documents</h2>"]
        let positions = try order.map { try #require(html.range(of: $0)?.lowerBound, "\($0)") }
        #expect(positions == positions.sorted())
        #expect(html.contains("<tfoot><tr><th>Total, 1 contract</th>"))
        #expect(html.contains("<th>Total, 2 rejected</th><th></th><th></th><th class=\"num\">12,987.00</th>"))
        // The one to fix (CO004) before the one that only waits for approval (CO003).
        let rejects = String(html[html.range(of: "<h2>Rejects</h2>")!.lowerBound...])
        #expect(rejects.range(of: "change order 005")!.lowerBound < rejects.range(of: "change order 002")!.lowerBound)
        // Held documents are not repeated among the warnings.
        #expect(!html.contains("<h2>Warnings</h2>"))
        #expect(html.contains("<th>Total of the 1 in Procore or Spectrum after this run</th>"))
        #expect(html.contains("<tr><th>Total exported, 2 documents</th>"))
        // A filter box over every table, hidden until the script shows it.
        #expect(html.contains("id=\"filter-text\""))
        #expect(html.components(separatedBy: "<table class=\"filterable").count == 6)
    }

    @Test func timesAreUTCWithALocalRendering() {
        let html = RunReport.html([Self.mixedRun()], generatedAt: "2026-11-27T07:00:04Z")
        #expect(html.contains("<dt>Started</dt><dd><time datetime=\"2026-11-27T07:00:00Z\" title=\"2026-11-27T07:00:00Z UTC\">2026-11-27T07:00:00Z</time></dd>"))
        #expect(html.contains("Generated by SOVBridge at <time datetime=\"2026-11-27T07:00:04Z\""))
        #expect(html.contains("toLocaleString"))
        #expect(RunReport.time("<x>") == "<time datetime=\"&lt;x&gt;\" title=\"&lt;x&gt; UTC\">&lt;x&gt;</time>")
    }

    @Test func theSameTablesAsCSV() throws {
        let tables = RunReport.csvTables([Self.mixedRun()])
        #expect(tables.map(\.name) == ["contracts.csv", "change-orders.csv", "rejects.csv", "held.csv", "warnings.csv", "documents.csv"])
        let text = Dictionary(uniqueKeysWithValues: tables.map { ($0.name, $0.text) })
        let contracts = try #require(text["contracts.csv"])
        #expect(contracts.hasPrefix("\u{FEFF}company / job / customer,contract number,"))
        let rows = contracts.dropFirst().components(separatedBy: "\r\n")
        #expect(rows.count == 3 && rows[2].isEmpty)
        #expect(rows[1] == "1 / 24-1017 / OWN100,SMH-1,exported,USD,1250000.00,1,25961.78,1,12980.00,1,50.00,1,7.00,1275961.78,1276018.78,57.00,\"held 50.00, rejected 7.00\",0,")
        let rejects = try #require(text["rejects.csv"])
        #expect(rejects.contains("change order 002 of 1/24-1017/OWN100,spectrum:1:24-1017:OWN100:co:002,yes,12980.00,USD,CO003,error,change order 002 is not approved,change_orders.csv,5,Status_Code,P\r\n"))
        // A value from an input that a spreadsheet would run as a formula is defused.
        #expect(rejects.contains(",CO_Billing_Item_Code,'=cmd|' /C calc'!A0\r\n"))
        let documents = try #require(text["documents.csv"])
        #expect(documents.components(separatedBy: "\r\n").count == 7)
        #expect(documents.contains(",pending,12980.00,USD,change_orders.csv,"))

        let folder = TemporaryFolder()
        try RunReport.writeCSV([Self.mixedRun()], to: folder.file("report-csv/nested"))
        #expect(FileManager.default.contents(atPath: folder.file("report-csv/nested/contracts.csv")) == Data(contracts.utf8))
        #expect(folder.text("report-csv/nested/held.csv")?.contains("DEP001") == true)
    }

    @Test func csvFieldsAreQuotedWhenNeeded() {
        #expect(RunReport.CSVTable.field("plain") == "plain")
        #expect(RunReport.CSVTable.field("a, b") == "\"a, b\"")
        #expect(RunReport.CSVTable.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(RunReport.CSVTable.field("two\nlines") == "\"two\nlines\"")
        #expect(RunReport.CSVTable.field("-5") == "'-5")
        #expect(RunReport.CSVTable.field("@SUM(A1)") == "'@SUM(A1)")
    }
}
