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
/// the batch runner from the settings' `[spectrum]` keys (`BatchSettings.spectrumExport`, in
/// SOVBatch: configuration file, then command-line options), then the environment.
///
/// In a configuration file (TOML or JSON), all keys optional:
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
