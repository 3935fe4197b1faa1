import ArgumentParser
import Foundation
import SOVBatch
import SOVCLI
import SOVCore
import SOVFrontEnd
import SOVPush

/// The delivery options sov-push, `sov-run --push` and `sov-watch --push` share; each may also
/// come from the configuration file's `[procore]` and `[spectrum]` tables (flags win). Secrets
/// never come from a flag.
public struct DeliveryOptionGroup: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Which targets to deliver to: procore, spectrum or all (default all).", valueName: "target"))
    public var to: String = "all"

    @Option(name: .long, help: ArgumentHelp("Attempts per call before a unit is given up on for this run (default 6).", valueName: "n"))
    public var maxAttempts: Int = 6

    @Option(name: .long, help: ArgumentHelp("Seconds after which no call is retried any more; what is left stays pending.", valueName: "seconds"))
    public var deadline: Double?

    @Option(name: Setting.procoreAPIURL.optionName, help: Setting.procoreAPIURL.optionHelp)
    public var procoreApiUrl: String?

    @Option(name: Setting.procoreLoginURL.optionName, help: Setting.procoreLoginURL.optionHelp)
    public var procoreLoginUrl: String?

    @Option(name: Setting.procoreCompanyId.optionName, help: Setting.procoreCompanyId.optionHelp)
    public var procoreCompanyId: String?

    @Option(name: Setting.procoreClientId.optionName, help: Setting.procoreClientId.optionHelp)
    public var procoreClientId: String?

    @Option(name: Setting.spectrumDEXURL.optionName, help: Setting.spectrumDEXURL.optionHelp)
    public var spectrumDexUrl: String?

    @Option(name: .long, help: ArgumentHelp("Many firms on one ledger: deliver only the units of this Procore company. sov-run and sov-watch tag each unit with the company they serve (this flag, --procore-company-id, or procore.company_id).", valueName: "id"))
    public var companyId: String?

    public init() {}

    public func validate() throws {
        guard ["procore", "spectrum", "all"].contains(to) else { throw ValidationError("--to must be procore, spectrum or all") }
        guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
        if let deadline, deadline <= 0 { throw ValidationError("--deadline must be above 0 seconds") }
    }

    /// The delivery flags over `settings`.
    public func apply(to settings: inout BatchSettings) throws(OptionsError) {
        try settings.set(.procoreAPIURL, flag: procoreApiUrl)
        try settings.set(.procoreLoginURL, flag: procoreLoginUrl)
        try settings.set(.procoreCompanyId, flag: procoreCompanyId)
        try settings.set(.procoreClientId, flag: procoreClientId)
        try settings.set(.spectrumDEXURL, flag: spectrumDexUrl)
    }

    /// The firm an exporting run serves, which its units are tagged with.
    public func firm(_ settings: BatchSettings) -> String? {
        companyId ?? procoreCompanyId ?? settings.text(.procoreCompanyId)
    }

    /// The push options for `ledger`, with the configuration's tables (`settings`) under the flags.
    public func options(ledger: String, settings: BatchSettings) throws(OptionsError) -> PushOptions {
        var resolved = settings
        try apply(to: &resolved)
        let configuration = try DeliveryConfiguration.resolve(resolved, environment: ProcessInfo.processInfo.environment)
        var options = PushOptions(ledger: ledger, configuration: configuration)
        options.targets = to == "all" ? Set(ExportTarget.allCases) : [ExportTarget(rawValue: to)!]
        options.maxAttempts = maxAttempts
        options.deadlineSeconds = deadline
        options.companyId = companyId
        options.quiet = settings.flag(.quiet) ?? false
        return options
    }
}

/// `sov-push`: `deliver` (the default) and `fetch-erp-request`.
public struct PushCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "sov-push",
        abstract: "Deliver the outbox to Procore and Spectrum; fetch Procore ERP Requests for the inbox.",
        subcommands: [DeliverCommand.self, FetchERPRequestCommand.self],
        defaultSubcommand: DeliverCommand.self)

    public init() {}
}

public struct DeliverCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "deliver",
        abstract: "Deliver the outbox: every pending unit of the ledger, in sequence order, to Procore (REST API) and Spectrum (Data Exchange).",
        discussion: """
            Each unit goes once, whatever fails: Procore lines and change order lines through the sync \
            actions keyed by origin_id, prime contracts, change orders and markups looked up before they \
            are created; Spectrum change requests by their number, which Spectrum updates rather than \
            duplicates. Every id Procore returns is kept in the ledger and fills the placeholders of later \
            units. A refused unit keeps the target's message (sov-ledger show); the change orders of a \
            refused contract wait. A unit that fails after retries stays for the next run.

            Procore's ERP loop: a change order that came as an ERP export event is delivered only when \
            Spectrum took it, its Spectrum keys are written back to Procore (External Data) and its \
            Request Detail is closed as success; when Spectrum or SOVBridge's own rules refuse it, the \
            Request Detail is closed as failed with one message per problem.

            Settings: --config FILE's [procore] table (api_url, login_url, company_id, client_id, \
            client_secret_file) and [spectrum] table (dex_url, authorization_id_file), or the flags. \
            Secrets only from PROCORE_CLIENT_SECRET and SPECTRUM_AUTHORIZATION_ID or the 0600 files \
            named there; they are never printed.

            Exit codes: 0 all delivered (or nothing to deliver); 1 some refused; 64 usage or a setting \
            missing; 66 the ledger is missing; 69 a target unreachable or given up on after retries \
            (nothing lost: the next run resumes); 74 I/O error; 77 a target refused our credentials.
            """)

    @OptionGroup public var ledgerOption: LedgerOption

    var ledger: String? { ledgerOption.ledger }

    @OptionGroup public var configOption: ConfigOption

    var config: String? { configOption.config }

    @OptionGroup public var reportOption: ReportOption

    public var report: String? { reportOption.report }

    @OptionGroup public var rejectsOption: RejectsOption

    public var rejects: String? { rejectsOption.rejects }

    @Flag(name: .long, help: "Print the calls that would be made (method, path, a digest of the body); make none.")
    public var dryRun = false

    @OptionGroup public var quietFlag: QuietFlag

    public var quiet: Bool { quietFlag.quiet }

    @OptionGroup public var delivery: DeliveryOptionGroup

    public init() {}

    public func run() throws {
        StageDriver.prepareProcess()
        var options: PushOptions
        do {
            let settings = try config.map { path throws(OptionsError) in try BatchSettings.load(configFile: path) } ?? BatchSettings()
            options = try delivery.options(ledger: ledger ?? settings.text(.ledger) ?? Ledger.defaultPath, settings: settings)
        } catch {
            StageDriver.printError("sov-push: error: \(error.message)")
            try exit(with: error.status)
        }
        options.report = report
        options.rejects = rejects
        options.dryRun = dryRun
        options.quiet = quiet || options.quiet
        let result = PushRunner(options: options).run()
        try exit(with: result.status)
    }
}

public struct FetchERPRequestCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fetch-erp-request",
        abstract: "Fetch an ERP Request's payload by its id into a file for the inbox (for webhook receivers that pass only the id).",
        discussion: """
            Calls GET \(ERPLoop.showRequestPath(company: "{company_id}", id: "{id}")). Procore's public text does \
            not spell this path out (its reference page names the call only): it is inferred, kept in one \
            place in the code, and a real sandbox is the judge. The file is written whole or not at all.

            Exit codes: 0 written; 1 Procore refused (e.g. no such request); 64 usage or a setting missing; \
            69 Procore unreachable; 73 the file cannot be created; 77 credentials refused.
            """)

    @Argument(help: "The ERP Request id (the webhook event's resource_id).")
    public var id: String

    @Option(name: .long, help: ArgumentHelp("Write the payload here (default: standard output).", valueName: "file"))
    public var out: String?

    @OptionGroup public var configOption: ConfigOption

    var config: String? { configOption.config }

    @OptionGroup public var delivery: DeliveryOptionGroup

    public init() {}

    public func validate() throws {
        guard !id.isEmpty, id.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { throw ValidationError("the ERP Request id is a whole number") }
    }

    public func run() throws {
        StageDriver.prepareProcess()
        let options: PushOptions
        do {
            let settings = try config.map { path throws(OptionsError) in try BatchSettings.load(configFile: path) } ?? BatchSettings()
            options = try delivery.options(ledger: settings.text(.ledger) ?? Ledger.defaultPath, settings: settings)
        } catch {
            StageDriver.printError("sov-push: error: \(error.message)")
            try exit(with: error.status)
        }
        guard let procore = options.configuration.procore else {
            StageDriver.printError("sov-push: error: fetching an ERP Request needs \(options.configuration.procoreMissing.joined(separator: ", "))")
            try exit(with: .usage)
        }
        switch ERPRequestFetch.fetch(id: id, settings: procore) {
        case .success(let bytes):
            do {
                if let out {
                    try AtomicFile.makeFolder(AtomicFile.parentFolder(of: out))
                    try AtomicFile.write(bytes, to: out)
                } else {
                    try OutputSink().write(bytes: bytes)
                }
            } catch let failure as IOFailure {
                StageDriver.printError("sov-push: \(failure.description)")
                try exit(with: failure.status)
            }
        case .failure(let failure):
            StageDriver.printError("sov-push: fetch-erp-request \(id): \(failure.message)")
            try exit(with: failure.status)
        }
    }
}
