import Foundation
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
        let html = try #require(folder.read("report.html"))
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
        for external in ["<script", "<link", "src=", "href=", "url(", "@import", "http:", "https:"] {
            #expect(!html.contains(external), "no \(external)")
        }
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
        for section in ["Jobs", "Change orders and markup", "Updates: what changed since the last export", "Rejects", "Inputs that could not be used", "All documents"] {
            #expect(html.contains("<h2>\(section)</h2>"), "section \(section)")
        }
        // Job 24-3100: Spectrum says 2,003,641.05 (contract + CO 002); the CO was rejected.
        #expect(html.contains("<td>1 / 24-3100 / OWN100</td><td class=\"num\">2</td><td class=\"num\">2,003,641.05</td><td class=\"num\">2,000,000.00</td><td class=\"num differs\">3,641.05</td>"))
        // Markup breakdown of SPEC §5's example.
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
}
