import ArgumentParser
import SOVFrontEnd
import SOVCore
import SpectrumFormat

#if canImport(Glibc)
import Glibc
#endif

/// The `--to spectrum` path of `sov-emit`, whole: EmitCommand only calls `run`.
public enum SpectrumEmit {
    /// The Authorization_ID from the environment; read here, in the command layer, never as a
    /// library default, so no secret lives in code or in a test.
    public static func environmentAuthorizationId() -> String? {
        guard let value = getenv(SpectrumExportConfig.authorizationEnvironmentVariable) else { return nil }
        return String(cString: value)
    }

    /// Reads canonical JSON Lines from `inputs`, writes one envelope to stdout, or one file per
    /// change order into `outDir`; rejects to `--rejects`; returns the exit status (docs/FORMATS.md, "Exit codes").
    /// `keyLookup` finds company, job and customer for a Procore change order without them
    /// (the project map: `{ map.contractKey(projectId: $0.procore?.projectId,
    /// primeContractId: $0.procore?.primeContractId, job: $0.origin.job) }`).
    public static func run(inputs: StageOptions, config: SpectrumExportConfig, outDir: String?, projectMapFile: String? = nil, keyLookup: @escaping (ChangeOrder) -> ContractKey? = { _ in nil }) -> ExitStatus {
        StageDriver.prepareProcess()
        let stage = "sov-emit"
        let report: StageReport
        switch StageDriver.makeReport(stage: stage, options: inputs) {
        case .success(let made): report = made
        case .failure(let status): return status
        }
        var generator = SystemRandomNumberGenerator()
        return SpectrumExportStage.run(
            inputPaths: inputs.inputPaths, writer: SpectrumChangeRequestWriter(config: config, projectMapFile: projectMapFile, keyLookup: keyLookup),
            outDir: outDir, report: report, output: OutputSink(), generator: &generator)
    }
}
