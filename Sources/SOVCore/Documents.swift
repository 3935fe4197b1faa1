/// The canonical model (docs/FORMATS.md, "Canonical model"): what every reader produces and every later stage consumes.

public enum SourceSystem: String, Sendable, Hashable {
    case spectrum
    case procore
}

/// Spectrum's key of a contract: Company (3) + Job (10) + Customer (10).
public struct ContractKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var company: String
    public var job: String
    public var customer: String

    public init(company: String, job: String, customer: String) {
        self.company = company
        self.job = job
        self.customer = customer
    }

    public static func < (lhs: ContractKey, rhs: ContractKey) -> Bool {
        (lhs.company, lhs.job, lhs.customer) < (rhs.company, rhs.job, rhs.customer)
    }

    public var description: String { joined("", separator: UInt8(ascii: "/")) }

    /// The stable id Procore records carry so that a re-import matches (`spectrum:1:24-1017:OWN100`).
    public var originId: String { joined("spectrum:", separator: UInt8(ascii: ":")) }

    /// `prefix`, then the three parts between `separator`s, copied into a String sized once:
    /// asked for several times a document, an interpolation cost 2,000 instructions each.
    private func joined(_ prefix: StaticString, separator: UInt8) -> String {
        var (company, job, customer) = (company, job, customer)
        return company.withUTF8 { company in
            job.withUTF8 { job in
                customer.withUTF8 { customer in
                    String(unsafeUninitializedCapacity: prefix.utf8CodeUnitCount + 2 + company.count + job.count + customer.count) { out in
                        var end = out.baseAddress!
                        func put(_ bytes: UnsafeBufferPointer<UInt8>) {
                            if let base = bytes.baseAddress { end.initialize(from: base, count: bytes.count) }
                            end += bytes.count
                        }
                        put(UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
                        put(company)
                        end.initialize(to: separator)
                        end += 1
                        put(job)
                        end.initialize(to: separator)
                        end += 1
                        put(customer)
                        return end - out.baseAddress!
                    }
                }
            }
        }
    }
}

/// Where a document came from, in its source system's own terms.
public struct Origin: Sendable, Hashable {
    public var system: SourceSystem
    public var company: String?
    public var job: String?
    public var customer: String?
    /// The change order number (or contract number) in the source system.
    public var number: String?

    public init(system: SourceSystem, company: String? = nil, job: String? = nil, customer: String? = nil, number: String? = nil) {
        self.system = system
        self.company = company
        self.job = job
        self.customer = customer
        self.number = number
    }

    /// The Spectrum contract key, when company, job and customer are all known.
    public var contractKey: ContractKey? {
        guard let company, let job, let customer else { return nil }
        return ContractKey(company: company, job: job, customer: customer)
    }
}

/// Procore's ids for a document, gained from the source (Procore) or the project map (Spectrum).
/// Ids are kept as text: they are identifiers, not quantities.
public struct ProcoreLink: Sendable, Hashable {
    public var projectId: String?
    public var primeContractId: String?
    public var changeOrderId: String?

    public init(projectId: String? = nil, primeContractId: String? = nil, changeOrderId: String? = nil) {
        self.projectId = projectId
        self.primeContractId = primeContractId
        self.changeOrderId = changeOrderId
    }
}

/// Procore's ERP loop for a change order that came as an ERP export event: the ids SOVBridge
/// writes back (External Data) and the Request Detail it closes as success or failed. Delivery
/// metadata, not content: the ledger leaves it out when it compares versions.
public struct ERPLink: Sendable, Hashable {
    /// The ERP Request (the event's `resource_id`), for `sov-push fetch-erp-request`.
    public var requestId: String?
    /// `request_data.request_detail_id`: what is closed as success or failed.
    public var requestDetailId: String?
    /// Procore's id of each line, in the order of the document's lines (nil where unknown).
    public var lineIds: [String?]
    /// Procore's id of each markup, by its name.
    public var markupIds: [String: String]

    public init(requestId: String? = nil, requestDetailId: String? = nil, lineIds: [String?] = [], markupIds: [String: String] = [:]) {
        self.requestId = requestId
        self.requestDetailId = requestDetailId
        self.lineIds = lineIds
        self.markupIds = markupIds
    }
}

public struct Party: Sendable, Hashable {
    public var code: String
    public var name: String?

    public init(code: String, name: String? = nil) {
        self.code = code
        self.name = name
    }
}

/// One line of a prime contract's schedule of values.
public struct SOVLine: Sendable, Hashable {
    /// Spectrum's billing item (<= 10).
    public var code: String
    public var description: String?
    public var additionalDescription: String?
    public var amount: Money
    public var costCode: String?
    public var group: String?
    /// Present only on unit-price SOVs, which Procore's integration does not take (PC002).
    public var unitPrice: Money?
    public var quantity: String?
    public var unitOfMeasure: String?
    public var source: SourceLocation?

    // Inlinable: called once per SOV line from the readers; across modules its arguments were
    // retained again to be stored.
    @inlinable
    public init(code: String, description: String? = nil, additionalDescription: String? = nil, amount: Money, costCode: String? = nil, group: String? = nil, unitPrice: Money? = nil, quantity: String? = nil, unitOfMeasure: String? = nil, source: SourceLocation? = nil) {
        self.code = code
        self.description = description
        self.additionalDescription = additionalDescription
        self.amount = amount
        self.costCode = costCode
        self.group = group
        self.unitPrice = unitPrice
        self.quantity = quantity
        self.unitOfMeasure = unitOfMeasure
        self.source = source
    }

    public var isUnitPriced: Bool { unitPrice != nil || quantity != nil || unitOfMeasure != nil }
}

public struct PrimeContract: Sendable, Hashable {
    public var origin: Origin
    public var source: SourceLocation
    public var number: String
    public var title: String?
    public var description: String?
    /// The source system's status code, raw (Spectrum A, I, C).
    public var status: String?
    public var customer: Party
    public var ownerName: String?
    /// Spectrum Price_Method_Code: F fixed, T time and material, C cost plus, U unit price.
    public var priceMethod: String?
    public var currency: Currency
    public var originalAmount: Money
    public var retainagePercent: Percent?
    public var contractDate: CalendarDate?
    public var startDate: CalendarDate?
    public var estimatedCompletionDate: CalendarDate?
    public var completionDate: CalendarDate?
    public var lines: [SOVLine]
    public var procore: ProcoreLink?
    public var diagnostics: [Diagnostic]

    public init(origin: Origin, source: SourceLocation, number: String, title: String? = nil, description: String? = nil, status: String? = nil, customer: Party, ownerName: String? = nil, priceMethod: String? = nil, currency: Currency = .usd, originalAmount: Money, retainagePercent: Percent? = nil, contractDate: CalendarDate? = nil, startDate: CalendarDate? = nil, estimatedCompletionDate: CalendarDate? = nil, completionDate: CalendarDate? = nil, lines: [SOVLine] = [], procore: ProcoreLink? = nil, diagnostics: [Diagnostic] = []) {
        self.origin = origin
        self.source = source
        self.number = number
        self.title = title
        self.description = description
        self.status = status
        self.customer = customer
        self.ownerName = ownerName
        self.priceMethod = priceMethod
        self.currency = currency
        self.originalAmount = originalAmount
        self.retainagePercent = retainagePercent
        self.contractDate = contractDate
        self.startDate = startDate
        self.estimatedCompletionDate = estimatedCompletionDate
        self.completionDate = completionDate
        self.lines = lines
        self.procore = procore
        self.diagnostics = diagnostics
    }
}

public enum MarkupSet: String, Sendable, Hashable {
    /// Applied to each line.
    case horizontal
    /// Applied to the subtotal of all lines (horizontal markup included).
    case vertical
}

/// What a markup's base includes besides the line amount (horizontal) or subtotal (vertical).
public enum MarkupCompounding: Sendable, Hashable {
    case none
    /// Every markup above it (lower position) in the same set.
    case above
    /// Only the named markups of the same set.
    case names([String])

    public var json: JSONValue {
        switch self {
        case .none: .string("none")
        case .above: .string("above")
        case .names(let names): .array(names.map(JSONValue.string))
        }
    }
}

public struct Markup: Sendable, Hashable {
    public var name: String
    public var set: MarkupSet
    /// Exactly one of percent and amount is set; amount (a lump sum) only on vertical markups.
    public var percent: Percent?
    public var amount: Money?
    public var position: Int
    public var compound: MarkupCompounding
    /// A vertical markup that names a prime contract line item goes wholly to that billing item.
    public var primeLineItem: String?
    /// Procore's calculation type, raw ("basic", "compounding", "margin"); nil means basic.
    public var calculation: String?

    public init(name: String, set: MarkupSet, percent: Percent? = nil, amount: Money? = nil, position: Int, compound: MarkupCompounding = .none, primeLineItem: String? = nil, calculation: String? = nil) {
        self.name = name
        self.set = set
        self.percent = percent
        self.amount = amount
        self.position = position
        self.compound = compound
        self.primeLineItem = primeLineItem
        self.calculation = calculation
    }
}

/// A named amount: one markup's share on one line, or one markup's total.
public struct MarkupAmount: Sendable, Hashable {
    public var name: String
    public var amount: Money

    public init(name: String, amount: Money) {
        self.name = name
        self.amount = amount
    }
}

public struct ChangeOrderLine: Sendable, Hashable {
    public var description: String?
    /// The line before any markup.
    public var amount: Money
    public var quantity: String?
    public var unitPrice: Money?
    /// The associated prime contract line item: its Spectrum billing item code.
    public var associatedLine: String?
    /// Procore's id of that prime contract line item, when the source has it.
    public var associatedLineId: String?
    /// Spectrum phase (Procore cost code), as the source shows it (with separators).
    public var costCode: String?
    /// Spectrum cost type (Procore line item type code).
    public var costType: String?
    public var additionalDescription: String?
    public var group: String?
    /// Procore's own markup shares on this line, kept so `sov-markup` can check them (MKP001).
    public var procoreMarkup: [MarkupAmount]
    public var source: SourceLocation?

    public init(description: String? = nil, amount: Money, quantity: String? = nil, unitPrice: Money? = nil, associatedLine: String? = nil, associatedLineId: String? = nil, costCode: String? = nil, costType: String? = nil, additionalDescription: String? = nil, group: String? = nil, procoreMarkup: [MarkupAmount] = [], source: SourceLocation? = nil) {
        self.description = description
        self.amount = amount
        self.quantity = quantity
        self.unitPrice = unitPrice
        self.associatedLine = associatedLine
        self.associatedLineId = associatedLineId
        self.costCode = costCode
        self.costType = costType
        self.additionalDescription = additionalDescription
        self.group = group
        self.procoreMarkup = procoreMarkup
        self.source = source
    }
}

/// `sov-markup`'s result for one line.
public struct ComputedLine: Sendable, Hashable {
    public var horizontal: [MarkupAmount]
    public var extendedAmount: Money
    public var verticalShares: [MarkupAmount]
    public var revenue: Money

    public init(horizontal: [MarkupAmount], extendedAmount: Money, verticalShares: [MarkupAmount], revenue: Money) {
        self.horizontal = horizontal
        self.extendedAmount = extendedAmount
        self.verticalShares = verticalShares
        self.revenue = revenue
    }
}

/// `sov-markup`'s result for a change order: every figure the writers need, already reconciled.
public struct ComputedMarkup: Sendable, Hashable {
    public var lines: [ComputedLine]
    public var subtotal: Money
    public var vertical: [MarkupAmount]
    public var grandTotal: Money

    public init(lines: [ComputedLine], subtotal: Money, vertical: [MarkupAmount], grandTotal: Money) {
        self.lines = lines
        self.subtotal = subtotal
        self.vertical = vertical
        self.grandTotal = grandTotal
    }
}

public struct ChangeOrder: Sendable, Hashable {
    public var origin: Origin
    public var source: SourceLocation
    public var number: String
    public var title: String?
    public var description: String?
    /// The source's status, raw (Spectrum's site code, Procore's status text).
    public var status: String?
    /// Whether `status` means approved (Procore `approved`; Spectrum codes from the profile).
    public var approved: Bool
    public var date: CalendarDate?
    public var approvedDate: CalendarDate?
    public var dueDate: CalendarDate?
    public var scheduleImpactDays: Int?
    public var executed: Bool?
    /// The Spectrum key of its prime contract.
    public var contract: ContractKey?
    public var currency: Currency
    public var lines: [ChangeOrderLine]
    public var markups: [Markup]
    public var computed: ComputedMarkup?
    public var procore: ProcoreLink?
    /// Set for a change order from Procore's ERP export event.
    public var erp: ERPLink?
    public var diagnostics: [Diagnostic]

    public init(origin: Origin, source: SourceLocation, number: String, title: String? = nil, description: String? = nil, status: String? = nil, approved: Bool, date: CalendarDate? = nil, approvedDate: CalendarDate? = nil, dueDate: CalendarDate? = nil, scheduleImpactDays: Int? = nil, executed: Bool? = nil, contract: ContractKey? = nil, currency: Currency = .usd, lines: [ChangeOrderLine] = [], markups: [Markup] = [], computed: ComputedMarkup? = nil, procore: ProcoreLink? = nil, erp: ERPLink? = nil, diagnostics: [Diagnostic] = []) {
        self.origin = origin
        self.source = source
        self.number = number
        self.title = title
        self.description = description
        self.status = status
        self.approved = approved
        self.date = date
        self.approvedDate = approvedDate
        self.dueDate = dueDate
        self.scheduleImpactDays = scheduleImpactDays
        self.executed = executed
        self.contract = contract
        self.currency = currency
        self.lines = lines
        self.markups = markups
        self.computed = computed
        self.procore = procore
        self.erp = erp
        self.diagnostics = diagnostics
    }
}

/// One canonical document: one line of the JSON Lines stream between stages.
public enum CanonicalDocument: Sendable, Hashable {
    case primeContract(PrimeContract)
    case changeOrder(ChangeOrder)

    public static let schemaVersion = 1

    public var kind: String {
        switch self {
        case .primeContract: "prime_contract"
        case .changeOrder: "change_order"
        }
    }

    public var origin: Origin {
        switch self {
        case .primeContract(let contract): contract.origin
        case .changeOrder(let order): order.origin
        }
    }

    public var source: SourceLocation {
        switch self {
        case .primeContract(let contract): contract.source
        case .changeOrder(let order): order.source
        }
    }

    public var diagnostics: [Diagnostic] {
        get {
            switch self {
            case .primeContract(let contract): contract.diagnostics
            case .changeOrder(let order): order.diagnostics
            }
        }
        set {
            switch self {
            case .primeContract(var contract):
                contract.diagnostics = newValue
                self = .primeContract(contract)
            case .changeOrder(var order):
                order.diagnostics = newValue
                self = .changeOrder(order)
            }
        }
    }

    public var procore: ProcoreLink? {
        switch self {
        case .primeContract(let contract): contract.procore
        case .changeOrder(let order): order.procore
        }
    }

    /// A short human name for messages and reports: "prime contract 1/24-1017/OWN100",
    /// "change order 003 of 1/24-1017/OWN100".
    public var displayName: String {
        switch self {
        case .primeContract(let contract):
            return "prime contract " + (contract.origin.contractKey?.description ?? contract.number)
        case .changeOrder(let order):
            let key = order.contract ?? order.origin.contractKey
            return "change order \(order.number)" + (key.map { " of \($0)" } ?? "")
        }
    }

    /// The stable identity of the document across runs (the ledger's key, the export file name):
    /// `spectrum:1:24-1017:OWN100`, `spectrum:1:24-1017:OWN100:co:003`,
    /// `procore:pcco:<id>` for a Procore change order.
    public var originId: String {
        switch self {
        case .primeContract(let contract):
            return contract.origin.contractKey?.originId ?? "\(contract.origin.system.rawValue):contract:\(contract.number)"
        case .changeOrder(let order):
            if order.origin.system == .procore {
                if let id = order.procore?.changeOrderId { return "procore:pcco:\(id)" }
                let project = order.procore?.projectId ?? "unknown"
                return "procore:project:\(project):pcco:\(order.number)"
            }
            let key = order.contract ?? order.origin.contractKey
            return (key?.originId ?? "spectrum:unknown") + ":co:\(order.number)"
        }
    }
}
