import ArgumentParser
import ProcoreFormat
import SOVCore

public enum EmitTarget: String, ExpressibleByArgument, CaseIterable, Sendable {
    case procore
    case spectrum
}

public struct EmitCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sov-emit",
        abstract: "Write canonical documents as Procore import JSON or Spectrum import XML.",
        discussion: "--to procore writes one JSON object per document, {kind, origin_id, project_id, requests}, each request {method, path, query, body}; ids Procore assigns on create appear as {placeholders} in path or query. Documents that did not pass through sov-validate --project-map find their Procore project with --project-map here.")

    @OptionGroup public var options: StageOptions

    @Option(name: .long, help: "The target system: procore or spectrum.")
    public var to: EmitTarget

    @Option(name: .long, help: ArgumentHelp("Write one file per document into this folder, atomically, instead of standard output.", valueName: "dir"))
    public var out: String?

    @Option(name: .customLong("project-map"), help: ArgumentHelp("CSV company,job,customer,project_id,prime_contract_id (blank company or customer = any).", valueName: "file"))
    public var projectMap: String?

    @Option(name: .customLong("prime-contract-status"), help: ArgumentHelp("Procore status of imported prime contracts: Draft, Out For Bid, Out For Signature, Approved, Complete or Terminated.", valueName: "status"))
    public var primeContractStatus: String = ProcorePrimeContractStatus.approved.rawValue

    public init() {}

    public func validate() throws {
        if ProcorePrimeContractStatus.named(primeContractStatus) == nil {
            throw ValidationError("--prime-contract-status must be one of: " + ProcorePrimeContractStatus.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    public func run() throws {
        switch to {
        case .procore:
            try exit(with: emitProcore())
        case .spectrum:
            StageDriver.printError("sov-emit --to spectrum: not implemented yet")
            try exit(with: .software)
        }
    }
}

extension EmitCommand {
    /// `sov-emit --to procore`: canonical JSON Lines in, Procore import objects out.
    func emitProcore() -> ExitStatus {
        let importOptions = ProcoreImportOptions(primeContractStatus: ProcorePrimeContractStatus.named(primeContractStatus) ?? .approved)
        var lookup: ProcoreProjectLookup?
        if let projectMap {
            do {
                let map = try ProjectMap.load(projectMap)
                lookup = { key in
                    map.mapping(for: key).map { ProcoreLink(projectId: $0.projectId, primeContractId: $0.primeContractId) }
                }
            } catch {
                StageDriver.printError("sov-emit: error: \(error.humanLine)")
                return error.code == DiagnosticCode.IO001.rawValue ? .noInput : .dataError
            }
        }
        if let out {
            do {
                try AtomicFile.makeFolder(out)
            } catch {
                StageDriver.printError("sov-emit: error: \(error.description)")
                return error.status
            }
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
