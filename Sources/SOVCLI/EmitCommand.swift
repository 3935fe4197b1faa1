import ArgumentParser
import ProcoreFormat
import SOVFrontEnd
import SOVCore
import SpectrumFormat

public enum EmitTarget: String, ExpressibleByArgument, CaseIterable, Sendable {
    case procore
    case spectrum
}

public struct EmitCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sov-emit",
        abstract: "Write canonical documents as Procore import JSON or Spectrum import XML.",
        discussion: """
            --to procore writes one JSON object per document, {kind, origin_id, project_id, \
            requests}, each request {method, path, query, body}; ids Procore assigns on create \
            appear as {placeholders} in path or query. Documents that did not pass through \
            sov-validate --project-map find their Procore project with --project-map here.

            --to spectrum writes approved change orders (after sov-markup) as one Spectrum Data \
            Exchange SOAP envelope of ARChangeRequest records (estimate records per phase and cost \
            type, billing records per billing item, as Procore's own Spectrum exporter does), or \
            ARChangeOrder records with --spectrum-layout change-order. Company, job and customer \
            come from the document, else the project map, else --company/--job/--customer \
            (MAP003 otherwise). Authorization_ID comes from the environment variable \
            SPECTRUM_AUTHORIZATION_ID or the configuration. Every document is reconciled to the \
            cent before it is written. A title longer than Spectrum's description field (30 \
            characters in CR_Billing_Item_Description, 40 in Additional_Description) is cut to \
            it with an FMT005 warning; with long_text = "reject" in the configuration's \
            [spectrum] table the change order is rejected (CO005) instead.

            With --out DIR: one file per document, written atomically.

            Exit: 0 all written; 1 some rejected; 64 usage; 65 malformed input or project map; \
            66 input or project map missing; 73 output cannot be created; 74 I/O error.
            """)

    @OptionGroup public var options: StageOptions

    @Option(name: .long, help: "The target system: procore or spectrum.")
    public var to: EmitTarget

    @Option(name: .long, help: ArgumentHelp("Write one file per document into this folder, atomically, instead of standard output.", valueName: "dir"))
    public var out: String?

    @OptionGroup public var map: ProjectMapOption

    @OptionGroup public var writing: WritingOptions

    @OptionGroup public var configOption: ConfigOption

    var config: String? { configOption.config }

    public init() {}

    public func run() throws {
        if let out {
            do {
                try AtomicFile.makeFolder(out)
            } catch {
                StageDriver.printError("sov-emit: error: \(error.description)")
                try exit(with: error.status)
            }
        }
        switch to {
        case .procore:
            try exit(with: emitProcore())
        case .spectrum:
            try exit(with: emitSpectrum())
        }
    }
}

extension EmitCommand {
    /// `sov-emit --to procore`: canonical JSON Lines in, Procore import objects out.
    func emitProcore() -> ExitStatus {
        let settings: BatchOptions
        switch resolveSettings() {
        case .failure(let status): return status
        case .success(let resolved): settings = resolved
        }
        let importOptions = ProcoreImportOptions(primeContractStatus: settings.primeContractStatus, projectMapFile: settings.projectMap)
        var lookup: ProcoreProjectLookup?
        switch StageDriver.loadOptionalProjectMap(settings.projectMap, stage: "sov-emit") {
        case .failure(let status): return status
        case .success(let map?):
            lookup = { key in
                map.mapping(for: key).map { ProcoreLink(projectId: $0.projectId, primeContractId: $0.primeContractId) }
            }
        case .success(nil): break
        }
        let output = OutputSink()
        var written = 0
        var warnings: [Diagnostic] = []
        return StageDriver.runCanonical(
            stage: "sov-emit", options: options, passesAccepted: false,
            process: { document in
                switch ProcoreImportWriter.draft(for: document, options: importOptions, projectLookup: lookup) {
                case .rejected(let diagnostics):
                    return .rejected(document, diagnostics)
                case .ready(let result):
                    warnings += result.warnings
                    var bytes: [UInt8] = []
                    result.writeJSON(into: &bytes)
                    bytes.append(0x0A)
                    if let out {
                        try AtomicFile.write(bytes, to: out + "/" + result.fileName)
                    } else {
                        try output.write(bytes: bytes)
                    }
                    written += 1
                    // Written here rather than passed on: the output is import JSON, not canonical.
                    return .accepted(document)
                }
            },
            finish: { report, _ in
                for warning in warnings { report.warn(warning) }
                report.countOut(written)
                try output.flush()
            })
    }
}

extension EmitCommand {
    /// `sov-emit --to spectrum`: change orders after sov-markup in, Spectrum Data Exchange XML out.
    func emitSpectrum() -> ExitStatus {
        let settings: BatchOptions
        switch resolveSettings() {
        case .failure(let status): return status
        case .success(let resolved): settings = resolved
        }
        let exportConfig = settings.spectrumExport
        var map: ProjectMap?
        switch StageDriver.loadOptionalProjectMap(settings.projectMap, stage: "sov-emit") {
        case .failure(let status): return status
        case .success(let loaded): map = loaded
        }
        return SpectrumEmit.run(inputs: options, config: exportConfig, outDir: out, projectMapFile: settings.projectMap) { order in
            map?.contractKey(projectId: order.procore?.projectId, primeContractId: order.procore?.primeContractId, job: order.origin.job)
        }
    }
}

extension EmitCommand {
    /// The flags over `--config`'s writing keys (prime_contract_status, [spectrum]); the file is
    /// read and checked whole, as sov-run and sov-watch check it: missing is 66, unreadable or
    /// holding an unknown key is a usage error (64), said on stderr.
    func resolveSettings() -> Result<BatchOptions, ExitStatus> {
        var settings = BatchSettings()
        do throws(OptionsError) {
            try map.apply(to: &settings)
            try writing.apply(to: &settings)
        } catch {
            StageDriver.printError("sov-emit: error: \(error.message)")
            return .failure(error.status)
        }
        if let config {
            do {
                let value = try ConfigFile.load(config)
                let file = try BatchSettings.check(value, file: config, base: AtomicFile.parentFolder(of: config))
                // Only the writing keys: the file's project map, inputs and outputs are sov-run's.
                settings = settings.over(file.keeping { $0 == .primeContractStatus || $0.table == "spectrum" })
            } catch let diagnostic as Diagnostic {
                StageDriver.printError("sov-emit: \(diagnostic.humanLine)")
                return .failure(InputFailure(file: config, [diagnostic], message: "", malformed: .usage).status)
            } catch {
                StageDriver.printError("sov-emit: error: \(error)")
                return .failure(.usage)
            }
        }
        do {
            return .success(try settings.options(environmentAuthorizationId: SpectrumEmit.environmentAuthorizationId()))
        } catch {
            StageDriver.printError("sov-emit: \(error.message)")
            return .failure(error.status)
        }
    }
}
