import ArgumentParser
import SOVBatch
import SOVCore

/// The options `sov-run` and `sov-watch` share; any of them may also come from `--config FILE`
/// (TOML, or JSON when named .json), and a flag wins over the file.
public struct BatchFlags: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Text encoding of Spectrum CSV exports: utf-8 (default) or windows-1252.", valueName: "name"))
    public var encoding: String?

    @Option(name: .long, help: ArgumentHelp("Input profile (TOML or JSON) mapping a site's column names and status codes.", valueName: "file"))
    public var profile: String?

    @Option(name: .long, help: ArgumentHelp("Project map CSV: company,job,customer,project_id,prime_contract_id.", valueName: "file"))
    public var projectMap: String?

    @Option(name: .long, help: ArgumentHelp("Markup definitions per job (TOML or JSON).", valueName: "file"))
    public var markups: String?

    @Option(name: .long, help: ArgumentHelp("SQLite ledger of what was exported (default ./sovbridge-ledger.sqlite; for sov-watch DIR/sovbridge-ledger.sqlite).", valueName: "file"))
    public var ledger: String?

    @Option(name: .long, help: ArgumentHelp("Write each export document to its own file here, atomically (default: standard output).", valueName: "dir"))
    public var out: String?

    @Option(name: .long, help: ArgumentHelp("Write rejected documents here as JSON Lines.", valueName: "file"))
    public var rejects: String?

    @Option(name: .long, help: ArgumentHelp("Write the run report here: one self-contained HTML page.", valueName: "file"))
    public var report: String?

    @Flag(name: .long, inversion: .prefixedNo, help: "Write nothing (no outputs, no ledger); print what would be exported and why.")
    public var dryRun: Bool?

    @Option(name: .long, help: ArgumentHelp("Read any of these options from a TOML (or .json) file; flags win.", valueName: "file"))
    public var config: String?

    @Flag(name: .shortAndLong, help: "No diagnostics or summary on stderr (the rejects file, report and exit code still tell).")
    public var quiet = false

    public init() {}

    /// These flags over the configuration file, if any.
    public func settings(inputs: [String]?) throws(OptionsError) -> BatchSettings {
        let flags = BatchSettings(
            inputs: inputs, encoding: encoding, profile: profile, projectMap: projectMap, markups: markups, ledger: ledger,
            out: out, rejects: rejects, report: report, dryRun: dryRun, quiet: quiet ? true : nil)
        guard let config else { return flags }
        return flags.over(try BatchSettings.load(configFile: config))
    }
}

public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sov-run",
        abstract: "Parse, validate, mark up and export files or folders in one go, with a ledger so that a re-run exports only new or changed documents.",
        discussion: """
            Each document goes to the system its origin implies: Spectrum contracts and change orders to \
            Procore import JSON, Procore change orders to Spectrum import XML. A document exported before \
            with the same content is skipped; a changed one is exported again as an update, and the \
            report says what changed.

            Exit codes: 0 all good; 1 finished but some documents rejected; 64 usage; 65 an input \
            unusable as a whole; 66 an input missing; 70 internal error; 73 an output cannot be \
            created; 74 I/O error.
            """)

    @Argument(help: "Input files or folders (the files directly in a folder, in name order).")
    public var inputs: [String] = []

    @OptionGroup public var batch: BatchFlags

    public init() {}

    public func run() throws {
        StageDriver.prepareProcess()
        let options: BatchOptions
        do {
            options = try batch.settings(inputs: inputs.isEmpty ? nil : inputs).options(environmentAuthorizationId: SpectrumEmit.environmentAuthorizationId())
        } catch {
            StageDriver.printError("sov-run: error: \(error.message)")
            try exit(with: error.status)
        }
        guard !options.inputs.isEmpty else {
            StageDriver.printError("sov-run: error: no inputs; name files or folders (or 'inputs' in --config)")
            try exit(with: .usage)
        }
        let pipeline: BatchPipeline
        do {
            pipeline = try BatchPipeline.standard(options)
        } catch {
            for diagnostic in error.diagnostics { StageDriver.printError("sov-run: \(diagnostic.humanLine)") }
            StageDriver.printError("sov-run: error: \(error.message)")
            try exit(with: error.status)
        }
        let result = try BatchRunner(pipeline: pipeline, options: options).run()
        try exit(with: result.status)
    }
}
