import ArgumentParser
import ProcoreFormat
import SOVBatch
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

    @Option(name: .customLong("project-map"), help: ArgumentHelp("CSV company,job,customer,project_id,prime_contract_id (blank company or customer = any).", valueName: "file"))
    public var projectMap: String?

    @Option(name: .customLong("prime-contract-status"), help: ArgumentHelp("Procore status of imported prime contracts: Draft, Out For Bid, Out For Signature, Approved, Complete or Terminated.", valueName: "status"))
    public var primeContractStatus: String = ProcorePrimeContractStatus.approved.rawValue

    @OptionGroup public var spectrum: SpectrumEmitOptions

    @Option(name: .long, help: ArgumentHelp("TOML or JSON configuration; its [spectrum] table holds authorization_id, cr_status, number_prefix, layout, long_text (flags win).", valueName: "file"))
    public var config: String?

    public init() {}

    public func validate() throws {
        if ProcorePrimeContractStatus.named(primeContractStatus) == nil {
            throw ValidationError("--prime-contract-status must be one of: " + ProcorePrimeContractStatus.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

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
        // The file is judged as every command judges it, though nothing in it concerns Procore.
        if case .failure(let status) = loadConfiguration() { return status }
        let importOptions = ProcoreImportOptions(primeContractStatus: ProcorePrimeContractStatus.named(primeContractStatus) ?? .approved)
        var lookup: ProcoreProjectLookup?
        switch StageDriver.loadOptionalProjectMap(projectMap, stage: "sov-emit") {
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
            stage: "sov-emit", options: options,
            process: { document in
                switch ProcoreImportWriter.makeImport(for: document, options: importOptions, projectLookup: lookup) {
                case .rejected(let diagnostics):
                    return .rejected(document, diagnostics)
                case .written(let result):
                    warnings += result.warnings
                    if let out {
                        var bytes: [UInt8] = []
                        JSONWriter.write(result.json, into: &bytes)
                        bytes.append(0x0A)
                        try AtomicFile.write(bytes, to: out + "/" + result.fileName)
                    } else {
                        try output.writeLine(result.json)
                    }
                    written += 1
                    // Written here rather than passed on: the output is import JSON, not canonical.
                    return .accepted([])
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
        let configuration: JSONValue?
        switch loadConfiguration() {
        case .failure(let status): return status
        case .success(let loaded): configuration = loaded
        }
        let exportConfig: SpectrumExportConfig
        do {
            exportConfig = try spectrum.makeConfig(configuration: configuration, configFile: config)
        } catch {
            StageDriver.printError("sov-emit: \(error.humanLine)")
            return .usage
        }
        var map: ProjectMap?
        switch StageDriver.loadOptionalProjectMap(projectMap, stage: "sov-emit") {
        case .failure(let status): return status
        case .success(let loaded): map = loaded
        }
        return SpectrumEmit.run(inputs: options, config: exportConfig, outDir: out) { order in
            map?.contractKey(projectId: order.procore?.projectId, primeContractId: order.procore?.primeContractId, job: order.origin.job)
        }
    }
}

extension EmitCommand {
    /// `--config`, read and checked as sov-run and sov-watch check the same file: missing is 66,
    /// unreadable or holding an unknown key is a usage error (64), said on stderr.
    func loadConfiguration() -> Result<JSONValue?, ExitStatus> {
        guard let config else { return .success(nil) }
        do {
            let value = try ConfigFile.load(config)
            try BatchSettings.check(value, file: config)
            return .success(value)
        } catch {
            StageDriver.printError("sov-emit: \(error.humanLine)")
            return .failure(error.code == DiagnosticCode.IO001.rawValue ? .noInput : .usage)
        }
    }
}
