import SOVCore

/// What happened to one document in a run.
public enum DocumentAction: String, Sendable, Hashable {
    /// Exported for the first time.
    case exported
    /// Exported again because it changed since its last export.
    case updated
    /// Same content as its last export: skipped.
    case unchanged
    case rejected
    /// Waits for what it depends on (DEP001: its prime contract); kept in the ledger and looked
    /// at again by the next run.
    case held
}

public struct DocumentOutcome: Sendable {
    public var action: DocumentAction
    /// `prime contract 1/24-1017/OWN100`, or for a record that never became a document,
    /// where it was (`jobs.csv:12`).
    public var name: String
    public var originId: String?
    /// The latest version of the document (after markup, when it got that far). Held out of
    /// line: an outcome is listed for every document of a batch, and a document inline would
    /// make each entry kilobytes even when it is nil.
    public var document: CanonicalDocument? {
        get { documentStorage?.value }
        set { documentStorage = newValue.map(OutOfLine.init) }
    }
    private var documentStorage: OutOfLine<CanonicalDocument>?
    public var target: ExportTarget?
    /// For an update: what changed since the last export.
    public var changes: [String]
    /// Errors for a reject; warnings that did not reject otherwise.
    public var diagnostics: [Diagnostic]
    /// The export file written (or that would be, in a dry run).
    public var outputFile: String?
    /// For unchanged and updated documents: the run and time of the export before.
    public var previousRun: Int64?
    public var previousExportAt: String?
    /// The pending unit this one replaced in the outbox (moved to `superseded/`).
    public var supersededUnit: OutboxUnit? {
        get { supersededStorage?.value }
        set { supersededStorage = newValue.map(OutOfLine.init) }
    }
    private var supersededStorage: OutOfLine<OutboxUnit>?
    /// Whether the unit written (or that would be) creates the document or updates it.
    public var unitAction: UnitAction?

    public init(action: DocumentAction, name: String, originId: String? = nil, document: CanonicalDocument? = nil, target: ExportTarget? = nil, changes: [String] = [], diagnostics: [Diagnostic] = [], outputFile: String? = nil, previousRun: Int64? = nil, previousExportAt: String? = nil) {
        self.action = action
        self.name = name
        self.originId = originId
        self.documentStorage = document.map(OutOfLine.init)
        self.target = target
        self.changes = changes
        self.diagnostics = diagnostics
        self.outputFile = outputFile
        self.previousRun = previousRun
        self.previousExportAt = previousExportAt
    }

    /// The input file the document or record came from.
    public var inputFile: String? { document?.source.file ?? diagnostics.first?.location.file }
}

extension RunCounts {
    /// One more document, counted by what happened to it.
    mutating func tally(_ outcome: DocumentOutcome) {
        documentsIn += 1
        switch outcome.action {
        case .exported: exported += 1
        case .updated: updated += 1
        case .unchanged: unchanged += 1
        case .rejected: rejected += 1
        case .held: held += 1
        }
        if outcome.supersededUnit != nil { superseded += 1 }
    }

    /// The documents `other` counted, added to these.
    mutating func add(documentsOf other: RunCounts) {
        documentsIn += other.documentsIn
        exported += other.exported
        updated += other.updated
        unchanged += other.unchanged
        rejected += other.rejected
        held += other.held
        superseded += other.superseded
    }
}

/// A value kept behind a reference, read only, so a struct holding it stays small.
private final class OutOfLine<Value: Sendable>: Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Everything one run did: what the report shows and the exit code sums up.
public struct RunResult: Sendable {
    /// The ledger's run id; nil in a dry run or when the ledger could not be opened.
    public var runId: Int64?
    public var mode: String
    public var startedAt: String
    public var endedAt: String
    public var inputs: [String]
    public var dryRun: Bool
    /// What happened to each document, in the order the report lists them: every document's
    /// when the runner lists them all (`BatchRunner.listsEveryOutcome`, a report needs them),
    /// else the rejected ones only, so that a batch of any size takes no memory per document.
    public var outcomes: [DocumentOutcome]
    /// Every document counted by what happened to it, listed in `outcomes` or not.
    public var documentCounts: RunCounts
    /// Inputs that could not be used at all.
    public var failures: [InputFailure]
    /// A failure that stopped the run (ledger or output unusable); documents after it were not done.
    public var fatal: InputFailure?
    public var status: ExitStatus

    public init(runId: Int64? = nil, mode: String, startedAt: String, endedAt: String = "", inputs: [String], dryRun: Bool, outcomes: [DocumentOutcome] = [], failures: [InputFailure] = [], fatal: InputFailure? = nil, status: ExitStatus = .ok) {
        self.runId = runId
        self.mode = mode
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.inputs = inputs
        self.dryRun = dryRun
        self.outcomes = outcomes
        var counts = RunCounts()
        for outcome in outcomes { counts.tally(outcome) }
        self.documentCounts = counts
        self.failures = failures
        self.fatal = fatal
        self.status = status
    }

    public var counts: RunCounts {
        var counts = documentCounts
        counts.inputs = inputs.count
        counts.failedInputs = failures.count
        return counts
    }

    public func outcomes(_ action: DocumentAction) -> [DocumentOutcome] { outcomes.filter { $0.action == action } }
}
