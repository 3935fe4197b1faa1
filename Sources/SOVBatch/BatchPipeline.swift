import SOVCore
import SOVFrontEnd

// MARK: - The pipeline seam
//
// `sov-run` and `sov-watch` run the same library code as the stage executables. The runner
// (BatchRunner) does not know how Spectrum or Procore files look: it calls the four stages
// through this struct of closures, in this order, and owns everything around them (routing to
// a target, the ledger, skip-unchanged, updates, outputs, rejects, report, progress, exit codes).
//
//   read(paths, naming, sink)  -> each input's documents and rejects handed on as read, or its
//                                 whole-input failure (the front end, streaming)
//   validator(history)         -> judges documents one at a time, holding change orders whose
//                                 contract may come later (`history` answers for earlier runs)
//   markup(document)           -> verdict (the document gains its `computed` block)
//   export(request)            -> the bytes for the target, or a reject
//
// `BatchPipeline.standard(_:)` builds the real one from the front end, SpectrumFormat,
// ProcoreFormat, SOVRules and SOVMarkup (see StandardPipeline.swift). Tests build one from
// SOVCore pieces with the whole-batch seam instead: parse(paths) and validate(documents, history).

/// The system a document is exported to: the one its origin is not (docs/ARCHITECTURE.md, "The path of a record").
public enum ExportTarget: String, Sendable, Hashable, CaseIterable {
    case procore
    case spectrum

    public init(for document: CanonicalDocument) {
        self = document.origin.system == .spectrum ? .procore : .spectrum
    }

    /// The export file's extension: Procore import JSON or Spectrum import XML (docs/FORMATS.md, "Outputs").
    public var fileExtension: String { self == .procore ? "json" : "xml" }

    /// `spectrum_1_24-1017_OWN100.json`: one file per document, named by its stable origin id so
    /// that an update replaces the earlier export instead of sitting beside it.
    public func fileName(for document: CanonicalDocument) -> String {
        AtomicFile.safeFileName(document.originId) + "." + fileExtension
    }
}

public struct ParseOutput {
    public var items: [Verdict]
    public var failures: [InputFailure]

    public init(items: [Verdict] = [], failures: [InputFailure] = []) {
        self.items = items
        self.failures = failures
    }
}

/// What the exporter is asked for: the document, where it goes, and what was sent before.
public struct ExportRequest {
    public var document: CanonicalDocument
    public var target: ExportTarget
    /// The ledger's record of the last export of this document, nil when it is new. A writer
    /// may use it to send an update rather than a create.
    public var previous: LedgerEntry?
    /// `previous.document` parsed, when the runner parsed it already (to say what changed), so
    /// the writer does not parse the same text again.
    public var previousJSON: JSONValue?

    public var isUpdate: Bool { previous != nil }
}

/// One export document, ready to be written.
public struct ExportedDocument {
    /// The file name inside `--out` (or the drop folder's outbox); no folders.
    public var fileName: String
    public var bytes: [UInt8]
    /// The Procore project a prime contract goes to, for PC001 across runs; defaults to the
    /// document's `procore.project_id`.
    public var projectId: String?
    /// What the writer had to say about a document it wrote (a revenue-only change request, a
    /// description cut to Spectrum's length, no Authorization_ID).
    public var warnings: [Diagnostic]

    public init(fileName: String, bytes: [UInt8], projectId: String? = nil, warnings: [Diagnostic] = []) {
        self.fileName = fileName
        self.bytes = bytes
        self.projectId = projectId
        self.warnings = warnings
    }
}

public enum ExportVerdict {
    case exported(ExportedDocument)
    case rejected(Reject)
}

/// Judges documents one at a time, as they are read (SOVRules' `Validator`): a change order
/// whose prime contract may still come is `.held`, kept by the caller, and `judgeHeld` judges
/// each held one, in the order they were held, once the whole batch was seen.
public protocol DocumentValidator {
    mutating func validate(_ document: CanonicalDocument) -> Verdict
    /// Throws `InputFailure` (internal error) when it has no verdict for the document.
    mutating func judgeHeld(_ document: CanonicalDocument) throws -> Verdict
}

public struct BatchPipeline {
    /// The streaming seam (`standard`'s): inputs read through the front end with their
    /// documents handed on as read, and a validator that takes them one at a time, so a batch
    /// is exported contract by contract as it is read. `naming` names each input as its
    /// documents and messages should (the drop folder: as it will be archived).
    public var read: ((_ paths: [String], _ naming: (String) -> String, _ sink: any InputSink) throws -> Void)?
    public var validator: ((_ history: ExportHistory) -> any DocumentValidator)?
    /// The whole-batch seam, as a test pipeline has it: used where `read` or `validator` is nil.
    public var parse: ((_ paths: [String]) -> ParseOutput)?
    public var validate: ((_ documents: [CanonicalDocument], _ history: ExportHistory) -> [Verdict])?
    public var markup: (_ document: CanonicalDocument) -> Verdict
    public var export: (_ request: ExportRequest) -> ExportVerdict

    public init(
        read: @escaping (_ paths: [String], _ naming: (String) -> String, _ sink: any InputSink) throws -> Void,
        validator: @escaping (_ history: ExportHistory) -> any DocumentValidator,
        markup: @escaping (_ document: CanonicalDocument) -> Verdict,
        export: @escaping (_ request: ExportRequest) -> ExportVerdict
    ) {
        self.read = read
        self.validator = validator
        self.markup = markup
        self.export = export
    }

    public init(
        parse: @escaping (_ paths: [String]) -> ParseOutput,
        validate: @escaping (_ documents: [CanonicalDocument], _ history: ExportHistory) -> [Verdict],
        markup: @escaping (_ document: CanonicalDocument) -> Verdict,
        export: @escaping (_ request: ExportRequest) -> ExportVerdict
    ) {
        self.parse = parse
        self.validate = validate
        self.markup = markup
        self.export = export
    }
}

/// A whole-batch `validate` as a `DocumentValidator` (test pipelines): every document held, and
/// the whole batch judged at once when the first held one is asked for.
struct WholeBatchValidator: DocumentValidator {
    let judge: (_ documents: [CanonicalDocument], _ history: ExportHistory) -> [Verdict]
    let history: ExportHistory
    var documents: [CanonicalDocument] = []
    var verdicts: [Verdict]?
    var next = 0

    mutating func validate(_ document: CanonicalDocument) -> Verdict {
        documents.append(document)
        return .held(document)
    }

    mutating func judgeHeld(_ document: CanonicalDocument) throws -> Verdict {
        let verdicts = self.verdicts ?? judge(documents, history)
        self.verdicts = verdicts
        guard verdicts.count == documents.count else {
            throw InputFailure(path: "validate", status: .software, message: "internal error: the validator gave \(verdicts.count) verdicts for \(documents.count) documents")
        }
        defer { next += 1 }
        return verdicts[next]
    }
}

extension BatchPipeline {
    /// The inputs handed to `sink`, through `read`, or from `parse`'s whole-batch output (its
    /// failures first, then its items as the joined input).
    func stream(_ paths: [String], naming: (String) -> String = { $0 }, into sink: any InputSink) throws {
        if let read {
            try read(paths, naming, sink)
            return
        }
        // Each init sets one of the two seams.
        guard let parse else { preconditionFailure("a batch pipeline reads through read or parse") }
        let parsed = paths.isEmpty ? ParseOutput() : parse(paths)
        for failure in parsed.failures {
            try sink.begin(failure.path)
            try sink.fail(failure, dropped: 0)
        }
        try sink.begin(FrontEnd.joinedInputs)
        for item in parsed.items {
            switch item {
            case .accepted(let document), .held(let document): try sink.document(document)
            case .rejected(let reject): try sink.reject(reject)
            }
        }
        try sink.end(FrontEnd.joinedInputs)
    }

    func makeValidator(_ history: ExportHistory) -> any DocumentValidator {
        if let validator { return validator(history) }
        guard let validate else { preconditionFailure("a batch pipeline judges through validator or validate") }
        return WholeBatchValidator(judge: validate, history: history)
    }
}

/// What earlier runs exported, as the validator needs it (PC001 across runs, CO004 against a
/// contract exported before). A snapshot taken from the ledger when a batch starts; the ledger
/// itself also refuses a second prime contract for one project at write time, so two runs at
/// once cannot both get one in.
public struct ExportHistory: Sendable {
    /// Procore project id -> origin id of the prime contract exported for it.
    public var contractsByProject: [String: String]
    /// Spectrum contract -> billing item codes of its exported SOV.
    public var billingItemsByContract: [ContractKey: Set<String>]

    public init(contractsByProject: [String: String] = [:], billingItemsByContract: [ContractKey: Set<String>] = [:]) {
        self.contractsByProject = contractsByProject
        self.billingItemsByContract = billingItemsByContract
    }

    public static let empty = ExportHistory()

    /// Origin id (`spectrum:1:24-1017:OWN100`) of the prime contract exported for this Procore
    /// project, nil when none was.
    public func exportedContract(forProject projectId: String) -> String? {
        contractsByProject[projectId]
    }

    /// Billing item codes of an exported prime contract, nil when that contract was never exported.
    public func billingItems(of contract: ContractKey) -> Set<String>? {
        billingItemsByContract[contract]
    }
}
