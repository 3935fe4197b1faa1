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
    public var dryRun = false
    public var quiet = false
    /// How Procore change orders are written for Spectrum (the configuration's `[spectrum]`
    /// table and SPECTRUM_AUTHORIZATION_ID, set by the command layer).
    public var spectrumExport = SpectrumExportConfig()

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
    public var dryRun: Bool?
    public var quiet: Bool?
    /// sov-watch only: seconds between scans of the inbox.
    public var interval: Int?
    /// The `[spectrum]` table (Spectrum export settings), kept whole for SpectrumExportConfig.
    public var spectrum: JSONValue?

    public init(inputs: [String]? = nil, encoding: String? = nil, profile: String? = nil, projectMap: String? = nil, markups: String? = nil, ledger: String? = nil, out: String? = nil, rejects: String? = nil, report: String? = nil, dryRun: Bool? = nil, quiet: Bool? = nil, interval: Int? = nil, spectrum: JSONValue? = nil) {
        self.inputs = inputs
        self.encoding = encoding
        self.profile = profile
        self.projectMap = projectMap
        self.markups = markups
        self.ledger = ledger
        self.out = out
        self.rejects = rejects
        self.report = report
        self.dryRun = dryRun
        self.quiet = quiet
        self.interval = interval
        self.spectrum = spectrum
    }

    /// Keys a configuration file may hold; `_` and `-` are the same (`project_map`, `project-map`).
    public static let configKeys = ["inputs", "encoding", "profile", "project-map", "markups", "ledger", "out", "rejects", "report", "dry-run", "quiet", "interval", "spectrum"]

    /// Reads a configuration file (TOML, or JSON when named `.json`). Relative paths in it are
    /// taken from the file's folder, so a nightly job's config works from any working directory.
    public static func load(configFile path: String) throws(OptionsError) -> BatchSettings {
        let value: JSONValue
        do {
            value = try ConfigFile.load(path)
        } catch {
            throw OptionsError("\(path): \(error.message)", status: error.code == DiagnosticCode.IO001.rawValue ? .noInput : .usage)
        }
        return try parse(value, name: path, base: AtomicFile.parentFolder(of: path))
    }

    public static func parse(_ value: JSONValue, name: String, base: String) throws(OptionsError) -> BatchSettings {
        guard let members = value.members else { throw OptionsError("\(name): the configuration must be a table of options") }
        var settings = BatchSettings()
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") || base == "." ? path : base + "/" + path
        }
        for member in members {
            let key = member.key.replacingUnderscores
            func text() throws(OptionsError) -> String {
                guard let text = member.value.stringValue, !text.isEmpty else { throw OptionsError("\(name): '\(member.key)' must be a non-empty string") }
                return text
            }
            func flag() throws(OptionsError) -> Bool {
                guard let flag = member.value.boolValue else { throw OptionsError("\(name): '\(member.key)' must be true or false") }
                return flag
            }
            switch key {
            case "inputs":
                if let single = member.value.stringValue {
                    settings.inputs = [resolve(single)]
                } else if let list = member.value.arrayValue {
                    var inputs: [String] = []
                    for item in list {
                        guard let text = item.stringValue else { throw OptionsError("\(name): 'inputs' must be a list of paths") }
                        inputs.append(resolve(text))
                    }
                    settings.inputs = inputs
                } else {
                    throw OptionsError("\(name): 'inputs' must be a path or a list of paths")
                }
            case "encoding": settings.encoding = try text()
            case "profile": settings.profile = resolve(try text())
            case "project-map": settings.projectMap = resolve(try text())
            case "markups": settings.markups = resolve(try text())
            case "ledger": settings.ledger = resolve(try text())
            case "out": settings.out = resolve(try text())
            case "rejects": settings.rejects = resolve(try text())
            case "report": settings.report = resolve(try text())
            case "dry-run": settings.dryRun = try flag()
            case "quiet": settings.quiet = try flag()
            case "spectrum":
                guard member.value.members != nil else { throw OptionsError("\(name): 'spectrum' must be a table") }
                settings.spectrum = member.value
            case "interval":
                guard let seconds = member.value.intValue, seconds > 0 else { throw OptionsError("\(name): 'interval' must be a whole number of seconds above 0") }
                settings.interval = seconds
            default:
                throw OptionsError("\(name): unknown option '\(member.key)'; known: \(configKeys.joined(separator: ", "))")
            }
        }
        return settings
    }

    /// These settings, with anything unsaid taken from `fallback` (flags over a config file).
    public func over(_ fallback: BatchSettings) -> BatchSettings {
        BatchSettings(
            inputs: inputs ?? fallback.inputs, encoding: encoding ?? fallback.encoding, profile: profile ?? fallback.profile,
            projectMap: projectMap ?? fallback.projectMap, markups: markups ?? fallback.markups, ledger: ledger ?? fallback.ledger,
            out: out ?? fallback.out, rejects: rejects ?? fallback.rejects, report: report ?? fallback.report,
            dryRun: dryRun ?? fallback.dryRun, quiet: quiet ?? fallback.quiet, interval: interval ?? fallback.interval,
            spectrum: spectrum ?? fallback.spectrum)
    }

    public func options() throws(OptionsError) -> BatchOptions {
        var options = BatchOptions()
        options.inputs = inputs ?? []
        if let encoding {
            guard let known = TextEncoding(name: encoding) else {
                throw OptionsError("unknown encoding '\(encoding)'; use one of \(TextEncoding.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            options.encoding = known
        }
        options.profile = profile
        options.projectMap = projectMap
        options.markups = markups
        options.ledger = ledger ?? Ledger.defaultPath
        options.out = out
        options.rejects = rejects
        options.report = report
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
    fileprivate var replacingUnderscores: String { String(map { $0 == "_" ? "-" : $0 }) }
}
