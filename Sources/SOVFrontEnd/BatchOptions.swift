import ProcoreFormat
import SOVCore
import SpectrumFormat

/// A command line or configuration that cannot be used: said plainly, exit 64 (or 66 for a
/// configuration file that is missing).
public struct OptionsError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var status: ExitStatus

    public init(_ message: String, status: ExitStatus = .usage) {
        self.message = message
        self.status = status
    }

    public var description: String { message }
}

/// Everything `sov-run` (and `sov-watch`, which takes the same options) is told, resolved.
public struct BatchOptions: Sendable {
    public var inputs: [String] = []
    /// Spectrum text encoding (`utf-8`, `windows-1252`); nil means the parser's default.
    public var encoding: TextEncoding?
    /// The CSV delimiter (`SpectrumReadOptions.autoDelimiter` for auto); nil: the profile's, else `,`.
    public var delimiter: UInt8?
    public var profile: String?
    /// Procore markups for change order packages that carry none.
    public var procoreMarkups: String?
    public var projectMap: String?
    public var markups: String?
    public var primeContractStatus: ProcorePrimeContractStatus = .approved
    public var ledger: String = LedgerAddress.defaultPath
    /// Where export documents go, one file each; nil means standard output.
    public var out: String?
    public var rejects: String?
    public var report: String?
    /// `--report-csv DIR`: the report's tables as CSV files, for reconciling in a spreadsheet.
    public var reportCSV: String?
    /// The Procore company (firm) this run serves: its units are tagged with it, so that a push
    /// limited to a company (`sov-push --company-id`) delivers only them (many firms, one ledger).
    public var companyId: String?
    public var dryRun = false
    public var quiet = false
    /// How Procore change orders are written for Spectrum (the configuration's `[spectrum]`
    /// table and SPECTRUM_AUTHORIZATION_ID, set by the command layer).
    public var spectrumExport = SpectrumExportConfig()
    /// Whether symbolic links among the inputs are followed. sov-run: yes, the user names them;
    /// the drop folder (WatchOptions sets it false): never, an input is opened with O_NOFOLLOW and
    /// a link anywhere in a dropped folder is skipped and said, so nothing outside DIR is read.
    public var followsLinks = true

    public init() {}
}

extension BatchSettings {
    /// The options these settings come to; what was not said takes its default.
    public func options() throws(OptionsError) -> BatchOptions {
        var options = BatchOptions()
        options.inputs = paths(.inputs) ?? []
        if let encoding = text(.encoding) {
            guard let known = TextEncoding(name: encoding) else { throw OptionsError(SettingChoice.encoding.refusal(encoding, setting: "encoding")) }
            options.encoding = known
        }
        if let delimiter = text(.delimiter) {
            guard let byte = delimiter == "auto" ? SpectrumReadOptions.autoDelimiter : SpectrumProfile.delimiter(named: delimiter) else {
                throw OptionsError(SettingChoice.delimiter.refusal(delimiter, setting: "--delimiter"))
            }
            options.delimiter = byte
        }
        if let status = text(.primeContractStatus) {
            guard let known = ProcorePrimeContractStatus.named(status) else {
                throw OptionsError(SettingChoice.primeContractStatus.refusal(status, setting: "--prime-contract-status"))
            }
            options.primeContractStatus = known
        }
        options.profile = text(.profile)
        options.procoreMarkups = text(.procoreMarkups)
        options.projectMap = text(.projectMap)
        options.markups = text(.markups)
        options.ledger = text(.ledger) ?? LedgerAddress.defaultPath
        options.out = text(.out)
        options.rejects = text(.rejects)
        options.report = text(.report)
        options.reportCSV = text(.reportCSV)
        options.dryRun = flag(.dryRun) ?? false
        options.quiet = flag(.quiet) ?? false
        return options
    }

    /// The options, with the Spectrum export settings from the `[spectrum]` keys (file and
    /// flags) and the Authorization_ID from the environment (the command layer reads it; never
    /// a literal).
    public func options(environmentAuthorizationId: String?) throws(OptionsError) -> BatchOptions {
        var options = try options()
        options.spectrumExport = try spectrumExport(environmentAuthorizationId: environmentAuthorizationId)
        return options
    }

    /// How Procore change orders are written for Spectrum: the `[spectrum]` settings, then a
    /// non-blank Authorization_ID from the environment. A setting Spectrum would refuse on every
    /// record is a usage error, said before any output.
    public func spectrumExport(environmentAuthorizationId: String?) throws(OptionsError) -> SpectrumExportConfig {
        var config = SpectrumExportConfig()
        func trimmed(_ setting: Setting) -> String? { text(setting).map { String($0.trimmingSpaces) } }
        func given(_ setting: Setting) -> String? { trimmed(setting).flatMap { $0.isEmpty ? nil : $0 } }
        config.authorizationId = given(.spectrumAuthorizationId)
        if let value = trimmed(.spectrumCRStatus) { config.changeRequestStatus = value }
        if let value = trimmed(.spectrumCOStatus) { config.changeOrderStatus = value }
        if let value = trimmed(.spectrumNumberPrefix) { config.numberPrefix = value }
        if let value = given(.spectrumLayout) {
            guard let layout = SpectrumExportLayout(rawValue: value) else { throw OptionsError(SettingChoice.spectrumLayout.refusal(value, setting: Setting.spectrumLayout.spoken)) }
            config.layout = layout
        }
        if let value = given(.spectrumLongText) {
            guard let longText = SpectrumLongText(rawValue: value) else { throw OptionsError(SettingChoice.longText.refusal(value, setting: Setting.spectrumLongText.spoken)) }
            config.longText = longText
        }
        config.company = given(.spectrumCompany)
        config.job = given(.spectrumJob)
        config.customer = given(.spectrumCustomer)
        if let fromEnvironment = environmentAuthorizationId.map({ String($0.trimmingSpaces) }), !fromEnvironment.isEmpty {
            config.authorizationId = fromEnvironment
        }
        if let problem = config.problems().first { throw OptionsError(problem.humanLine) }
        return config
    }
}
