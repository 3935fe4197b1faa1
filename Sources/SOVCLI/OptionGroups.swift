import ArgumentParser
import SOVFrontEnd
import SOVCore

/// The option groups the commands share, each declared once. Names and help come from the key
/// table (`Setting`, in SOVBatch), which also reads `--config` files: a flag and its key are
/// one setting, and a flag's value is judged as the key's is.
extension Setting {
    public var optionName: NameSpecification { .customLong(flag ?? key) }

    public var optionHelp: ArgumentHelp { ArgumentHelp(help, valueName: valueName.isEmpty ? nil : valueName) }

    /// The flag's value judged as the key's; a bad one is a usage error (exit 64).
    static func check(_ settings: (inout BatchSettings) throws(OptionsError) -> Void) throws {
        var scratch = BatchSettings()
        do {
            try settings(&scratch)
            _ = try scratch.options()
        } catch {
            throw ValidationError(error.message)
        }
    }
}

/// How inputs are read: sov-parse, sov-run and sov-watch.
public struct ReadingOptions: ParsableArguments {
    @Option(name: Setting.encoding.optionName, help: Setting.encoding.optionHelp)
    public var encoding: String?

    @Option(name: Setting.delimiter.optionName, help: Setting.delimiter.optionHelp)
    public var delimiter: String?

    @Option(name: Setting.profile.optionName, help: Setting.profile.optionHelp)
    public var profile: String?

    @Option(name: Setting.procoreMarkups.optionName, help: Setting.procoreMarkups.optionHelp)
    public var procoreMarkups: String?

    public init() {}

    public func validate() throws { try Setting.check(apply) }

    public func apply(to settings: inout BatchSettings) throws(OptionsError) {
        try settings.set(.encoding, flag: encoding)
        try settings.set(.delimiter, flag: delimiter)
        try settings.set(.profile, flag: profile)
        try settings.set(.procoreMarkups, flag: procoreMarkups)
    }
}

/// `--project-map`: sov-validate, sov-emit, sov-run and sov-watch.
public struct ProjectMapOption: ParsableArguments {
    @Option(name: Setting.projectMap.optionName, help: Setting.projectMap.optionHelp)
    public var projectMap: String?

    public init() {}

    public func apply(to settings: inout BatchSettings) throws(OptionsError) {
        try settings.set(.projectMap, flag: projectMap)
    }
}

/// `--markups` (default markups per job): sov-markup, sov-run and sov-watch.
public struct MarkupsOption: ParsableArguments {
    @Option(name: Setting.markups.optionName, help: Setting.markups.optionHelp)
    public var markups: String?

    public init() {}

    public func apply(to settings: inout BatchSettings) throws(OptionsError) {
        try settings.set(.markups, flag: markups)
    }
}

/// How documents are written for Procore and for Spectrum: sov-emit, sov-run and sov-watch.
public struct WritingOptions: ParsableArguments {
    @Option(name: Setting.primeContractStatus.optionName, help: Setting.primeContractStatus.optionHelp)
    public var primeContractStatus: String?

    @Option(name: Setting.spectrumLayout.optionName, help: Setting.spectrumLayout.optionHelp)
    public var layout: String?

    @Option(name: Setting.spectrumCompany.optionName, help: Setting.spectrumCompany.optionHelp)
    public var company: String?

    @Option(name: Setting.spectrumJob.optionName, help: Setting.spectrumJob.optionHelp)
    public var job: String?

    @Option(name: Setting.spectrumCustomer.optionName, help: Setting.spectrumCustomer.optionHelp)
    public var customer: String?

    @Option(name: Setting.spectrumCRStatus.optionName, help: Setting.spectrumCRStatus.optionHelp)
    public var changeRequestStatus: String?

    @Option(name: Setting.spectrumCOStatus.optionName, help: Setting.spectrumCOStatus.optionHelp)
    public var changeOrderStatus: String?

    @Option(name: Setting.spectrumNumberPrefix.optionName, help: Setting.spectrumNumberPrefix.optionHelp)
    public var numberPrefix: String?

    @Option(name: Setting.spectrumLongText.optionName, help: Setting.spectrumLongText.optionHelp)
    public var longText: String?

    public init() {}

    public func validate() throws { try Setting.check(apply) }

    public func apply(to settings: inout BatchSettings) throws(OptionsError) {
        try settings.set(.primeContractStatus, flag: primeContractStatus)
        try settings.set(.spectrumLayout, flag: layout)
        try settings.set(.spectrumCompany, flag: company)
        try settings.set(.spectrumJob, flag: job)
        try settings.set(.spectrumCustomer, flag: customer)
        try settings.set(.spectrumCRStatus, flag: changeRequestStatus)
        try settings.set(.spectrumCOStatus, flag: changeOrderStatus)
        try settings.set(.spectrumNumberPrefix, flag: numberPrefix)
        try settings.set(.spectrumLongText, flag: longText)
    }
}

/// `--ledger`: every command that reads or writes the ledger.
public struct LedgerOption: ParsableArguments {
    @Option(name: Setting.ledger.optionName, help: Setting.ledger.optionHelp)
    public var ledger: String?

    public init() {}
}

/// `--config`: every command that reads a configuration file; each takes its own keys of it.
public struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Read settings from a TOML (or .json) file: the keys of the settings table (README, \"Settings\"); each command takes its own, the file is checked whole, and flags win.", valueName: "file"))
    public var config: String?

    public init() {}
}

/// `--rejects FILE`: every command that turns things away writes them there.
public struct RejectsOption: ParsableArguments {
    @Option(name: Setting.rejects.optionName, help: ArgumentHelp("Write what was turned away here as JSON Lines: rejected documents ({\"document\", \"diagnostics\"}), or, for sov-push, the units a target refused.", valueName: "file"))
    public var rejects: String?

    public init() {}
}

/// `-q`, `--quiet`: every command that speaks on stderr.
public struct QuietFlag: ParsableArguments {
    @Flag(name: .shortAndLong, help: ArgumentHelp(Setting.quiet.help))
    public var quiet = false

    public init() {}
}

/// `--report FILE`: the commands that write an HTML report.
public struct ReportOption: ParsableArguments {
    @Option(name: Setting.report.optionName, help: Setting.report.optionHelp)
    public var report: String?

    public init() {}
}
