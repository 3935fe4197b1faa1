
#if canImport(Glibc)
import Glibc
import SOVCore
import SOVFrontEnd
import SpectrumFormat
import Synchronization
#endif

/// The drop folder's layout (docs/ARCHITECTURE.md, "The drop folder"): producers put files in `inbox`; the watcher claims each
/// into `work`, writes export documents to `outbox`, rejects to `rejected`, and moves the input
/// to `archive`, or to `failed` (with `NAME.error.txt` beside it) when it is unusable as a whole.
/// A folder dropped into `inbox` is one batch: its files are read together, so a Spectrum job
/// header export and its SOV export dropped side by side in one folder are joined.
public struct DropFolder: Sendable {
    public let root: String

    public init(_ root: String) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    public var inbox: String { root + "/inbox" }
    public var work: String { root + "/work" }
    public var outbox: String { root + "/outbox" }
    public var rejected: String { root + "/rejected" }
    public var archive: String { root + "/archive" }
    public var failed: String { root + "/failed" }
    /// One watcher per folder: an advisory lock on this file.
    public var lockFile: String { root + "/.sov-watch.lock" }
    /// The ledger when none is named: inside the drop folder, beside the folders it governs.
    public var defaultLedger: String { root + "/" + Ledger.defaultPath }

    public var folders: [String] { [inbox, work, outbox, rejected, archive, failed] }

    /// Creates the folders that are missing.
    public func create() throws(IOFailure) {
        for folder in folders { try AtomicFile.makeFolder(folder) }
    }
}

public struct WatchOptions: Sendable {
    public var folder: DropFolder
    /// Process what is there, then exit.
    public var once = false
    /// Seconds between scans of the inbox.
    public var interval = 5
    /// `--settle SECONDS`: an inbox file (or a dropped folder and everything in it) is taken only
    /// once its size and modification time (and inode) were the same at two scans at least this
    /// far apart: a producer that pauses mid-file for less than this is never caught half done.
    /// 0 takes what is there at once (tests).
    public var settleSeconds = 5
    /// `--ready-suffix SUFFIX` (e.g. `.done`): `x.csv` is taken only once `x.csv.done` exists,
    /// with no settling, for senders that write a marker when done; the marker is removed once
    /// its file is claimed, and is never an input itself.
    public var readySuffix: String?
    /// The sov-run options (ledger, encoding, profile, project map, markups, report, quiet);
    /// inputs, `--out` and `--rejects` are the drop folder's own. Links are never followed in
    /// the drop folder, however these are set.
    public var batch: BatchOptions {
        didSet { batch.followsLinks = false }
    }

    public init(folder: DropFolder, batch: BatchOptions) {
        self.folder = folder
        var confined = batch
        confined.followsLinks = false
        self.batch = confined
    }
}

/// The durable steps of one file's trip through the drop folder, in order. Tests stop the
/// watcher at each (by throwing from `Watcher.checkpoint`) and restart it, to prove that a
/// crash anywhere loses nothing and exports nothing twice.
public enum WatchCheckpoint: Sendable, Hashable {
    /// Moved from inbox to work (the name in work).
    case claimed(String)
    /// A document's export reached a durable state (see BatchCheckpoint).
    case batch(BatchCheckpoint)
    /// All outputs, ledger rows and the rejects file of this input are durable.
    case outputsDone(String)
    /// The input is in archive (the name there).
    case archived(String)
    /// The input is in failed, with its error report (the name there).
    case failed(String)
}

/// What became of one input.
public struct WatchedFile: Sendable {
    public enum Disposition: Sendable, Hashable {
        case archived
        case failed
        /// A ledger or output failure stopped the watcher; the file waits in work for the next start.
        case leftInWork
    }

    public var name: String
    public var disposition: Disposition
    /// Where the input is now.
    public var path: String
    public var result: RunResult
}

/// Set by SIGTERM/SIGINT; read between files. An atomic because a signal handler writes it.
private let signalReceived = Atomic<Bool>(false)

/// The drop-folder watcher (`sov-watch DIR`). Crash safety comes from the order of steps, each
/// of which is durable before the next begins:
///
/// 1. claim: `rename(inbox/F, work/F)`, atomic, so a file is in one place only;
/// 2. run the batch on work/F: its units staged, made durable and committed to the ledger in one
///    group, then renamed into the outbox (BatchRunner, Outbox); rejects to
///    `rejected/F.rejects.jsonl`, never over another file;
/// 3. `rename(work/F, archive/F)` and sync both folders.
///
/// On start, whatever is in work was interrupted by a crash and is run again: documents the
/// ledger already has are unchanged and skipped, a unit staged but not committed is removed and
/// made again, one committed but not yet in the outbox is put there, so every unit appears in
/// the outbox exactly once, whatever a consumer takes from it meanwhile.
public final class Watcher {
    public let pipeline: BatchPipeline
    public let options: WatchOptions
    /// Called at each durable step; what it throws stops the watcher there (crash tests).
    public var checkpoint: ((WatchCheckpoint) throws -> Void)?
    /// Called after each pass with the watcher's ledger (`sov-watch --push` delivers the outbox
    /// here); its status counts like a file's. 77 (credentials refused) stops the watcher; 69
    /// (a target unreachable) does not: the next pass tries again.
    public var afterPass: ((Ledger) -> ExitStatus)?

    private let log: OutputSink
    private var lock: FolderLock?
    /// What each inbox entry looked like when first seen unchanged (by its name's bytes), and
    /// when: settling compares the next scan with it.
    private var observed: [[UInt8]: (signature: [Int], since: Double)] = [:]
    /// Inbox entries left alone for good (a link, a FIFO): said once each, not every scan.
    private var saidLeftAlone: Set<[UInt8]> = []
    private var ledger: Ledger?
    private var stopRequested = false
    /// Results of the current pass, for `--report`.
    private var passResults: [RunResult] = []

    public init(pipeline: BatchPipeline, options: WatchOptions, log: OutputSink = .standardError()) {
        self.pipeline = pipeline
        self.options = options
        self.log = log
    }

    /// SIGTERM, SIGINT and SIGHUP ask the watcher to stop after the current file.
    public static func installSignalHandlers() {
        signal(SIGTERM) { _ in signalReceived.store(true, ordering: .relaxed) }
        signal(SIGINT) { _ in signalReceived.store(true, ordering: .relaxed) }
        // A closed terminal or `kill -HUP` must not kill it mid-file (the default): same as TERM.
        signal(SIGHUP) { _ in signalReceived.store(true, ordering: .relaxed) }
        // A parent may have started us with these blocked (the mask is inherited across exec).
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for number in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&unblock, number) }
        sigprocmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// Asks this watcher to stop after the current file (what a signal does).
    public func requestStop() { stopRequested = true }

    public var shouldStop: Bool { stopRequested || signalReceived.load(ordering: .relaxed) }

    public enum StartFailure: Error, Sendable, CustomStringConvertible {
        case locked(FolderLock.Held)
        case io(IOFailure)

        public var status: ExitStatus {
            switch self {
            case .locked: .locked
            case .io(let failure): failure.status
            }
        }

        public var description: String {
            switch self {
            case .locked(let held): "another sov-watch is watching this folder (\(held.description))"
            case .io(let failure): failure.description
            }
        }
    }

    /// Creates the folders, takes the folder's lock, opens the ledger and removes temporary files
    /// that a crash left half-written.
    public func start() throws(StartFailure) {
        let folder = options.folder
        do {
            try folder.create()
            lock = try FolderLock(folder: folder.root, path: folder.lockFile)
            ledger = try Ledger(path: options.batch.ledger)
        } catch let held as FolderLock.Held {
            throw .locked(held)
        } catch let failure as IOFailure {
            throw .io(failure)
        } catch let failure as LedgerError {
            throw .io(failure.ioFailure)
        } catch {
            throw .io(IOFailure(path: folder.root, message: "\(error)", status: .software))
        }
        for place in [folder.outbox, folder.rejected, folder.failed] {
            for name in (try? FileSystem.names(in: place)) ?? [] where name.hasPrefix(".") && name.hasSuffix(".tmp") {
                FileSystem.remove(place + "/" + name)
            }
        }
    }

    /// Releases the lock and the ledger.
    public func close() {
        ledger = nil
        lock?.release()
        lock = nil
    }

    /// Runs until stopped (or one pass with `once`): returns the exit status. Starts the watcher
    /// first when `start()` was not called.
    public func run() -> ExitStatus {
        if lock == nil {
            do {
                try start()
            } catch {
                say("sov-watch: \(error.description)", always: true)
                return error.status
            }
        }
        defer { close() }
        var worst = ExitStatus.ok
        var first = true
        while true {
            let files: [WatchedFile]
            do {
                files = try pass(recovering: first)
            } catch let failure as IOFailure {
                // The file being handled stays where it is (work or inbox) for the next start.
                say("sov-watch: stopped: \(failure.description)", always: true)
                return failure.status
            } catch {
                say("sov-watch: stopped: \(error)", always: true)
                return .software
            }
            first = false
            for file in files {
                if file.disposition == .leftInWork { return file.result.fatal?.status ?? file.result.status }
                worst = worst.worst(file.disposition == .failed ? (file.result.failures.first?.status ?? .dataError) : file.result.status)
            }
            if let afterPass, let ledger {
                let status = afterPass(ledger)
                if status == .notPermitted || status == .usage { return worst.worst(status) }
                if options.once { worst = worst.worst(status) }
            }
            if options.once { return worst }
            if shouldStop { return .ok }
            for _ in 0..<(options.interval * 10) where !shouldStop {
                var pause = timespec(tv_sec: 0, tv_nsec: 100_000_000)
                nanosleep(&pause, nil)
            }
            if shouldStop { return .ok }
        }
    }

    /// One pass: files left in work by a crash first (when `recovering`), then each file ready
    /// in the inbox, one at a time. Stops early when asked to stop, or at a ledger or output
    /// failure (that file stays in work). What `checkpoint` throws escapes.
    public func pass(recovering: Bool = true) throws -> [WatchedFile] {
        let folder = options.folder
        passResults = []
        var done: [WatchedFile] = []
        if recovering {
            for name in try FileSystem.names(in: folder.work) where Watcher.isInput(folder.work + "/" + name) {
                say("sov-watch: \(name) was left in work by an interrupted run; processing it again")
                let file = try process(name, leftByACrash: true)
                done.append(file)
                if file.disposition == .leftInWork || shouldStop { return done }
            }
        }
        var entries = try readyEntries()
        var secondLook = options.once && options.settleSeconds > 0 && options.readySuffix == nil
        while true {
            for entry in entries {
                if shouldStop { break }
                guard let claimed = try claim(entry) else { continue }
                let file = try process(claimed)
                done.append(file)
                if file.disposition == .leftInWork { return done }
            }
            // `--once` looks twice: what was first seen in this pass is taken if it is still
            // the same `settleSeconds` later. What changed meanwhile waits for the next run.
            guard secondLook, !shouldStop, let due = observed.values.map(\.since).max() else { break }
            secondLook = false
            let wait = due + Double(options.settleSeconds) - FileSystem.monotonicSeconds()
            if wait > 0 { pause(seconds: wait) }
            entries = try readyEntries()
        }
        for (raw, _) in observed {
            if options.once { say("sov-watch: \(FileSystem.Entry(raw: raw).name) is still changing; left in the inbox") }
        }
        return done
    }

    /// Sleeps in short steps, waking early when asked to stop.
    private func pause(seconds: Double) {
        var left = seconds
        while left > 0 && !shouldStop {
            let step = min(left, 0.1)
            var spec = timespec(tv_sec: 0, tv_nsec: Int(step * 1e9))
            nanosleep(&spec, nil)
            left -= step
        }
    }

    /// Inbox files and folders that are complete: plain files or folders, not hidden or partial
    /// by name, and settled (see `WatchOptions.settleSeconds` and `readySuffix`). The names as
    /// text; a name that is not UTF-8 shows its bytes as `%XX` (FileSystem.displayName).
    public func readyNames() throws(IOFailure) -> [String] {
        try readyEntries().map(\.name)
    }

    /// `readyNames`, as the names' bytes. Each call is a scan: what is not yet settled is
    /// remembered, to compare with the next.
    func readyEntries() throws(IOFailure) -> [FileSystem.Entry] {
        let inbox = options.folder.inbox
        let now = FileSystem.monotonicSeconds()
        let entries = try FileSystem.entries(in: inbox)
        let present = Set(entries.map(\.raw))
        var ready: [FileSystem.Entry] = []
        var seen: [[UInt8]: (signature: [Int], since: Double)] = [:]
        for entry in entries {
            switch FileSystem.inboxRole(entry, readySuffix: options.readySuffix) {
            case .ignored, .marker: continue
            case .candidate(let marker?):
                // With a ready suffix, a file is ready when its marker is there.
                guard present.contains(marker) else { continue }
            case .candidate(nil): break
            }
            guard let info = FileSystem.info(raw: entry.raw, in: inbox) else { continue }
            guard info.kind == .file || info.kind == .folder else {
                if saidLeftAlone.insert(entry.raw).inserted {
                    say("sov-watch: \(entry.name) left in the inbox: \(info.isLink ? "a symbolic link" : "not a regular file or folder"); the drop folder takes only files and folders put there")
                }
                continue
            }
            if options.readySuffix.map({ !$0.isEmpty }) == true || options.settleSeconds <= 0 {
                ready.append(entry)
                continue
            }
            guard let signature = Watcher.signature(entry, in: inbox) else { continue }
            if let before = observed[entry.raw], before.signature == signature {
                if now - before.since >= Double(options.settleSeconds) {
                    ready.append(entry)
                } else {
                    seen[entry.raw] = before
                }
            } else {
                seen[entry.raw] = (signature, now)
            }
        }
        observed = seen
        return ready
    }

    /// What settling compares: for a file its inode, size and modification time; for a folder
    /// the same of the folder and of everything below it, names included. Nil while it cannot
    /// be taken: a partial file (.part, .tmp) below a folder means it is still being written.
    static func signature(_ entry: FileSystem.Entry, in folder: String) -> [Int]? {
        guard let info = FileSystem.info(raw: entry.raw, in: folder) else { return nil }
        var signature = [info.kind == .folder ? 1 : 0, Int(truncatingIfNeeded: info.inode), info.size, info.modifiedNanoseconds]
        guard info.kind == .folder else { return signature }
        var stillWritten = false
        func walk(_ path: [UInt8], depth: Int) {
            let text = String(decoding: path, as: UTF8.self)
            guard depth <= FrontEnd.maximumFolderDepth, let entries = try? FileSystem.entries(in: text) else { return }
            for child in entries {
                if child.name.hasSuffix(".part") || child.name.hasSuffix(".tmp") { stillWritten = true }
                guard let info = FileSystem.info(raw: child.raw, in: text) else { continue }
                signature += [child.raw.count] + child.raw.map(Int.init)
                signature += [Int(truncatingIfNeeded: info.inode), info.size, info.modifiedNanoseconds]
                if info.kind == .folder { walk(path + [UInt8(ascii: "/")] + child.raw, depth: depth + 1) }
            }
        }
        walk(Array(folder.utf8) + [UInt8(ascii: "/")] + entry.raw, depth: 0)
        return stillWritten ? nil : signature
    }

    /// A plain file or a folder (links are not followed: the drop folder takes what was put there).
    static func isInput(_ path: String) -> Bool {
        guard let kind = FileSystem.info(path)?.kind else { return false }
        return kind == .file || kind == .folder
    }

    /// When a file, or a folder or any entry in it, last changed; nil when it vanished.
    static func lastModified(_ path: String) -> Int? {
        guard let info = FileSystem.info(path) else { return nil }
        guard info.kind == .folder else { return info.modified }
        var newest = info.modified
        for name in (try? FileSystem.names(in: path)) ?? [] {
            if let entry = FileSystem.info(path + "/" + name) { newest = max(newest, entry.modified) }
        }
        return newest
    }

    /// Moves `entry` from inbox to work (atomic rename); nil when it vanished meanwhile. A name
    /// too long to derive the outputs' names from is shortened here (DerivedName), once; a name
    /// that is not UTF-8 is claimed under its printable form (its bad bytes as `%XX`), and so
    /// is processed like any other. Names inside a claimed folder are made so too.
    private func claim(_ entry: FileSystem.Entry) throws -> String? {
        let folder = options.folder
        let claimed = FileSystem.freeName(for: DerivedName.bounded(entry.name), in: folder.work)
        if !FileSystem.renameRaw(entry.raw, in: folder.inbox, to: folder.work + "/" + claimed) {
            if errno == ENOENT { return nil }
            throw FileSystem.failure(folder.inbox + "/" + entry.name, "cannot claim into work", reading: false)
        }
        if !entry.isUTF8 { say("sov-watch: the inbox name \(entry.name) is not UTF-8 (its bad bytes are shown as %XX); processed as \(claimed)") }
        if let suffix = options.readySuffix, !suffix.isEmpty {
            let marker = FileSystem.rawPath(folder.inbox, entry.raw + Array(suffix.utf8))
            _ = marker.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        }
        if FileSystem.info(folder.work + "/" + claimed)?.kind == .folder { renameNonUTF8(in: folder.work + "/" + claimed, depth: 0) }
        try checkpoint?(.claimed(claimed))
        return claimed
    }

    /// Runs the batch on work/`name` and files the input where it belongs. For a file left in
    /// work by a crash, a rejects file or error report of its own name is that run's, and is
    /// replaced; otherwise nothing of another input is ever replaced.
    private func process(_ name: String, leftByACrash: Bool = false) throws -> WatchedFile {
        let folder = options.folder
        let workPath = folder.work + "/" + name
        // Free names, each with what is derived from it: no output ever replaces another file,
        // however inputs are named (an input called `a.json.error.txt` and a later `a.json`).
        let base = DerivedName.bounded(name)
        let archiveName = FileSystem.freeName(for: base) { candidate in
            !FileSystem.exists(folder.archive + "/" + candidate)
                && (leftByACrash || !FileSystem.exists(folder.rejected + "/" + candidate + ".rejects.jsonl"))
        }
        let failedName = FileSystem.freeName(for: base) { candidate in
            !FileSystem.exists(folder.failed + "/" + candidate)
                && (leftByACrash || !FileSystem.exists(folder.failed + "/" + candidate + ".error.txt"))
        }
        // The file is read in work/, but what is kept (the rejects file, the error report, the
        // run report) names where it ends up: work/ is empty once the file is done. The free
        // names are chosen now; this watcher holds the folder, so they stay free until the move.
        let archivedPath = folder.archive + "/" + archiveName
        let failedPath = folder.failed + "/" + failedName
        let pipeline = Watcher.naming(self.pipeline, read: workPath, archived: archivedPath, failed: failedPath)
        var batch = options.batch
        batch.inputs = [workPath]
        batch.out = folder.outbox
        batch.rejects = folder.rejected + "/" + archiveName + ".rejects.jsonl"
        batch.report = nil
        batch.dryRun = false
        let runner = BatchRunner(pipeline: pipeline, options: batch, ledger: ledger, human: log, showProgress: false)
        runner.mode = "watch"
        runner.commandName = "sov-watch"
        runner.keepsDocuments = options.batch.report != nil || options.batch.reportCSV != nil
        runner.listsEveryOutcome = runner.keepsDocuments
        runner.writesEmptyRejectsFile = false
        runner.replacesRejectsFile = leftByACrash
        let located = InputRename(from: workPath, to: archivedPath)
        runner.locate = { located.path($0) }
        if let checkpoint { runner.checkpoint = { try checkpoint(.batch($0)) } }
        var result = try runner.run()
        if result.fatal == nil {
            let filed = result.failures.isEmpty ? archivedPath : failedPath
            result.inputs = result.inputs.map(InputRename(from: workPath, to: filed).path)
            if !result.failures.isEmpty && pipeline.read != nil {
                // Streamed documents were named for archive/; the input goes to failed/.
                let refiled = InputRename(from: archivedPath, to: failedPath)
                result.outcomes = result.outcomes.map { outcome in
                    var renamed = outcome
                    renamed.document = outcome.document.map(refiled.document)
                    renamed.diagnostics = outcome.diagnostics.map(refiled.diagnostic)
                    return renamed
                }
            }
        }
        passResults.append(result)
        defer { writeReport() }

        if result.fatal != nil {
            return WatchedFile(name: name, disposition: .leftInWork, path: workPath, result: result)
        }
        if !result.failures.isEmpty {
            // Unusable as a whole: its problems go in the error report, not in rejected/.
            if let rejects = batch.rejects { FileSystem.remove(rejects) }
            // The error report first, then the file beside it.
            var text = "sov-watch could not process \(name) (exit status \(result.status.rawValue)) at \(result.endedAt)\n"
            for failure in result.failures {
                text += "\(failure.path): \(failure.message)\n"
                for diagnostic in failure.diagnostics { text += diagnostic.humanLine + "\n" }
            }
            if leftByACrash {
                try AtomicFile.write(Array(text.utf8), to: folder.failed + "/" + failedName + ".error.txt")
            } else {
                try AtomicFile.writeNew(Array(text.utf8), to: folder.failed + "/" + failedName + ".error.txt")
            }
            try FileSystem.move(workPath, to: failedPath)
            AtomicFile.syncFolder(folder.failed)
            AtomicFile.syncFolder(folder.work)
            say("sov-watch: \(name) -> failed/\(failedName)")
            try checkpoint?(.failed(failedName))
            return WatchedFile(name: name, disposition: .failed, path: failedPath, result: result)
        }
        try checkpoint?(.outputsDone(name))
        try FileSystem.move(workPath, to: archivedPath)
        AtomicFile.syncFolder(folder.archive)
        AtomicFile.syncFolder(folder.work)
        say("sov-watch: \(name) -> archive/\(archiveName)")
        try checkpoint?(.archived(archiveName))
        return WatchedFile(name: name, disposition: .archived, path: archivedPath, result: result)
    }

    /// Gives every name below `folder` that is not UTF-8 its printable form (FileSystem.displayName)
    /// so it is read like the others; the folder is in work, the watcher's own.
    private func renameNonUTF8(in folder: String, depth: Int) {
        guard depth <= FrontEnd.maximumFolderDepth, let entries = try? FileSystem.entries(in: folder) else { return }
        for entry in entries {
            var name = entry.name
            if !entry.isUTF8 {
                name = FileSystem.freeName(for: entry.name, in: folder)
                if FileSystem.renameRaw(entry.raw, in: folder, to: folder + "/" + name) {
                    say("sov-watch: \(folder)/\(entry.name): the name is not UTF-8 (its bad bytes are shown as %XX); read as \(name)")
                } else {
                    continue
                }
            }
            if FileSystem.info(folder + "/" + name)?.kind == .folder { renameNonUTF8(in: folder + "/" + name, depth: depth + 1) }
        }
    }

    /// `pipeline`, with every location in what it reads from `path` (documents, rejects,
    /// failures) naming where that input is filed afterwards: `archived`, or `failed` when it
    /// is unusable as a whole (any parse failure, as `process` decides). What comes later
    /// (validation, markup, export) locates its findings by the documents, so it follows.
    static func naming(_ pipeline: BatchPipeline, read path: String, archived: String, failed: String) -> BatchPipeline {
        var renamed = pipeline
        // A whole-batch pipeline (a test's) is renamed after it parsed, when the outcome is known.
        if let parse = pipeline.parse {
            renamed.parse = { paths in
                var output = parse(paths)
                let rename = InputRename(from: path, to: output.failures.isEmpty ? archived : failed)
                output.items = output.items.map { item in
                    switch item {
                    case .accepted(let document), .held(let document): .accepted(rename.document(document))
                    case .rejected(let reject): .rejected(rename.reject(reject))
                    }
                }
                output.failures = output.failures.map(rename.failure)
                return output
            }
        }
        if let read = pipeline.read {
            // Streamed, the front end names the input up front as it will be archived, so its
            // documents, rejects and warnings carry that name from the start; only a failure is
            // renamed, to where an unusable input goes. (Should one file of a claimed folder
            // fail, the folder goes to failed/ while the others' documents name archive/:
            // `process` renames what the run result says.)
            let archive = InputRename(from: path, to: archived)
            renamed.read = { paths, _, sink in
                try read(paths, archive.path, FailureNaming(sink, read: InputRename(from: path, to: failed), named: InputRename(from: archived, to: failed)))
            }
        }
        return renamed
    }

    /// Hands on what the front end reads; a failure names where the unusable input is filed.
    final class FailureNaming: InputSink {
        let sink: any InputSink
        /// From the path read, and from the name the input was read under.
        let read: InputRename
        let named: InputRename

        init(_ sink: any InputSink, read: InputRename, named: InputRename) {
            self.sink = sink
            self.read = read
            self.named = named
        }

        func begin(_ input: String) throws { try sink.begin(input) }
        func document(_ document: CanonicalDocument) throws { try sink.document(document) }
        func accept(_ documents: DocumentSpool) throws { try sink.accept(documents) }
        func reject(_ reject: Reject) throws { try sink.reject(reject) }
        func warn(_ diagnostic: Diagnostic) { sink.warn(diagnostic) }
        func end(_ input: String) throws { try sink.end(input) }
        func fail(_ failure: InputFailure, dropped: Int) throws { try sink.fail(named.failure(read.failure(failure)), dropped: dropped) }
    }

    private func writeReport() {
        if let path = options.batch.report {
            do {
                try AtomicFile.write(Array(RunReport.html(passResults).utf8), to: path)
            } catch {
                say("sov-watch: cannot write the report: \(error.description)")
            }
        }
        if let folder = options.batch.reportCSV {
            do {
                try RunReport.writeCSV(passResults, to: folder)
            } catch {
                say("sov-watch: cannot write the report's CSV files: \(error.description)")
            }
        }
    }

    /// `always`: the reason the watcher stops (75, 73, 74), which -q never hides.
    private func say(_ line: String, always: Bool = false) {
        guard always || !options.batch.quiet else { return }
        try? log.write(line + "\n")
        try? log.flush()
    }
}

/// Renames one input path (a file, or a folder and the files in it) wherever a location holds it.
struct InputRename {
    let from: String
    let to: String

    /// `from` itself, or a path inside it, renamed; any other path as it is.
    func path(_ path: String) -> String {
        if path == from { return to }
        if path.hasPrefix(from + "/") { return to + path.dropFirst(from.count) }
        return path
    }

    /// Text that quotes the path (`the first is at work/a.csv:12`): each whole occurrence renamed.
    func text(_ text: String) -> String {
        guard text.contains(from) else { return text }
        var result = ""
        var rest = text[...]
        while let found = rest.firstRange(of: from) {
            let next = rest[found.upperBound...].first
            let whole = next == nil || !(next!.isLetter || next!.isNumber || "._-~".contains(next!))
            result += rest[..<found.lowerBound] + (whole ? to : from)
            rest = rest[found.upperBound...]
        }
        return result + rest
    }

    func location(_ location: SourceLocation) -> SourceLocation {
        var renamed = location
        renamed.file = location.file.map(path)
        return renamed
    }

    func diagnostic(_ diagnostic: Diagnostic) -> Diagnostic {
        var renamed = diagnostic
        renamed.location = location(diagnostic.location)
        renamed.message = text(diagnostic.message)
        return renamed
    }

    func document(_ document: CanonicalDocument) -> CanonicalDocument {
        switch document {
        case .primeContract(var contract):
            contract.source = location(contract.source)
            for index in contract.lines.indices { contract.lines[index].source = contract.lines[index].source.map(location) }
            contract.diagnostics = contract.diagnostics.map(diagnostic)
            return .primeContract(contract)
        case .changeOrder(var order):
            order.source = location(order.source)
            for index in order.lines.indices { order.lines[index].source = order.lines[index].source.map(location) }
            order.diagnostics = order.diagnostics.map(diagnostic)
            return .changeOrder(order)
        }
    }

    /// A document or raw record as JSON: every `file` member holding the path (a document's
    /// `source`, a record's own `file`).
    func json(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.map { member in
                if member.key == "file", case .string(let text) = member.value { return JSONMember("file", .string(path(text))) }
                return JSONMember(member.key, json(member.value))
            })
        case .array(let items): return .array(items.map(json))
        default: return value
        }
    }

    /// `reject` with every location renamed by `locate`.
    static func apply(_ locate: (String) -> String, to reject: Reject) -> Reject {
        func json(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let members):
                return .object(members.map { member in
                    if member.key == "file", case .string(let text) = member.value { return JSONMember("file", .string(locate(text))) }
                    return JSONMember(member.key, json(member.value))
                })
            case .array(let items): return .array(items.map(json))
            default: return value
            }
        }
        let diagnostics = reject.diagnostics.map { diagnostic in
            var renamed = diagnostic
            renamed.location.file = diagnostic.location.file.map(locate)
            return renamed
        }
        return Reject(document: reject.document.map(json), record: reject.record.map(json), diagnostics: diagnostics)
    }

    func reject(_ reject: Reject) -> Reject {
        Reject(document: reject.document.map(json), record: reject.record.map(json), diagnostics: reject.diagnostics.map(diagnostic))
    }

    func failure(_ failure: InputFailure) -> InputFailure {
        InputFailure(path: path(failure.path), status: failure.status, message: text(failure.message), diagnostics: failure.diagnostics.map(diagnostic))
    }
}
