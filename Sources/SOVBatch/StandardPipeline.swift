import ProcoreFormat
import SOVCore
import SOVFrontEnd
import SOVMarkup
import SOVRules
import SpectrumFormat

extension ExportHistory: KnownContracts {}
extension Validator: DocumentValidator {}

extension BatchPipeline {
    /// The pipeline `sov-run` and `sov-watch` use: the same library code as `sov-parse`,
    /// `sov-validate`, `sov-markup` and `sov-emit`, configured from `options` (encoding, profile,
    /// project map, markups, Spectrum export settings). A profile, map or markups file that
    /// cannot be used fails here, before any input is touched.
    public static func standard(_ options: BatchOptions) throws(InputFailure) -> BatchPipeline {
        let reader = try FrontEnd.reader(options)
        var map: ProjectMap?
        if let path = options.projectMap {
            switch ProjectMapCheck.load(path) {
            case .success(let loaded): map = loaded
            case .failure(let failure):
                throw InputFailure(path: path, status: failure.status, message: "the project map cannot be used", diagnostics: failure.diagnostics)
            }
        }
        var defaults: MarkupDefaults?
        if let path = options.markups {
            do {
                defaults = try MarkupDefaults.load(path)
            } catch {
                throw InputFailure(path: path, status: error.status, message: "the markups file cannot be used", diagnostics: error.diagnostics)
            }
        }
        let markupStage = MarkupStage(defaults: defaults)
        let importOptions = ProcoreImportOptions(primeContractStatus: options.primeContractStatus, projectMapFile: options.projectMap)
        let procoreLookup: ProcoreProjectLookup = { key in
            map?.mapping(for: key).map { ProcoreLink(projectId: $0.projectId, primeContractId: $0.primeContractId) }
        }
        let spectrumWriter = SpectrumChangeRequestWriter(config: options.spectrumExport, projectMapFile: options.projectMap) { order in
            map?.contractKey(projectId: order.procore?.projectId, primeContractId: order.procore?.primeContractId, job: order.origin.job)
        }

        var pipeline = BatchPipeline(
            parse: { paths in parse(paths, reader: reader, followingLinks: options.followsLinks) },
            validate: { documents, history in
                validate(documents, validator: Validator(projectMap: map, knownContracts: history))
            },
            markup: { markupStage.process($0) },
            export: { request in
                switch request.target {
                case .procore:
                    var bytes: [UInt8] = []
                    let projectId: String
                    if let previous = request.previous {
                        // Exported before: update what that import created, never create it again.
                        // (The update compares the earlier and current bodies: built as trees.)
                        guard let parsed = request.previousJSON ?? (try? JSONParser.parse(previous.document)),
                            let earlier = try? CanonicalDocument(json: parsed)
                        else {
                            let message = "\(request.document.displayName) was exported in run \(previous.runId), but the ledger's copy of that export cannot be read, so the update cannot be worked out"
                            return .rejected(Reject(document: request.document, diagnostics: [.error(.FMT009, message, at: request.document.source)]))
                        }
                        switch ProcoreUpdatePlan.makeUpdate(for: request.document, previous: earlier, options: importOptions, projectLookup: procoreLookup) {
                        case .rejected(let diagnostics):
                            return .rejected(Reject(document: request.document, diagnostics: diagnostics))
                        case .written(let update):
                            JSONWriter.write(update.json, into: &bytes)
                            projectId = update.projectId
                        }
                    } else {
                        // A create: described once and written straight as bytes.
                        switch ProcoreImportWriter.draft(for: request.document, options: importOptions, projectLookup: procoreLookup) {
                        case .rejected(let diagnostics):
                            return .rejected(Reject(document: request.document, diagnostics: diagnostics))
                        case .ready(let draft):
                            draft.writeJSON(into: &bytes)
                            projectId = draft.projectId
                        }
                    }
                    bytes.append(0x0A)
                    return .exported(ExportedDocument(fileName: request.target.fileName(for: request.document), bytes: bytes, projectId: projectId))
                case .spectrum:
                    guard case .changeOrder(let order) = request.document else {
                        let message = "\(request.document.displayName) cannot go to Spectrum: prime contracts go to Procore"
                        return .rejected(Reject(document: request.document, diagnostics: [.error(.FMT009, message, at: request.document.source)]))
                    }
                    switch spectrumWriter.export(order) {
                    case .rejected(let diagnostics):
                        return .rejected(Reject(document: request.document, diagnostics: diagnostics))
                    case .exported(let export):
                        return .exported(ExportedDocument(
                            fileName: request.target.fileName(for: request.document),
                            bytes: Array(SpectrumEnvelopeWriter.document(export.records).utf8), warnings: export.warnings))
                    }
                }
            })
        pipeline.read = { paths, naming, sink in
            try FrontEnd.read(paths, reader: reader, followingLinks: options.followsLinks, mode: .streaming, naming: naming, into: sink)
        }
        pipeline.validator = { history in Validator(projectMap: map, knownContracts: history) }
        return pipeline
    }

    /// Every input through the front end; an unusable input contributes nothing (its rejects
    /// neither: the input is reported as a whole), and contracts are joined across all inputs.
    static func parse(_ paths: [String], reader: DocumentInputReader, followingLinks: Bool = true) -> ParseOutput {
        let collected = CollectedInputs()
        do {
            try FrontEnd.read(paths, reader: reader, followingLinks: followingLinks, into: collected)
        } catch {
            collected.output.failures.append(InputFailure(path: paths.last ?? "-", status: .software, message: "internal error: \(error)"))
        }
        return collected.output
    }

    /// One verdict per document, in input order, though the validator holds some change orders
    /// until it has seen the whole batch (CO004 against a contract anywhere in the batch).
    static func validate(_ documents: [CanonicalDocument], validator initial: Validator) -> [Verdict] {
        var validator = initial
        var verdicts: [Verdict?] = Array(repeating: nil, count: documents.count)
        var heldIndexes: [Int] = []
        for (index, document) in documents.enumerated() {
            switch validator.validate(document) {
            case .held: heldIndexes.append(index)
            case let verdict: verdicts[index] = verdict
            }
        }
        // The held ones come back in input order.
        for (index, result) in zip(heldIndexes, validator.finish()) { verdicts[index] = result }
        return verdicts.map { $0 ?? .rejected(Reject(diagnostics: [.error(.IO001, "internal error: the validator gave no verdict")])) }
    }
}

/// The batch's inputs, gathered: an input's rejects count only once the input was read whole.
final class CollectedInputs: InputSink {
    var output = ParseOutput()
    private var rejects: [Verdict] = []

    func accept(_ documents: DocumentSpool) throws {
        output.items += rejects
        rejects.removeAll()
        try documents.drain { output.items.append(.accepted($0)) }
    }

    func reject(_ reject: Reject) throws { rejects.append(.rejected(reject)) }

    func warn(_ diagnostic: Diagnostic) {}  // carried in the documents' diagnostics, or said by the report

    func fail(_ failure: InputFailure, dropped: Int) throws {
        rejects.removeAll()
        output.failures.append(failure)
    }
}
