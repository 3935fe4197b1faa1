import SOVCore

/// Procore's prime contract status values (docs/FORMATS.md, "Procore import JSON"), as its API spells them.
public enum ProcorePrimeContractStatus: String, Sendable, CaseIterable {
    case draft = "Draft"
    case outForBid = "Out For Bid"
    case outForSignature = "Out For Signature"
    case approved = "Approved"
    case complete = "Complete"
    case terminated = "Terminated"

    /// Case-insensitive; `_` and `-` stand for spaces ("out_for_bid", "approved").
    public static func named(_ text: String) -> ProcorePrimeContractStatus? {
        let wanted = String(text.trimmingSpaces.lowercased().map { $0 == "_" || $0 == "-" ? " " : $0 })
        return allCases.first { $0.rawValue.lowercased() == wanted }
    }

    /// A contract approved or complete has been signed (decided here: Spectrum has no such flag).
    var isExecuted: Bool { self == .approved || self == .complete }
}

public struct ProcoreImportOptions: Sendable, Hashable {
    public var primeContractStatus: ProcorePrimeContractStatus
    /// The project map's file, for what MAP001 says (nil: none was given).
    public var projectMapFile: String?

    public init(primeContractStatus: ProcorePrimeContractStatus = .approved, projectMapFile: String? = nil) {
        self.primeContractStatus = primeContractStatus
        self.projectMapFile = projectMapFile
    }
}

/// Ids that Procore assigns when a request creates something, written in `path` or `query` of
/// later requests of the same import object (never in a body): the importer substitutes them.
public enum ProcorePlaceholder {
    /// The `id` in the response to the request creating the prime contract.
    public static let primeContractId = "{prime_contract_id}"
    /// The Potential Change Order that Procore creates with a prime change order to hold its line
    /// items (Procore's change order tutorial, single-tier behaviour): its id, listed under the
    /// prime change order created by the first request.
    public static let potentialChangeOrderId = "{potential_change_order_id}"
}

/// One API call of an import: `{method, path, query, body}`.
public struct ProcoreRequest: Sendable, Hashable {
    public var method: String
    public var path: String
    public var query: [JSONMember]
    public var body: JSONValue

    public init(method: String = "POST", path: String, query: [JSONMember] = [], body: JSONValue) {
        self.method = method
        self.path = path
        self.query = query
        self.body = body
    }

    public var json: JSONValue {
        .object(["method": .string(method), "path": .string(path), "query": .object(query), "body": body])
    }
}

/// What `sov-emit --to procore` writes for one document: `{kind, origin_id, project_id, requests}`.
public struct ProcoreImport: Sendable, Hashable {
    public var kind: String
    public var originId: String
    public var projectId: String
    public var requests: [ProcoreRequest]
    /// Things the import cannot say to Procore, which did not stop it.
    public var warnings: [Diagnostic]
    /// A change order whose prime contract id is not mapped: the origin id of the contract whose
    /// Procore id fills `{prime_contract_id}` in its body at delivery.
    public var contractOriginId: String?

    public init(kind: String, originId: String, projectId: String, requests: [ProcoreRequest], warnings: [Diagnostic], contractOriginId: String? = nil) {
        self.kind = kind
        self.originId = originId
        self.projectId = projectId
        self.requests = requests
        self.warnings = warnings
        self.contractOriginId = contractOriginId
    }

    public var json: JSONValue {
        var members: [JSONMember] = [
            JSONMember("kind", .string(kind)), JSONMember("origin_id", .string(originId)), JSONMember("project_id", .number(projectId)),
        ]
        if let contractOriginId { members.append(JSONMember("contract_origin_id", .string(contractOriginId))) }
        members.append(JSONMember("requests", .array(requests.map(\.json))))
        return .object(members)
    }

    /// The file name for `--out DIR`, from the origin id.
    public var fileName: String { AtomicFile.safeFileName(originId) + ".json" }
}

public enum ProcoreImportOutcome: Sendable, Hashable {
    case written(ProcoreImport)
    case rejected([Diagnostic])
}

public enum ProcoreDraftOutcome: Sendable {
    case ready(ProcoreImportDraft)
    case rejected([Diagnostic])
}

/// Finds a Spectrum contract's Procore project (and prime contract): the project map plugs in here.
public typealias ProcoreProjectLookup = (ContractKey) -> ProcoreLink?

/// Turns canonical documents bound for Procore into the API calls that create them (docs/FORMATS.md, "Procore import JSON").
/// Every body is written to validate against Procore's schema for its endpoint.
public enum ProcoreImportWriter {
    /// The import as a tree of requests (for code that looks inside: the update plan, tests).
    public static func makeImport(for document: CanonicalDocument, options: ProcoreImportOptions = ProcoreImportOptions(), projectLookup: ProcoreProjectLookup? = nil) -> ProcoreImportOutcome {
        switch draft(for: document, options: options, projectLookup: projectLookup) {
        case .ready(let draft): .written(draft.procoreImport)
        case .rejected(let diagnostics): .rejected(diagnostics)
        }
    }

    /// The document checked and its import described, to be written as bytes
    /// (`ProcoreImportDraft.writeJSON(into:)`) or built as a tree.
    public static func draft(for document: CanonicalDocument, options: ProcoreImportOptions = ProcoreImportOptions(), projectLookup: ProcoreProjectLookup? = nil) -> ProcoreDraftOutcome {
        switch document {
        case .primeContract(let contract): primeContractImport(contract, options: options, projectLookup: projectLookup)
        case .changeOrder(let order): changeOrderImport(order, options: options, projectLookup: projectLookup)
        }
    }

    static func primeContractImport(_ contract: PrimeContract, options: ProcoreImportOptions, projectLookup: ProcoreProjectLookup?) -> ProcoreDraftOutcome {
        var problems: [Diagnostic] = []
        let location = contract.source
        guard let key = contract.origin.contractKey else {
            return .rejected([.error(.FMT004, "prime contract without its Spectrum company, job and customer: Procore needs them as its origin id", at: location.with(field: "origin"))])
        }
        problems += Rulebook.unitPrice(contract)
        let projectId = resolveProjectId(contract.procore, key: key, lookup: projectLookup, projectMapFile: options.projectMapFile, location: location, problems: &problems)
        guard let projectId, problems.isEmpty else { return .rejected(problems) }

        return .ready(ProcoreImportDraft(
            kind: "prime_contract", originId: key.originId, projectId: projectId, warnings: [], contractOriginId: nil,
            content: .primeContract(contract, key: key, status: options.primeContractStatus)))
    }

    static func changeOrderImport(_ order: ChangeOrder, options: ProcoreImportOptions, projectLookup: ProcoreProjectLookup?) -> ProcoreDraftOutcome {
        let location = order.source
        if order.origin.system == .procore {
            return .rejected([.error(.FMT009, "change order \(order.number) came from Procore: it goes to Spectrum (sov-emit --to spectrum), not back to Procore", at: location.with(field: "origin.system"), value: "procore")])
        }
        var problems: [Diagnostic] = []
        var warnings: [Diagnostic] = []
        if let unapproved = Rulebook.approval(order) { problems.append(unapproved) }
        guard let key = order.contract ?? order.origin.contractKey else {
            return .rejected(problems + [.error(.FMT004, "change order \(order.number) without its contract's Spectrum company, job and customer", at: location.with(field: "contract"))])
        }
        let originId = "\(key.originId):co:\(order.number)"
        let projectId = resolveProjectId(order.procore, key: key, lookup: projectLookup, projectMapFile: options.projectMapFile, location: location, problems: &problems)
        let primeContractId = order.procore?.primeContractId ?? projectLookup?(key)?.primeContractId
        if let primeContractId {
            if !isProcoreId(primeContractId) {
                problems.append(.error(.MAP002, "prime contract id '\(primeContractId)' for \(key) is not a Procore id (digits)", at: location.with(field: "procore.prime_contract_id"), value: primeContractId))
            }
        }

        let markups = markupRequests(order, problems: &problems, warnings: &warnings)
        guard let projectId, problems.isEmpty else { return .rejected(problems) }
        return .ready(ProcoreImportDraft(
            kind: "change_order", originId: originId, projectId: projectId, warnings: warnings,
            contractOriginId: primeContractId == nil ? key.originId : nil,
            content: .changeOrder(order, contractOriginId: key.originId, primeContractId: primeContractId, markups: markups)))
    }

    /// The change order's markups in the order of their requests (horizontal before vertical,
    /// each set by position); what Procore cannot take is a problem, what it takes differently a
    /// warning.
    static func markupRequests(_ order: ChangeOrder, problems: inout [Diagnostic], warnings: inout [Diagnostic]) -> [Markup] {
        let location = order.source
        var markups: [Markup] = []
        for (index, markup) in order.markups.enumerated().sorted(by: { ($0.element.set == .horizontal ? 0 : 1, $0.element.position, $0.offset) < ($1.element.set == .horizontal ? 0 : 1, $1.element.position, $1.offset) }) {
            let field = location.with(field: "markups[\(index)]")
            guard markup.percent != nil else {
                problems.append(.error(.MKP002, "markup '\(markup.name)' is a lump sum (\(markup.amount?.description ?? "no amount")); Procore markups are percentages", at: field, value: markup.amount?.description))
                continue
            }
            switch markup.calculation?.lowercased() {
            case nil, "basic"?, "compounding"?: break
            case let other?:
                problems.append(.error(.MKP002, "markup '\(markup.name)' uses calculation '\(other)', which SOVBridge does not support", at: field, value: other))
            }
            switch markup.compound {
            // Procore's basic calculation is the default (compound type null); above is written
            // {"type": "above"} (ProcoreImportDraft).
            case .none, .above: break
            case .names(let names):
                // Procore selects markups to compound by their ids, which it assigns on create.
                problems.append(.error(.MKP002, "markup '\(markup.name)' compounds only \(names.joined(separator: ", ")); Procore selects those by ids it has not assigned yet", at: field))
            }
            if let item = markup.primeLineItem {
                warnings.append(.warning(.MKP002, "markup '\(markup.name)' goes to billing item \(item) in Spectrum; Procore needs that item's id, so Procore will spread it across the lines", at: field, value: item))
            }
            markups.append(markup)
        }
        return markups
    }

    /// The SOV line a change order line changes (CO004), and the Spectrum fields its body has no
    /// place for. The line item create body lists no field for its prime contract line (Procore's
    /// `prime_line_item_id` appears only in what Procore sends, never in this request), so the link
    /// is the origin id of that SOV line, as this writer gave it to Procore, plus its Procore id
    /// when the document knows it. Quantity and unit price stay here too: the contract is
    /// amount-based (`accounting_method` amount), where Procore's quantity fields mean nothing.
    static func changeOrderLineData(_ line: ChangeOrderLine, contractOriginId: String) -> String? {
        OriginData.text([
            ("prime_line_item_origin_id", line.associatedLine.map { "\(contractOriginId):\($0)" }),
            ("prime_line_item_id", line.associatedLineId),
            ("billing_item", line.associatedLine),
            ("group_code", line.group),
            ("additional_description", line.description == line.additionalDescription ? nil : line.additionalDescription),
            ("quantity", line.quantity),
            ("unit_price", line.unitPrice?.description),
        ])
    }

    /// The document's own link first (set by `sov-validate --project-map`), else the project map.
    private static func resolveProjectId(_ link: ProcoreLink?, key: ContractKey, lookup: ProcoreProjectLookup?, projectMapFile: String?, location: SourceLocation, problems: inout [Diagnostic]) -> String? {
        guard let projectId = link?.projectId ?? lookup?(key)?.projectId else {
            problems.append(Rulebook.unmappedJob(key, at: location, projectMap: projectMapFile))
            return nil
        }
        guard isProcoreId(projectId) else {
            problems.append(.error(.MAP001, "project id '\(projectId)' for \(key) is not a Procore id (digits)", at: location.with(field: "procore.project_id"), value: projectId))
            return nil
        }
        return projectId
    }

    /// Digits without a leading zero, so that it is also a valid JSON number for the integer fields.
    static func isProcoreId(_ text: String) -> Bool {
        guard let first = text.utf8.first, first != UInt8(ascii: "0"), text.utf8.count <= 18 else { return false }
        return text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

/// `origin_data`: Procore keeps this text for the integration that made the object and shows it
/// nowhere. The Spectrum fields without another home, as a URL query (`billing_item=01-000&
/// additional_description=Excavation%20and%20paving`): machine-readable, keys in a fixed order so
/// the same document always gives the same body (the ledger compares bodies), and without braces,
/// which in a body would read as a `{placeholder}`.
enum OriginData {
    static func text(_ fields: [(String, String?)]) -> String? {
        var bytes: [UInt8] = []
        for (key, value) in fields { add(key, value, to: &bytes) }
        return text(of: bytes)
    }

    /// One field of an origin data text being written in `bytes` (nothing when `value` is nil).
    /// Written as bytes: a String built per escaped character cost 3,700 instructions per SOV
    /// line, 5% of sov-run; callers per line reuse `bytes` rather than grow a new array.
    static func add(_ key: StaticString, _ value: String?, to bytes: inout [UInt8]) {
        add(key.withUTF8Buffer { $0 }, value, to: &bytes)
    }

    static func add(_ key: String, _ value: String?, to bytes: inout [UInt8]) {
        var key = key
        key.withUTF8 { add($0, value, to: &bytes) }
    }

    private static func add(_ key: UnsafeBufferPointer<UInt8>, _ value: String?, to bytes: inout [UInt8]) {
        guard let value else { return }
        if !bytes.isEmpty { bytes.append(UInt8(ascii: "&")) }
        bytes.append(contentsOf: key)
        bytes.append(UInt8(ascii: "="))
        append(value, to: &bytes)
    }

    /// The text `add` wrote, nil for none.
    static func text(of bytes: [UInt8]) -> String? { bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }

    /// Percent-encoded UTF-8 (RFC 3986): unreserved characters, `:` and `/` as they are.
    static func encoded(_ value: String) -> String {
        var bytes: [UInt8] = []
        append(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    private static func append(_ value: String, to bytes: inout [UInt8]) {
        for byte in value.utf8 {
            if isUnreserved(byte) {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            }
        }
    }

    /// Whether a byte stays as it is (unreserved, `:` and `/`); the others are `%XX`.
    @inline(__always)
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "/"):
            true
        default: false
        }
    }
}
