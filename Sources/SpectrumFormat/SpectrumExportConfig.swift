import SOVCore

/// Which Data Exchange layout `sov-emit --to spectrum` writes.
public enum SpectrumExportLayout: String, Sendable, Hashable, CaseIterable {
    /// `ARChangeRequest`: what Procore's own Spectrum exporter creates (estimate + billing records).
    case changeRequest = "change-request"
    /// `ARChangeOrder`: one record per billing item, vertical markup as the fee.
    case changeOrder = "change-order"

    /// The record element, which is also the Data Exchange method name.
    public var elementName: String {
        switch self {
        case .changeRequest: "ARChangeRequest"
        case .changeOrder: "ARChangeOrder"
        }
    }
}

/// What the writers do with text longer than its Spectrum field (`spectrum.long_text`).
public enum SpectrumLongText: String, Sendable, Hashable, CaseIterable {
    /// Cut to the field's length at a character boundary, with an FMT005 warning (the default:
    /// Procore's titles are often longer than Spectrum's 30-character descriptions).
    case cut
    /// Reject the change order (CO005), for sites that want nothing shortened silently or not.
    case reject
}

/// Everything a site decides about its Spectrum import, filled the same way by `sov-emit` and by
/// the batch runner: configuration file first, then the environment, then command-line options.
///
/// Configuration file (TOML or JSON, via `ConfigFile`), all keys optional, no others allowed:
/// ```toml
/// [spectrum]
/// authorization_id = "..."     # better in the environment: SPECTRUM_AUTHORIZATION_ID
/// cr_status = "A"              # the site's Change Request Status code meaning approved
/// co_status = "A"              # the site's Change Order Status code (change-order layout)
/// number_prefix = "P"          # put before the PCCO number (the result must stay <= 8)
/// layout = "change-request"    # or "change-order"
/// company = "1"                # fallbacks when neither the document nor the project map
/// job = "24-1017"              #   gives company, job or customer
/// customer = "OWN100"
/// long_text = "cut"            # or "reject": a description longer than its field is CO005
/// ```
public struct SpectrumExportConfig: Sendable, Hashable {
    /// The environment variable the command-line layer reads the authorization id from. The library
    /// never reads the environment itself, so a test or the runner decides where the secret lives.
    public static let authorizationEnvironmentVariable = "SPECTRUM_AUTHORIZATION_ID"

    /// Said once per run when records are written without an Authorization_ID.
    public static let missingAuthorizationWarning = Diagnostic.warning(
        .FMT004,
        "no Spectrum Authorization_ID: it is written empty and Spectrum refuses the records until it is filled in; set \(authorizationEnvironmentVariable) or spectrum.authorization_id in the configuration",
        at: SourceLocation(field: "Authorization_ID"))

    /// The keys of a configuration's `spectrum` table; any other is refused, so that a
    /// misspelling (`cr_stat`) is not silently replaced by a default.
    /// `dex_url` and `authorization_id_file` are sov-push's (delivery), read by SOVPush.
    public static let configKeys = ["authorization_id", "cr_status", "co_status", "number_prefix", "layout", "company", "job", "customer", "long_text", "dex_url", "authorization_id_file"]

    /// What is said of a key of the `spectrum` table that is not in `configKeys`.
    public static func unknownKeyMessage(_ key: String) -> String {
        "unknown key '\(key)' in [spectrum]; known keys there: \(configKeys.joined(separator: ", "))"
    }

    /// Data Exchange Authorization_ID (<= 20). nil: written empty, with one warning per run.
    public var authorizationId: String?
    /// CR_Status of an approved change request (site-defined; Spectrum's usual code is A).
    public var changeRequestStatus: String
    /// Status_Code of an approved change order in the change-order layout (<= 2).
    public var changeOrderStatus: String
    /// Put before the change order number; the result is limited to 8 characters.
    public var numberPrefix: String
    public var layout: SpectrumExportLayout
    /// Fallbacks for each part of the Spectrum key the document does not give.
    public var company: String?
    public var job: String?
    public var customer: String?
    /// Text longer than its Spectrum field: cut with a warning, or reject the change order.
    public var longText: SpectrumLongText

    public init(authorizationId: String? = nil, changeRequestStatus: String = "A", changeOrderStatus: String = "A", numberPrefix: String = "", layout: SpectrumExportLayout = .changeRequest, company: String? = nil, job: String? = nil, customer: String? = nil, longText: SpectrumLongText = .cut) {
        self.authorizationId = authorizationId
        self.changeRequestStatus = changeRequestStatus
        self.changeOrderStatus = changeOrderStatus
        self.numberPrefix = numberPrefix
        self.layout = layout
        self.company = company
        self.job = job
        self.customer = customer
        self.longText = longText
    }

    /// Reads the `spectrum` table of a configuration (nil: defaults), then lets a non-blank
    /// authorization id from the environment win over the file's.
    public init(configuration: JSONValue?, environmentAuthorizationId: String?, file: String? = nil) throws(Diagnostic) {
        self.init()
        if let table = configuration?["spectrum"] {
            guard let members = table.members else {
                throw Diagnostic.error(.FMT010, "'spectrum' in the configuration must be a table", at: SourceLocation(file: file, field: "spectrum"))
            }
            if let unknown = members.first(where: { !Self.configKeys.contains($0.key) }) {
                throw Diagnostic.error(.FMT010, Self.unknownKeyMessage(unknown.key), at: SourceLocation(file: file, field: "spectrum.\(unknown.key)"))
            }
            func text(_ key: String) throws(Diagnostic) -> String? {
                switch table[key] {
                case nil, .null?: return nil
                case .string(let value)?: return value.spectrumWriterTrimmed
                case .number(let value)?: return value  // `company = 1` means the code "1"
                default:
                    throw Diagnostic.error(.FMT010, "spectrum.\(key) must be text", at: SourceLocation(file: file, field: "spectrum.\(key)"))
                }
            }
            authorizationId = try text("authorization_id").flatMap { $0.isEmpty ? nil : $0 }
            if let value = try text("cr_status") { changeRequestStatus = value }
            if let value = try text("co_status") { changeOrderStatus = value }
            if let value = try text("number_prefix") { numberPrefix = value }
            if let value = try text("layout") {
                guard let parsed = SpectrumExportLayout(rawValue: value) else {
                    throw Diagnostic.error(.FMT010, "spectrum.layout must be change-request or change-order", at: SourceLocation(file: file, field: "spectrum.layout"), value: value)
                }
                layout = parsed
            }
            if let value = try text("long_text") {
                guard let parsed = SpectrumLongText(rawValue: value) else {
                    throw Diagnostic.error(.FMT010, "spectrum.long_text must be cut or reject", at: SourceLocation(file: file, field: "spectrum.long_text"), value: value)
                }
                longText = parsed
            }
            company = try text("company").flatMap { $0.isEmpty ? nil : $0 }
            job = try text("job").flatMap { $0.isEmpty ? nil : $0 }
            customer = try text("customer").flatMap { $0.isEmpty ? nil : $0 }
        }
        if let fromEnvironment = environmentAuthorizationId?.spectrumWriterTrimmed, !fromEnvironment.isEmpty {
            authorizationId = fromEnvironment
        }
        if let problem = problems(file: file).first { throw problem }
    }

    /// Settings Spectrum would refuse on every record: better said once, before any output.
    public func problems(file: String? = nil) -> [Diagnostic] {
        var found: [Diagnostic] = []
        func check(_ value: String?, _ name: String, max: Int, required: Bool) {
            guard let value else { return }
            let location = SourceLocation(file: file, field: "spectrum.\(name)")
            if required && value.isEmpty {
                found.append(.error(.FMT004, "spectrum.\(name) must not be blank", at: location))
            } else if value.unicodeScalars.count > max {
                found.append(.error(.CO005, "spectrum.\(name) is longer than Spectrum's \(max) characters", at: location, value: value))
            } else if let bad = XMLEscaping.firstForbiddenCharacter(in: value) {
                found.append(.error(.FMT008, "spectrum.\(name) contains \(XMLEscaping.describe(bad.scalar)), which XML 1.0 cannot carry", at: location))
            }
        }
        check(authorizationId, "authorization_id", max: SpectrumLimit.authorizationId.length, required: false)
        // Spectrum documents no length for change request status codes; CO status codes are <= 2.
        check(changeRequestStatus, "cr_status", max: SpectrumLimit.changeRequestStatus.length, required: true)
        check(changeOrderStatus, "co_status", max: SpectrumLimit.changeOrderStatus.length, required: true)
        // A prefix leaves room for at least one character of the number.
        check(numberPrefix, "number_prefix", max: SpectrumLimit.changeOrderNumber.length - 1, required: false)
        check(company, "company", max: SpectrumLimit.company.length, required: false)
        check(job, "job", max: SpectrumLimit.job.length, required: false)
        check(customer, "customer", max: SpectrumLimit.customer.length, required: false)
        return found
    }
}
