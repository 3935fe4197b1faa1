/// The Data Exchange Put methods SOVBridge writes, with their documented element order
/// (DEX-TRANSPORT.md §4.1, §4.2 [D]). The order after Authorization_ID and GUID is the order of
/// the Excel columns, which the ProIV service expects.
public enum SpectrumDEXMethod: String, Sendable, Hashable, CaseIterable {
    case arChangeRequest = "ARChangeRequest"
    case arChangeOrder = "ARChangeOrder"

    /// Layout fields after Authorization_ID and GUID, in documented order.
    public var fields: [String] {
        switch self {
        case .arChangeRequest: Self.changeRequestFields
        case .arChangeOrder: Self.changeOrderFields
        }
    }

    /// The number that keys the record with Company + Job + Customer. Blank means "auto-number a
    /// new one" on every call (§3), so SOVBridge never sends it blank.
    public var numberField: String {
        switch self {
        case .arChangeRequest: "Change_Request_Number"
        case .arChangeOrder: "Change_Order_Number"
        }
    }

    public static let keyFields = ["Company_Code", "Job_Number", "Customer_Code"]

    static let changeRequestFields = [
        "Company_Code", "Job_Number", "Customer_Code", "Change_Request_Number", "CR_Description", "CR_Status",
        "Cost_Reimbursable_Flag", "Origination_Date", "Approved_Date", "Fee_Percent", "Fee_Amount",
        "CR_Phase_Code", "CR_Cost_Type", "Change_Request_Quantity", "Change_Request_Hours", "Change_Request_Amount",
        "Subcontractor_Code", "Subcontract_Number", "Sub_Amount", "Sub_Bid_Group_Item_Code", "Sub_Bid_Item_Code",
        "Sub_Status", "Sub_Change_Order_Number", "Sub_Change_Order_Date", "Sub_Signed_Date", "Sub_Description",
        "Sub_Type", "Sub_Proposal_Date", "Sub_Sent_Date", "Sub_Due_Date", "Sub_Comments", "Markup_Cost_Type",
        "Markup_Percent", "Markup_Amount", "Pricing_Addon_Code", "Pricing_Addon_MU_Percent", "Pricing_Addon_MU_Amount",
        "Pricing_Addon_Phase", "Pricing_Addon_Cost_Type", "CR_Billing_Group_Code", "CR_Billing_Item_Code",
        "CR_Billing_Item_Description", "CR_Additional_Description", "CR_Unit_Price", "CR_Quantity", "CR_Revenue",
        "Proceed_Submitted_Date", "Proceed_Received_Date", "Rough_Estimate", "Quotation_Submitted_Date",
        "Quotation_Due_Date", "Requested_Days", "Approved_Days", "Default_Billing_Total",
    ]

    static let changeOrderFields = [
        "Company_Code", "Job_Number", "Customer_Code", "Change_Order_Number", "Description", "Status_Code",
        "Change_Order_Date", "Approved_Date", "Approved_Days", "Fee_Percent", "Fee_Amount", "Change_Request_Number",
        "CO_Billing_Group_Code", "CO_Billing_Item_Code", "Additional_Description", "Unit_Price", "Quantity", "Revenue",
    ]
}

/// One record of a unit: the layout fields it carries (Authorization_ID and GUID excluded).
public struct SpectrumDEXRecord: Sendable, Hashable {
    public var values: [String: String]

    public init(values: [String: String]) { self.values = values }

    public subscript(field: String) -> String { values[field] ?? "" }

    /// Every layout field in documented order, empty when unused (§5 sends unused elements
    /// empty; Spectrum does not update blank fields).
    public func ordered(for method: SpectrumDEXMethod) -> [(name: String, value: String)] {
        method.fields.map { ($0, values[$0] ?? "") }
    }
}

public enum SpectrumUnitError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(String)
    case notAUnit(String)
    case badRecord(recordIndex: Int, field: String?, message: String)

    public var description: String {
        switch self {
        case .unreadable(let message): "unit is not well-formed XML: \(message)"
        case .notAUnit(let message): "not a Spectrum import unit: \(message)"
        case .badRecord(let index, let field, let message):
            "record \(index)\(field.map { " field \($0)" } ?? ""): \(message)"
        }
    }
}

/// A Spectrum import unit as SOVBridge writes it: a SOAP envelope whose Body holds one element per
/// record (all the same method, in the Data Exchange namespace), each with an empty
/// Authorization_ID and the unit's GUID. All records belong to one change request (or order).
public struct SpectrumUnit: Sendable, Hashable {
    public var method: SpectrumDEXMethod
    /// The unit's GUID (the first record's); nil when the unit carries none.
    public var guid: String?
    public var records: [SpectrumDEXRecord]

    /// Company, Job, Customer and number: what Spectrum keys the change request (order) by.
    public var key: [String] {
        guard let first = records.first else { return [] }
        return (SpectrumDEXMethod.keyFields + [method.numberField]).map { first[$0] }
    }

    public init(method: SpectrumDEXMethod, guid: String?, records: [SpectrumDEXRecord]) {
        self.method = method
        self.guid = guid
        self.records = records
    }

    public static func parse(_ bytes: [UInt8]) throws(SpectrumUnitError) -> SpectrumUnit {
        let root: SpectrumXMLElement
        do {
            root = try SpectrumXML.parse(bytes)
        } catch {
            throw .unreadable(error.description)
        }
        guard root.localName == "Envelope", root.namespace == SpectrumDEXResponseShape.soapEnvelopeNamespace else {
            throw .notAUnit("root is not a SOAP 1.1 Envelope")
        }
        let bodies = root.children(named: "Body")
        guard bodies.count == 1, let body = bodies.first else { throw .notAUnit("expected one SOAP Body") }
        guard let first = body.children.first else { throw .notAUnit("the Body holds no record") }
        guard let method = SpectrumDEXMethod(rawValue: first.localName) else {
            throw .notAUnit("unknown Data Exchange method \(first.localName)")
        }
        let known = Set(method.fields)
        var records: [SpectrumDEXRecord] = []
        var guid: String?
        for (index, element) in body.children.enumerated() {
            guard element.localName == method.rawValue, element.namespace == SpectrumDEXResponseShape.dataNamespace else {
                throw .badRecord(recordIndex: index, field: nil, message: "expected \(method.rawValue) in \(SpectrumDEXResponseShape.dataNamespace)")
            }
            var values: [String: String] = [:]
            for field in element.children {
                guard field.children.isEmpty else {
                    throw .badRecord(recordIndex: index, field: field.localName, message: "field holds elements")
                }
                let text = field.text
                switch field.localName {
                case "Authorization_ID":
                    continue  // filled at delivery from the configured secret, never from the unit
                case "GUID":
                    if guid == nil, !text.isEmpty { guid = text }
                    continue
                case let name where known.contains(name):
                    guard values.updateValue(text, forKey: name) == nil else {
                        throw .badRecord(recordIndex: index, field: name, message: "field appears twice")
                    }
                default:
                    throw .badRecord(recordIndex: index, field: field.localName, message: "not a \(method.rawValue) field")
                }
            }
            let record = SpectrumDEXRecord(values: values)
            // A blank key field would make Spectrum auto-number a new change request on every
            // call (§3), so a resend could duplicate it: such a unit is never sent.
            for name in SpectrumDEXMethod.keyFields + [method.numberField] where record[name].spectrumTrimmed.isEmpty {
                throw .badRecord(recordIndex: index, field: name, message: "is blank; a Data Exchange resend would create a second \(method.rawValue)")
            }
            if let previous = records.first {
                for name in SpectrumDEXMethod.keyFields + [method.numberField] where previous[name] != record[name] {
                    throw .badRecord(recordIndex: index, field: name, message: "differs from record 0: a unit is one \(method.rawValue)")
                }
            }
            records.append(record)
        }
        return SpectrumUnit(method: method, guid: guid, records: records)
    }
}

extension String {
    var spectrumTrimmed: String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
