@testable import SOVBatch
import Foundation
import SOVCore
import SOVFrontEnd
import SOVTestSupport
import Testing

/// A drop folder in a temporary folder, and a way to start watchers on it.
final class DropFolderFixture {
    let temporary = TemporaryFolder()
    let drop: DropFolder

    init() {
        drop = DropFolder(temporary.file("drop"))
        try! drop.create()
    }

    var ledgerPath: String { drop.defaultLedger }

    func options(once: Bool = true, settle: Int = 0, report: String? = nil) -> WatchOptions {
        var batch = BatchOptions()
        batch.ledger = ledgerPath
        batch.report = report
        var options = WatchOptions(folder: drop, batch: batch)
        options.once = once
        options.settleSeconds = settle
        return options
    }

    func watcher(settle: Int = 0, report: String? = nil, pipeline: BatchPipeline = TestPipeline.make()) -> (Watcher, CapturedOutput) {
        let log = CapturedOutput()
        return (Watcher(pipeline: pipeline, options: options(settle: settle, report: report), log: log.sink), log)
    }

    @discardableResult
    func drop(_ name: String, _ documents: [CanonicalDocument]) -> String {
        temporary.write("drop/inbox/" + name, Fixtures.jsonl(documents))
    }

    func names(_ folder: String) -> [String] { temporary.names("drop/" + folder) }
    func units(_ folder: String) -> [String] { temporary.units("drop/" + folder) }

    /// `count` files of `perFile` contracts each, every contract for its own job.
    func dropBatch(files count: Int, perFile: Int) -> [String] {
        (0..<count).map { file in
            let name = String(format: "batch-%02d.jsonl", file)
            drop(name, (0..<perFile).map { Fixtures.contract(job: "F\(file)-D\($0)") })
            return name
        }
    }

    /// What every finished drop folder must look like after `names` were dropped, each holding
    /// `perFile` documents: inbox and work empty, every input archived once, every document
    /// exported exactly once (one outbox file, one ledger export).
    func expectAllDoneExactlyOnce(_ names: [String], perFile: Int, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        #expect(self.names("inbox").isEmpty, sourceLocation: sourceLocation)
        #expect(self.names("work").isEmpty, sourceLocation: sourceLocation)
        #expect(self.names("archive") == names.sorted(), sourceLocation: sourceLocation)
        let expected = (0..<names.count).flatMap { file in (0..<perFile).map { "spectrum-1-f\(file)-d\($0)-own100.json" } }.sorted()
        #expect(self.units("outbox") == expected, sourceLocation: sourceLocation)
        for name in expected {
            let text = temporary.text(temporary.unit("drop/outbox", name)) ?? ""
            #expect(text.hasSuffix("\n") && text.split(separator: "\n").count == 1, "\(name) is whole", sourceLocation: sourceLocation)
        }
        let ledger = try Ledger(path: ledgerPath)
        #expect(try ledger.integrityCheck() == "ok", sourceLocation: sourceLocation)
        let entries = try ledger.entries()
        #expect(entries.count == expected.count, sourceLocation: sourceLocation)
        for entry in entries {
            #expect(try ledger.history(originId: entry.originId, target: entry.target).map(\.action) == ["new"], "\(entry.originId) exported once", sourceLocation: sourceLocation)
        }
    }
}

struct WatcherTests {
    @Test func createsItsFoldersAndProcessesWhatIsThere() throws {
        let fixture = DropFolderFixture()
        try FileManager.default.removeItem(atPath: fixture.drop.outbox)
        fixture.drop("a.jsonl", [Fixtures.contract(job: "24-1017", project: "5001"), Fixtures.changeOrder(job: "24-1017")])
        fixture.drop("b.jsonl", [Fixtures.contract(job: "24-2000", total: "1.00"), Fixtures.procoreChangeOrder(id: "9", job: "24-1017")])
        let (watcher, log) = fixture.watcher()
        #expect(watcher.run() == .someRejected)
        #expect(fixture.names("inbox").isEmpty)
        #expect(fixture.names("work").isEmpty)
        #expect(fixture.names("archive") == ["a.jsonl", "b.jsonl"])
        #expect(fixture.units("outbox") == ["procore-pcco-9.xml", "spectrum-1-24-1017-own100-co-003.json", "spectrum-1-24-1017-own100.json"])
        #expect(fixture.names("rejected") == ["b.jsonl.rejects.jsonl"])
        let reject = try JSONParser.parse(try #require(fixture.temporary.text("drop/rejected/b.jsonl.rejects.jsonl")).trimmingCharacters(in: .newlines))
        #expect(reject["diagnostics"]?.arrayValue?.first?["code"] == .string("PC003"))
        #expect(log.text.contains("sov-watch: a.jsonl -> archive/a.jsonl"))
        #expect(try Ledger(path: fixture.ledgerPath).runs().map(\.mode) == ["watch", "watch"])
    }

    @Test func aReRunExportsNothing() throws {
        let fixture = DropFolderFixture()
        fixture.drop("a.jsonl", [Fixtures.contract(job: "24-1017"), Fixtures.changeOrder(job: "24-1017")])
        #expect(fixture.watcher().0.run() == .ok)
        let before = try FileManager.default.attributesOfItem(atPath: fixture.temporary.file(fixture.temporary.unit("drop/outbox", "spectrum-1-24-1017-own100.json")))[.modificationDate] as? Date
        // The same file dropped again, under the same name and another.
        fixture.drop("a.jsonl", [Fixtures.contract(job: "24-1017"), Fixtures.changeOrder(job: "24-1017")])
        fixture.drop("copy.jsonl", [Fixtures.contract(job: "24-1017")])
        let (watcher, _) = fixture.watcher()
        let files = try { () throws -> [WatchedFile] in
            try watcher.start()
            defer { watcher.close() }
            return try watcher.pass()
        }()
        #expect(files.map(\.disposition) == [.archived, .archived])
        // Without a report the watcher lists only rejected outcomes; every document is counted.
        #expect(files.map(\.result.counts.unchanged) == [2, 1])
        #expect(files.map(\.result.counts.documentsIn) == [2, 1])
        #expect(files.flatMap(\.result.outcomes).isEmpty)
        #expect(fixture.names("archive") == ["a.2.jsonl", "a.jsonl", "copy.jsonl"])
        #expect(fixture.units("outbox").count == 2)
        let after = try FileManager.default.attributesOfItem(atPath: fixture.temporary.file(fixture.temporary.unit("drop/outbox", "spectrum-1-24-1017-own100.json")))[.modificationDate] as? Date
        #expect(before == after)
        #expect(try Ledger(path: fixture.ledgerPath).entries().allSatisfy { $0.version == 1 })
    }

    @Test func leavesFilesThatAreStillBeingWrittenAlone() throws {
        let fixture = DropFolderFixture()
        fixture.drop(".uploading.jsonl", [Fixtures.contract(job: "A")])
        fixture.drop("b.jsonl.tmp", [Fixtures.contract(job: "B")])
        fixture.drop("c.jsonl.part", [Fixtures.contract(job: "C")])
        fixture.drop("fresh.jsonl", [Fixtures.contract(job: "D")])
        let old = fixture.drop("old.jsonl", [Fixtures.contract(job: "E")])
        try FileManager.default.createDirectory(atPath: fixture.drop.inbox + "/folder", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: fixture.drop.inbox + "/link.jsonl", withDestinationPath: old)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: old)

        // Hidden and partial names and links are never ready; with a settle time of ten minutes
        // nothing is at first sight either, however old (settling compares two scans).
        let (watcher, _) = fixture.watcher(settle: 600)
        #expect(try watcher.readyNames() == [])
        let (eager, _) = fixture.watcher(settle: 0)
        #expect(try eager.readyNames() == ["folder", "fresh.jsonl", "old.jsonl"])
    }

    @Test func anUnusableFileGoesToFailedWithAnErrorReportBesideIt() throws {
        let fixture = DropFolderFixture()
        fixture.temporary.write("drop/inbox/garbage.xml", "<?xml version=\"1.0\"?>\n<nope/>\n")
        fixture.drop("good.jsonl", [Fixtures.contract(job: "24-1017")])
        let (watcher, log) = fixture.watcher()
        #expect(watcher.run() == .dataError)
        #expect(fixture.names("failed") == ["garbage.xml", "garbage.xml.error.txt"])
        let report = try #require(fixture.temporary.text("drop/failed/garbage.xml.error.txt"))
        #expect(report.contains("sov-watch could not process garbage.xml (exit status 65)"))
        #expect(report.contains("not canonical JSON Lines"))
        #expect(fixture.names("archive") == ["good.jsonl"])
        #expect(fixture.names("rejected").isEmpty)
        #expect(fixture.names("work").isEmpty)
        #expect(log.text.contains("garbage.xml -> failed/garbage.xml"))
    }

    @Test func oneWatcherPerFolder() throws {
        let fixture = DropFolderFixture()
        let (first, _) = fixture.watcher()
        try first.start()
        let (second, log) = fixture.watcher()
        #expect(second.run() == .locked)
        #expect(log.text.contains("another sov-watch is watching this folder"))
        #expect(log.text.contains("(pid \(getpid()))"))
        first.close()
        #expect(fixture.watcher().0.run() == .ok)
    }

    @Test func removesTemporaryFilesACrashLeftHalfWritten() throws {
        let fixture = DropFolderFixture()
        fixture.temporary.write("drop/outbox/.spectrum_1_X_OWN100.json.4242.tmp", "{\"half")
        fixture.temporary.write("drop/rejected/.a.jsonl.rejects.jsonl.4242.tmp", "")
        #expect(fixture.watcher().0.run() == .ok)
        #expect(fixture.units("outbox").isEmpty)
        #expect(fixture.names("rejected").isEmpty)
    }

    @Test func writesTheReportOfThePass() throws {
        let fixture = DropFolderFixture()
        fixture.drop("a.jsonl", [Fixtures.contract(job: "24-1017")])
        fixture.drop("b.jsonl", [Fixtures.changeOrder(job: "24-1017")])
        let report = fixture.temporary.file("report.html")
        #expect(fixture.watcher(report: report).0.run() == .ok)
        let html = try #require(fixture.temporary.text("report.html"))
        #expect(html.contains("prime contract 1/24-1017/OWN100"))
        #expect(html.contains("change order 003 of 1/24-1017/OWN100"))
    }

    /// Every `file` member at any depth of a JSON value.
    static func files(in value: JSONValue) -> [String] {
        switch value {
        case .object(let members):
            members.flatMap { $0.key == "file" ? [$0.value.stringValue ?? "<not text>"] : files(in: $0.value) }
        case .array(let items): items.flatMap(files)
        default: []
        }
    }

    /// What is kept of a file (its rejects, the error report, the run report) names where the
    /// file is filed, under the free name chosen there, never work/, which is empty afterwards.
    /// With the real pipeline: the reader's own locations, and the validator's, which follow
    /// the documents.
    @Test func whatIsKeptNamesWhereTheInputIsFiled() throws {
        let fixture = DropFolderFixture()
        // The names are taken: the inputs go to archive/b.2.csv and failed/c.2.xml.
        fixture.temporary.write("drop/archive/b.csv", "an earlier b.csv\n")
        fixture.temporary.write("drop/failed/c.xml", "an earlier c.xml\n")
        fixture.temporary.write("drop/inbox/b.csv", """
            Company_Code,Job_Number,Customer_Code,Contract_Number,Job_Description,Customer_Name,Price_Method_Code,Status_Code,Contract_Date,Original_Contract,Billing_Item,Billing_Description,Item_Original_Contract
            1,24-0001,OWN100,C-1,Job 1,Owner 1,F,A,01/15/2025,3500.00,0100,Sitework,1000.00
            1,24-0001,OWN100,C-1,Job 1,Owner 1,F,A,01/15/2025,3500.00,0200,Building,2000.00

            """)
        fixture.temporary.write("drop/inbox/c.xml", "<?xml version=\"1.0\"?>\n<!DOCTYPE x>\n<x/>\n")
        let report = fixture.temporary.file("report.html")
        let (watcher, log) = fixture.watcher(report: report, pipeline: try BatchPipeline.standard(BatchOptions()))
        #expect(watcher.run() == .dataError)
        #expect(fixture.names("archive") == ["b.2.csv", "b.csv"])
        #expect(fixture.names("failed") == ["c.2.xml", "c.2.xml.error.txt", "c.xml"])
        #expect(fixture.names("rejected") == ["b.2.csv.rejects.jsonl"])

        let archived = fixture.drop.archive + "/b.2.csv"
        let rejects = try #require(fixture.temporary.text("drop/rejected/b.2.csv.rejects.jsonl"))
        #expect(!rejects.contains("/work/"))
        let lines = try rejects.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(lines.count == 1)
        let files = lines.flatMap(Self.files)
        #expect(files.count >= 2, "the document's source and the diagnostic")
        #expect(files.allSatisfy { $0 == archived }, "\(files)")

        let errorReport = try #require(fixture.temporary.text("drop/failed/c.2.xml.error.txt"))
        #expect(errorReport.contains(fixture.drop.failed + "/c.2.xml:3: error: [FMT007]"))
        #expect(!errorReport.contains("/work/"))
        let html = try #require(fixture.temporary.text("report.html"))
        #expect(html.contains(archived))
        #expect(!html.contains("/work/"))
        // What is said while it happens may name either; it says where the file went.
        #expect(log.text.contains("b.csv -> archive/b.2.csv"))
    }

    /// A crash after the outputs, before the archive: the rerun from work/ writes the same
    /// rejects file, naming the same archived path, and files the input there.
    @Test func aCrashBeforeTheArchiveKeepsTheNamesRight() throws {
        let fixture = DropFolderFixture()
        fixture.temporary.write("drop/archive/a.jsonl", "taken\n")
        fixture.temporary.write("drop/inbox/a.jsonl", Fixtures.jsonl([Fixtures.contract(job: "24-1017")]) + "{\"kind\": \"mystery\"}\n")
        let (crashing, _) = fixture.watcher()
        crashing.checkpoint = { if case .outputsDone = $0 { throw Crash() } }
        try crashing.start()
        #expect(throws: Crash.self) { try crashing.pass() }
        crashing.close()
        #expect(fixture.names("work") == ["a.jsonl"])
        let first = try #require(fixture.temporary.text("drop/rejected/a.2.jsonl.rejects.jsonl"))

        #expect(fixture.watcher().0.run() == .someRejected)
        #expect(fixture.names("archive") == ["a.2.jsonl", "a.jsonl"])
        #expect(fixture.names("rejected") == ["a.2.jsonl.rejects.jsonl"])
        let rejects = try #require(fixture.temporary.text("drop/rejected/a.2.jsonl.rejects.jsonl"))
        #expect(rejects == first)
        let files = try rejects.split(separator: "\n").flatMap { Self.files(in: try JSONParser.parse(String($0))) }
        #expect(!files.isEmpty)
        #expect(files.allSatisfy { $0 == fixture.drop.archive + "/a.2.jsonl" }, "\(files)")
    }

    @Test func aRenameTouchesThatInputOnly() {
        let rename = InputRename(from: "d/work/job", to: "d/archive/job.2")
        #expect(rename.path("d/work/job") == "d/archive/job.2")
        #expect(rename.path("d/work/job/sov.csv") == "d/archive/job.2/sov.csv")
        #expect(rename.path("d/work/job.csv") == "d/work/job.csv")
        #expect(rename.path("map.csv") == "map.csv")
        #expect(rename.text("a second job header (the first is at d/work/job/h.csv:3)") == "a second job header (the first is at d/archive/job.2/h.csv:3)")
        #expect(rename.text("d/work/job2/x and d/work/job") == "d/work/job2/x and d/archive/job.2")
        let record: JSONValue = .object([
            JSONMember("file", .string("d/work/job/sov.csv")), JSONMember("line", .int(4)),
            JSONMember("fields", .object([JSONMember("file", .string("drawing.pdf"))])),
        ])
        #expect(rename.json(record) == .object([
            JSONMember("file", .string("d/archive/job.2/sov.csv")), JSONMember("line", .int(4)),
            JSONMember("fields", .object([JSONMember("file", .string("drawing.pdf"))])),
        ]))
        let failure = rename.failure(InputFailure(path: "d/work/job/h.xml", status: .dataError, message: "unusable", diagnostics: [
            .error(.FMT007, "a DOCTYPE", at: SourceLocation(file: "d/work/job/h.xml", line: 2)),
        ]))
        #expect(failure.path == "d/archive/job.2/h.xml")
        #expect(failure.diagnostics.map(\.location.file) == ["d/archive/job.2/h.xml"])
    }

    struct Crash: Error {}

    /// Which durable step to crash after, and at which occurrence of it.
    enum CrashPoint: String, CaseIterable, CustomTestStringConvertible {
        case afterClaim, afterFirstOutputOfAFile, afterAnOutputBeforeItsLedgerRow, afterTheCommitBeforeTheOutbox, afterALedgerRow, afterAllOutputsBeforeArchive, afterArchive

        var testDescription: String { rawValue }

        func matches(_ checkpoint: WatchCheckpoint) -> Bool {
            switch (self, checkpoint) {
            case (.afterClaim, .claimed), (.afterAllOutputsBeforeArchive, .outputsDone), (.afterArchive, .archived): true
            case (.afterFirstOutputOfAFile, .batch(.staged)), (.afterAnOutputBeforeItsLedgerRow, .batch(.staged)),
                (.afterTheCommitBeforeTheOutbox, .batch(.committed)), (.afterALedgerRow, .batch(.published)): true
            default: false
            }
        }

        /// Occurrence of the step to crash at: mid-batch, mid-file where that means something.
        var occurrence: Int {
            switch self {
            case .afterClaim, .afterAllOutputsBeforeArchive, .afterArchive, .afterTheCommitBeforeTheOutbox: 3
            case .afterFirstOutputOfAFile: 7  // file 3's first document (3 per file)
            case .afterAnOutputBeforeItsLedgerRow, .afterALedgerRow: 8  // file 3's second document
            }
        }
    }

    /// Stops the watcher at a durable step (as a crash would), then restarts it: nothing is lost,
    /// nothing is exported twice, every input is archived once.
    @Test(arguments: CrashPoint.allCases)
    func aCrashAnywhereLosesNothingAndExportsNothingTwice(at point: CrashPoint) throws {
        let fixture = DropFolderFixture()
        let names = fixture.dropBatch(files: 6, perFile: 3)
        let (crashing, _) = fixture.watcher()
        var seen = 0
        crashing.checkpoint = { checkpoint in
            guard point.matches(checkpoint) else { return }
            seen += 1
            if seen == point.occurrence { throw Crash() }
        }
        try crashing.start()
        #expect(throws: Crash.self) { try crashing.pass() }
        crashing.close()
        #expect(fixture.names("inbox").count + fixture.names("work").count + fixture.names("archive").count == 6)
        if point != .afterArchive { #expect(fixture.names("work").count == 1) }

        let (restarted, log) = fixture.watcher()
        #expect(restarted.run() == .ok)
        if point != .afterArchive { #expect(log.text.contains("was left in work by an interrupted run")) }
        try fixture.expectAllDoneExactlyOnce(names, perFile: 3)
    }

    /// A dropped folder is claimed, run and archived as one batch; one interrupted mid-batch is
    /// picked up from work on restart like a file.
    @Test func aFolderIsOneBatchAndSurvivesACrash() throws {
        let fixture = DropFolderFixture()
        fixture.drop("nightly/a.jsonl", [Fixtures.contract(job: "N-1"), Fixtures.contract(job: "N-2")])
        fixture.drop("nightly/b.jsonl", [Fixtures.contract(job: "N-3")])
        fixture.drop("nightly/.partial", [Fixtures.contract(job: "N-4")])
        let (crashing, _) = fixture.watcher()
        crashing.checkpoint = { if case .batch(.published) = $0 { throw Crash() } }
        try crashing.start()
        #expect(throws: Crash.self) { try crashing.pass() }
        crashing.close()
        #expect(fixture.names("work") == ["nightly"])

        let (restarted, log) = fixture.watcher()
        #expect(restarted.run() == .ok)
        #expect(log.text.contains("nightly was left in work by an interrupted run"))
        #expect(fixture.names("work").isEmpty)
        #expect(fixture.names("archive") == ["nightly"])
        #expect(fixture.temporary.names("drop/archive/nightly") == [".partial", "a.jsonl", "b.jsonl"])
        #expect(fixture.units("outbox") == ["spectrum-1-n-1-own100.json", "spectrum-1-n-2-own100.json", "spectrum-1-n-3-own100.json"])
        let ledger = try Ledger(path: fixture.ledgerPath)
        for entry in try ledger.entries() {
            #expect(try ledger.history(originId: entry.originId, target: entry.target).count == 1, "\(entry.originId) exported once")
        }
        #expect(try ledger.runs().last?.counts.documentsIn == 3)
    }

    /// A crash in the middle, and two more on restart, at different steps: still exactly once.
    @Test func repeatedCrashesConverge() throws {
        let fixture = DropFolderFixture()
        let names = fixture.dropBatch(files: 5, perFile: 2)
        for point in [CrashPoint.afterAnOutputBeforeItsLedgerRow, .afterALedgerRow, .afterClaim] {
            let (watcher, _) = fixture.watcher()
            var seen = 0
            watcher.checkpoint = { checkpoint in
                if point.matches(checkpoint) {
                    seen += 1
                    if seen == 2 { throw Crash() }
                }
            }
            try watcher.start()
            #expect(throws: Crash.self) { try watcher.pass() }
            watcher.close()
        }
        #expect(fixture.watcher().0.run() == .ok)
        try fixture.expectAllDoneExactlyOnce(names, perFile: 2)
    }

    @Test func aStopRequestFinishesTheCurrentFileFirst() throws {
        let fixture = DropFolderFixture()
        _ = fixture.dropBatch(files: 4, perFile: 2)
        let (watcher, _) = fixture.watcher()
        watcher.checkpoint = { checkpoint in
            if case .batch(.published) = checkpoint { watcher.requestStop() }
        }
        try watcher.start()
        let files = try watcher.pass()
        watcher.close()
        #expect(files.count == 1)
        #expect(files[0].result.counts.exported == 2)
        #expect(fixture.names("archive") == ["batch-00.jsonl"])
        #expect(fixture.names("work").isEmpty)
        #expect(fixture.names("inbox").count == 3)
    }
}
