import SOVCore
import SOVFrontEnd

/// Points in a run where its outputs reach a new state. The crash tests stop a run at each of
/// them (by throwing from `BatchRunner.checkpoint`) to prove that a crash there loses nothing
/// and puts nothing in the outbox twice.
public enum BatchCheckpoint: Sendable, Hashable {
    /// A unit is written to the outbox's staging folder (or a line to standard output); the
    /// ledger has not committed it.
    case staged(originId: String)
    /// The batch's units are durable and the ledger committed them; none is in the outbox yet.
    case committed
    /// A unit was renamed into the outbox.
    case published(fileName: String)
}

/// Runs a batch: inputs -> parse -> validate -> markup -> export, with the ledger deciding what
/// is new, changed or unchanged, and each export written as an outbox unit.
///
/// The export phase is one group commit (docs/ARCHITECTURE.md, "The outbox"): inside one ledger
/// write transaction, the outbox is first brought in line with the ledger (`Outbox.recover`),
/// then every unit is staged, the staged files are made durable at once, and the ledger
/// commits; only then are the units renamed into the outbox. Written to standard output instead,
/// every line is written and flushed before the commit: a closed pipe rolls the run back, so
/// its documents go out again next time (at least once, never lost).
public final class BatchRunner {
    public let pipeline: BatchPipeline
    public let options: BatchOptions
    /// `run` or `watch`, as the ledger records it.
    public var mode = "run"
    /// The name that prefixes messages (`sov-run`, `sov-watch`).
    public var commandName = "sov-run"
    /// Whether `--rejects FILE` is written even when nothing was rejected (sov-run: yes, so
    /// scripts can rely on it; the drop folder: no, an empty file in rejected/ would mislead).
    public var writesEmptyRejectsFile = true
    /// Whether `--rejects FILE` replaces a file already there (sov-run: yes, the user named it;
    /// the drop folder: no, a name there is another input's).
    public var replacesRejectsFile = true
    /// Where a path read ends up, for what the runner says about entries it skipped (the drop
    /// folder reads in work/ and names the archive). Identity for sov-run.
    public var locate: @Sendable (String) -> String = { $0 }
    /// Whether outcomes keep their documents: the run report (HTML and CSV) shows amounts and
    /// lines from them; without a report they are let go as the batch streams, so memory does
    /// not grow with the input. By default, when `--report` or `--report-csv` is given.
    public var keepsDocuments: Bool
    /// Whether the result lists every document's outcome (a report needs them, and so do
    /// callers that look at them), or only the rejected ones with every document counted, so
    /// that memory does not grow with the batch. sov-run and sov-watch list them all only for
    /// a report.
    public var listsEveryOutcome = true
    /// Called at each durable point; what it throws aborts the run at once (tests simulate a
    /// crash this way). Nil in production.
    public var checkpoint: ((BatchCheckpoint) throws -> Void)?
    /// For tests: the staging thread writes a unit's file only when the run needs it on disk
    /// (`UnitStager`'s `writesOnlyWhenAsked`).
    var stagingWritesOnlyWhenAsked = false

    let human: OutputSink
    let standardOutput: OutputSink
    let progress: ProgressLine
    var ledger: Ledger?
    /// The stored document last read to say what changed, parsed: the update usually starts
    /// from the same one, which is then not parsed again.
    private var lastPrevious: (text: String, json: JSONValue)?
    private let givenLedger: Bool

    /// - Parameters:
    ///   - ledger: an open ledger to use (the watcher keeps one); nil opens `options.ledger`.
    ///   - showProgress: nil means "when stderr is a terminal".
    public init(pipeline: BatchPipeline, options: BatchOptions, ledger: Ledger? = nil, human: OutputSink = .standardError(), standardOutput: OutputSink = OutputSink(), showProgress: Bool? = nil) {
        self.pipeline = pipeline
        self.options = options
        self.ledger = ledger
        self.givenLedger = ledger != nil
        self.human = human
        self.standardOutput = standardOutput
        progress = ProgressLine(sink: human, enabled: (showProgress ?? FileSystem.isTerminal(2)) && !options.quiet)
        keepsDocuments = options.report != nil || options.reportCSV != nil
    }

    /// Where an outcome (and its line in the rejects file) is listed: the report and the rejects
    /// file keep the order of the stages, whatever order streaming decides things in.
    enum Phase: Int {
        /// An input unusable as a whole.
        case failure
        /// An entry of a folder that is not read.
        case skipped
        /// A record or document the reader turned away.
        case read
        /// Rejected by validation or markup: listed in the order the documents were read.
        case check
        /// Rejected on its way out (PC001 against the ledger, the exporter).
        case export
        /// Exported, updated, unchanged or held.
        case done
    }

    /// Everything a run decides that an input unusable as a whole takes back: a value, so the
    /// state before each input is kept by copying it (copy-on-write: cheap until changed).
    struct Progress {
        /// Documents held by earlier runs that this batch brought again (accepted or rejected).
        var seenOriginIds: Set<String> = []
        /// Prime contracts this batch rejected: their change orders are held, not exported.
        var rejectedContracts: Set<ContractKey> = []
        /// Procore change orders from an ERP export event that this batch rejected: Procore is
        /// told (their Request Detail closed as failed) through a unit of their own.
        var erpRejects: [(document: ChangeOrder, diagnostics: [Diagnostic])] = []
        /// Hashes of the warning lines said, so a warning the same for every document is said
        /// once without keeping every line.
        var saidWarnings: Set<Int> = []
        /// Contracts exported (or found unchanged) in this run: their change orders may follow.
        var contracts: Set<ContractKey> = []
        /// Staged units, to publish once the ledger has committed them.
        var staged: [String] = []
        /// Pending units this run moved to superseded/, and whether from the staging folder.
        var superseded: [(name: String, fromStaging: Bool)] = []
        /// Outcomes with where they are listed (phase, then the document's place in the batch):
        /// all of them, or the rejected ones when the runner does not list every outcome.
        var outcomes: [(key: KeyedLines.Key, outcome: DocumentOutcome)] = []
        /// Every outcome decided so far, counted, listed or not.
        var counted = RunCounts()
        /// Warnings in `State.warnings`, to say once the batch commits.
        var warnedCount = 0
        /// Documents read so far: the next one's place in the batch.
        var documentCount = 0
        /// Outcomes listed so far, to keep ties in the order they came.
        var sequence = 0
        /// Outcomes of the export phase (exported, updated, unchanged, held) so far.
        var doneCount: Int { counted.exported + counted.updated + counted.unchanged + counted.held }
    }

    /// What one run's export phase works with, fixed once it starts.
    private struct ExportContext {
        var outbox: Outbox?
        /// Writes the units into the outbox's staging folder while the batch is in the ledger's
        /// transaction. Whatever looks at that folder calls its `finish` first.
        var stager: UnitStager?
        /// The outbox's real path, as units record it.
        var outboxFolder: String?
        var runId: Int64
        /// Documents the ledger held when the run began (`target origin_id`): only they have a
        /// held row to release, so no other document costs a statement for it.
        var held: Set<String> = []
        /// Their origin ids: whether this batch brings one again is all the run needs to know
        /// of the documents it saw.
        var heldOriginIds: Set<String> = []

        static func heldKey(_ originId: String, _ target: ExportTarget) -> String { target.rawValue + " " + originId }
    }

    private final class State {
        var result: RunResult
        let report: StageReport
        var progress = Progress()
        var context = ExportContext(runId: 0)
        var validator: (any DocumentValidator)?
        /// The rejects file's lines, in the order it lists them.
        let rejectLines = KeyedLines()
        /// What an input says on standard error and writes to standard output, held until it was
        /// read whole (nil outside an input: said at once).
        var pendingHuman: ByteSpool?
        var pendingOutput: ByteSpool?
        /// Change orders, marked up, wait until every contract of the batch was exported; by
        /// their place in the batch. On disk past a few MB: a batch of any size holds them.
        let waitingOrders = DocumentSpill()
        /// Documents the validator holds until the end of the batch, by their place in it.
        let validatorHeld = DocumentSpill()
        /// Warning lines of documents done, said once the batch commits; on disk past 1 MB.
        let warnings = ByteSpool(memoryLimit: 1 << 20)

        init(result: RunResult, report: StageReport) {
            self.result = result
            self.report = report
        }
    }

    /// Runs the batch. Data problems become rejects and failures in the result; a ledger or
    /// output failure stops the run with its status in `result.fatal`. Only what `checkpoint`
    /// throws escapes.
    public func run() throws -> RunResult {
        let report = StageReport(stage: commandName, human: human, quiet: options.quiet)
        let state = State(result: RunResult(mode: mode, startedAt: Timestamp.now(), inputs: options.inputs, dryRun: options.dryRun), report: report)
        do {
            try runStages(state)
        } catch let failure as IOFailure {
            stop(state, InputFailure(failure))
        } catch let failure as LedgerError {
            stop(state, InputFailure(path: failure.path, status: failure.status, message: "ledger: \(failure.message)"))
        } catch is OutputClosed {
            stop(state, InputFailure(path: "<stdout>", status: .ioError, message: "standard output was closed; the documents not written were not recorded"))
        } catch let failure as InputFailure {
            stop(state, failure)
        }
        finish(state)
        return state.result
    }

    private func stop(_ state: State, _ failure: InputFailure) {
        state.result.fatal = failure
        // Rolled back: what was rejected still is; nothing was exported.
        let rejected = state.progress.outcomes.enumerated().filter { $0.element.outcome.action == .rejected }
        for (_, entry) in rejected.sorted(by: { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }) {
            state.result.outcomes.append(entry.outcome)
            state.result.documentCounts.tally(entry.outcome)
        }
        state.progress.outcomes.removeAll()
        progress.clear()
        try? state.report.fail(failure.status, "\(failure.path): \(failure.message)", diagnostics: failure.diagnostics)
    }

    private func openLedger() throws {
        guard ledger == nil else { return }
        if options.dryRun {
            // A dry run writes nothing, not even a new ledger file.
            if Ledger.exists(options.ledger) { ledger = try Ledger(path: options.ledger, readOnly: true) }
        } else {
            if !Ledger.isServer(options.ledger) {
                let folder = AtomicFile.parentFolder(of: options.ledger)
                if !FileSystem.exists(folder) { try AtomicFile.makeFolder(folder) }
            }
            ledger = try Ledger(path: options.ledger)
        }
    }

    /// A line for standard error: held while an input is being read, else said now.
    private func say(_ state: State, _ line: String) throws {
        guard !options.quiet else { return }
        if let pending = state.pendingHuman {
            try pending.append(line + "\n")
        } else {
            progress.clear()
            state.report.say(line)
        }
    }

    /// Bytes for standard output: held while an input is being read, else written now.
    private func emit(_ state: State, _ bytes: [UInt8]) throws {
        if let pending = state.pendingOutput {
            try pending.append(bytes)
        } else {
            try standardOutput.write(bytes: bytes)
        }
    }

    private func listOutcome(_ state: State, _ outcome: DocumentOutcome, phase: Phase, index: Int? = nil) {
        var kept = outcome
        if !keepsDocuments { kept.document = nil }
        state.progress.sequence += 1
        state.progress.counted.tally(outcome)
        guard listsEveryOutcome || outcome.action == .rejected else { return }
        state.progress.outcomes.append((KeyedLines.Key(phase: phase.rawValue, index: index ?? state.progress.sequence), kept))
    }

    /// An input unusable as a whole, said at once: why, in the rejects file too.
    private func failInput(_ state: State, _ failure: InputFailure) throws {
        state.result.failures.append(failure)
        progress.clear()
        // Why it is unusable (e.g. the DOCTYPE and its line), as sov-parse says it.
        for diagnostic in failure.diagnostics { state.report.say(diagnostic.humanLine) }
        try state.report.fail(failure.status, "\(failure.path): \(failure.message)", diagnostics: failure.diagnostics)
        if !failure.diagnostics.isEmpty {
            state.progress.sequence += 1
            try state.rejectLines.append(
                Reject(record: .object(["file": .string(failure.path)]), diagnostics: failure.diagnostics).json,
                key: KeyedLines.Key(phase: Phase.failure.rawValue, index: state.progress.sequence))
        }
    }

    /// The batch, streamed (docs/ARCHITECTURE.md, "The outbox"): inside one ledger write
    /// transaction, the outbox is first brought in line with the ledger, then each input is read
    /// with its documents validated, marked up and (prime contracts) exported as they come,
    /// under a savepoint: an input found unusable halfway is rolled back to it, its staged units
    /// removed, and what the run had decided from it forgotten. Change orders wait (set aside on
    /// disk past a few MB) until every contract is out, then go in the order they were read, then the
    /// documents held by earlier runs. The staged units are made durable together and the
    /// ledger commits; only then are they renamed into the outbox.
    private func runStages(_ state: State) throws {
        let scan = FrontEnd.scan(options.inputs, followingLinks: options.followsLinks)
        let files = scan.files
        // Nothing to read at all (a mistyped path): no ledger, no output folder is created.
        if !(files.isEmpty && !scan.failures.isEmpty) {
            try openLedger()
            if !options.dryRun, let ledger {
                state.result.runId = try ledger.startRun(mode: mode, inputs: options.inputs)
            }
            if !options.dryRun, let out = options.out { try AtomicFile.makeFolder(out) }
        }
        progress.update("\(self.commandName): reading \(files.count) input\(files.count == 1 ? "" : "s")")
        for failure in scan.failures { try failInput(state, failure) }
        // What a folder held and was not read: said per entry, in the rejects and the report.
        for skipped in scan.skipped {
            try self.reject(state, InputRename.apply(locate, to: skipped), document: nil, phase: .skipped)
        }

        let outbox = options.out.map(Outbox.init)
        state.context = ExportContext(outbox: outbox, outboxFolder: outbox.map { FileSystem.realPath($0.folder) }, runId: state.result.runId ?? 0)

        func exportAll() throws {
            if let outbox, let ledger, !options.dryRun {
                try outbox.create()
                let recovery = try outbox.recover(ledger)
                if !(recovery.published.isEmpty && recovery.removed.isEmpty && recovery.restored.isEmpty) {
                    try say(state, "\(commandName): \(outbox.folder): an interrupted run left units behind: \(recovery.published.count) recorded and now published, \(recovery.restored.count) put back from superseded/, \(recovery.removed.count) never recorded and removed (their documents are exported again)")
                }
                state.context.stager = try UnitStager(outbox, writesOnlyWhenAsked: stagingWritesOnlyWhenAsked)
            }
            let heldBefore = try ledger?.heldDocuments() ?? []
            state.context.held = Set(heldBefore.map { ExportContext.heldKey($0.originId, $0.target) })
            state.context.heldOriginIds = Set(heldBefore.map(\.originId))
            state.validator = pipeline.makeValidator(try ledger?.exportHistory() ?? .empty)
            try pipeline.stream(files, into: BatchInputs(runner: self, state: state))
            try finishChecks(state)
            try exportChangeOrders(state)
            for held in heldBefore where !state.progress.seenOriginIds.contains(held.originId) {
                guard let document = try? CanonicalDocument(json: JSONParser.parse(held.document)) else {
                    try say(state, "\(commandName): warning: the ledger's copy of held \(held.originId) cannot be read; run 'sov-ledger forget \(held.originId) --yes' and export it again")
                    continue
                }
                try export(document, state)
            }
            if let ledger, !options.dryRun {
                for (order, diagnostics) in state.progress.erpRejects { try recordERPFailure(order, diagnostics, ledger: ledger, runId: state.context.runId) }
                // A document held before and rejected now: the reject says what to fix; it no longer waits.
                for (_, outcome) in state.progress.outcomes where outcome.action == .rejected {
                    if let id = outcome.originId, let target = outcome.target, state.context.held.contains(ExportContext.heldKey(id, target)) {
                        try ledger.release(originId: id, target: target)
                    }
                }
            }
            if options.dryRun { return }
            try state.context.stager?.finish()
            try outbox?.makeDurable(state.progress.staged)
            if outbox == nil { try standardOutput.flush() }
        }

        if options.dryRun || ledger == nil {
            try exportAll()
        } else {
            // Whatever happens, the staging thread stops here (joined), with every unit it wrote.
            defer { state.context.stager = nil }
            try ledger!.transaction(exportAll)
            try checkpoint?(.committed)
            // The log's copy into the database file goes on beside the renames below.
            if !state.progress.staged.isEmpty { ledger!.checkpointInBackground() }
        }
        // Committed: the outcomes stand, and the units go where consumers see them. Listed in
        // order through their positions, not a sorted copy of them all.
        let outcomes = state.progress.outcomes
        state.progress.outcomes.removeAll()
        let order = outcomes.indices.sorted { (outcomes[$0].key, $0) < (outcomes[$1].key, $1) }
        state.result.outcomes.reserveCapacity(state.result.outcomes.count + order.count)
        for position in order { state.result.outcomes.append(outcomes[position].outcome) }
        let counted = state.progress.counted
        state.progress.counted = RunCounts()
        state.result.documentCounts.add(documentsOf: counted)
        state.report.countIn(counted.documentsIn)
        state.report.countOut(counted.documentsIn - counted.rejected)
        if state.progress.warnedCount > 0 {
            progress.clear()
            state.report.warn(count: state.progress.warnedCount, lines: state.warnings)
        }
        if let outbox, !state.progress.staged.isEmpty {
            try outbox.publish(state.progress.staged) { name in try checkpoint?(.published(fileName: name)) }
            AtomicFile.syncFolder(outbox.folder)
        }
    }

    /// The sink the front end streams a batch into (see `runStages`).
    private final class BatchInputs: InputSink {
        let runner: BatchRunner
        let state: State
        /// What an input may have to take back: the state before it, its savepoint, where the
        /// rejects file stood.
        private var before: (
            progress: Progress, validator: (any DocumentValidator)?, rejects: KeyedLines.Mark,
            waitingOrders: DocumentSpill.Mark, validatorHeld: DocumentSpill.Mark, warnings: Int, savepoint: Ledger.Savepoint?
        )?

        init(runner: BatchRunner, state: State) {
            self.runner = runner
            self.state = state
        }

        func begin(_ input: String) throws {
            let savepoint = runner.writes ? try runner.ledger?.savepoint() : nil
            before = (state.progress, state.validator, state.rejectLines.mark, state.waitingOrders.mark, state.validatorHeld.mark, state.warnings.count, savepoint)
            state.pendingHuman = ByteSpool()
            state.pendingOutput = ByteSpool()
        }

        func document(_ document: CanonicalDocument) throws {
            try runner.check(document, state)
        }

        func reject(_ reject: Reject) throws {
            try runner.reject(state, InputRename.apply(runner.locate, to: reject), document: nil, phase: .read)
        }

        func warn(_ diagnostic: Diagnostic) {}  // carried in the documents' diagnostics, or said by the report

        func end(_ input: String) throws {
            if let savepoint = before?.savepoint { try runner.ledger?.release(savepoint) }
            before = nil
            try flushPending()
        }

        func fail(_ failure: InputFailure, dropped: Int) throws {
            if let before {
                if let savepoint = before.savepoint { try runner.ledger?.rollback(to: savepoint) }
                if let outbox = state.context.outbox {
                    try state.context.stager?.finish()
                    let kept = Set(before.progress.staged)
                    for name in state.progress.staged where !kept.contains(name) { FileSystem.remove(outbox.staging + "/" + name) }
                    for moved in state.progress.superseded.dropFirst(before.progress.superseded.count).reversed() {
                        try outbox.restore(moved.name, toStaging: moved.fromStaging)
                    }
                }
                state.progress = before.progress
                state.validator = before.validator
                try state.rejectLines.truncate(to: before.rejects)
                try state.waitingOrders.truncate(to: before.waitingOrders)
                try state.validatorHeld.truncate(to: before.validatorHeld)
                try state.warnings.truncate(to: before.warnings)
            }
            before = nil
            state.pendingHuman = nil
            state.pendingOutput = nil
            try runner.failInput(state, failure)
        }

        private func flushPending() throws {
            let human = state.pendingHuman
            let output = state.pendingOutput
            state.pendingHuman = nil
            state.pendingOutput = nil
            if let human, !human.isEmpty {
                runner.progress.clear()
                try human.forEachChunk { try runner.human.write(bytes: $0) }
            }
            try output?.forEachChunk { try runner.standardOutput.write(bytes: $0) }
        }
    }

    /// Whether this run records anything (not a dry run, and a ledger to record in).
    var writes: Bool { !options.dryRun && ledger != nil }

    /// One document as it is read: validated, marked up, and a prime contract exported at once;
    /// a change order waits for the end of the batch.
    private func check(_ document: CanonicalDocument, _ state: State) throws {
        let index = state.progress.documentCount
        state.progress.documentCount += 1
        if state.context.heldOriginIds.contains(document.originId) { state.progress.seenOriginIds.insert(document.originId) }
        progress.update("\(self.commandName): \(index + 1) documents, \(state.progress.counted.documentsIn) done")
        let verdict = state.validator?.validate(document) ?? .accepted(document)
        if case .held = verdict {
            try state.validatorHeld.append(document, place: index)
            return
        }
        try judged(document, verdict, index: index, state)
    }

    /// A document the validator has judged: marked up, then exported (a prime contract) or
    /// kept for after the contracts (a change order).
    private func judged(_ document: CanonicalDocument, _ verdict: Verdict, index: Int, _ state: State) throws {
        switch verdict {
        case .rejected(let reject): try self.reject(state, reject, document: document, phase: .check, index: index)
        case .held: throw InputFailure(path: "validate", status: .software, message: "internal error: the validator held \(document.displayName) past the end of the batch")
        case .accepted(let validated):
            switch pipeline.markup(validated) {
            case .rejected(let reject): try self.reject(state, reject, document: validated, phase: .check, index: index)
            case .held: throw InputFailure(path: "markup", status: .software, message: "internal error: markup held \(validated.displayName)")
            case .accepted(let marked):
                if marked.isPrimeContract {
                    try export(marked, state)
                } else {
                    try state.waitingOrders.append(marked, place: index)
                }
            }
        }
    }

    /// The whole batch seen: the documents the validator held are judged.
    private func finishChecks(_ state: State) throws {
        guard state.validator != nil else { return }
        try state.validatorHeld.drain { index, document in
            try judged(document, state.validator!.judgeHeld(document), index: index, state)
        }
    }

    /// Change orders after every contract (a change order's import needs its contract in place),
    /// in the order they were read.
    private func exportChangeOrders(_ state: State) throws {
        try state.waitingOrders.drain { _, document in try export(document, state) }
    }

    private func reject(_ state: State, _ reject: Reject, document: CanonicalDocument?, phase: Phase, index: Int? = nil) throws {
        for diagnostic in reject.diagnostics { try say(state, diagnostic.humanLine) }
        state.progress.sequence += 1
        let key = KeyedLines.Key(phase: phase.rawValue, index: index ?? state.progress.sequence)
        try state.rejectLines.append(reject, key: key)
        let name: String
        if let document {
            name = document.displayName
            if state.context.heldOriginIds.contains(document.originId) { state.progress.seenOriginIds.insert(document.originId) }
            if case .primeContract(let contract) = document, let key = contract.origin.contractKey { state.progress.rejectedContracts.insert(key) }
            if case .changeOrder(let order) = document, order.erp?.requestDetailId != nil {
                state.progress.erpRejects.append((order, reject.diagnostics.filter(\.isError)))
            }
        } else {
            // A record that never became a document: named by where it was.
            let location = reject.diagnostics.first?.location
            let place = [location?.file.map(AtomicFile.baseName(of:)), location?.line.map(String.init) ?? location?.record.map { "record \($0)" }]
            name = "record " + place.compactMap { $0 }.joined(separator: ":")
        }
        let outcome = DocumentOutcome(
            action: .rejected, name: name, originId: document?.originId, document: document,
            target: document.map { ExportTarget(for: $0) }, diagnostics: reject.diagnostics)
        listOutcome(state, outcome, phase: phase, index: key.index)
        if options.dryRun { try emit(state, Array((BatchRunner.dryRunLine(outcome) + "\n").utf8)) }
    }

    /// Why a change order bound for Procore cannot go yet (DEP001), nil when its prime contract
    /// is known: exported or unchanged in this run, in the ledger (not refused), or, when this
    /// batch did not reject it, by its id in the project map.
    private func missingContract(_ document: CanonicalDocument, target: ExportTarget, _ state: State) throws -> String? {
        guard target == .procore, case .changeOrder(let order) = document, let key = order.contract ?? order.origin.contractKey else { return nil }
        if state.progress.contracts.contains(key) { return nil }
        if try ledger?.knowsContract(key, target: target) == true { return nil }
        if state.progress.rejectedContracts.contains(key) {
            return "its prime contract \(key.originId) was rejected in this run and was not exported before"
        }
        if order.procore?.primeContractId != nil { return nil }
        return "its prime contract \(key.originId) is neither in this batch nor exported before, and the project map names no prime_contract_id for it"
    }

    private func export(_ document: CanonicalDocument, _ state: State) throws {
        let target = ExportTarget(for: document)
        let comparableBytes = ContentHash.comparableText(document)
        let hash = SHA256.hex(comparableBytes)
        let comparableText = String(decoding: comparableBytes, as: UTF8.self)
        let originId = document.originId
        let ledger = self.ledger
        let writes = !options.dryRun && ledger != nil

        var outcome = DocumentOutcome(action: .exported, name: document.displayName, originId: originId, document: document, target: target, diagnostics: document.diagnostics)

        if let reason = try missingContract(document, target: target, state) {
            try hold(document, target: target, reason: reason, outcome: outcome, state)
            return
        }

        // The hash first: an unchanged document never reads its stored copy.
        let previous = try ledger?.entry(originId: originId, target: target, loadingDocument: false)
        if let previous {
            outcome.previousRun = previous.runId
            outcome.previousExportAt = previous.exportedAt
            if previous.contentHash == hash {
                outcome.action = .unchanged
                outcome.outputFile = previous.fileName
                if case .primeContract(let contract) = document, let key = contract.origin.contractKey { state.progress.contracts.insert(key) }
                if writes, state.context.held.contains(ExportContext.heldKey(originId, target)) { try ledger?.release(originId: originId, target: target) }
                listOutcome(state, outcome, phase: .done)
                if options.dryRun { try emit(state, Array((BatchRunner.dryRunLine(outcome) + "\n").utf8)) }
                return
            }
            outcome.action = .updated
            let stored = try ledger?.entryDocument(originId: originId, target: target) ?? ""
            let old = (try? JSONParser.parse(stored)) ?? .null
            lastPrevious = (stored, old)
            outcome.changes = DocumentChanges.describe(from: old, to: (try? JSONParser.parse(comparableBytes)) ?? .null)
        }

        let (plan, made) = try plannedUnit(document, target: target, exportedBefore: previous != nil, outcome: &outcome, state)
        let exported: ExportedDocument
        switch made {
        case .rejected(let rejected):
            try reject(state, rejected, document: document, phase: .export)
            return
        case .exported(let result): exported = result
        }
        outcome.diagnostics += exported.warnings

        var projectId: String?
        var billingItems: [String] = []
        if case .primeContract(let contract) = document {
            projectId = exported.projectId ?? contract.procore?.projectId
            billingItems = contract.lines.map(\.code)
            if let projectId, let other = try ledger?.conflictingContract(projectId: projectId, target: target, originId: originId) {
                let diagnostic = Diagnostic.error(.PC001, "Procore project \(projectId) already has prime contract \(other), exported in an earlier run; one prime contract per project", at: document.source)
                try reject(state, Reject(document: document, diagnostics: [diagnostic]), document: document, phase: .export)
                return
            }
            if let key = contract.origin.contractKey { state.progress.contracts.insert(key) }
        }

        try write(document, target: target, exported: exported, plan: plan, version: (previous?.version ?? 0) + 1, hash: hash, comparableText: comparableText, projectId: projectId, billingItems: billingItems, outcome: &outcome, state)
        outcome.unitAction = plan.action
        listOutcome(state, outcome, phase: .done)
        // A warning that is the same for every document (no Authorization_ID) is said once.
        for warning in outcome.diagnostics where !warning.isError { try warnLater(warning, state) }
        if options.dryRun { try emit(state, Array((BatchRunner.dryRunLine(outcome) + "\n").utf8)) }
    }

    /// A warning said once the batch commits; one said before (the same line) is not said again.
    private func warnLater(_ warning: Diagnostic, _ state: State, always: Bool = false) throws {
        let line = warning.humanLine
        guard state.progress.saidWarnings.insert(line.hashValue).inserted || always else { return }
        try state.warnings.append(line + "\n")
        state.progress.warnedCount += 1
    }

    /// DEP001: a change order whose prime contract is not known yet waits in the ledger.
    private func hold(_ document: CanonicalDocument, target: ExportTarget, reason: String, outcome: DocumentOutcome, _ state: State) throws {
        var outcome = outcome
        outcome.action = .held
        let originId = document.originId
        let diagnostic = Diagnostic.warning(.DEP001, "\(document.displayName) is held: \(reason); the ledger keeps it, and the first run that knows the contract exports it", at: document.source)
        outcome.diagnostics.append(diagnostic)
        if writes, let ledger {
            var text: [UInt8] = []
            JSONWriter.write(document.json, into: &text)
            let contract: ContractKey? = if case .changeOrder(let order) = document { order.contract ?? order.origin.contractKey } else { nil }
            try ledger.hold(HeldDocument(
                originId: originId, target: target, kind: document.kind, reason: reason, document: String(decoding: text, as: UTF8.self),
                contract: contract, runId: state.context.runId, heldAt: Timestamp.now()))
        }
        listOutcome(state, outcome, phase: .done)
        try warnLater(diagnostic, state, always: true)
        if options.dryRun { try emit(state, Array((BatchRunner.dryRunLine(outcome) + "\n").utf8)) }
    }

    /// The unit's plan and bytes; a pending unit it replaces is moved to superseded/ first (or,
    /// taken by a consumer meanwhile, counts as delivered, and the unit becomes an update).
    /// - Parameter exportedBefore: whether the ledger has an export of the document (`Ledger.entry`).
    private func plannedUnit(_ document: CanonicalDocument, target: ExportTarget, exportedBefore: Bool, outcome: inout DocumentOutcome, _ state: State) throws -> (UnitPlan, ExportVerdict) {
        let originId = document.originId
        var plan = try unitPlan(originId: originId, target: target, exportedBefore: exportedBefore, state.context)
        var made = try makeUnit(document, target: target, plan: plan)
        outcome.supersededUnit = plan.superseding
        if let superseding = plan.superseding, writes, let outbox = state.context.outbox {
            try state.context.stager?.finish()
            // Moved before anything is recorded: should a consumer take the file first, it was
            // delivered, and what follows it must be an update.
            // A unit staged earlier in this same run leaves the staging folder with it.
            let fromStaging = outbox.place(of: superseding.fileName) == .staging
            if fromStaging { state.progress.staged.removeAll { $0 == superseding.fileName } }
            if try outbox.supersede(superseding.fileName) {
                state.progress.superseded.append((superseding.fileName, fromStaging))
            } else {
                try ledger?.setState(superseding.seq, .delivered, message: "taken from the outbox by a consumer")
                plan = UnitPlan(action: .update, baseSeq: superseding.seq, superseding: nil)
                made = try makeUnit(document, target: target, plan: plan)
                outcome.supersededUnit = nil
            }
        }
        return (plan, made)
    }

    /// The unit recorded in the ledger and staged in the outbox (or written to standard
    /// output), and the export recorded against it.
    private func write(_ document: CanonicalDocument, target: ExportTarget, exported: ExportedDocument, plan: UnitPlan, version: Int, hash: String, comparableText: String, projectId: String?, billingItems: [String], outcome: inout DocumentOutcome, _ state: State) throws {
        let originId = document.originId
        if writes, let ledger {
            let contract: ContractKey? = switch document {
            case .primeContract(let prime): prime.origin.contractKey
            case .changeOrder(let order): order.contract ?? order.origin.contractKey
            }
            let contractOriginId: String? = if target == .procore, case .changeOrder = document { contract?.originId } else { nil }
            let unit = try ledger.addUnit(
                NewUnit(
                    originId: originId, target: target, kind: document.kind, action: plan.action, version: version,
                    state: state.context.outbox == nil ? .delivered : .pending, folder: state.context.outboxFolder, contentHash: hash,
                    baseSeq: plan.baseSeq, contractOriginId: contractOriginId, document: comparableText, body: exported.bytes,
                    meta: BatchRunner.unitMeta(document), companyId: options.companyId),
                runId: state.context.runId, name: { UnitName.make(seq: $0, originId: originId, fileExtension: target.fileExtension) })
            if let superseding = plan.superseding {
                try ledger.setState(superseding.seq, .superseded, message: "replaced by unit \(unit.seq)", supersededBy: unit.seq)
            }
            if let outbox = state.context.outbox {
                if let stager = state.context.stager {
                    try stager.stage(exported.bytes, name: unit.fileName)
                } else {
                    try outbox.stage(exported.bytes, name: unit.fileName)
                }
                state.progress.staged.append(unit.fileName)
            } else {
                try emit(state, BatchRunner.standardOutputLine(exported, target: target, originId: originId, fileName: unit.fileName))
            }
            try ledger.record(
                LedgerExport(
                    originId: originId, target: target, kind: document.kind, contentHash: hash, fileName: unit.fileName,
                    projectId: projectId, contract: contract, billingItems: billingItems, document: comparableText,
                    changes: outcome.changes, documentOfUnit: unit.seq),
                runId: state.context.runId)
            if state.context.held.contains(ExportContext.heldKey(originId, target)) { try ledger.release(originId: originId, target: target) }
            outcome.outputFile = unit.fileName
            if let checkpoint {
                try state.context.stager?.finish()
                try checkpoint(.staged(originId: originId))
            }
        } else if !options.dryRun {
            // No ledger at all (a test pipeline): standard output or plain files, nothing recorded.
            let name = UnitName.make(seq: Int64(state.progress.doneCount + 1), originId: originId, fileExtension: target.fileExtension)
            if let outbox = state.context.outbox {
                try outbox.create()
                try outbox.stage(exported.bytes, name: name)
                state.progress.staged.append(name)
            } else {
                try emit(state, BatchRunner.standardOutputLine(exported, target: target, originId: originId, fileName: name))
            }
            outcome.outputFile = name
        }
    }

    /// A unit that tells Procore a change order of its ERP export was not taken (its Request
    /// Detail closed as failed, one message per problem, without file paths), unless the same
    /// news is already on its way or delivered.
    private func recordERPFailure(_ order: ChangeOrder, _ diagnostics: [Diagnostic], ledger: Ledger, runId: Int64) throws {
        guard let detail = order.erp?.requestDetailId else { return }
        let originId = CanonicalDocument.changeOrder(order).originId + ":erp"
        let messages = diagnostics.map { "[\($0.code)] \($0.message)" }
        let body = JSONValue.object([
            JSONMember("kind", .string("erp_request_detail")), JSONMember("origin_id", .string(originId)),
            JSONMember("request_detail_id", .string(detail)), JSONMember("status", .string("failed")),
            JSONMember("messages", .array(messages.map(JSONValue.string))),
        ])
        let text = body.text
        let hash = SHA256.hex(text.utf8)
        if let latest = try ledger.latestUnit(originId: originId, target: .procore), latest.contentHash == hash, latest.state != .refused { return }
        _ = try ledger.addUnit(
            NewUnit(
                originId: originId, target: .procore, kind: "erp_request_detail", action: .update, version: 1, contentHash: hash,
                document: text, body: Array(text.utf8), companyId: options.companyId),
            runId: runId, name: { UnitName.make(seq: $0, originId: originId, fileExtension: "json") })
    }

    /// What delivery needs beside a unit's body: where the document came from (for messages),
    /// and a Procore change order's ERP loop.
    static func unitMeta(_ document: CanonicalDocument) -> String {
        var members: [JSONMember] = []
        let source = document.source
        members.append(JSONMember("source", .object([
            JSONMember("file", source.file.map(JSONValue.string) ?? .null), JSONMember("line", source.line.map { .int($0) } ?? .null),
        ])))
        if case .changeOrder(let order) = document, order.erp != nil, case .object(var erp)? = order.json["erp"] {
            erp.append(JSONMember("change_order_id", order.procore?.changeOrderId.map(JSONValue.string) ?? .null))
            members.append(JSONMember("erp", .object(erp)))
        }
        return JSONValue.object(members).text
    }

    /// What the next unit of a document is: a create, or an update after the unit the target
    /// has (or will have first), and which pending unit it replaces.
    private struct UnitPlan {
        var action: UnitAction
        var baseSeq: Int64?
        var superseding: OutboxUnit?
    }

    private func unitPlan(originId: String, target: ExportTarget, exportedBefore: Bool, _ context: ExportContext) throws -> UnitPlan {
        guard let ledger, let latest = try ledger.latestUnit(originId: originId, target: target) else {
            // A document the ledger knows only from before the outbox was exported as a file
            // (the caller asked the ledger already: not asked again).
            return UnitPlan(action: exportedBefore ? .update : .create)
        }
        switch latest.state {
        case .delivered, .superseded:
            return UnitPlan(action: .update, baseSeq: latest.seq)
        case .refused:
            // Nothing of it reached the target: the new version takes its place.
            return UnitPlan(action: latest.action, baseSeq: latest.baseSeq)
        case .pending, .failed:
            // Still in this outbox: the new version replaces it. Elsewhere (standard output, another
            // folder): it goes after it, as an update, since the target gets it first.
            guard let outbox = context.outbox, latest.folder == context.outboxFolder else {
                return UnitPlan(action: .update, baseSeq: latest.seq)
            }
            try context.stager?.finish()
            switch outbox.place(of: latest.fileName) {
            case .outbox, .staging, .superseded:
                return UnitPlan(action: latest.action, baseSeq: latest.baseSeq, superseding: latest)
            case .delivered, .gone:
                if !options.dryRun { try ledger.setState(latest.seq, .delivered, message: "taken from the outbox by a consumer") }
                return UnitPlan(action: .update, baseSeq: latest.seq)
            }
        }
    }

    /// The unit's bytes: a create, or an update worked out against the base unit's document.
    private func makeUnit(_ document: CanonicalDocument, target: ExportTarget, plan: UnitPlan) throws -> ExportVerdict {
        var base: LedgerEntry?
        if plan.action == .update, let ledger {
            if let seq = plan.baseSeq, let unit = try ledger.unit(seq: seq), let text = try ledger.unitDocument(seq: seq) {
                base = LedgerEntry(
                    originId: unit.originId, target: target, kind: unit.kind, contentHash: unit.contentHash, version: unit.version,
                    runId: unit.runId, exportedAt: unit.createdAt, fileName: unit.fileName, document: text)
            } else {
                base = try ledger.entry(originId: document.originId, target: target)
            }
        }
        let parsed = base.flatMap { base in lastPrevious.flatMap { $0.text == base.document ? $0.json : nil } }
        return pipeline.export(ExportRequest(document: document, target: target, previous: base, previousJSON: parsed))
    }

    /// Standard output carries JSON Lines whatever the targets: a Procore import object is one
    /// JSON line already; an export of another format (Spectrum XML) goes inside one, as
    /// `{"kind": "spectrum_import", "origin_id", "file", "xml"}`, so a batch going both ways
    /// stays readable line by line.
    static func standardOutputLine(_ exported: ExportedDocument, target: ExportTarget, originId: String, fileName: String) -> [UInt8] {
        if target.fileExtension == "json" {
            var bytes = exported.bytes
            while bytes.last == 0x0A || bytes.last == 0x0D { bytes.removeLast() }
            return bytes + [0x0A]
        }
        let line: JSONValue = .object([
            JSONMember("kind", .string(target.rawValue + "_import")),
            JSONMember("origin_id", .string(originId)),
            JSONMember("file", .string(fileName)),
            JSONMember(target.fileExtension, .string(String(decoding: exported.bytes, as: UTF8.self))),
        ])
        var bytes: [UInt8] = []
        JSONWriter.write(line, into: &bytes)
        bytes.append(0x0A)
        return bytes
    }

    /// One line of `--dry-run` output: action, target, origin id, and why.
    public static func dryRunLine(_ outcome: DocumentOutcome) -> String {
        let target = outcome.target?.rawValue ?? "-"
        let id = outcome.originId ?? outcome.name
        let why: String
        var unit = outcome.unitAction.map { $0 == .create ? " (a create unit)" : " (an update unit)" } ?? ""
        if let replaced = outcome.supersededUnit {
            unit = "; the pending unit \(replaced.fileName) is replaced by a new \(outcome.unitAction?.rawValue ?? "create") unit"
        }
        switch outcome.action {
        case .exported: why = "would export: never exported\(unit)"
        case .updated:
            why = "would update: changed since run \(outcome.previousRun.map(String.init) ?? "?")\(unit)"
                + (outcome.changes.isEmpty ? "" : ": " + outcome.changes.joined(separator: "; "))
        case .unchanged: why = "skip: unchanged since run \(outcome.previousRun.map(String.init) ?? "?") (\(outcome.previousExportAt ?? "?"))"
        case .rejected: why = "rejected: " + Set(outcome.diagnostics.filter(\.isError).map(\.code.rawValue)).sorted().joined(separator: ", ")
        case .held: why = "would hold: " + (outcome.diagnostics.last { $0.code == .DEP001 }?.message ?? "DEP001")
        }
        let action = switch outcome.action {
        case .exported: "export"
        case .updated: "update"
        case .unchanged: "skip"
        case .rejected: "reject"
        case .held: "hold"
        }
        return "\(action)\t\(target)\t\(id)\t\(why)"
    }

    private func finish(_ state: State) {
        let report = state.report
        progress.finish()
        state.result.endedAt = Timestamp.now()
        if !options.dryRun {
            if let path = options.rejects, writesEmptyRejectsFile || !state.rejectLines.isEmpty {
                do {
                    try state.rejectLines.writeFile(path, replacing: replacesRejectsFile)
                } catch {
                    try? report.fail(error.status, "cannot write the rejects file: \(error.description)")
                    state.result.fatal = state.result.fatal ?? InputFailure(error)
                }
            }
        }
        var status = report.failure.worst(state.result.outcomes(.rejected).isEmpty ? .ok : .someRejected)
        state.result.status = status
        if !options.dryRun, let path = options.report {
            do {
                try AtomicFile.write(Array(RunReport.html([state.result]).utf8), to: path)
            } catch {
                try? report.fail(error.status, "cannot write the report: \(error.description)")
                status = status.worst(error.status)
            }
        }
        if !options.dryRun, let folder = options.reportCSV {
            do {
                try RunReport.writeCSV([state.result], to: folder)
            } catch {
                try? report.fail(error.status, "cannot write the report's CSV files: \(error.description)")
                status = status.worst(error.status)
            }
        }
        if !options.dryRun, let ledger, let runId = state.result.runId {
            do {
                try ledger.finishRun(runId, counts: state.result.counts, status: status)
            } catch let failure as LedgerError {
                try? report.fail(failure.status, failure.description)
                status = status.worst(failure.status)
            } catch {
                status = status.worst(.software)
            }
        }
        state.result.status = status
        if !givenLedger { ledger = nil }
        report.say(summaryLine(state.result))
        try? standardOutput.flush()
        try? human.flush()
    }

    public func summaryLine(_ result: RunResult) -> String {
        let counts = result.counts
        var text = "\(commandName): \(counts.documentsIn) document\(counts.documentsIn == 1 ? "" : "s")"
        if options.dryRun {
            text += " (dry run): \(counts.exported) would be exported, \(counts.updated) would be updated"
        } else {
            text += ": \(counts.exported) exported, \(counts.updated) updated"
        }
        text += ", \(counts.unchanged) unchanged, \(counts.rejected) rejected"
        if counts.held > 0 { text += ", \(counts.held) held (DEP001)" }
        if counts.superseded > 0 { text += ", \(counts.superseded) pending unit\(counts.superseded == 1 ? "" : "s") superseded" }
        var codes: [String: Int] = [:]
        for outcome in result.outcomes(.rejected) {
            for code in Set(outcome.diagnostics.filter(\.isError).map(\.code.rawValue)) { codes[code, default: 0] += 1 }
        }
        if !codes.isEmpty { text += " (" + codes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")" }
        if counts.failedInputs > 0 { text += "; \(counts.failedInputs) input\(counts.failedInputs == 1 ? "" : "s") unusable" }
        if let runId = result.runId { text += "; run \(runId)" }
        return text
    }
}

extension CanonicalDocument {
    fileprivate var isPrimeContract: Bool {
        if case .primeContract = self { return true }
        return false
    }
}
