import ArgumentParser
import SOVBatch
import SOVCLI
import SOVCore
import SOVPush

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

    @Option(name: .long, help: ArgumentHelp("The ledger of what was exported: a SQLite file (default ./sovbridge-ledger.sqlite; for sov-watch DIR/sovbridge-ledger.sqlite) or a postgresql://USER@HOST:PORT/DB URL shared by many workers (the password from PGPASSWORD, ~/.pgpass or ?password_file=).", valueName: "file|url"))
    public var ledger: String?

    @Option(name: .long, help: ArgumentHelp("Write the run report here: one self-contained HTML page.", valueName: "file"))
    public var report: String?

    @Option(name: .long, help: ArgumentHelp("Also write the report's tables as CSV files into this folder (contracts, change orders, rejects, held, warnings, documents).", valueName: "dir"))
    public var reportCsv: String?

    @Option(name: .long, help: ArgumentHelp("Read options from a TOML (or .json) file: the long names with '_' (project_map) and a [spectrum] table; flags win.", valueName: "file"))
    public var config: String?

    @Flag(name: .shortAndLong, help: "No diagnostics or summary on stderr (the rejects file, report and exit code still tell).")
    public var quiet = false

    public init() {}

    /// These flags, and `command`'s own (`inputs`, `out`...), over the configuration file, if any.
    public func settings(_ command: BatchSettings = BatchSettings()) throws(OptionsError) -> BatchSettings {
        var flags = command
        flags.encoding = encoding
        flags.profile = profile
        flags.projectMap = projectMap
        flags.markups = markups
        flags.ledger = ledger
        flags.report = report
        flags.reportCSV = reportCsv
        flags.quiet = quiet ? true : nil
        guard let config else { return flags }
        return flags.over(try BatchSettings.load(configFile: config))
    }
}

/// sov-run's own options: where outputs go, and whether to write at all. sov-watch has none of
/// them: its drop folder decides.
public struct RunOutputFlags: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Write each export document to its own file here, atomically (default: standard output).", valueName: "dir"))
    public var out: String?

    @Option(name: .long, help: ArgumentHelp("Write rejected documents here as JSON Lines.", valueName: "file"))
    public var rejects: String?

    @Flag(name: .long, inversion: .prefixedNo, help: "Write nothing (no outputs, no ledger); print what would be exported and why.")
    public var dryRun: Bool?

    public init() {}
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

            --config FILE holds any of: inputs, encoding, profile, project_map, markups, ledger, \
            out, rejects, report, report_csv, dry_run, quiet, a [procore] table and a [spectrum] table (authorization_id, \
            cr_status, co_status, number_prefix, layout, company, job, customer); relative paths \
            are taken from the file's folder. 'interval' (sov-watch's) is allowed and not used; \
            any other key is an error (exit 64).

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
            let own = BatchSettings(inputs: inputs.isEmpty ? nil : inputs, out: output.out, rejects: output.rejects, dryRun: output.dryRun)
            let settings = try batch.settings(own)
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
        let result = try BatchRunner(pipeline: pipeline, options: options).run()
        guard let pushOptions, result.fatal == nil else { try exit(with: result.status) }
        if options.dryRun {
            StageDriver.printError("sov-run: --push does nothing in a dry run (sov-push --dry-run shows the calls for what is pending)")
            try exit(with: result.status)
        }
        let pushed = PushRunner(options: pushOptions).run()
        try exit(with: result.status.worst(pushed.status))
    }
}
