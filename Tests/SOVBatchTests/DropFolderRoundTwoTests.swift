
#if canImport(Glibc)
@testable import SOVBatch
import Foundation
import Glibc
import SOVCore
import SOVFrontEnd
import SOVTestSupport
import Testing
#endif

/// Issue 16, the drop folder and folder inputs: nothing outside DIR is read, nothing is skipped
/// silently, nothing half-written is taken, and one watcher holds a folder whatever its files.
@Suite(.serialized)
struct DropFolderRoundTwoTests {
    /// Creates `name` (bytes, which need not be UTF-8) in `folder` with `text`.
    static func create(raw name: [UInt8], in folder: String, _ text: String) {
        let path = FileSystem.rawPath(folder, name)
        let fd = path.withUnsafeBufferPointer { open($0.baseAddress!, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        precondition(fd >= 0)
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func rejectLines(_ fixture: DropFolderFixture, _ name: String) throws -> [JSONValue] {
        let text = fixture.temporary.text("drop/rejected/" + name) ?? ""
        return try JSONParser.parseSequence(Array(text.utf8)).map(\.value)
    }

    @Test("a link inside a dropped folder is never followed: skipped and said per file, its target never read")
    func linksInADroppedFolder() throws {
        let fixture = DropFolderFixture()
        let secret = fixture.temporary.write("outside/secret.jsonl", Fixtures.jsonl([Fixtures.contract(job: "SECRET-7")]) + "root:x:0:0:SECRET-MARKER\n")
        fixture.drop("b/good.jsonl", [Fixtures.contract(job: "24-1017")])
        try FileManager.default.createSymbolicLink(atPath: fixture.drop.inbox + "/b/p.csv", withDestinationPath: secret)
        try FileManager.default.createSymbolicLink(atPath: fixture.drop.inbox + "/b/sub", withDestinationPath: fixture.temporary.file("outside"))
        #expect(mkfifo(fixture.drop.inbox + "/b/pipe.csv", 0o600) == 0)
        let (watcher, _) = fixture.watcher()
        #expect(watcher.run() == .someRejected)
        #expect(fixture.names("archive") == ["b"])
        // Only the regular file went out; nothing from outside the drop folder.
        #expect(fixture.units("outbox") == ["spectrum-1-24-1017-own100.json"])
        let text = fixture.temporary.text("drop/rejected/b.rejects.jsonl") ?? ""
        #expect(!text.contains("SECRET"))
        let lines = try Self.rejectLines(fixture, "b.rejects.jsonl")
        let said = lines.compactMap { $0["diagnostics"]?.arrayValue?.first }
        #expect(said.map { $0["file"]?.stringValue ?? "" } == ["p.csv", "pipe.csv", "sub"].map { fixture.drop.archive + "/b/" + $0 })
        #expect(said.allSatisfy { $0["code"]?.stringValue == "IO001" })
        #expect(said[0]["message"]?.stringValue?.contains("a symbolic link") == true)
        #expect(said[1]["message"]?.stringValue?.contains("FIFO") == true)
    }

    @Test("files in subfolders of a dropped folder are read, in a stable order, by the same rules")
    func subfoldersOfADroppedFolder() throws {
        let fixture = DropFolderFixture()
        fixture.drop("drops/2026-11-27/a.jsonl", [Fixtures.contract(job: "A")])
        fixture.drop("drops/2026-11-28/b.jsonl", [Fixtures.contract(job: "B")])
        fixture.drop("drops/2026-11-28/.hidden.jsonl", [Fixtures.contract(job: "H")])
        fixture.drop("drops/c.jsonl", [Fixtures.contract(job: "C")])
        let (watcher, _) = fixture.watcher()
        #expect(watcher.run() == .ok)
        #expect(fixture.units("outbox") == ["spectrum-1-a-own100.json", "spectrum-1-b-own100.json", "spectrum-1-c-own100.json"])
        #expect(fixture.names("archive") == ["drops"])
    }

    @Test("sov-run's folder inputs: subfolders read in byte order of their paths; what is not read is said")
    func runnerReadsSubfolders() throws {
        let folder = TemporaryFolder()
        folder.write("in/z.jsonl", "")
        folder.write("in/2026/11/a.jsonl", "")
        folder.write("in/2026/b.jsonl", "")
        folder.write("in/a.part", "")
        folder.write("in/.git/config", "")
        try FileManager.default.createSymbolicLink(atPath: folder.file("in/loop"), withDestinationPath: folder.file("in"))
        try FileManager.default.createSymbolicLink(atPath: folder.file("in/link.jsonl"), withDestinationPath: folder.file("in/z.jsonl"))
        Self.create(raw: Array("bad".utf8) + [0xFF] + Array(".jsonl".utf8), in: folder.file("in"), "")
        let scan = FrontEnd.scan([folder.file("in")])
        #expect(scan.files == ["in/2026/11/a.jsonl", "in/2026/b.jsonl", "in/link.jsonl", "in/z.jsonl"].map(folder.file))
        let skipped = scan.skipped.compactMap { $0.diagnostics.first }
        #expect(skipped.map { $0.location.file ?? "" } == [folder.file("in/bad%FF.jsonl"), folder.file("in/loop")])
        #expect(skipped[0].message.contains("not valid UTF-8"))
        #expect(skipped[1].message.contains("links to folders are not followed"))
        // The drop folder's scan follows no link at all.
        let confined = FrontEnd.scan([folder.file("in")], followingLinks: false)
        #expect(confined.files == ["in/2026/11/a.jsonl", "in/2026/b.jsonl", "in/z.jsonl"].map(folder.file))
        // And a run reports them as rejects (exit 1), not success.
        let options = BatchOptions.test(folder, inputs: [folder.file("in")])
        let (result, _, _) = try runBatch(options)
        #expect(result.status == .someRejected)
        #expect(result.outcomes(.rejected).count == 2)
    }

    @Test("an inbox name that is not UTF-8 is processed under a printable name; so is one inside a dropped folder")
    func namesThatAreNotUTF8() throws {
        let fixture = DropFolderFixture()
        Self.create(raw: Array("jobs-".utf8) + [0xE9] + Array(".jsonl".utf8), in: fixture.drop.inbox, Fixtures.jsonl([Fixtures.contract(job: "A")]))
        try FileManager.default.createDirectory(atPath: fixture.drop.inbox + "/f", withIntermediateDirectories: true)
        Self.create(raw: Array("x".utf8) + [0xFE] + Array(".jsonl".utf8), in: fixture.drop.inbox + "/f", Fixtures.jsonl([Fixtures.contract(job: "B", total: "1.00")]))
        let (watcher, log) = fixture.watcher()
        #expect(try watcher.readyNames() == ["f", "jobs-%E9.jsonl"])
        #expect(watcher.run() == .someRejected)
        #expect(fixture.names("inbox").isEmpty)
        #expect(fixture.names("archive") == ["f", "jobs-%E9.jsonl"])
        #expect(fixture.units("outbox") == ["spectrum-1-a-own100.json"])
        // The file in the folder was read: its contract is rejected (PC003) under its new name.
        let reject = try #require(try Self.rejectLines(fixture, "f.rejects.jsonl").first)
        #expect(reject["diagnostics"]?.arrayValue?.first?["code"]?.stringValue == "PC003")
        #expect(log.text.contains("jobs-%E9.jsonl is not UTF-8"))
        #expect(log.text.contains("read as x%FE.jsonl"))
    }

    @Test("a file is taken only when its size and time are unchanged across two scans --settle apart")
    func settlesAcrossTwoScans() throws {
        let fixture = DropFolderFixture()
        var options = fixture.options(once: false, settle: 1)
        options.once = false
        let log = CapturedOutput()
        let watcher = Watcher(pipeline: TestPipeline.make(), options: options, log: log.sink)
        try watcher.start()
        defer { watcher.close() }
        // A writer that wrote its first contract and pauses at a record boundary.
        let path = fixture.drop("slow.jsonl", [Fixtures.contract(job: "A")])
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: path)
        #expect(try watcher.pass().isEmpty, "first sight: never taken")
        usleep(1_100_000)
        // It writes on (same second or not, the size differs).
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(Fixtures.jsonl([Fixtures.contract(job: "B")]).utf8))
        try handle.close()
        #expect(try watcher.pass().isEmpty, "changed since the last scan: not taken")
        usleep(1_100_000)
        let done = try watcher.pass()
        #expect(done.map(\.disposition) == [.archived])
        #expect(fixture.units("outbox") == ["spectrum-1-a-own100.json", "spectrum-1-b-own100.json"])
    }

    @Test("--once looks twice, --settle apart, and takes what stayed the same")
    func onceSettles() throws {
        let fixture = DropFolderFixture()
        fixture.drop("a.jsonl", [Fixtures.contract(job: "A")])
        let watcher = Watcher(pipeline: TestPipeline.make(), options: fixture.options(once: true, settle: 1), log: CapturedOutput().sink)
        let start = Date()
        #expect(watcher.run() == .ok)
        #expect(Date().timeIntervalSince(start) >= 1)
        #expect(fixture.names("archive") == ["a.jsonl"])
    }

    @Test("a folder holding a .part or .tmp file is still being written: left alone")
    func folderWithPartialFile() throws {
        let fixture = DropFolderFixture()
        fixture.drop("job/a.jsonl", [Fixtures.contract(job: "A")])
        fixture.temporary.write("drop/inbox/job/b.jsonl.part", "")
        let watcher = Watcher(pipeline: TestPipeline.make(), options: fixture.options(once: true, settle: 1), log: CapturedOutput().sink)
        #expect(watcher.run() == .ok)
        #expect(fixture.names("inbox") == ["job"])
    }

    @Test("--ready-suffix .done: x.csv is taken only once x.csv.done exists; the marker goes with it")
    func readySuffix() throws {
        let fixture = DropFolderFixture()
        fixture.drop("a.jsonl", [Fixtures.contract(job: "A")])
        fixture.drop("b.jsonl", [Fixtures.contract(job: "B")])
        fixture.temporary.write("drop/inbox/b.jsonl.done", "")
        fixture.temporary.write("drop/inbox/orphan.done", "")
        var options = fixture.options(once: true, settle: 600)
        options.readySuffix = ".done"
        let watcher = Watcher(pipeline: TestPipeline.make(), options: options, log: CapturedOutput().sink)
        #expect(try watcher.readyNames() == ["b.jsonl"])
        #expect(watcher.run() == .ok)
        #expect(fixture.names("archive") == ["b.jsonl"])
        #expect(fixture.names("inbox") == ["a.jsonl", "orphan.done"])
    }

    @Test("deleting .sov-watch.lock does not let a second watcher in: the folder itself is locked")
    func lockSurvivesLockFileDeletion() throws {
        let fixture = DropFolderFixture()
        let first = Watcher(pipeline: TestPipeline.make(), options: fixture.options(), log: CapturedOutput().sink)
        try first.start()
        defer { first.close() }
        unlink(fixture.drop.lockFile)
        let second = Watcher(pipeline: TestPipeline.make(), options: fixture.options(), log: CapturedOutput().sink)
        #expect(second.run() == .locked)
        first.close()
        // Released, the folder is free again.
        #expect(Watcher(pipeline: TestPipeline.make(), options: fixture.options(), log: CapturedOutput().sink).run() == .ok)
    }

    @Test("sov-watch stops on SIGHUP as on SIGTERM, exit 0")
    func sighupStopsTheWatcher() throws {
        let folder = TemporaryFolder()
        let watcher = try ChildProcess(Executables.path("sov-watch"), [folder.file("drop"), "--interval", "1"])
        // Started once it holds the lock.
        for _ in 0..<100 where !folder.exists("drop/.sov-watch.lock") { usleep(50_000) }
        usleep(200_000)
        watcher.send(SIGHUP)
        for _ in 0..<100 where watcher.isRunning { usleep(50_000) }
        if watcher.isRunning { watcher.send(SIGKILL) }
        let outcome = try watcher.wait()
        #expect(!outcome.killedBySignal)
        #expect(outcome.status == 0, "\(outcome.stderr)")
    }

    @Test("-q never hides the reason for a fatal exit (66, 65 for a whole file)")
    func quietKeepsTheReason() throws {
        let folder = TemporaryFolder()
        let missing = try Executables.run("sov-run", ["-q", "--ledger", "l.sqlite", "nope.csv"], in: folder.path)
        #expect(missing.status == 66)
        #expect(missing.stderr.contains("nope.csv: no such file or folder"))
        folder.write("report.pdf", "%PDF-1.4\n1 0 obj\n")
        let pdf = try Executables.run("sov-parse", ["-q", "report.pdf"], in: folder.path)
        #expect(pdf.status == 65)
        #expect(pdf.stderr.contains("report.pdf: is a PDF document"))
        folder.write("bad.csv", "Company_Code,Job_Numbr,Customer_Code,Job_Description,Original_Contract\n1,2,3,4,5.00\n")
        let header = try Executables.run("sov-run", ["-q", "--ledger", "l.sqlite", "bad.csv"], in: folder.path)
        #expect(header.status == 65)
        #expect(header.stderr.contains("bad.csv:1: error: [FMT004]"))
    }

    @Test("temporary .NAME.PID.tmp files a killed sov-run left in out/ are removed by the next run")
    func staleTemporaryFilesRemoved() throws {
        let folder = TemporaryFolder()
        folder.write("in.csv", "Company_Code,Job_Number,Customer_Code,Job_Description,Original_Contract,Billing_Item,Billing_Description,Item_Original_Contract\n1,24-1,OWN1,Job,100.00,01,Work,100.00\n")
        folder.write("out/.spectrum_1_24-1_OWN1.json.4242.tmp", "half")
        let run = try Executables.run("sov-run", ["--ledger", "l.sqlite", "--out", "out", "in.csv"], in: folder.path)
        #expect([0, 1].contains(run.status), "\(run.stderr)")
        #expect(!folder.names("out").contains { $0.hasSuffix(".tmp") }, "\(folder.names("out"))")
    }
}
