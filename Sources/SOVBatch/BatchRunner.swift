import SOVCore

/// Points in a run where a document's export has reached a durable state. The drop-folder tests
/// stop a run at each of them (by throwing from `BatchRunner.checkpoint`) to prove that a crash
/// there loses nothing and exports nothing twice.
public enum BatchCheckpoint: Sendable, Hashable {
    /// The export file is written and synced; the ledger does not know yet.
    case outputWritten(originId: String)
    /// The ledger has committed the export.
    case exportRecorded(originId: String)
}

/// Runs a batch: inputs -> parse -> validate -> markup -> export, with the ledger deciding what
/// is new, changed or unchanged. One instance per run.
///
/// Order of writes per document, inside one `BEGIN IMMEDIATE` transaction: look up the last
/// export; export file written atomically (temp, fsync, rename); ledger row committed. A crash
/// before the commit leaves at worst an export file that the next run writes again, whole and
/// under the same name; a crash after it leaves a document the next run skips as unchanged.
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
    /// Called at each durable point; what it throws aborts the run at once (tests simulate a
    /// crash this way). Nil in production.
    public var checkpoint: ((BatchCheckpoint) throws -> Void)?

    private let human: OutputSink
    private let standardOutput: OutputSink
    private let progress: ProgressLine
    private var ledger: Ledger?
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
    }

    /// Files named directly, and the files of folders named (not their subfolders; names starting
    /// with `.` and partial downloads `.tmp`/`.part` are left out), in name order.
    public static func expand(_ inputs: [String]) -> (files: [String], failures: [InputFailure]) {
        var files: [String] = []
        var failures: [InputFailure] = []
        for input in inputs {
            if input == "-" {
                files.append(input)
                continue
            }
            guard let info = FileSystem.info(input, followingLinks: true) else {
                failures.append(InputFailure(path: input, status: .noInput, message: "no such file or folder"))
                continue
            }
            guard info.kind == .folder else {
                files.append(input)
                continue
            }
            do {
                for name in try FileSystem.names(in: input) where !FileSystem.isPartialOrHidden(name) {
                    let path = input.hasSuffix("/") ? input + name : input + "/" + name
                    if FileSystem.info(path, followingLinks: true)?.kind == .file { files.append(path) }
                }
            } catch {
                failures.append(InputFailure(error))
            }
        }
        return (files, failures)
    }

    private final class State {
        var result: RunResult
        var rejectLines: [JSONValue] = []
        var saidWarnings: Set<String> = []
        let report: StageReport

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
        progress.clear()
        try? state.report.fail(failure.status, "\(failure.path): \(failure.message)")
    }

    private func openLedger() throws {
        guard ledger == nil else { return }
        if options.dryRun {
            // A dry run writes nothing, not even a new ledger file.
            if FileSystem.exists(options.ledger) { ledger = try Ledger(path: options.ledger, readOnly: true) }
        } else {
            let folder = AtomicFile.parentFolder(of: options.ledger)
            if !FileSystem.exists(folder) { try AtomicFile.makeFolder(folder) }
            ledger = try Ledger(path: options.ledger)
        }
    }

    private func runStages(_ state: State) throws {
        let report = state.report
        let (files, missing) = BatchRunner.expand(options.inputs)
        // Nothing to read at all (a mistyped path): no ledger, no output folder is created.
        if !(files.isEmpty && !missing.isEmpty) {
            try openLedger()
            if !options.dryRun, let ledger {
                state.result.runId = try ledger.startRun(mode: mode, inputs: options.inputs)
            }
            if !options.dryRun, let out = options.out { try AtomicFile.makeFolder(out) }
        }
        progress.update("\(self.commandName): reading \(files.count) input\(files.count == 1 ? "" : "s")")
        let parsed = files.isEmpty ? ParseOutput() : pipeline.parse(files)
        for failure in missing + parsed.failures {
            state.result.failures.append(failure)
            progress.clear()
            // Why it is unusable (e.g. the DOCTYPE and its line), as sov-parse says it.
            for diagnostic in failure.diagnostics { report.say(diagnostic.humanLine) }
            try report.fail(failure.status, "\(failure.path): \(failure.message)")
            if !failure.diagnostics.isEmpty {
                state.rejectLines.append(Reject(record: .object(["file": .string(failure.path)]), diagnostics: failure.diagnostics).json)
            }
        }

        var documents: [CanonicalDocument] = []
        for item in parsed.items {
            report.countIn()
            switch item {
            case .document(let document): documents.append(document)
            case .rejected(let reject): try self.reject(state, reject, document: nil)
            }
        }

        progress.update("\(self.commandName): checking \(documents.count) documents")
        let history = try ledger?.exportHistory() ?? .empty
        let verdicts = pipeline.validate(documents, history)
        guard verdicts.count == documents.count else {
            throw InputFailure(path: "validate", status: .software, message: "internal error: the validator gave \(verdicts.count) verdicts for \(documents.count) documents")
        }
        var ready: [CanonicalDocument] = []
        for (document, verdict) in zip(documents, verdicts) {
            switch verdict {
            case .rejected(let reject): try self.reject(state, reject, document: document)
            case .accepted(let validated):
                switch pipeline.markup(validated) {
                case .rejected(let reject): try self.reject(state, reject, document: validated)
                case .accepted(let marked): ready.append(marked)
                }
            }
        }

        // Contracts before change orders: a change order's import needs its contract in place.
        let contractsFirst = ready.filter { $0.isPrimeContract } + ready.filter { !$0.isPrimeContract }
        for (index, document) in contractsFirst.enumerated() {
            progress.update("\(self.commandName): \(index + 1)/\(ready.count) documents, \(state.result.outcomes(.rejected).count) rejected")
            try export(document, state)
        }
    }

    private func reject(_ state: State, _ reject: Reject, document: CanonicalDocument?) throws {
        progress.clear()
        try state.report.reject(reject)
        state.rejectLines.append(reject.json)
        let name: String
        if let document {
            name = document.displayName
        } else {
            // A record that never became a document: named by where it was.
            let location = reject.diagnostics.first?.location
            let place = [location?.file.map(AtomicFile.baseName(of:)), location?.line.map(String.init) ?? location?.record.map { "record \($0)" }]
            name = "record " + place.compactMap { $0 }.joined(separator: ":")
        }
        let outcome = DocumentOutcome(
            action: .rejected, name: name, originId: document?.originId, document: document,
            target: document.map { ExportTarget(for: $0) }, diagnostics: reject.diagnostics)
        state.result.outcomes.append(outcome)
        if options.dryRun { try standardOutput.write(BatchRunner.dryRunLine(outcome) + "\n") }
    }

    private func export(_ document: CanonicalDocument, _ state: State) throws {
        let target = ExportTarget(for: document)
        let comparable = ContentHash.comparable(document)
        let comparableText = comparable.text
        let hash = SHA256.hex(comparableText.utf8)
        let originId = document.originId
        let ledger = self.ledger
        let runId = state.result.runId ?? 0

        // Decides and writes one document; runs inside the ledger's write transaction.
        func decide() throws -> (DocumentOutcome, Reject?) {
            var outcome = DocumentOutcome(action: .exported, name: document.displayName, originId: originId, document: document, target: target, diagnostics: document.diagnostics)
            let previous = try ledger?.entry(originId: originId, target: target)
            if let previous {
                outcome.previousRun = previous.runId
                outcome.previousExportAt = previous.exportedAt
                if previous.contentHash == hash {
                    outcome.action = .unchanged
                    outcome.outputFile = previous.fileName
                    return (outcome, nil)
                }
                outcome.action = .updated
                let old = (try? JSONParser.parse(previous.document)) ?? .null
                outcome.changes = DocumentChanges.describe(from: old, to: comparable)
            }
            let exported: ExportedDocument
            switch pipeline.export(ExportRequest(document: document, target: target, previous: previous)) {
            case .rejected(let reject): return (outcome, reject)
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
                    return (outcome, Reject(document: document.json, diagnostics: [diagnostic]))
                }
            }
            let fileName = BatchRunner.plainFileName(exported.fileName)
            outcome.outputFile = fileName
            if options.dryRun { return (outcome, nil) }
            if let out = options.out {
                try AtomicFile.write(exported.bytes, to: out + "/" + fileName)
            } else {
                try standardOutput.write(bytes: BatchRunner.standardOutputLine(exported, target: target, originId: originId))
                try standardOutput.flush()
            }
            try checkpoint?(.outputWritten(originId: originId))
            if let ledger {
                let contract: ContractKey?
                switch document {
                case .primeContract(let prime): contract = prime.origin.contractKey
                case .changeOrder(let order): contract = order.contract ?? order.origin.contractKey
                }
                try ledger.record(
                    LedgerExport(
                        originId: originId, target: target, kind: document.kind, contentHash: hash, fileName: fileName,
                        projectId: projectId, contract: contract, billingItems: billingItems, document: comparableText,
                        changes: outcome.changes),
                    runId: runId)
            }
            return (outcome, nil)
        }

        let (outcome, rejected): (DocumentOutcome, Reject?)
        if options.dryRun || ledger == nil {
            (outcome, rejected) = try decide()
        } else {
            (outcome, rejected) = try ledger!.transaction(decide)
        }
        if let rejected {
            try reject(state, rejected, document: document)
            return
        }
        state.result.outcomes.append(outcome)
        state.report.countOut()
        // A warning that is the same for every document (no Authorization_ID) is said once.
        for warning in outcome.diagnostics where !warning.isError && state.saidWarnings.insert(warning.humanLine).inserted {
            progress.clear()
            state.report.warn(warning)
        }
        if options.dryRun {
            try standardOutput.write(BatchRunner.dryRunLine(outcome) + "\n")
        } else if outcome.action != .unchanged {
            try checkpoint?(.exportRecorded(originId: originId))
        }
    }

    /// Standard output carries JSON Lines whatever the targets: a Procore import object is one
    /// JSON line already; an export of another format (Spectrum XML) goes inside one, as
    /// `{"kind": "spectrum_import", "origin_id", "file", "xml"}`, so a batch going both ways
    /// stays readable line by line.
    static func standardOutputLine(_ exported: ExportedDocument, target: ExportTarget, originId: String) -> [UInt8] {
        if target.fileExtension == "json" {
            var bytes = exported.bytes
            while bytes.last == 0x0A || bytes.last == 0x0D { bytes.removeLast() }
            return bytes + [0x0A]
        }
        let line: JSONValue = .object([
            JSONMember("kind", .string(target.rawValue + "_import")),
            JSONMember("origin_id", .string(originId)),
            JSONMember("file", .string(plainFileName(exported.fileName))),
            JSONMember(target.fileExtension, .string(String(decoding: exported.bytes, as: UTF8.self))),
        ])
        var bytes: [UInt8] = []
        JSONWriter.write(line, into: &bytes)
        bytes.append(0x0A)
        return bytes
    }

    /// A writer's file name made safe: no folders, no hidden names.
    static func plainFileName(_ name: String) -> String {
        var safe = AtomicFile.safeFileName(name)
        if safe.hasPrefix(".") || safe.isEmpty { safe = "_" + safe }
        return safe
    }

    /// One line of `--dry-run` output: action, target, origin id, and why.
    public static func dryRunLine(_ outcome: DocumentOutcome) -> String {
        let target = outcome.target?.rawValue ?? "-"
        let id = outcome.originId ?? outcome.name
        let why: String
        switch outcome.action {
        case .exported: why = "would export: never exported; file \(outcome.outputFile ?? "-")"
        case .updated:
            why = "would update: changed since run \(outcome.previousRun.map(String.init) ?? "?")"
                + (outcome.changes.isEmpty ? "" : ": " + outcome.changes.joined(separator: "; "))
        case .unchanged: why = "skip: unchanged since run \(outcome.previousRun.map(String.init) ?? "?") (\(outcome.previousExportAt ?? "?"))"
        case .rejected: why = "rejected: " + Set(outcome.diagnostics.filter(\.isError).map(\.code)).sorted().joined(separator: ", ")
        }
        return "\(outcome.action.rawValue)\t\(target)\t\(id)\t\(why)"
    }

    private func finish(_ state: State) {
        let report = state.report
        progress.finish()
        state.result.endedAt = Timestamp.now()
        if !options.dryRun {
            if let path = options.rejects, writesEmptyRejectsFile || !state.rejectLines.isEmpty {
                var bytes: [UInt8] = []
                for line in state.rejectLines {
                    JSONWriter.write(line, into: &bytes)
                    bytes.append(0x0A)
                }
                do {
                    try AtomicFile.write(bytes, to: path)
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
        var codes: [String: Int] = [:]
        for outcome in result.outcomes(.rejected) {
            for code in Set(outcome.diagnostics.filter(\.isError).map(\.code)) { codes[code, default: 0] += 1 }
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
