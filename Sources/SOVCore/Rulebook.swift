/// The rules a writer meets again, each written once (docs/FORMATS.md, "Rules and codes"): the
/// validator (SOVRules) applies them to every document, and the writers check them again for a
/// document that comes to them without `sov-validate`; both report the same code in the same
/// words, at the same place. The batch-wide rules (PC001, CO004 against the SOV, the project map)
/// need the validator's context and stay in SOVRules.
public enum Rulebook {
    /// PC002: Procore's ERP integration takes lump-sum SOVs only: no Price_Method_Code U, no line
    /// with a unit price, quantity or unit of measure.
    public static func unitPrice(_ contract: PrimeContract) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        if let method = contract.priceMethod, method.trimmingSpaces.uppercased() == "U" {
            problems.append(.error(.PC002, "unit price contracts are not supported (Price_Method_Code U)", at: contract.source.with(field: "Price_Method_Code"), value: method))
        }
        // Each line asked in place: a copy of every line, to find none unit-priced, was two
        // memcpy calls and a retain and release of each of its strings.
        for index in contract.lines.indices where contract.lines[index].isUnitPriced {
            let line = contract.lines[index]
            let (field, value): (String, String?) =
                if let price = line.unitPrice { ("Unit_Price", price.description) }
                else if let quantity = line.quantity { ("Quantity", quantity) }
                else { ("Unit_Of_Measure", line.unitOfMeasure) }
            problems.append(.error(.PC002, "SOV line \(index + 1) (billing item '\(line.code)') is unit-priced; unit price SOVs are not supported", at: (line.source ?? contract.source).with(field: field), value: value))
        }
        return problems
    }

    /// CO001: a change order needs its date (Spectrum's Change_Order_Date, Procore's PCCO date),
    /// both ways: never defaulted to today or to the approval date.
    public static func changeOrderDate(_ order: ChangeOrder) -> Diagnostic? {
        guard order.date == nil else { return nil }
        let hint = order.origin.system == .procore ? " (Procore: erp_custom_fields.transaction_date or date)" : ""
        return .error(.CO001, "change order \(order.number) has no date\(hint); the change order date is required", at: order.source.with(field: FieldName.changeOrderDate.of(order.origin.system)))
    }

    /// CO003: only approved change orders cross over. Spectrum documents carry `approved` as the
    /// reader computed it from the site's profile; Procore's status must be `approved`.
    public static func approval(_ order: ChangeOrder) -> Diagnostic? {
        let location = order.source.with(field: FieldName.status.of(order.origin.system))
        switch order.origin.system {
        case .spectrum:
            guard !order.approved else { return nil }
            let status = order.status.map { "Status_Code '\($0)' is not a code the profile maps to approved" } ?? "Status_Code is blank"
            return .error(.CO003, "change order \(order.number): \(status); only approved change orders are exported", at: location, value: order.status)
        case .procore:
            guard order.status?.trimmingSpaces.lowercased() != "approved" else { return nil }
            let status = order.status.map { "status '\($0)' is not approved" } ?? "status is missing"
            return .error(.CO003, "change order \(order.number): \(status); only approved change orders are exported", at: location, value: order.status)
        }
    }

    /// CO004 (the line's part): every line names the prime contract line item (billing item) it
    /// changes. Whether that item is on the contract's SOV is the validator's to say.
    public static func associatedLine(_ order: ChangeOrder, line index: Int) -> Diagnostic? {
        let line = order.lines[index]
        guard line.associatedLine?.trimmingSpaces.isEmpty ?? true else { return nil }
        let idHint = line.associatedLineId.map { " (it names Procore line item \($0) but not that item's billing item code)" } ?? ""
        return .error(.CO004, "\(order.lineLabel(index)) designates no prime contract line item\(idHint); every line must", at: order.location(ofLine: index, field: .associatedLine), value: line.associatedLine)
    }

    /// CO002: the billing item code a change order line points at fits Spectrum's 10 characters.
    public static func billingItemLength(_ order: ChangeOrder, line index: Int) -> Diagnostic? {
        guard let item = order.lines[index].associatedLine?.trimmingSpaces, let over = SpectrumLimit.billingItem.excess(String(item)) else { return nil }
        return .error(.CO002, "billing item code '\(item)' on \(order.lineLabel(index)) has \(over) characters; Spectrum allows \(SpectrumLimit.billingItem.length)", at: order.location(ofLine: index, field: .associatedLine), value: String(item))
    }

    /// MAP001: a Spectrum document bound for Procore needs the Procore project of its job.
    /// `projectMap` is the map's file, nil when none was given.
    public static func unmappedJob(_ key: ContractKey, at source: SourceLocation, projectMap: String?) -> Diagnostic {
        let whereLooked = projectMap.map { "the project map \($0) has no row for it" } ?? "no --project-map was given"
        return .error(.MAP001, "no Procore project for Spectrum job \(key.job) (company \(key.company), customer \(key.customer)): \(whereLooked)", at: source.with(field: "Job_Number"), value: key.job)
    }

    /// MAP003: a Procore change order bound for Spectrum needs the Spectrum company, job and
    /// customer, from its origin or from the project map (`projectMap`, nil when none was given).
    public static func unknownSpectrumContract(_ order: ChangeOrder, projectMap: String?) -> Diagnostic {
        var tried: [String] = []
        if let project = order.procore?.projectId { tried.append("project \(project)") }
        if let prime = order.procore?.primeContractId { tried.append("prime contract \(prime)") }
        if let job = order.origin.job { tried.append("job \(job)") }
        let mapText: String
        if let projectMap {
            mapText = tried.isEmpty
                ? "the document names no Procore project, prime contract or job to look up in the project map"
                : "the project map \(projectMap) has no single row naming company and customer for \(tried.joined(separator: ", "))"
        } else {
            mapText = "no --project-map was given"
        }
        let missing = [("company", order.origin.company), ("job", order.origin.job), ("customer", order.origin.customer)]
            .filter { $0.1 == nil }.map(\.0).joined(separator: ", ")
        return .error(.MAP003, "the Spectrum contract of change order \(order.number) is unknown: origin has no \(missing), and \(mapText); add the project to the map, or give --company, --job and --customer where the writer runs", at: order.source.with(field: "origin"))
    }

    /// CO005: `text` longer than Spectrum's `field`, said as "`what` has N characters; Spectrum's
    /// FIELD holds L".
    public static func fieldLength(_ text: String?, _ field: SpectrumLimit, what: String, at location: SourceLocation, value: String? = nil) -> Diagnostic? {
        guard let text, let count = field.excess(text) else { return nil }
        return .error(.CO005, "\(what) has \(count) characters; Spectrum's \(field.name) holds \(field.length)", at: location, value: value ?? text)
    }
}

/// A Spectrum field's length limit, written once. Spectrum counts Unicode scalars.
public struct SpectrumLimit: Sendable, Hashable {
    public let name: String
    public let length: Int

    public init(_ name: String, _ length: Int) {
        self.name = name
        self.length = length
    }

    /// The text's length when it is over the limit, nil when it fits.
    public func excess(_ text: String) -> Int? {
        let count = text.unicodeScalars.count
        return count > length ? count : nil
    }

    public static let company = SpectrumLimit("Company_Code", 3)
    public static let job = SpectrumLimit("Job_Number", 10)
    public static let customer = SpectrumLimit("Customer_Code", 10)
    public static let changeOrderNumber = SpectrumLimit("Change_Order_Number", 8)
    public static let changeRequestNumber = SpectrumLimit("Change_Request_Number", 8)
    public static let description = SpectrumLimit("Description", 250)
    public static let changeRequestDescription = SpectrumLimit("CR_Description", 250)
    public static let additionalDescription = SpectrumLimit("Additional_Description", 40)
    public static let billingItem = SpectrumLimit("Billing_Item", 10)
    public static let billingItemDescription = SpectrumLimit("CR_Billing_Item_Description", 30)
    public static let phase = SpectrumLimit("CR_Phase_Code", 20)
    public static let costType = SpectrumLimit("CR_Cost_Type", 3)
    public static let authorizationId = SpectrumLimit("Authorization_ID", 20)
    public static let changeRequestStatus = SpectrumLimit("CR_Status", 10)
    public static let changeOrderStatus = SpectrumLimit("Status_Code", 2)
    /// Amounts are 10.2: ten digits before the point, two after.
    public static let amountIntegerDigits = 10
    public static let amountDecimals = 2
    /// Fee_Percent is 3.2.
    public static let feeIntegerDigits = 3
    public static let feeDecimals = 2
}

/// Field names as the user knows them: Spectrum's layout names for Spectrum documents,
/// Procore's JSON names for Procore ones.
public struct FieldName: Sendable {
    public let spectrum: String
    public let procore: String

    public func of(_ system: SourceSystem) -> String { system == .spectrum ? spectrum : procore }

    public static let company = FieldName(spectrum: "Company_Code", procore: "origin.company")
    public static let job = FieldName(spectrum: "Job_Number", procore: "origin.job")
    public static let customer = FieldName(spectrum: "Customer_Code", procore: "origin.customer")
    public static let changeOrderNumber = FieldName(spectrum: "Change_Order_Number", procore: "number")
    public static let changeOrderDate = FieldName(spectrum: "Change_Order_Date", procore: "date")
    public static let status = FieldName(spectrum: "Status_Code", procore: "status")
    public static let associatedLine = FieldName(spectrum: "CO_Billing_Item_Code", procore: "prime_contract_line_item")
    public static let title = FieldName(spectrum: "Description", procore: "title")
    public static let description = FieldName(spectrum: "Description", procore: "description")
    public static let additionalDescription = FieldName(spectrum: "Additional_Description", procore: "additional_description")
    public static let lineAmount = FieldName(spectrum: "Revenue", procore: "amount")
}

extension ChangeOrder {
    /// Where line `index` is: its own source when the reader kept one, else the document's.
    public func location(ofLine index: Int, field: FieldName) -> SourceLocation {
        (lines[index].source ?? source).with(field: field.of(origin.system))
    }

    /// "line 3" for messages, since JSON sources have no line of their own for each item.
    public func lineLabel(_ index: Int) -> String { "line \(index + 1)" }
}
