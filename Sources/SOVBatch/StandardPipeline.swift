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

        return BatchPipeline(
            read: { paths, naming, sink in
                try FrontEnd.read(paths, reader: reader, followingLinks: options.followsLinks, mode: .streaming, naming: naming, into: sink)
            },
            validator: { history in Validator(projectMap: map, knownContracts: history) },
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
    }
}
