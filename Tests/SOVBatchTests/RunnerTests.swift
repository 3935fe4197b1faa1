import Foundation
import SOVBatch
import SOVCore
import SOVFrontEnd
import SOVTestSupport
import Testing

struct RunnerTests {
    /// Two Spectrum contracts and a change order, and a Procore change order bound for Spectrum.
    func standardInputs(_ folder: TemporaryFolder) -> [String] {
        folder.write("in/spectrum.jsonl", Fixtures.jsonl([
            Fixtures.contract(job: "24-1017", project: "5001"),
            Fixtures.contract(job: "24-2000", project: "5002", amounts: ["10.00"]),
            Fixtures.changeOrder(job: "24-1017"),
        ]))
        folder.write("in/procore.jsonl", Fixtures.jsonl([Fixtures.procoreChangeOrder(id: "77", job: "24-1017")]))
        return [folder.file("in")]
    }

    @Test func exportsEachDocumentToTheTargetItsOriginImplies() throws {
        let folder = TemporaryFolder()
        let (result, stdout, stderr) = try runBatch(.test(folder, inputs: standardInputs(folder)))
        #expect(result.status == .ok)
        #expect(result.counts.exported == 4)
        #expect(stdout.isEmpty)
        #expect(folder.units("out") == [
            "procore-pcco-77.xml", "spectrum-1-24-1017-own100-co-003.json", "spectrum-1-24-1017-own100.json", "spectrum-1-24-2000-own100.json",
        ])
        // The test exporter writes the canonical line: what went out is the document itself.
        let written = try #require(folder.text(folder.unit("out", "spectrum-1-24-1017-own100-co-003.json")))
        #expect(written == Fixtures.changeOrder(job: "24-1017").jsonLine + "\n")
        // Contracts first, then change orders, each in input order.
        #expect(result.outcomes.map(\.target) == [.procore, .procore, .spectrum, .procore])
        #expect(stderr.contains("sov-run: 4 documents: 4 exported, 0 updated, 0 unchanged, 0 rejected; run 1"))
        #expect(folder.text("rejects.jsonl") == "")

        let ledger = try Ledger(path: folder.file("ledger.sqlite"))
        #expect(try ledger.entries().count == 4)
        let run = try #require(try ledger.runs().first)
        #expect(run.counts.exported == 4)
        #expect(run.counts.inputs == 1)
        #expect(run.exitStatus == 0)
    }

    @Test func aReRunExportsNothing() throws {
        let folder = TemporaryFolder()
        let inputs = standardInputs(folder)
        _ = try runBatch(.test(folder, inputs: inputs))
        try FileManager.default.removeItem(atPath: folder.file("out"))
        let (result, _, stderr) = try runBatch(.test(folder, inputs: inputs))
        #expect(result.status == .ok)
        #expect(result.counts.unchanged == 4)
        #expect(result.counts.exported + result.counts.updated == 0)
        #expect(folder.units("out").isEmpty)
        #expect(result.outcomes.allSatisfy { $0.previousRun == 1 })
        #expect(stderr.contains("0 exported, 0 updated, 4 unchanged"))
        let ledger = try Ledger(path: folder.file("ledger.sqlite"))
        #expect(try ledger.entries().allSatisfy { $0.version == 1 && $0.runId == 1 })
        #expect(try ledger.runs().map(\.counts.unchanged) == [0, 4])
    }

    @Test func theSameContractFromAnotherFileIsUnchanged() throws {
        let folder = TemporaryFolder()
        let first = folder.write("monday.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017", project: "5001")]))
        _ = try runBatch(.test(folder, inputs: [first]))
        let second = folder.write("tuesday/other-name.jsonl", "\n" + Fixtures.jsonl([Fixtures.contract(job: "24-1017", project: "5001")]))
        let (result, _, _) = try runBatch(.test(folder, inputs: [second]))
        #expect(result.outcomes.map(\.action) == [.unchanged])
    }

    @Test func aChangedDocumentIsExportedAgainAsAnUpdateSayingWhatChanged() throws {
        let folder = TemporaryFolder()
        let path = folder.write("in.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017", project: "5001"), Fixtures.contract(job: "24-2000")]))
        _ = try runBatch(.test(folder, inputs: [path]))
        folder.write("in.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017", project: "5001", amounts: ["1000.00", "2750.00"]), Fixtures.contract(job: "24-2000")]))
        let (result, _, _) = try runBatch(.test(folder, inputs: [path], report: "report.html"))
        #expect(result.outcomes.map(\.action) == [.updated, .unchanged])
        let update = result.outcomes[0]
        #expect(update.changes == ["original_amount: 3500.00 -> 3750.00", "line 0200: amount 2500.00 -> 2750.00"])
        #expect(update.previousRun == 1)
        #expect(folder.text(folder.unit("out", "spectrum-1-24-1017-own100.json"))?.contains("\"2750.00\"") == true)
        let ledger = try Ledger(path: folder.file("ledger.sqlite"))
        let entry = try #require(try ledger.entry(originId: "spectrum:1:24-1017:OWN100", target: .procore))
        #expect(entry.version == 2)
        #expect(try ledger.history(originId: entry.originId, target: .procore).last?.changes == update.changes)
        let report = try #require(folder.text("report.html"))
        #expect(report.contains("Updates: what changed since the last export"))
        #expect(report.contains("line 0200: amount 2500.00 -&gt; 2750.00"))
    }

    @Test func rejectsGoToTheRejectsFileAndTheBatchGoesOn() throws {
        let folder = TemporaryFolder()
        let path = folder.write("in.jsonl", [
            Fixtures.contract(job: "24-1017", total: "9999.00").jsonLine,  // PC003
            "{\"kind\": \"prime_contract\"}",  // FMT009: no schema
            Fixtures.contract(job: "24-2000").jsonLine,
            Fixtures.changeOrder(job: "24-2000", associated: ["0100", "0999"]).jsonLine,  // CO004
        ].joined(separator: "\n") + "\n")
        let (result, _, stderr) = try runBatch(.test(folder, inputs: [path]))
        #expect(result.status == .someRejected)
        #expect(result.outcomes.map(\.action) == [.rejected, .rejected, .rejected, .exported])
        #expect(result.counts.rejected == 3)
        let lines = try #require(folder.text("rejects.jsonl")).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(lines.count == 3)
        #expect(lines.map { $0["diagnostics"]?.arrayValue?.first?["code"]?.stringValue } == ["FMT009", "PC003", "CO004"])
        #expect(lines[1]["document"]?["origin"]?["job"] == .string("24-1017"))
        #expect(lines[2]["diagnostics"]?.arrayValue?.first?["value"] == .string("0999"))
        #expect(stderr.contains("input.jsonl:1: error: [PC003] SOV lines add up to 3500.00, not 9999.00 (field lines)"))
        #expect(stderr.contains("in.jsonl:2: error: [FMT009]"))
        #expect(stderr.contains("3 rejected (CO004 1, FMT009 1, PC003 1)"))
        #expect(folder.units("out") == ["spectrum-1-24-2000-own100.json"])
    }

    /// Without a report sov-run keeps only the rejected documents' outcomes: the counts, the
    /// messages, the rejects file and the units are those of a run that lists them all.
    @Test func aRunThatListsOnlyRejectsCountsAndSaysTheSame() throws {
        func run(listingAll: Bool) throws -> (result: RunResult, stderr: String, rejects: String?, units: [String]) {
            let folder = TemporaryFolder()
            let path = folder.write("in.jsonl", [
                Fixtures.contract(job: "24-1017", total: "9999.00").jsonLine,  // PC003
                Fixtures.contract(job: "24-2000").jsonLine,
                Fixtures.changeOrder(job: "24-2000", associated: ["0100", "0999"]).jsonLine,  // CO004
                Fixtures.changeOrder(job: "24-2000").jsonLine,
                Fixtures.changeOrder(job: "24-3000", primeContract: "31504417").jsonLine,
            ].joined(separator: "\n") + "\n")
            let (result, _, stderr) = try runBatch(.test(folder, inputs: [path]), listsEveryOutcome: listingAll)
            return (result, stderr.replacingOccurrences(of: folder.path, with: "FOLDER"), folder.text("rejects.jsonl")?.replacingOccurrences(of: folder.path, with: "FOLDER"), folder.units("out"))
        }
        let all = try run(listingAll: true)
        let some = try run(listingAll: false)
        #expect(all.result.outcomes.count == 5)
        #expect(some.result.outcomes.map(\.action) == [.rejected, .rejected])
        #expect(some.result.outcomes.map(\.name) == all.result.outcomes(.rejected).map(\.name))
        #expect(some.result.outcomes.map(\.diagnostics) == all.result.outcomes(.rejected).map(\.diagnostics))
        #expect(some.result.counts == all.result.counts)
        #expect(some.result.counts.documentsIn == 5 && some.result.counts.rejected == 2 && some.result.counts.exported == 3)
        #expect(some.result.status == all.result.status)
        #expect(some.stderr == all.stderr)
        #expect(some.rejects == all.rejects)
        #expect(some.units == all.units)
    }

    @Test func pc001CountsContractsFromEarlierRuns() throws {
        let folder = TemporaryFolder()
        _ = try runBatch(.test(folder, inputs: [folder.write("a.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017", project: "5001")]))]))
        let later = folder.write("b.jsonl", Fixtures.jsonl([
            Fixtures.contract(job: "24-1099", project: "5001"),
            Fixtures.changeOrder(job: "24-1017", associated: ["0100", "0777"]),
        ]))
        let (result, _, _) = try runBatch(.test(folder, inputs: [later]))
        #expect(result.outcomes.map(\.action) == [.rejected, .rejected])
        #expect(result.outcomes[0].diagnostics.map(\.code) == [.PC001])
        #expect(result.outcomes[0].diagnostics[0].message.contains("spectrum:1:24-1017:OWN100"))
        // CO004 knew the contract's billing items from the ledger: 0100 exists, 0777 does not.
        #expect(result.outcomes[1].diagnostics.map(\.code) == [.CO004])
        #expect(result.outcomes[1].diagnostics.map(\.value) == ["0777"])
    }

    /// The ledger refuses a second prime contract for a project even when a validator lets it
    /// through (two runs at once both validated against an empty ledger).
    @Test func theLedgerItselfHoldsOneContractPerProject() throws {
        let folder = TemporaryFolder()
        let pipeline = TestPipeline.make(checksHistory: false)
        _ = try runBatch(.test(folder, inputs: [folder.write("a.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017", project: "5001")]))]), pipeline: pipeline)
        let (result, _, _) = try runBatch(.test(folder, inputs: [folder.write("b.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1099", project: "5001")]))]), pipeline: pipeline)
        #expect(result.status == .someRejected)
        #expect(result.outcomes.map(\.action) == [.rejected])
        #expect(result.outcomes[0].diagnostics.map(\.code) == [.PC001])
        #expect(folder.units("out") == ["spectrum-1-24-1017-own100.json"])
    }

    @Test func dryRunWritesNothingAndSaysWhy() throws {
        let folder = TemporaryFolder()
        let inputs = standardInputs(folder)
        // No ledger yet: everything would be new, and no ledger file appears.
        let (first, stdout, _) = try runBatch(.test(folder, inputs: inputs, report: "report.html", dryRun: true))
        #expect(first.status == .ok)
        #expect(first.runId == nil)
        #expect(!FileManager.default.fileExists(atPath: folder.file("ledger.sqlite")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("out")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("rejects.jsonl")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("report.html")))
        #expect(stdout.split(separator: "\n").count == 4)
        #expect(stdout.contains("export\tprocore\tspectrum:1:24-1017:OWN100\twould export: never exported (a create unit)"))

        _ = try runBatch(.test(folder, inputs: inputs))
        folder.write("in/procore.jsonl", Fixtures.jsonl([Fixtures.procoreChangeOrder(id: "77", job: "24-1017", amount: "800.00")]))
        let ledgerBefore = try Data(contentsOf: URL(fileURLWithPath: folder.file("ledger.sqlite")))
        let (second, stdout2, stderr2) = try runBatch(.test(folder, inputs: inputs, dryRun: true))
        #expect(second.counts.updated == 1)
        #expect(second.counts.unchanged == 3)
        #expect(stdout2.contains("update\tspectrum\tprocore:pcco:77\twould update: changed since run 1; the pending unit 0000000"))
        #expect(stdout2.contains(" is replaced by a new create unit: line 1: amount 750.00 -> 800.00"))
        #expect(stdout2.contains("skip\tprocore\tspectrum:1:24-2000:OWN100\tskip: unchanged since run 1"))
        #expect(stderr2.contains("(dry run): 0 would be exported, 1 would be updated, 3 unchanged"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.file("ledger.sqlite"))) == ledgerBefore)
        #expect(try Ledger(path: folder.file("ledger.sqlite")).runs().count == 1)
    }

    @Test func withoutOutExportsGoToStandardOutput() throws {
        let folder = TemporaryFolder()
        let path = folder.write("in.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017"), Fixtures.contract(job: "24-2000")]))
        let (result, stdout, _) = try runBatch(.test(folder, inputs: [path], out: nil))
        #expect(result.counts.exported == 2)
        let lines = stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(try CanonicalDocument(json: JSONParser.parse(String(lines[1]))).originId == "spectrum:1:24-2000:OWN100")
    }

    @Test func missingAndUnusableInputsSetTheExitStatusAndTheRestGoesOn() throws {
        let folder = TemporaryFolder()
        let good = folder.write("good.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017")]))
        let bad = folder.write("garbage.jsonl", "<?xml version=\"1.0\"?>\n<not-json/>\n")
        let (result, _, stderr) = try runBatch(.test(folder, inputs: [folder.file("nope.jsonl"), bad, good]))
        #expect(result.counts.exported == 1)
        #expect(result.failures.map(\.status) == [.noInput, .dataError])
        #expect(result.status == .noInput)
        #expect(stderr.contains("nope.jsonl: no such file or folder"))
        #expect(stderr.contains("2 inputs unusable"))

        let (onlyBad, _, _) = try runBatch(.test(folder, inputs: [bad]))
        #expect(onlyBad.status == .dataError)
    }

    @Test func onlyMissingInputsCreateNoLedgerAndNoOutFolder() throws {
        let folder = TemporaryFolder()
        let (result, _, stderr) = try runBatch(.test(folder, inputs: [folder.file("mistyped.csv")]))
        #expect(result.status == .noInput)
        #expect(result.runId == nil)
        #expect(stderr.contains("mistyped.csv: no such file or folder"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("ledger.sqlite")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("out")))
    }

    /// Without --out, standard output is JSON Lines whatever the targets, and a change order
    /// never comes before the contract it changes.
    @Test func standardOutputIsJSONLinesWithContractsFirst() throws {
        let folder = TemporaryFolder()
        var pipeline = TestPipeline.make()
        pipeline.export = { request in
            let bytes = request.target == .procore ? request.document.jsonLine + "\n" : "<?xml version=\"1.0\"?>\n<Envelope>\(request.document.originId)</Envelope>\n"
            return .exported(ExportedDocument(fileName: request.target.fileName(for: request.document), bytes: Array(bytes.utf8)))
        }
        let path = folder.write("in.jsonl", Fixtures.jsonl([
            Fixtures.changeOrder(job: "24-1017"), Fixtures.procoreChangeOrder(id: "77", job: "24-1017"), Fixtures.contract(job: "24-1017"),
        ]))
        let (result, stdout, _) = try runBatch(.test(folder, inputs: [path], out: nil), pipeline: pipeline)
        #expect(result.counts.exported == 3)
        let lines = try stdout.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(lines.map { $0["kind"]?.stringValue } == ["prime_contract", "change_order", "spectrum_import"])
        #expect(lines[2]["origin_id"] == .string("procore:pcco:77"))
        #expect(lines[2]["file"]?.stringValue.flatMap(UnitFiles.slug) == "procore-pcco-77.xml")
        #expect(lines[2]["xml"] == .string("<?xml version=\"1.0\"?>\n<Envelope>procore:pcco:77</Envelope>\n"))
    }

    @Test func anExportersWarningsAreKeptPerDocumentAndSaidOnce() throws {
        let folder = TemporaryFolder()
        var pipeline = TestPipeline.make()
        let sameForAll = Diagnostic.warning(.FMT004, "no Spectrum Authorization_ID", at: SourceLocation(field: "Authorization_ID"))
        pipeline.export = { request in
            let cut = Diagnostic.warning(.FMT005, "description of \(request.document.originId) cut", at: request.document.source)
            return .exported(ExportedDocument(fileName: request.target.fileName(for: request.document), bytes: [0x0A], warnings: [sameForAll, cut]))
        }
        let path = folder.write("in.jsonl", Fixtures.jsonl([
            Fixtures.procoreChangeOrder(id: "77", job: "24-1017"), Fixtures.procoreChangeOrder(id: "78", job: "24-1017"),
        ]))
        let (result, _, stderr) = try runBatch(.test(folder, inputs: [path]), pipeline: pipeline)
        #expect(result.counts.exported == 2)
        #expect(result.outcomes.map { $0.diagnostics.map(\.code) } == [[.FMT004, .FMT005], [.FMT004, .FMT005]])
        #expect(stderr.components(separatedBy: "no Spectrum Authorization_ID").count - 1 == 1)
        #expect(stderr.contains("description of procore:pcco:77 cut"))
        #expect(stderr.contains("description of procore:pcco:78 cut"))
    }

    @Test func foldersGiveTheirFilesInNameOrderLeavingOutHiddenAndPartialOnes() throws {
        let folder = TemporaryFolder()
        folder.write("in/b.jsonl", "")
        folder.write("in/a.jsonl", "")
        folder.write("in/.hidden", "")
        folder.write("in/c.jsonl.part", "")
        folder.write("in/d.tmp", "")
        folder.write("in/sub/e.jsonl", "")
        let (files, failures) = FrontEnd.expand([folder.file("in"), folder.file("x")])
        // Subfolders are read too (issue 16), by the same rules.
        #expect(files == [folder.file("in/a.jsonl"), folder.file("in/b.jsonl"), folder.file("in/sub/e.jsonl")])
        #expect(failures.map(\.path) == [folder.file("x")])
    }

    @Test func anUnwritableOutFolderStopsTheRunWith73AndRecordsNothing() throws {
        let folder = TemporaryFolder()
        folder.write("blocker", "a file where the out folder should be")
        let path = folder.write("in.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017")]))
        let (result, _, stderr) = try runBatch(.test(folder, inputs: [path], out: "blocker/out"))
        #expect(result.status == .cannotCreate)
        #expect(result.fatal != nil)
        #expect(stderr.contains("cannot create folder"))
        #expect(try Ledger(path: folder.file("ledger.sqlite")).entries().isEmpty)
    }

    @Test func aValidatorThatLosesDocumentsIsAnInternalError() throws {
        let folder = TemporaryFolder()
        var pipeline = TestPipeline.make()
        pipeline.validate = { _, _ in [] }
        let path = folder.write("in.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017")]))
        let (result, _, _) = try runBatch(.test(folder, inputs: [path]), pipeline: pipeline)
        #expect(result.status == .software)
    }

    @Test func anExporterRejectIsAReject() throws {
        let folder = TemporaryFolder()
        var pipeline = TestPipeline.make()
        pipeline.export = { request in
            .rejected(Reject(document: request.document.json, diagnostics: [.error(.REC001, "billing revenue does not add up", at: request.document.source)]))
        }
        let path = folder.write("in.jsonl", Fixtures.jsonl([Fixtures.changeOrder(job: "24-1017", primeContract: "31504417")]))
        let (result, _, _) = try runBatch(.test(folder, inputs: [path]), pipeline: pipeline)
        #expect(result.outcomes.map(\.action) == [.rejected])
        #expect(try Ledger(path: folder.file("ledger.sqlite")).entries().isEmpty)
        #expect(folder.units("out").isEmpty)
    }

    /// Two runs over the same documents against one ledger at the same time: each document is
    /// exported by exactly one of them; the other sees it unchanged.
    @Test func twoRunsAtOnceExportEachDocumentOnce() async throws {
        let folder = TemporaryFolder()
        let path = folder.write("in.jsonl", Fixtures.jsonl((0..<60).map { Fixtures.contract(job: "J\($0)", project: "P\($0)") }))
        let ledger = folder.file("ledger.sqlite")
        _ = try Ledger(path: ledger)
        let outs = [folder.file("out0"), folder.file("out1")]
        let results = try await withThrowingTaskGroup(of: RunCounts.self) { group in
            for index in 0..<2 {
                group.addTask {
                    var options = BatchOptions()
                    options.inputs = [path]
                    options.ledger = ledger
                    options.out = outs[index]
                    return try runBatch(options).result.counts
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.map(\.exported).reduce(0, +) == 60)
        #expect(results.map(\.unchanged).reduce(0, +) == 60)
        #expect(folder.units("out0").count + folder.units("out1").count == 60)
        let entries = try Ledger(path: ledger).entries()
        #expect(entries.count == 60)
        #expect(entries.allSatisfy { $0.version == 1 })
        #expect(try Ledger(path: ledger).integrityCheck() == "ok")
    }

    @Test func theExporterIsToldAboutThePreviousExport() throws {
        let folder = TemporaryFolder()
        let seen = LockedList<Int?>()
        var pipeline = TestPipeline.make()
        let export = pipeline.export
        pipeline.export = { request in
            seen.append(request.previous?.version)
            return export(request)
        }
        let path = folder.write("in.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017")]))
        _ = try runBatch(.test(folder, inputs: [path]), pipeline: pipeline)
        // A consumer takes the unit: the target has the create, so the change is an update.
        try FileManager.default.moveItem(atPath: folder.file(folder.unit("out", "spectrum-1-24-1017-own100.json")), toPath: folder.file("taken.json"))
        folder.write("in.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017", title: "Renamed")]))
        _ = try runBatch(.test(folder, inputs: [path]), pipeline: pipeline)
        #expect(seen.items == [nil, 1])
    }
}

final class LockedList<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [T] = []
    func append(_ item: T) { lock.withLock { storage.append(item) } }
    var items: [T] { lock.withLock { storage } }
}

struct ProgressTests {
    @Test func drawsInPlaceAndErasesBeforeOtherOutput() {
        let captured = CapturedOutput()
        let progress = ProgressLine(sink: captured.sink, enabled: true, delay: 0)
        progress.update("sov-run: 1/3 documents")
        progress.clear()
        try? captured.sink.write("a diagnostic\n")
        progress.update("sov-run: 2/3 documents")
        progress.finish()
        #expect(captured.text == "\r\u{1B}[Ksov-run: 1/3 documents\r\u{1B}[Ka diagnostic\n\r\u{1B}[Ksov-run: 2/3 documents\r\u{1B}[K")
    }

    @Test func staysSilentWhenNotATerminal() {
        let captured = CapturedOutput()
        let progress = ProgressLine(sink: captured.sink, enabled: false, delay: 0)
        progress.update("sov-run: 1/3 documents")
        progress.finish()
        #expect(captured.text.isEmpty)
    }

    @Test func aBatchWithoutATerminalPrintsNoProgress() throws {
        let folder = TemporaryFolder()
        let path = folder.write("in.jsonl", Fixtures.jsonl((0..<50).map { Fixtures.contract(job: "J\($0)") }))
        let (_, _, stderr) = try runBatch(.test(folder, inputs: [path]))
        #expect(!stderr.contains("\r"))
        #expect(!stderr.contains("\u{1B}"))
    }
}
