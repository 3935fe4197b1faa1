
#if canImport(Glibc)
import Foundation
import Glibc
import SOVBatch
import SOVCore
import SOVFrontEnd
import SOVTestSupport
import Testing
#endif

// Real process deaths. A watcher cannot be forked safely from Swift, and sov-watch cannot run
// the test pipeline, so the watcher runs in a child process that is this very test binary,
// started with a filter that selects `WatchChild.runWatcherAsChild` and environment variables
// that tell it where to watch and where to pause. The parent kills it with SIGKILL or SIGTERM
// while it is paused at a known durable step, then restarts it.

enum ChildEnvironment {
    static let folder = "SOV_WATCH_CHILD_DIR"
    /// `staged:50`: pause at the 50th document whose unit is staged.
    static let pause = "SOV_WATCH_CHILD_PAUSE"
    static let marker = "SOV_WATCH_CHILD_MARKER"
    static let once = "SOV_WATCH_CHILD_ONCE"

    static var isChild: Bool { ProcessInfo.processInfo.environment[folder] != nil }
}

struct WatchChild {
    /// Not a test of its own: the body of the child process. Exits the process with the
    /// watcher's status.
    @Test(.enabled(if: ChildEnvironment.isChild, "runs only as the child process of the SIGKILL and SIGTERM tests"))
    func runWatcherAsChild() {
        let environment = ProcessInfo.processInfo.environment
        var batch = BatchOptions()
        let drop = DropFolder(environment[ChildEnvironment.folder]!)
        batch.ledger = drop.defaultLedger
        var options = WatchOptions(folder: drop, batch: batch)
        options.once = environment[ChildEnvironment.once] != nil
        options.interval = 1
        options.settleSeconds = 0
        let watcher = Watcher(pipeline: TestPipeline.make(), options: options)
        if let pause = environment[ChildEnvironment.pause], let marker = environment[ChildEnvironment.marker] {
            let parts = pause.split(separator: ":")
            let step = String(parts[0])
            let occurrence = Int(parts[1])!
            var seen = 0
            watcher.checkpoint = { checkpoint in
                let name: String
                switch checkpoint {
                case .batch(.staged): name = "staged"
                case .batch(.published): name = "published"
                case .claimed: name = "claimed"
                default: name = ""
                }
                guard name == step else { return }
                seen += 1
                guard seen == occurrence else { return }
                _ = FileManager.default.createFile(atPath: marker, contents: Data("\(getpid())".utf8))
                // Wait here for the parent's signal: SIGKILL ends us mid-file; SIGTERM asks us
                // to finish this file and stop.
                let deadline = Date(timeIntervalSinceNow: 120)
                while !watcher.shouldStop && Date() < deadline { usleep(10_000) }
            }
        }
        Watcher.installSignalHandlers()
        exit(watcher.run().rawValue)
    }
}

/// Starts this test binary as a watcher child, its output to `log`.
func startWatcherChild(folder: String, pause: String? = nil, marker: String? = nil, once: Bool = false, log: String) throws -> ChildProcess {
    var environment = [ChildEnvironment.folder: folder]
    if let pause { environment[ChildEnvironment.pause] = pause }
    if let marker { environment[ChildEnvironment.marker] = marker }
    if once { environment[ChildEnvironment.once] = "1" }
    return try ChildProcess(
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, ["--testing-library", "swift-testing", "--filter", "runWatcherAsChild"],
        environment: environment, output: .file(log))
}

/// Waits (bounded, as a safety net only) until `condition` holds.
func waitUntil(_ what: String, seconds: Double = 120, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while !condition() {
        if Date() > deadline {
            Issue.record("gave up waiting: \(what)")
            return false
        }
        usleep(5_000)
    }
    return true
}

@Suite(.serialized, .enabled(if: !ChildEnvironment.isChild))
struct WatcherProcessTests {
    @Test func aWatcherKilledMidBatchAndRestartedExportsEveryDocumentExactlyOnce() throws {
        let fixture = DropFolderFixture()
        let names = fixture.dropBatch(files: 30, perFile: 3)
        let marker = fixture.temporary.file("paused")
        // Paused after the unit of document 50 (file 17's second) is staged and before the ledger
        // commits file 17's units: the worst moment to die.
        let child = try startWatcherChild(folder: fixture.drop.root, pause: "staged:50", marker: marker, log: fixture.temporary.file("child1.log"))
        guard waitUntil("the watcher to reach document 50", { FileManager.default.fileExists(atPath: marker) || !child.isRunning }) else {
            child.send(SIGTERM)
            return
        }
        #expect(child.isRunning, "child log: \(fixture.temporary.text("child1.log") ?? "")")

        // A second watcher on the same folder is refused while the first holds it.
        let second = try startWatcherChild(folder: fixture.drop.root, once: true, log: fixture.temporary.file("second.log"))
        #expect(try second.wait().status == ExitStatus.locked.rawValue)

        child.send(SIGKILL)
        #expect(try child.wait().killedBySignal)
        #expect(fixture.names("archive").count == 16)
        #expect(fixture.names("work") == ["batch-16.jsonl"])
        #expect(fixture.units("outbox").count == 48)
        #expect(try Ledger(path: fixture.ledgerPath).entries().count == 48)

        let restarted = try startWatcherChild(folder: fixture.drop.root, once: true, log: fixture.temporary.file("child2.log"))
        #expect(try restarted.wait().status == 0, "child log: \(fixture.temporary.text("child2.log") ?? "")")
        try fixture.expectAllDoneExactlyOnce(names, perFile: 3)

        // And a re-run over the same files exports nothing.
        for name in names { try FileManager.default.copyItem(atPath: fixture.drop.archive + "/" + name, toPath: fixture.drop.inbox + "/" + name) }
        let again = try startWatcherChild(folder: fixture.drop.root, once: true, log: fixture.temporary.file("child3.log"))
        #expect(try again.wait().status == 0)
        let runs = try Ledger(path: fixture.ledgerPath).runs()
        #expect(runs.suffix(30).allSatisfy { $0.counts.exported == 0 && $0.counts.updated == 0 && $0.counts.unchanged == 3 })
        #expect(fixture.units("outbox").count == 90)
        #expect(fixture.names("inbox").isEmpty)
    }

    @Test func sigtermFinishesTheCurrentFileThenExitsZero() throws {
        let fixture = DropFolderFixture()
        let names = fixture.dropBatch(files: 10, perFile: 3)
        let marker = fixture.temporary.file("paused")
        // Paused after the first document of the second file is in the ledger.
        let child = try startWatcherChild(folder: fixture.drop.root, pause: "published:4", marker: marker, log: fixture.temporary.file("child.log"))
        guard waitUntil("the watcher to reach document 4", { FileManager.default.fileExists(atPath: marker) || !child.isRunning }) else {
            child.send(SIGTERM)
            return
        }
        child.send(SIGTERM)
        let stopped = try child.wait()
        #expect(!stopped.killedBySignal)
        #expect(stopped.status == 0, "child log: \(fixture.temporary.text("child.log") ?? "")")
        #expect(fixture.names("archive") == ["batch-00.jsonl", "batch-01.jsonl"])
        #expect(fixture.names("work").isEmpty)
        #expect(fixture.names("inbox").count == 8)
        #expect(fixture.units("outbox").count == 6)

        let restarted = try startWatcherChild(folder: fixture.drop.root, once: true, log: fixture.temporary.file("child2.log"))
        #expect(try restarted.wait().status == 0)
        try fixture.expectAllDoneExactlyOnce(names, perFile: 3)
    }
}
