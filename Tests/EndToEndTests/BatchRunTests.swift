import Foundation
import SOVCore
import SOVTestSupport
import Testing

/// `sov-run` over samples/spectrum and samples/procore with a ledger: first run, re-run, a
/// changed contract, a dry run.
struct BatchRunTests {
    static let exports = [
        "procore-pcco-1186921.xml", "procore-pcco-1187342.xml",
        "spectrum-1-24-1017-own100-co-001.json", "spectrum-1-24-1017-own100.json",
        "spectrum-1-24-1022-own200-co-003.json", "spectrum-1-24-1022-own200.json",
        "spectrum-1-24-2040-own400.json",
    ]

    /// The samples with one SOV amount of 24-1022 raised by 100.00 and its contract total with it.
    static func changedSpectrumSamples(in folder: TemporaryFolder) throws -> String {
        for name in ["GetJobMain.xml", "change_orders.csv", "jobs.csv", "sov-2040.xml", "sov.csv"] {
            let bytes = try #require(FileManager.default.contents(atPath: Checkout.path("samples/spectrum/\(name)")))
            folder.write("spectrum/\(name)", bytes)
        }
        // Byte-level replacements: jobs.csv is Windows-1252 and must stay so.
        try replaceOnce("2480750.00", with: "2480850.00", in: folder.file("spectrum/jobs.csv"))
        try replaceOnce("186300.00", with: "186400.00", in: folder.file("spectrum/sov.csv"))
        return folder.file("spectrum")
    }

    static func replaceOnce(_ old: String, with new: String, in path: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let ranges = bytes.ranges(of: Data(old.utf8))
        #expect(ranges.count == 1, "\(old) once in \(path)")
        var changed = bytes
        changed.replaceSubrange(try #require(ranges.first), with: Data(new.utf8))
        try changed.write(to: URL(fileURLWithPath: path))
    }

    /// Every src= and href= value in an HTML page.
    static func references(in html: String) -> [String] {
        var values: [String] = []
        for attribute in ["src=", "href="] {
            var rest = html[...]
            while let found = rest.range(of: attribute, options: .caseInsensitive) {
                rest = rest[found.upperBound...]
                let quote = rest.first
                let value = quote == "\"" || quote == "'" ? rest.dropFirst().prefix { $0 != quote } : rest.prefix { !$0.isWhitespace && $0 != ">" }
                values.append(String(value))
            }
        }
        return values
    }

    /// sov-run ends through `mainExitingWithItsCode`: each way out keeps its status and says
    /// what it said through ArgumentParser's `main()`: nothing more at an exit code of the run
    /// (0, 1 for rejects, 66 for a missing input), the usage after an unknown option (64), the
    /// help on standard output.
    @Test func everyWayOutKeepsItsStatusAndItsWords() throws {
        let folder = TemporaryFolder()
        let missing = try Tool.run("sov-run", ["--ledger", folder.file("l.sqlite"), "--out", folder.file("out"), folder.file("nothing-here.csv")])
        #expect(missing.status == 66)
        #expect(missing.stdout.isEmpty)
        #expect(!missing.stderr.contains("Usage:"))
        let rejected = try Tool.run("sov-run", ["--config", "samples/sovbridge.toml", "--ledger", folder.file("l.sqlite"), "--out", folder.file("out")])
        #expect(rejected.status == 1)
        #expect(!rejected.stderr.contains("Usage:"))
        let again = try Tool.run("sov-run", ["--config", "samples/sovbridge.toml", "--ledger", folder.file("l.sqlite"), "--out", folder.file("out")])
        #expect(again.status == 1, "the rejected documents are rejected again")
        let unknown = try Tool.run("sov-run", ["--no-such-option"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("Error: Unknown option '--no-such-option'\nUsage: sov-run"))
        let help = try Tool.run("sov-run", ["--help"])
        #expect(help.status == 0)
        #expect(String(decoding: help.stdout, as: UTF8.self).contains("USAGE: sov-run"))
        #expect(help.stderr.isEmpty)
    }

    @Test func reRunsExportOnlyWhatChangedAndADryRunWritesNothing() throws {
        let folder = TemporaryFolder()
        func run(_ inputs: [String], out: String, rejects: String, report: String? = nil, dryRun: Bool = false) throws -> ProcessOutcome {
            var arguments = [
                "--encoding", "windows-1252", "--project-map", "samples/project-map.csv",
                "--ledger", folder.file("ledger.sqlite"), "--out", folder.file(out), "--rejects", folder.file(rejects),
            ]
            if let report { arguments += ["--report", folder.file(report)] }
            if dryRun { arguments.append("--dry-run") }
            return try Tool.run("sov-run", arguments + inputs)
        }
        let samples = ["samples/spectrum", "samples/procore"]

        // First run: 7 exported, 2 rejected.
        let first = try run(samples, out: "out", rejects: "rejects-1.jsonl", report: "report-1.html")
        #expect(first.status == 1)
        #expect(first.stdout.isEmpty)
        #expect(first.stderrLines.last == "sov-run: 9 documents: 7 exported, 0 updated, 0 unchanged, 2 rejected (CO003 1, PC002 1); run 1")
        #expect(first.stderrLines.contains { $0.hasPrefix("samples/spectrum/jobs.csv:4: error: [PC002]") })
        #expect(first.stderrLines.contains { $0.hasPrefix("samples/spectrum/change_orders.csv:4: error: [CO003]") })
        #expect(folder.units("out") == Self.exports)
        let rejects = try folder.jsonLines("rejects-1.jsonl")
        #expect(rejects.compactMap { $0["diagnostics"]?.array.first?.text("code") }.sorted() == ["CO003", "PC002"])
        #expect(rejects.compactMap { $0["diagnostics"]?.array.first?.text("line") } == ["4", "4"])
        let stMarys = try #require(try folder.jsonLines(folder.unit("out", "spectrum-1-24-1017-own100.json")).first)
        #expect(stMarys.text("origin_id") == "spectrum:1:24-1017:OWN100")
        #expect(stMarys["requests"]?.array.count == 7)
        let pcco = try #require(folder.text(folder.unit("out", "procore-pcco-1186921.xml")))
        #expect(pcco.contains("<CR_Revenue>1040.30</CR_Revenue>") && pcco.contains("<CR_Revenue>2600.75</CR_Revenue>"))

        // The report: one self-contained page that names every reject code.
        let report = try #require(folder.text("report-1.html"))
        #expect(report.contains("<html") || report.contains("<!DOCTYPE html>") || report.contains("<!doctype html>"))
        #expect(!report.contains("http://"))
        #expect(!report.contains("https://"))
        #expect(!report.contains("@import"))
        #expect(!report.contains("<link"))
        #expect(Self.references(in: report).allSatisfy { $0.hasPrefix("#") || $0.hasPrefix("data:") }, "\(Self.references(in: report))")
        #expect(report.contains("PC002"))
        #expect(report.contains("CO003"))

        // Re-run: everything unchanged, nothing rewritten (a rewritten XML would have a new GUID).
        let snapshot = Dictionary(uniqueKeysWithValues: Self.exports.map { ($0, folder.bytes(folder.unit("out", $0))) })
        let second = try run(samples, out: "out", rejects: "rejects-2.jsonl")
        #expect(second.status == 1)
        #expect(second.stderrLines.last == "sov-run: 9 documents: 0 exported, 0 updated, 7 unchanged, 2 rejected (CO003 1, PC002 1); run 2")
        #expect(Dictionary(uniqueKeysWithValues: Self.exports.map { ($0, folder.bytes(folder.unit("out", $0))) }) == snapshot)
        #expect(try folder.jsonLines("rejects-2.jsonl").count == 2)

        // A consumer takes the units out of the outbox (Procore now has what they create).
        try FileManager.default.createDirectory(atPath: folder.file("taken"), withIntermediateDirectories: true)
        for name in folder.names("out") where UnitFiles.slug(name) != nil {
            try FileManager.default.moveItem(atPath: folder.file("out/" + name), toPath: folder.file("taken/" + name))
        }

        // One SOV amount changed (with its contract total), read from other file names.
        let changed = try Self.changedSpectrumSamples(in: folder)
        let ledgerBefore = folder.bytes("ledger.sqlite")

        // A dry run says what would happen and writes nothing.
        let dry = try run([changed, "samples/procore"], out: "out-dry", rejects: "rejects-dry.jsonl", report: "report-dry.html", dryRun: true)
        #expect(dry.status == 1)
        let plan = dry.stdoutText.split(separator: "\n").map(String.init)
        #expect(plan.filter { $0.hasPrefix("update\t") } == [
            "update\tprocore\tspectrum:1:24-1022:OWN200\twould update: changed since run 1 (an update unit): original_amount: 2480750.00 -> 2480850.00; line 01-000: amount 186300.00 -> 186400.00",
        ])
        #expect(plan.filter { $0.hasPrefix("skip\t") }.count == 6)
        #expect(plan.filter { $0.hasPrefix("reject\t") }.count == 2)
        #expect(plan.count == 9)
        #expect(dry.stderrLines.last == "sov-run: 9 documents (dry run): 0 would be exported, 1 would be updated, 6 unchanged, 2 rejected (CO003 1, PC002 1)")
        #expect(!folder.exists("out-dry"))
        #expect(!folder.exists("rejects-dry.jsonl"))
        #expect(!folder.exists("report-dry.html"))
        #expect(folder.bytes("ledger.sqlite") == ledgerBefore)

        // The real run: exactly that contract is updated, and the report says what changed.
        let third = try run([changed, "samples/procore"], out: "out", rejects: "rejects-3.jsonl", report: "report-3.html")
        #expect(third.status == 1)
        // Run 3: the dry run did not count as a run in the ledger.
        #expect(third.stderrLines.last == "sov-run: 9 documents: 0 exported, 1 updated, 6 unchanged, 2 rejected (CO003 1, PC002 1); run 3")
        #expect(folder.units("out") == ["spectrum-1-24-1022-own200.json"])
        // An update of what run 1 created in Procore, not a second create: the contract itself
        // and the one line that changed.
        let riverside = try #require(try folder.jsonLines(folder.unit("out", "spectrum-1-24-1022-own200.json")).first)
        let requests = riverside["requests"]?.array ?? []
        #expect(requests.map { "\($0.text("method") ?? "") \($0.text("path") ?? "")" } == [
            "PATCH /rest/v1.0/prime_contract/{prime_contract_id}",
            "PATCH /rest/v1.0/prime_contracts/{prime_contract_id}/line_items/{line_item_id}",
        ])
        #expect(requests.last?.text("body", "line_item", "origin_id") == "spectrum:1:24-1022:OWN200:01-000")
        #expect(requests.last?.text("body", "line_item", "amount") == "186400.00")
        let updateReport = try #require(folder.text("report-3.html"))
        #expect(updateReport.contains("original_amount: 2480750.00 -&gt; 2480850.00"))
        #expect(updateReport.contains("line 01-000: amount 186300.00 -&gt; 186400.00"))
    }
}
