import SOVCore

/// The record layouts SOVBridge reads from Spectrum (docs/FORMATS.md, "Layouts"), recognised by field names.
public enum SpectrumLayout: String, Sendable, Hashable, CaseIterable {
    /// Job / contract header (`JC_JOB_MASTER_MC`, GetJobMain).
    case jobHeader = "job_header"
    /// One line of a contract's schedule of values.
    case sovLine = "sov_line"
    /// Header fields repeated on every SOV line.
    case flatContract = "flat_contract"
    /// AR change order (`ARChangeOrder`): one row per detail line, header repeated.
    case changeOrder = "ar_change_order"
}

/// Every field the layouts know, spelled as Spectrum spells it.
public enum SpectrumField: Int, Sendable, Hashable, CaseIterable {
    case companyCode, jobNumber, customerCode
    case contractNumber, jobDescription, customerName, ownerName, priceMethodCode, originalContract
    case statusCode, startDate, completeDate, estCompleteDate, contractDate, retentionPercent, comment
    case billingItem, billingDescription, additionalBillingDescription, groupCode
    case unitPrice, quantity, unitOfMeasure, costCenter, itemOriginalContract, lineAmount
    case changeOrderNumber, description, changeOrderDate, approvedDate, approvedDays, feePercent, feeAmount
    case coBillingGroupCode, coBillingItemCode, additionalDescription, revenue
    case errorCode, errorDescription, errorDesc, errorColumn

    public var name: String {
        switch self {
        case .companyCode: "Company_Code"
        case .jobNumber: "Job_Number"
        case .customerCode: "Customer_Code"
        case .contractNumber: "Contract_Number"
        case .jobDescription: "Job_Description"
        case .customerName: "Customer_Name"
        case .ownerName: "Owner_Name"
        case .priceMethodCode: "Price_Method_Code"
        case .originalContract: "Original_Contract"
        case .statusCode: "Status_Code"
        case .startDate: "Start_Date"
        case .completeDate: "Complete_Date"
        case .estCompleteDate: "Est_Complete_Date"
        case .contractDate: "Contract_Date"
        case .retentionPercent: "Retention_Percent"
        case .comment: "Comment"
        case .billingItem: "Billing_Item"
        case .billingDescription: "Billing_Description"
        case .additionalBillingDescription: "Additional_Billing_Description"
        case .groupCode: "Group_Code"
        case .unitPrice: "Unit_Price"
        case .quantity: "Quantity"
        case .unitOfMeasure: "Unit_Of_Measure"
        case .costCenter: "Cost_Center"
        case .itemOriginalContract: "Item_Original_Contract"
        case .lineAmount: "Line_Amount"
        case .changeOrderNumber: "Change_Order_Number"
        case .description: "Description"
        case .changeOrderDate: "Change_Order_Date"
        case .approvedDate: "Approved_Date"
        case .approvedDays: "Approved_Days"
        case .feePercent: "Fee_Percent"
        case .feeAmount: "Fee_Amount"
        case .coBillingGroupCode: "CO_Billing_Group_Code"
        case .coBillingItemCode: "CO_Billing_Item_Code"
        case .additionalDescription: "Additional_Description"
        case .revenue: "Revenue"
        case .errorCode: "Error_Code"
        case .errorDescription: "Error_Description"
        case .errorDesc: "desc"
        case .errorColumn: "Error_Column"
        }
    }

    /// Spectrum's maximum length, where it has one (docs/FORMATS.md, "Layouts"; longer text is FMT005).
    public var maximumLength: Int? {
        switch self {
        case .companyCode: 3
        case .jobNumber, .customerCode, .billingItem, .coBillingItemCode: 10
        case .contractNumber: 30
        case .jobDescription: 25
        case .billingDescription: 30
        case .additionalBillingDescription, .additionalDescription: 40
        case .changeOrderNumber: 8
        case .description: 250
        case .statusCode: 2
        case .priceMethodCode: 1
        default: nil
        }
    }

    /// The field a name stands for, ignoring case and surrounding spaces.
    public static func named(_ name: String) -> SpectrumField? {
        byLowercasedName[trimmedSpaces(name).lowercased()]
    }

    static let byLowercasedName: [String: SpectrumField] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0.name.lowercased(), $0) })
}

/// How one record shape maps onto the known fields: which layout it is and where each field sits.
/// Built once per shape by `LayoutBinder`.
public final class LayoutBinding: Sendable {
    public let layout: SpectrumLayout?
    /// Per field (by raw value): index in the record, or -1 when absent.
    let slots: [Int]
    /// Known fields that appear more than once: which value is meant cannot be known.
    public let duplicates: [SpectrumField]

    init(names: [String], profile: SpectrumProfile) {
        var slots = [Int](repeating: -1, count: SpectrumField.allCases.count)
        var duplicates: [SpectrumField] = []
        for (index, name) in names.enumerated() {
            guard let field = profile.field(named: name) else { continue }
            if slots[field.rawValue] >= 0 {
                if !duplicates.contains(field) { duplicates.append(field) }
            } else {
                slots[field.rawValue] = index
            }
        }
        self.slots = slots
        self.duplicates = duplicates
        self.layout = LayoutBinding.recognise(slots)
    }

    /// docs/FORMATS.md, "Layouts": most specific first. Required fields beyond these are checked when mapping,
    /// so a missing one is reported by name instead of leaving the record unrecognised.
    static func recognise(_ slots: [Int]) -> SpectrumLayout? {
        func has(_ field: SpectrumField) -> Bool { slots[field.rawValue] >= 0 }
        if has(.changeOrderNumber) { return .changeOrder }
        if has(.billingItem) {
            return has(.itemOriginalContract) || has(.lineAmount) ? .flatContract : .sovLine
        }
        if has(.jobNumber), has(.jobDescription) || has(.contractNumber) || has(.originalContract) || has(.priceMethodCode) {
            return .jobHeader
        }
        return nil
    }

    @inline(__always)
    public func index(of field: SpectrumField) -> Int? {
        let slot = slots[field.rawValue]
        return slot >= 0 ? slot : nil
    }

    public func has(_ field: SpectrumField) -> Bool { slots[field.rawValue] >= 0 }
}

/// Recognises layouts, remembering the binding of each shape: records of one file share their
/// `FieldNames`, so the work is done once per shape.
public final class LayoutBinder {
    public let profile: SpectrumProfile
    private var cache: [ObjectIdentifier: (names: FieldNames, binding: LayoutBinding)] = [:]
    private var lastNames: FieldNames?
    private var lastBinding: LayoutBinding?

    public init(profile: SpectrumProfile) {
        self.profile = profile
    }

    public func binding(for names: FieldNames) -> LayoutBinding {
        // Equal names bind alike: a batch's copy of the names (`PackedRecords.Cursor`) shares
        // the array of the names before it, so `==` finds them equal at once.
        if let lastNames, lastNames === names || lastNames.names == names.names, let lastBinding { return lastBinding }
        let binding: LayoutBinding
        if let cached = cache[ObjectIdentifier(names)] {
            binding = cached.binding
        } else {
            binding = LayoutBinding(names: names.names, profile: profile)
            // The cache holds the names too, so an identifier is never reused while cached.
            if cache.count >= 1024 { cache.removeAll(keepingCapacity: true) }
            cache[ObjectIdentifier(names)] = (names, binding)
        }
        lastNames = names
        lastBinding = binding
        return binding
    }

    /// The record with its layout filled in.
    public func recognise(_ record: Record) -> Record {
        var copy = record
        copy.layout = binding(for: record.fieldNames).layout
        return copy
    }
}
