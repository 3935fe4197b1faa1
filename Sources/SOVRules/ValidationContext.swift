import SOVCore

/// One rule (docs/FORMATS.md, "Rules and codes"): a stable code and a check that reports every problem it finds.
/// Rules never change the document; they only look at it and at what the context knows.
public protocol ValidationRule: Sendable {
    var code: DiagnosticCode { get }
    func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic]
}

/// Contracts exported in earlier runs (the batch runner's ledger). Defined here so the rules
/// can use it; the SQLite ledger in SOVBatch implements it.
public protocol KnownContracts {
    /// The origin id (`spectrum:1:24-1017:OWN100`) of the contract already exported to this
    /// Procore project, if any (PC001).
    func exportedContract(forProject projectId: String) -> String?
    /// The billing item codes of the SOV of an exported contract, if it was exported (CO004).
    func billingItems(of key: ContractKey) -> Set<String>?
}

/// A Spectrum contract that claimed a Procore project earlier in this input (PC001).
public struct ProjectClaim: Sendable, Hashable {
    public var originId: String
    public var displayName: String
    public var source: SourceLocation
}

/// The billing items of a prime contract whose SOV the validator has seen (CO004).
public struct KnownBillingItems: Sendable, Hashable {
    /// A set of the codes (the ledger's), or an SOV's codes as listed when they ascend (as
    /// Spectrum lists them), searched by halves: every contract of a batch is recorded, few have
    /// change orders, and a set cost a hash and an insert per SOV line.
    private enum Codes: Sendable {
        case set(Set<String>)
        /// Codes that are ASCII and ascend strictly (`BillingItemCodes.ascendStrictly`).
        case ascending([String])
    }

    private var codes: Codes
    /// Where the SOV was seen, for messages: "jobs.csv:4" (this input) or "the ledger".
    public var seenIn: String

    public init(items: Set<String>, seenIn: String) {
        codes = .set(items)
        self.seenIn = seenIn
    }

    /// The codes of an SOV's lines, blank ones too.
    /// - Parameter ascend: `BillingItemCodes.ascendStrictly` of these lines, blanks included,
    ///   when the caller knows it already.
    init(lines: [SOVLine], seenIn: String, ascend: Bool? = nil) {
        let listed = lines.map(\.code)
        codes = ascend ?? BillingItemCodes.ascendStrictly(listed, skippingBlanks: false) ? .ascending(listed) : .set(Set(listed))
        self.seenIn = seenIn
    }

    public var items: Set<String> {
        switch codes {
        case .set(let items): items
        case .ascending(let listed): Set(listed)
        }
    }

    /// Whether `code` is one of them (String equality, as a set of them would say).
    public func contains(_ code: String) -> Bool {
        switch codes {
        case .set(let items):
            return items.contains(code)
        case .ascending(let listed):
            // Bytes decide only for ASCII: other text may equal an ASCII code ("\u{212A}" is "K").
            let found = code.utf8.withContiguousStorageIfAvailable { wanted -> Bool? in
                guard wanted.allSatisfy({ $0 < 0x80 }) else { return nil }
                var low = 0
                var high = listed.count
                while low < high {
                    let middle = (low + high) / 2
                    let order = listed[middle].utf8.withContiguousStorageIfAvailable { BillingItemCodes.compare($0, wanted) }
                    switch order {
                    case nil: return nil
                    case 0?: return true
                    case let sign? where sign < 0: low = middle + 1
                    default: high = middle
                    }
                }
                return false
            } ?? nil
            return found ?? listed.contains(code)
        }
    }

    public static func == (left: KnownBillingItems, right: KnownBillingItems) -> Bool {
        left.seenIn == right.seenIn && left.items == right.items
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(items)
        hasher.combine(seenIn)
    }
}

/// Where a Spectrum document goes in Procore (MAP001, PC001).
public enum ProcoreTarget: Sendable, Hashable {
    /// Company, job or customer missing: nothing to look up (FMT004 says which).
    case noContractKey
    /// No row of the map (or no map at all) for this contract.
    case unmapped(ContractKey)
    /// The document already names a project and the map names another one.
    case conflict(ContractKey, document: ProcoreLink, mapping: ProjectMapping)
    case mapped(ProcoreLink, row: ProjectMapping?)

    public var link: ProcoreLink? {
        if case .mapped(let link, _) = self { return link }
        return nil
    }
}

/// Which Spectrum contract a Procore change order belongs to (MAP003).
public enum SpectrumContract: Sendable, Hashable {
    case inDocument(ContractKey)
    /// Not in the document; found in the project map by project, prime contract id or job.
    case fromMap(ContractKey)
    case unknown

    public var key: ContractKey? {
        switch self {
        case .inDocument(let key), .fromMap(let key): key
        case .unknown: nil
        }
    }
}

/// What the rules may consult besides the document: the project map, the contracts seen so far
/// in this input, and the contracts exported in earlier runs.
public struct ValidationContext {
    public let projectMap: ProjectMap?
    public let knownContracts: (any KnownContracts)?
    /// Procore project id -> the first Spectrum contract of this input mapped to it.
    public internal(set) var claims: [String: ProjectClaim] = [:]
    /// Billing items of every Spectrum prime contract of this input, first one per key.
    public internal(set) var contractItems: [ContractKey: KnownBillingItems] = [:]

    /// The SOV of the prime contract `Validator.validate` is judging (its lines' storage and
    /// count) and whether its codes, blanks included, ascend strictly: worked out once there,
    /// for BillingItemCodes and for the contract's KnownBillingItems, where each went over the
    /// codes again. Set only while that contract is judged.
    var judgedSOV: (lines: UnsafeRawPointer?, count: Int, ascend: Bool)?

    public init(projectMap: ProjectMap? = nil, knownContracts: (any KnownContracts)? = nil) {
        self.projectMap = projectMap
        self.knownContracts = knownContracts
    }

    /// Whether the codes of `lines`, blanks included, ascend strictly, when these are the lines
    /// of the contract being judged; nil otherwise.
    func sovCodesAscend(_ lines: [SOVLine]) -> Bool? {
        guard let judgedSOV else { return nil }
        let same = lines.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) == judgedSOV.lines && $0.count == judgedSOV.count }
        return same ? judgedSOV.ascend : nil
    }

    /// The Spectrum key of a Spectrum document: a change order's `contract`, else its origin.
    public static func spectrumKey(of document: CanonicalDocument) -> ContractKey? {
        switch document {
        case .primeContract(let contract): contract.origin.contractKey
        case .changeOrder(let order): order.contract ?? order.origin.contractKey
        }
    }

    /// The Procore project (and prime contract) of a Spectrum document. The map is the authority;
    /// a link already in the document (a document validated before) stands when the map is silent
    /// and must agree with the map otherwise.
    public func procoreTarget(for document: CanonicalDocument) -> ProcoreTarget {
        let carried = document.procore.flatMap { $0.projectId == nil ? nil : $0 }
        guard let key = Self.spectrumKey(of: document) else {
            return carried.map { .mapped($0, row: nil) } ?? .noContractKey
        }
        guard let row = projectMap?.mapping(for: key) else {
            return carried.map { .mapped($0, row: nil) } ?? .unmapped(key)
        }
        if let carried {
            let samePrime = carried.primeContractId == nil || row.primeContractId == nil || carried.primeContractId == row.primeContractId
            guard carried.projectId == row.projectId, samePrime else {
                return .conflict(key, document: carried, mapping: row)
            }
            var link = carried
            link.primeContractId = carried.primeContractId ?? row.primeContractId
            return .mapped(link, row: row)
        }
        return .mapped(ProcoreLink(projectId: row.projectId, primeContractId: row.primeContractId), row: row)
    }

    /// The Spectrum contract of a Procore change order: its own `contract` or origin, else the map.
    public func spectrumContract(for order: ChangeOrder) -> SpectrumContract {
        if let key = order.contract ?? order.origin.contractKey { return .inDocument(key) }
        let found = projectMap?.contractKey(
            projectId: order.procore?.projectId, primeContractId: order.procore?.primeContractId, job: order.origin.job)
        return found.map(SpectrumContract.fromMap) ?? .unknown
    }

    /// The Spectrum key a change order's lines must match, whatever its origin.
    public func contractKey(of order: ChangeOrder) -> ContractKey? {
        order.origin.system == .procore ? spectrumContract(for: order).key : (order.contract ?? order.origin.contractKey)
    }

    /// The billing items of a contract: this input first (it is what goes out now), then the ledger.
    public func billingItems(of key: ContractKey) -> KnownBillingItems? {
        if let seen = contractItems[key] { return seen }
        if let items = knownContracts?.billingItems(of: key) { return KnownBillingItems(items: items, seenIn: "the ledger") }
        return nil
    }

    /// Remembers a Spectrum prime contract of this input: its billing items (CO004) and, when it is
    /// the first for its Procore project, its claim on the project (PC001). A contract rejected for
    /// another reason still claims its project, so that which contract wins never depends on the
    /// data quality of the other one.
    mutating func record(_ contract: PrimeContract, target: ProcoreTarget, codesAscend: Bool? = nil) {
        guard contract.origin.system == .spectrum else { return }
        let document = CanonicalDocument.primeContract(contract)
        if let key = contract.origin.contractKey, contractItems[key] == nil {
            contractItems[key] = KnownBillingItems(lines: contract.lines, seenIn: contract.source.shortText, ascend: codesAscend)
        }
        if let projectId = target.link?.projectId, claims[projectId] == nil {
            claims[projectId] = ProjectClaim(originId: document.originId, displayName: document.displayName, source: contract.source)
        }
    }
}

extension SourceLocation {
    /// "jobs.csv:4" for messages that point at another document.
    var shortText: String {
        var text = file ?? "<input>"
        if let line { text += ":\(line)" } else if let record { text += ":record \(record)" }
        return text
    }
}

extension String {
    /// Blank after trimming spaces (Spectrum pads codes with spaces): nothing but spaces and tabs,
    /// as `trimmingSpaces.isEmpty` says, without making the trimmed String (no other character
    /// equals " " or "\t", so the bytes tell).
    var isBlank: Bool { utf8.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") } }
}
