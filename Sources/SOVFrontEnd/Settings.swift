import ProcoreFormat
import SOVCore
import SpectrumFormat

/// What a setting holds, which decides how a configuration file and a flag are read.
public enum SettingKind: Sendable, Hashable {
    /// A file or folder; relative in a configuration file means beside that file.
    case path
    /// One path or a list of them.
    case paths
    /// A SQLite file (a path) or a postgresql:// URL (taken as it is).
    case ledger
    /// Text; a number in a configuration file is taken as its text (`company = 1`).
    case text
    /// One of a known set of spellings.
    case choice(SettingChoice)
    /// true or false (a flag without a value on the command line).
    case flag
    /// A whole number of seconds above 0.
    case seconds
}

/// The settings whose value is one of a known set, and how each set is judged and said.
public enum SettingChoice: String, Sendable, Hashable {
    case encoding, delimiter, primeContractStatus, spectrumLayout, longText

    public func accepts(_ value: String) -> Bool {
        switch self {
        case .encoding: TextEncoding(name: value) != nil
        case .delimiter: value == "auto" || SpectrumProfile.delimiter(named: value) != nil
        case .primeContractStatus: ProcorePrimeContractStatus.named(value) != nil
        case .spectrumLayout: SpectrumExportLayout(rawValue: value) != nil
        case .longText: SpectrumLongText(rawValue: value) != nil
        }
    }

    /// What is said of a value not accepted, for a flag (`--encoding`) or a key (`'encoding'`).
    public func refusal(_ value: String, setting name: String) -> String {
        self == .encoding && !name.hasPrefix("--")
            ? "unknown encoding '\(value)'; use one of \(TextEncoding.allCases.map(\.rawValue).joined(separator: ", "))"
            : "\(name) must be \(expected), not '\(value)'"
    }

    /// The accepted spellings, as a sentence ends: "utf-8 or windows-1252".
    public var expected: String {
        let names: [String] = switch self {
        case .encoding: TextEncoding.allCases.map(\.rawValue)
        case .delimiter: [",", ";", "tab", "|", "auto"]
        case .primeContractStatus: ProcorePrimeContractStatus.allCases.map(\.rawValue)
        case .spectrumLayout: SpectrumExportLayout.allCases.map(\.rawValue)
        case .longText: SpectrumLongText.allCases.map(\.rawValue)
        }
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }
}

/// One setting, described once: its key in a configuration file, its flag, what it holds, what
/// it is for and which commands take it. `Setting.all` is the key table: it drives the flags'
/// names and help (SOVCLI's option groups), the reading of `--config` files, the unknown-key
/// error and the README's table of settings (a test holds the README to it).
public struct Setting: Sendable, Hashable {
    /// The key in a configuration file (`project_map`); a table's keys are `spectrum.cr_status`.
    public let key: String
    /// The long flag without its dashes (`project-map`); nil when only a file can say it.
    public let flag: String?
    public let kind: SettingKind
    /// The value's name in help texts (`file`, `code`).
    public let valueName: String
    public let help: String
    /// The commands that take it, by name (`sov-run`).
    public let commands: [String]

    init(_ key: String, flag: String?, _ kind: SettingKind, value valueName: String, _ help: String, commands: [String]) {
        self.key = key
        self.flag = flag
        self.kind = kind
        self.valueName = valueName
        self.help = help
        self.commands = commands
    }

    /// The table the key sits in (`spectrum`), nil for a top-level key.
    public var table: String? { key.firstIndex(of: ".").map { String(key[..<$0]) } }
    /// The key inside its table (`cr_status`), or the key itself.
    public var name: String { key.firstIndex(of: ".").map { String(key[key.index(after: $0)...]) } ?? key }
    /// How a message names it: `spectrum.cr_status (--cr-status)`.
    public var spoken: String { flag.map { "\(key) (--\($0))" } ?? key }
}

extension Setting {
    private static let read = ["sov-parse", "sov-run", "sov-watch"]
    private static let batch = ["sov-run", "sov-watch"]
    private static let spectrumWriters = ["sov-emit", "sov-run", "sov-watch"]
    private static let delivering = ["sov-push", "sov-run --push", "sov-watch --push"]

    public static let inputs = Setting("inputs", flag: nil, .paths, value: "paths", "Input files or folders (sov-run's arguments).", commands: ["sov-run"])
    public static let encoding = Setting("encoding", flag: "encoding", .choice(.encoding), value: "encoding", "CSV text encoding: utf-8 (default) or windows-1252.", commands: read)
    public static let delimiter = Setting("delimiter", flag: "delimiter", .choice(.delimiter), value: "delimiter", "CSV delimiter: , ; tab | or auto (from the header line: ; tab or | when it holds no comma and exactly one of them; said on stderr).", commands: read)
    public static let profile = Setting("profile", flag: "profile", .path, value: "file", "Site profile (TOML or JSON): field renames, approved change order status codes, money spellings.", commands: read)
    public static let procoreMarkups = Setting("procore_markups", flag: "procore-markups", .path, value: "file", "Procore markups (JSON, the shape of GET /rest/v1.0/financials/markups) for change order packages that carry none.", commands: read)
    public static let projectMap = Setting("project_map", flag: "project-map", .path, value: "file", "Project map CSV: company,job,customer,project_id,prime_contract_id (blank company or customer = any).", commands: ["sov-validate", "sov-emit", "sov-run", "sov-watch"])
    public static let markups = Setting("markups", flag: "markups", .path, value: "file", "Default markups per job and overall (TOML or JSON), for change orders that carry none.", commands: ["sov-markup", "sov-run", "sov-watch"])
    public static let primeContractStatus = Setting("prime_contract_status", flag: "prime-contract-status", .choice(.primeContractStatus), value: "status", "Procore status of imported prime contracts: Draft, Out For Bid, Out For Signature, Approved (default), Complete or Terminated.", commands: spectrumWriters)
    public static let ledger = Setting("ledger", flag: "ledger", .ledger, value: "file|url", "The ledger of what was exported: a SQLite file (default ./sovbridge-ledger.sqlite; for sov-watch DIR/sovbridge-ledger.sqlite) or a postgresql://USER@HOST:PORT/DB URL shared by many workers (the password from PGPASSWORD, ~/.pgpass or ?password_file=).", commands: ["sov-run", "sov-watch", "sov-push"])
    public static let out = Setting("out", flag: "out", .path, value: "dir", "Write each export document to its own file here, atomically (default: standard output).", commands: ["sov-run"])
    public static let rejects = Setting("rejects", flag: "rejects", .path, value: "file", "Write rejected documents here as JSON Lines.", commands: ["sov-run"])
    public static let report = Setting("report", flag: "report", .path, value: "file", "Write the report here: one self-contained HTML page (the run's, or sov-push's of its deliveries).", commands: batch)
    public static let reportCSV = Setting("report_csv", flag: "report-csv", .path, value: "dir", "Also write the report's tables as CSV files into this folder (contracts, change orders, rejects, held, warnings, documents).", commands: batch)
    public static let dryRun = Setting("dry_run", flag: "dry-run", .flag, value: "", "Write nothing (no outputs, no ledger); print what would be exported and why.", commands: ["sov-run"])
    public static let quiet = Setting("quiet", flag: "quiet", .flag, value: "", "No diagnostics or summary on stderr (sov-push still says refusals and failures); the rejects file, report and exit code still tell, and a fatal exit always says why.", commands: ["sov-run", "sov-watch", "sov-push"])
    public static let interval = Setting("interval", flag: "interval", .seconds, value: "seconds", "Seconds between scans of the inbox (default 5).", commands: ["sov-watch"])

    public static let spectrumAuthorizationId = Setting("spectrum.authorization_id", flag: nil, .text, value: "id", "Data Exchange Authorization_ID (better in SPECTRUM_AUTHORIZATION_ID, which wins).", commands: spectrumWriters)
    public static let spectrumCRStatus = Setting("spectrum.cr_status", flag: "cr-status", .text, value: "code", "The site's Change Request Status code for approved (default A).", commands: spectrumWriters)
    public static let spectrumCOStatus = Setting("spectrum.co_status", flag: "co-status", .text, value: "code", "The site's Change Order Status code for approved, change-order layout (default A).", commands: spectrumWriters)
    public static let spectrumNumberPrefix = Setting("spectrum.number_prefix", flag: "number-prefix", .text, value: "text", "Put before each change order number (the result must stay within 8 characters).", commands: spectrumWriters)
    public static let spectrumLayout = Setting("spectrum.layout", flag: "spectrum-layout", .choice(.spectrumLayout), value: "layout", "Spectrum layout: change-request (ARChangeRequest, as Procore's exporter does) or change-order (ARChangeOrder).", commands: spectrumWriters)
    public static let spectrumCompany = Setting("spectrum.company", flag: "company", .text, value: "code", "Spectrum company when neither the document nor the project map gives it.", commands: spectrumWriters)
    public static let spectrumJob = Setting("spectrum.job", flag: "job", .text, value: "job", "Spectrum job when neither the document nor the project map gives it.", commands: spectrumWriters)
    public static let spectrumCustomer = Setting("spectrum.customer", flag: "customer", .text, value: "code", "Spectrum customer when neither the document nor the project map gives it.", commands: spectrumWriters)
    public static let spectrumLongText = Setting("spectrum.long_text", flag: "long-text", .choice(.longText), value: "cut|reject", "Text longer than its Spectrum field: cut (default, with an FMT005 warning) or reject the change order (CO005).", commands: spectrumWriters)
    public static let spectrumDEXURL = Setting("spectrum.dex_url", flag: "spectrum-dex-url", .text, value: "url", "Spectrum Data Exchange base, e.g. https://spectrum.example.com:8482; the Authorization_ID only from SPECTRUM_AUTHORIZATION_ID or a 0600 file (spectrum.authorization_id_file).", commands: delivering)
    public static let spectrumAuthorizationIdFile = Setting("spectrum.authorization_id_file", flag: nil, .path, value: "file", "A file only its owner can read (0600) holding the Authorization_ID, for delivery.", commands: delivering)

    public static let procoreAPIURL = Setting("procore.api_url", flag: "procore-api-url", .text, value: "url", "Procore API base (default https://api.procore.com).", commands: delivering)
    public static let procoreLoginURL = Setting("procore.login_url", flag: "procore-login-url", .text, value: "url", "Procore login base for OAuth (default https://login.procore.com).", commands: delivering)
    public static let procoreCompanyId = Setting("procore.company_id", flag: "procore-company-id", .text, value: "id", "Procore company id, sent as Procore-Company-Id; sov-run and sov-watch tag their units with it.", commands: delivering)
    public static let procoreClientId = Setting("procore.client_id", flag: "procore-client-id", .text, value: "id", "OAuth client id of the service account; the secret only from PROCORE_CLIENT_SECRET or a 0600 file (procore.client_secret_file).", commands: delivering)
    public static let procoreClientSecretFile = Setting("procore.client_secret_file", flag: nil, .path, value: "file", "A file only its owner can read (0600) holding the OAuth client secret.", commands: delivering)

    /// The key table, in the order the README and the unknown-key error list it.
    public static let all: [Setting] = [
        inputs, encoding, delimiter, profile, procoreMarkups, projectMap, markups, primeContractStatus, ledger, out, rejects,
        report, reportCSV, dryRun, quiet, interval,
        spectrumAuthorizationId, spectrumCRStatus, spectrumCOStatus, spectrumNumberPrefix, spectrumLayout, spectrumCompany,
        spectrumJob, spectrumCustomer, spectrumLongText, spectrumDEXURL, spectrumAuthorizationIdFile,
        procoreAPIURL, procoreLoginURL, procoreCompanyId, procoreClientId, procoreClientSecretFile,
    ]

    /// The tables a configuration file may hold.
    public static let tables = ["spectrum", "procore"]

    public static func named(_ key: String) -> Setting? { all.first { $0.key == key } }

    /// Every key, for a help text: `inputs, encoding, ..., [spectrum] authorization_id, ...`.
    public static var keyList: String {
        let top = all.filter { $0.table == nil }.map(\.key)
        let tables = Setting.tables.map { table in "[\(table)] " + all.filter { $0.table == table }.map(\.name).joined(separator: ", ") }
        return (top + tables).joined(separator: ", ")
    }

    /// The README's table of settings, made from the key table.
    public static var markdownTable: String {
        var lines = ["| key in `--config` | flag | commands | what it is |", "|---|---|---|---|"]
        for setting in all {
            let flag = setting.flag.map { "`--\($0)`" } ?? "—"
            lines.append("| `\(setting.key)` | \(flag) | \(setting.commands.joined(separator: ", ")) | \(setting.help.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")) |")
        }
        return lines.joined(separator: "\n")
    }
}

/// A setting's value, as read from a file or a flag.
public enum SettingValue: Sendable, Hashable {
    case text(String)
    case paths([String])
    case flag(Bool)
    case number(Int)
}

/// Settings as given by one source (flags, or a configuration file), keyed by the key table;
/// what is not there was not said. Flags win over the file (`over`).
public struct BatchSettings: Sendable, Equatable {
    public private(set) var values: [String: SettingValue] = [:]

    public init() {}

    public init(_ given: [Setting: SettingValue]) {
        for (setting, value) in given { values[setting.key] = value }
    }

    public subscript(setting: Setting) -> SettingValue? {
        get { values[setting.key] }
        set { values[setting.key] = newValue }
    }

    public func text(_ setting: Setting) -> String? {
        guard case .text(let text)? = values[setting.key] else { return nil }
        return text
    }

    public func flag(_ setting: Setting) -> Bool? {
        guard case .flag(let flag)? = values[setting.key] else { return nil }
        return flag
    }

    public func number(_ setting: Setting) -> Int? {
        guard case .number(let number)? = values[setting.key] else { return nil }
        return number
    }

    public func paths(_ setting: Setting) -> [String]? {
        guard case .paths(let paths)? = values[setting.key] else { return nil }
        return paths
    }

    /// A flag's value, judged as the same key in a file is; nil (not given) leaves it unsaid.
    public mutating func set(_ setting: Setting, flag value: String?) throws(OptionsError) {
        guard let value else { return }
        if case .choice(let choice) = setting.kind, !choice.accepts(value) {
            throw OptionsError(choice.refusal(value, setting: "--\(setting.flag ?? setting.key)"))
        }
        values[setting.key] = .text(value)
    }

    /// A flag that is on; off (false) leaves it unsaid, so a file's `true` is kept.
    public mutating func set(_ setting: Setting, on: Bool) {
        if on { values[setting.key] = .flag(true) }
    }

    /// These settings, with anything unsaid taken from `fallback` (flags over a config file).
    public func over(_ fallback: BatchSettings) -> BatchSettings {
        var merged = fallback
        for (key, value) in values { merged.values[key] = value }
        return merged
    }

    /// Only the settings `wanted` keeps (a command that uses part of a shared file).
    public func keeping(_ wanted: (Setting) -> Bool) -> BatchSettings {
        var kept = BatchSettings()
        for setting in Setting.all where wanted(setting) { kept.values[setting.key] = values[setting.key] }
        return kept
    }
}

extension BatchSettings {
    /// Reads a configuration file (TOML, or JSON when named `.json`). Relative paths in it are
    /// taken from the file's folder, so a nightly job's config works from any working directory.
    public static func load(configFile path: String) throws(OptionsError) -> BatchSettings {
        let value: JSONValue
        do {
            value = try ConfigFile.load(path)
        } catch {
            // Where in the file, as every command says it (`sovbridge.toml:2: ...`).
            let place = error.location.line.map { "\(path):\($0)" } ?? path
            throw OptionsError("\(place): \(error.message)", status: InputFailure(file: path, [error], message: "", malformed: .usage).status)
        }
        return try parse(value, name: path, base: AtomicFile.parentFolder(of: path))
    }

    public static func parse(_ value: JSONValue, name: String, base: String) throws(OptionsError) -> BatchSettings {
        do {
            return try read(value, base: base)
        } catch {
            throw OptionsError("\(name): \(error.message)")
        }
    }

    /// Reads a configuration exactly as `parse` does (every key known, every value of its
    /// type), for a command that uses only part of it (sov-emit): a problem is a FMT010
    /// diagnostic naming the file and the key. Relative paths are taken from `base`.
    @discardableResult
    public static func check(_ value: JSONValue, file: String?, base: String = ".") throws(Diagnostic) -> BatchSettings {
        do {
            return try read(value, base: base)
        } catch {
            throw Diagnostic.error(.FMT010, error.message, at: SourceLocation(file: file, field: error.key))
        }
    }

    /// A problem in a configuration, without the file's name: the key and what is wrong.
    private struct Problem: Error {
        var key: String?
        var message: String
    }

    private static func read(_ value: JSONValue, base: String) throws(Problem) -> BatchSettings {
        guard let members = value.members else { throw Problem(message: "the configuration must be a table of options") }
        var settings = BatchSettings()
        for member in members {
            let key = member.key.replacingHyphens
            if Setting.tables.contains(key) {
                guard let table = member.value.members else { throw Problem(key: key, message: "'\(key)' must be a table") }
                let known = Setting.all.filter { $0.table == key }
                for entry in table {
                    guard let setting = known.first(where: { $0.name == entry.key.replacingHyphens }) else {
                        let hint = entry.key == "client_secret" ? " (the secret goes in PROCORE_CLIENT_SECRET or a 0600 file named by client_secret_file, never in this file)" : ""
                        throw Problem(key: "\(key).\(entry.key)", message: "unknown key '\(entry.key)' in [\(key)]\(hint); known keys there: \(known.map(\.name).joined(separator: ", "))")
                    }
                    settings.values[setting.key] = try read(entry.value, as: setting, base: base)
                }
            } else if let setting = Setting.named(key), setting.table == nil {
                settings.values[setting.key] = try read(member.value, as: setting, base: base)
            } else {
                let known = Setting.all.filter { $0.table == nil }.map(\.key) + Setting.tables.map { "[\($0)]" }
                throw Problem(key: member.key, message: "unknown key '\(member.key)'; known keys: \(known.joined(separator: ", "))")
            }
        }
        return settings
    }

    /// One value of a configuration file, judged by its setting's kind.
    private static func read(_ value: JSONValue, as setting: Setting, base: String) throws(Problem) -> SettingValue {
        func problem(_ message: String) -> Problem { Problem(key: setting.key, message: message) }
        func resolve(_ path: String) -> String { path.hasPrefix("/") || base == "." ? path : base + "/" + path }
        func text() throws(Problem) -> String {
            // A number is its text (`company = 1` is the code "1"); blank in [spectrum] means unset.
            guard let text = setting.table == nil ? value.stringValue : value.scalarText, setting.table == "spectrum" || !text.isEmpty else {
                throw problem("'\(setting.key)' must be a non-empty string")
            }
            return text
        }
        switch setting.kind {
        case .path:
            return .text(resolve(try text()))
        case .ledger:
            // A server URL is not a path beside the configuration.
            let text = try text()
            return .text(LedgerAddress.isServer(text) ? text : resolve(text))
        case .text:
            return .text(try text())
        case .choice(let choice):
            let text = try text()
            guard choice.accepts(text) else {
                throw problem(choice.refusal(text, setting: "'\(setting.key)'"))
            }
            return .text(text)
        case .flag:
            guard let flag = value.boolValue else { throw problem("'\(setting.key)' must be true or false") }
            return .flag(flag)
        case .seconds:
            guard let seconds = value.intValue, seconds > 0 else { throw problem("'\(setting.key)' must be a whole number of seconds above 0") }
            return .number(seconds)
        case .paths:
            if let single = value.stringValue { return .paths([resolve(single)]) }
            guard let list = value.arrayValue else { throw problem("'\(setting.key)' must be a path or a list of paths") }
            var paths: [String] = []
            for item in list {
                guard let text = item.stringValue else { throw problem("'\(setting.key)' must be a list of paths") }
                paths.append(resolve(text))
            }
            return .paths(paths)
        }
    }

    /// The keys these settings hold that sov-run takes from a configuration and sov-watch does
    /// not (its drop folder decides what is read and where exports and rejects go, and it always
    /// moves files).
    public var runOnlyKeysGiven: [String] {
        Setting.all.filter { $0.commands == ["sov-run"] && values[$0.key] != nil }.map(\.key)
    }

    /// These settings without the run-only ones.
    public var withoutRunOnlyKeys: BatchSettings {
        var settings = self
        for key in runOnlyKeysGiven { settings.values[key] = nil }
        return settings
    }
}

extension String {
    /// `project-map` read as the documented `project_map`.
    fileprivate var replacingHyphens: String { String(map { $0 == "-" ? "_" : $0 }) }
}

/// Where a ledger is, as the settings say it: a SQLite file, or a PostgreSQL server's URL.
public enum LedgerAddress {
    /// The SQLite file a command uses when none is named.
    public static let defaultPath = "sovbridge-ledger.sqlite"

    /// A PostgreSQL server's URL, not a path beside a configuration file.
    public static func isServer(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }
}
