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
    public var profile: String?
    public var projectMap: String?
    public var markups: String?
    public var ledger: String = Ledger.defaultPath
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

/// Options as given by one source (flags, or a configuration file): nil means "not said".
/// `--config FILE` holds any of them; flags win over the file.
public struct BatchSettings: Sendable, Equatable {
    public var inputs: [String]?
    public var encoding: String?
    public var profile: String?
    public var projectMap: String?
    public var markups: String?
    public var ledger: String?
    public var out: String?
    public var rejects: String?
    public var report: String?
    public var reportCSV: String?
    public var dryRun: Bool?
    public var quiet: Bool?
    /// sov-watch only: seconds between scans of the inbox.
    public var interval: Int?
    /// The `[spectrum]` table (Spectrum export settings), kept whole for SpectrumExportConfig.
    public var spectrum: JSONValue?
    /// The `[procore]` table (delivery: api_url, login_url, company_id, client_id,
    /// client_secret_file), kept whole for sov-push's settings.
    public var procore: JSONValue?

    public init(inputs: [String]? = nil, encoding: String? = nil, profile: String? = nil, projectMap: String? = nil, markups: String? = nil, ledger: String? = nil, out: String? = nil, rejects: String? = nil, report: String? = nil, reportCSV: String? = nil, dryRun: Bool? = nil, quiet: Bool? = nil, interval: Int? = nil, spectrum: JSONValue? = nil, procore: JSONValue? = nil) {
        self.inputs = inputs
        self.encoding = encoding
        self.profile = profile
        self.projectMap = projectMap
        self.markups = markups
        self.ledger = ledger
        self.out = out
        self.rejects = rejects
        self.report = report
        self.reportCSV = reportCSV
        self.dryRun = dryRun
        self.quiet = quiet
        self.interval = interval
        self.spectrum = spectrum
        self.procore = procore
    }

    /// The keys of a configuration file, as documented (`project_map`; `project-map` is read the
    /// same). One file serves every command that takes `--config`, so each knows every key and
    /// uses its own: sov-run all but `interval`, sov-watch all but `inputs`, `out`, `rejects` and
    /// `dry_run` (`runOnlyKeysGiven`), sov-emit only the `[spectrum]` table. A key none of them
    /// knows is an error, whichever command reads it.
    public static let configKeys = ["inputs", "encoding", "profile", "project_map", "markups", "ledger", "out", "rejects", "report", "report_csv", "dry_run", "quiet", "interval", "spectrum", "procore"]

    /// The keys of the `[procore]` table (sov-push; the secret itself only from the environment
    /// or the file named here).
    public static let procoreKeys = ["api_url", "login_url", "company_id", "client_id", "client_secret_file"]

    /// The keys these settings hold that sov-run takes from a configuration and sov-watch does
    /// not (its drop folder decides what is read and where exports and rejects go, and it always
    /// moves files).
    public var runOnlyKeysGiven: [String] {
        [("inputs", inputs != nil), ("out", out != nil), ("rejects", rejects != nil), ("dry_run", dryRun != nil)].filter(\.1).map(\.0)
    }

    /// These settings without the run-only ones.
    public var withoutRunOnlyKeys: BatchSettings {
        var settings = self
        settings.inputs = nil
        settings.out = nil
        settings.rejects = nil
        settings.dryRun = nil
        return settings
    }

    /// Reads a configuration file (TOML, or JSON when named `.json`). Relative paths in it are
    /// taken from the file's folder, so a nightly job's config works from any working directory.
    public static func load(configFile path: String) throws(OptionsError) -> BatchSettings {
        let value: JSONValue
        do {
            value = try ConfigFile.load(path)
        } catch {
            // Where in the file, as every command says it (`sovbridge.toml:2: ...`).
            let place = error.location.line.map { "\(path):\($0)" } ?? path
            throw OptionsError("\(place): \(error.message)", status: error.code == DiagnosticCode.IO001.rawValue ? .noInput : .usage)
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

    /// Judges a configuration exactly as `parse` does (every key known, every value of its
    /// type), for a command that uses only part of it (sov-emit): a problem is a FMT010
    /// diagnostic naming the file and the key.
    public static func check(_ value: JSONValue, file: String?) throws(Diagnostic) {
        do {
            _ = try read(value, base: ".")
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
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") || base == "." ? path : base + "/" + path
        }
        for member in members {
            let key = member.key.replacingHyphens
            func problem(_ message: String) -> Problem { Problem(key: member.key, message: message) }
            func text() throws(Problem) -> String {
                guard let text = member.value.stringValue, !text.isEmpty else { throw problem("'\(member.key)' must be a non-empty string") }
                return text
            }
            func flag() throws(Problem) -> Bool {
                guard let flag = member.value.boolValue else { throw problem("'\(member.key)' must be true or false") }
                return flag
            }
            switch key {
            case "inputs":
                if let single = member.value.stringValue {
                    settings.inputs = [resolve(single)]
                } else if let list = member.value.arrayValue {
                    var inputs: [String] = []
                    for item in list {
                        guard let text = item.stringValue else { throw problem("'inputs' must be a list of paths") }
                        inputs.append(resolve(text))
                    }
                    settings.inputs = inputs
                } else {
                    throw problem("'inputs' must be a path or a list of paths")
                }
            case "encoding":
                let name = try text()
                guard TextEncoding(name: name) != nil else { throw problem(unknownEncoding(name)) }
                settings.encoding = name
            case "profile": settings.profile = resolve(try text())
            case "project_map": settings.projectMap = resolve(try text())
            case "markups": settings.markups = resolve(try text())
            case "ledger":
                // A server URL is not a path beside the configuration.
                let value = try text()
                settings.ledger = Ledger.isServer(value) ? value : resolve(value)
            case "out": settings.out = resolve(try text())
            case "rejects": settings.rejects = resolve(try text())
            case "report": settings.report = resolve(try text())
            case "report_csv": settings.reportCSV = resolve(try text())
            case "dry_run": settings.dryRun = try flag()
            case "quiet": settings.quiet = try flag()
            case "spectrum":
                guard let table = member.value.members else { throw problem("'spectrum' must be a table") }
                if let unknown = table.first(where: { !SpectrumExportConfig.configKeys.contains($0.key) }) {
                    throw Problem(key: "spectrum.\(unknown.key)", message: SpectrumExportConfig.unknownKeyMessage(unknown.key))
                }
                settings.spectrum = member.value
            case "procore":
                guard var table = member.value.members else { throw problem("'procore' must be a table") }
                if let unknown = table.first(where: { !procoreKeys.contains($0.key) }) {
                    let hint = unknown.key == "client_secret" ? " (the secret goes in PROCORE_CLIENT_SECRET or a 0600 file named by client_secret_file, never in this file)" : ""
                    throw Problem(key: "procore.\(unknown.key)", message: "unknown key '\(unknown.key)' in [procore]\(hint); known keys there: \(procoreKeys.joined(separator: ", "))")
                }
                for index in table.indices {
                    guard let text = table[index].value.scalarText, !text.isEmpty else {
                        throw Problem(key: "procore.\(table[index].key)", message: "'procore.\(table[index].key)' must be a non-empty string")
                    }
                    // A secret file named relatively is found beside the configuration.
                    table[index].value = .string(table[index].key == "client_secret_file" ? resolve(text) : text)
                }
                settings.procore = .object(table)
            case "interval":
                guard let seconds = member.value.intValue, seconds > 0 else { throw problem("'interval' must be a whole number of seconds above 0") }
                settings.interval = seconds
            default:
                throw problem("unknown key '\(member.key)'; known keys: \(configKeys.map { $0 == "spectrum" || $0 == "procore" ? "[\($0)]" : $0 }.joined(separator: ", "))")
            }
        }
        return settings
    }

    private static func unknownEncoding(_ name: String) -> String {
        "unknown encoding '\(name)'; use one of \(TextEncoding.allCases.map(\.rawValue).joined(separator: ", "))"
    }

    /// These settings, with anything unsaid taken from `fallback` (flags over a config file).
    public func over(_ fallback: BatchSettings) -> BatchSettings {
        BatchSettings(
            inputs: inputs ?? fallback.inputs, encoding: encoding ?? fallback.encoding, profile: profile ?? fallback.profile,
            projectMap: projectMap ?? fallback.projectMap, markups: markups ?? fallback.markups, ledger: ledger ?? fallback.ledger,
            out: out ?? fallback.out, rejects: rejects ?? fallback.rejects, report: report ?? fallback.report, reportCSV: reportCSV ?? fallback.reportCSV,
            dryRun: dryRun ?? fallback.dryRun, quiet: quiet ?? fallback.quiet, interval: interval ?? fallback.interval,
            spectrum: spectrum ?? fallback.spectrum, procore: procore ?? fallback.procore)
    }

    public func options() throws(OptionsError) -> BatchOptions {
        var options = BatchOptions()
        options.inputs = inputs ?? []
        if let encoding {
            guard let known = TextEncoding(name: encoding) else { throw OptionsError(BatchSettings.unknownEncoding(encoding)) }
            options.encoding = known
        }
        options.profile = profile
        options.projectMap = projectMap
        options.markups = markups
        options.ledger = ledger ?? Ledger.defaultPath
        options.out = out
        options.rejects = rejects
        options.report = report
        options.reportCSV = reportCSV
        options.dryRun = dryRun ?? false
        options.quiet = quiet ?? false
        return options
    }

    /// The options, with the Spectrum export settings from the `[spectrum]` table and the
    /// Authorization_ID from the environment (the command layer reads it; never a literal).
    public func options(environmentAuthorizationId: String?) throws(OptionsError) -> BatchOptions {
        var options = try options()
        do {
            options.spectrumExport = try SpectrumExportConfig(
                configuration: spectrum.map { .object(["spectrum": $0]) }, environmentAuthorizationId: environmentAuthorizationId)
        } catch {
            throw OptionsError(error.humanLine)
        }
        return options
    }
}

extension String {
    /// `project-map` read as the documented `project_map`.
    fileprivate var replacingHyphens: String { String(map { $0 == "-" ? "_" : $0 }) }
}
