import ArgumentParser
import SOVBatch
import SOVCLI
import SOVCore
import SOVFrontEnd
import SOVPush

/// The options `sov-run` and `sov-watch` share; any of them may also come from `--config FILE`
/// (TOML, or JSON when named .json), and a flag wins over the file.
public struct BatchFlags: ParsableArguments {
    @OptionGroup public var reading: ReadingOptions

    @OptionGroup public var projectMap: ProjectMapOption

    @OptionGroup public var markups: MarkupsOption

    @OptionGroup public var writing: WritingOptions

    @OptionGroup public var ledgerOption: LedgerOption

    public var ledger: String? { ledgerOption.ledger }

    @OptionGroup public var reportOption: ReportOption

    public var report: String? { reportOption.report }

    @Option(name: Setting.reportCSV.optionName, help: Setting.reportCSV.optionHelp)
    public var reportCsv: String?

    @OptionGroup public var configOption: ConfigOption

    public var config: String? { configOption.config }

    @OptionGroup public var quietFlag: QuietFlag

    public var quiet: Bool { quietFlag.quiet }

    public init() {}

    /// These flags, and `command`'s own (`inputs`, `out`...), over the configuration file, if any.
    public func settings(_ command: BatchSettings = BatchSettings()) throws(OptionsError) -> BatchSettings {
        var flags = command
        try reading.apply(to: &flags)
        try projectMap.apply(to: &flags)
        try markups.apply(to: &flags)
        try writing.apply(to: &flags)
        try flags.set(.ledger, flag: ledger)
        try flags.set(.report, flag: report)
        try flags.set(.reportCSV, flag: reportCsv)
        flags.set(.quiet, on: quiet)
        guard let config else { return flags }
        return flags.over(try BatchSettings.load(configFile: config))
    }
}

/// sov-run's own options: where outputs go, and whether to write at all. sov-watch has none of
/// them: its drop folder decides.
public struct RunOutputFlags: ParsableArguments {
    @Option(name: Setting.out.optionName, help: Setting.out.optionHelp)
    public var out: String?

    @OptionGroup public var rejectsOption: RejectsOption

    public var rejects: String? { rejectsOption.rejects }

    @Flag(name: .long, inversion: .prefixedNo, help: ArgumentHelp(Setting.dryRun.help))
    public var dryRun: Bool?

    public init() {}

    /// `inputs` and these flags as settings.
    func settings(inputs: [String]) throws(OptionsError) -> BatchSettings {
        var settings = BatchSettings()
        if !inputs.isEmpty { settings[.inputs] = .paths(inputs) }
        try settings.set(.out, flag: out)
        try settings.set(.rejects, flag: rejects)
        if let dryRun { settings[.dryRun] = .flag(dryRun) }
        return settings
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

            --config FILE holds any key of the settings table (README, "Settings"): \(Setting.keyList); \
            relative paths are taken from the file's folder. 'interval' (sov-watch's) is allowed \
            and not used; any other key is an error (exit 64). A flag wins over the file.

            Each export is an outbox unit: DIR/00000042-<slug>-<hash>.json (or .xml), numbered in the \
            order to apply them, never overwritten. Units are staged in DIR/.staging, made durable and \
            recorded in the ledger together, then renamed into DIR: whatever the kill point and \
            whatever a consumer takes from DIR meanwhile, every unit appears there exactly once. A \
            change to a document whose unit is still in DIR replaces that unit (the old one moves to \
            DIR/superseded/); once a consumer took it, the change is an update. A change order whose \
            prime contract is not known yet is held (DEP001) and exported by the first run that knows \
            it. Without --out, standard output gets every unit as a JSON line, and the ledger records \
            the run only after the last line is written: a closed pipe records nothing (exit 74).

            Exit codes: 0 all good; 1 finished but some documents rejected (or, with --push, refused); \
            64 usage; 65 an input unusable as a whole; 66 an input missing; 69 (--push) a target \
            unreachable; 70 internal error; 73 an output cannot be created; 74 I/O error; 77 (--push) \
            a target refused our credentials.
            """)

    @Argument(help: "Input files or folders (the files directly in a folder, in name order).")
    public var inputs: [String] = []

    @OptionGroup public var batch: BatchFlags

    @OptionGroup public var output: RunOutputFlags

    @Flag(name: .long, help: "After exporting, deliver the outbox (what sov-push does; its settings below).")
    public var push = false

    @OptionGroup(title: "Delivery (with --push)") public var delivery: DeliveryOptionGroup

    public init() {}

    public func run() throws {
        StageDriver.prepareProcess()
        let options: BatchOptions
        var pushOptions: PushOptions?
        do {
            let settings = try batch.settings(try output.settings(inputs: inputs))
            var resolved = try settings.options(environmentAuthorizationId: SpectrumEmit.environmentAuthorizationId())
            resolved.companyId = delivery.firm(settings)
            options = resolved
            if push { pushOptions = try delivery.options(ledger: options.ledger, settings: settings) }
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
        let runner = BatchRunner(pipeline: pipeline, options: options)
        // Without a report, only the rejected documents' outcomes are kept: memory stays flat.
        runner.listsEveryOutcome = runner.keepsDocuments
        let result = try runner.run()
        guard let pushOptions, result.fatal == nil else { try exit(with: result.status) }
        if options.dryRun {
            StageDriver.printError("sov-run: --push does nothing in a dry run (sov-push --dry-run shows the calls for what is pending)")
            try exit(with: result.status)
        }
        let pushed = PushRunner(options: pushOptions).run()
        try exit(with: result.status.worst(pushed.status))
    }
}
