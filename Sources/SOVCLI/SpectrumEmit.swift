import ArgumentParser
import SOVBatch
import SOVCore
import SpectrumFormat

#if canImport(Glibc)
import Glibc
#endif

/// `sov-emit --to spectrum` options; EmitCommand includes them with `@OptionGroup`.
public struct SpectrumEmitOptions: ParsableArguments {
    @Option(name: .customLong("spectrum-layout"), help: ArgumentHelp("Spectrum layout: change-request (ARChangeRequest, as Procore's exporter does) or change-order (ARChangeOrder).", valueName: "layout"))
    public var layout: String?

    @Option(help: ArgumentHelp("Spectrum company when neither the document nor the project map gives it.", valueName: "code"))
    public var company: String?

    @Option(help: ArgumentHelp("Spectrum job when neither the document nor the project map gives it.", valueName: "job"))
    public var job: String?

    @Option(help: ArgumentHelp("Spectrum customer when neither the document nor the project map gives it.", valueName: "code"))
    public var customer: String?

    @Option(name: .customLong("cr-status"), help: ArgumentHelp("The site's Change Request Status code for approved (default A).", valueName: "code"))
    public var changeRequestStatus: String?

    @Option(name: .customLong("number-prefix"), help: ArgumentHelp("Put before each change order number (the result must stay within 8 characters).", valueName: "text"))
    public var numberPrefix: String?

    public init() {}

    /// The export settings: the configuration's `spectrum` table, then the environment's
    /// SPECTRUM_AUTHORIZATION_ID, then these options. A bad setting is a usage error (exit 64).
    /// Only the configuration's `spectrum` table is used here; the command has judged the file
    /// whole before (EmitCommand.loadConfiguration), as sov-run and sov-watch judge it.
    public func makeConfig(configuration: JSONValue? = nil, configFile: String? = nil) throws(Diagnostic) -> SpectrumExportConfig {
        var config = try SpectrumExportConfig(configuration: configuration, environmentAuthorizationId: SpectrumEmit.environmentAuthorizationId(), file: configFile)
        if let layout {
            guard let parsed = SpectrumExportLayout(rawValue: layout) else {
                throw Diagnostic.error(.FMT010, "--spectrum-layout must be change-request or change-order", at: SourceLocation(field: "--spectrum-layout"), value: layout)
            }
            config.layout = parsed
        }
        if let company { config.company = company }
        if let job { config.job = job }
        if let customer { config.customer = customer }
        if let changeRequestStatus { config.changeRequestStatus = changeRequestStatus }
        if let numberPrefix { config.numberPrefix = numberPrefix }
        if let problem = config.problems(file: configFile).first { throw problem }
        return config
    }
}

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
    public static func run(inputs: StageOptions, config: SpectrumExportConfig, outDir: String?, keyLookup: @escaping (ChangeOrder) -> ContractKey? = { _ in nil }) -> ExitStatus {
        StageDriver.prepareProcess()
        let stage = "sov-emit"
        let report: StageReport
        switch StageDriver.makeReport(stage: stage, options: inputs) {
        case .success(let made): report = made
        case .failure(let status): return status
        }
        var generator = SystemRandomNumberGenerator()
        return SpectrumExportStage.run(
            inputPaths: inputs.inputPaths, writer: SpectrumChangeRequestWriter(config: config, keyLookup: keyLookup),
            outDir: outDir, report: report, output: OutputSink(), generator: &generator)
    }
}
