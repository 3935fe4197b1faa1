import SOVCore

/// Turns an approved change order, after `sov-markup`, into Spectrum Data Exchange records the
/// way Procore's own Spectrum exporter does (docs/FORMATS.md, "Spectrum import XML"): by default an AR *change request* —
///
/// - *estimate* records, one per distinct phase + cost type: `CR_Phase_Code` (the cost code with
///   its separators removed, <= 20), `CR_Cost_Type` (<= 3), `Change_Request_Amount` = the sum of
///   those lines before markup. Lines without a cost code give no estimate (revenue only; warned).
/// - *billing* records, one per distinct billing item: `CR_Billing_Item_Code` (<= 10),
///   `CR_Billing_Item_Description` (<= 30, cut with a warning, or CO005 with `long_text = reject`), `CR_Revenue` = the sum of those
///   lines' revenue from `computed` (extended amount + shares of vertical markup).
///
/// or, with `SpectrumExportLayout.changeOrder`, an AR change order (see `changeOrderRecords` in SpectrumChangeOrderWriter.swift).
///
/// Every record repeats the header: Authorization_ID, GUID (one per change order), Company_Code,
/// Job_Number, Customer_Code, the number, description, status, dates and Approved_Days. A header
/// value the document does not have (Approved_Date, Approved_Days) is left out rather than sent
/// blank, since Data Exchange updates the fields it is given.
///
/// Spectrum updates the first match when a key repeats, so a phase + cost type or a billing item
/// is never sent twice in one change request: lines sharing one are summed. Before anything is
/// returned the records are reconciled, to the cent, with `computed` (REC001); a change order that
/// does not reconcile, breaks a Spectrum limit (CO005) or holds text XML cannot carry (FMT008) is
/// rejected whole, with every problem found.
public struct SpectrumChangeRequestWriter {
    public var config: SpectrumExportConfig
    /// Finds company, job and customer for a change order that does not carry them (a Procore
    /// document): the project map, by project id, prime contract id or job.
    public var keyLookup: (ChangeOrder) -> ContractKey?
    /// The project map's file, for what MAP003 says.
    public var projectMapFile: String?

    /// `projectMapFile`: the map `keyLookup` reads, for what MAP003 says (nil: none was given).
    public init(config: SpectrumExportConfig, projectMapFile: String? = nil, keyLookup: @escaping (ChangeOrder) -> ContractKey? = { _ in nil }) {
        self.config = config
        self.projectMapFile = projectMapFile
        self.keyLookup = keyLookup
    }

    public func export(_ order: ChangeOrder) -> SpectrumExportResult {
        var generator = SystemRandomNumberGenerator()
        return export(order, using: &generator)
    }

    public func export(_ order: ChangeOrder, using generator: inout some RandomNumberGenerator) -> SpectrumExportResult {
        var problems = SpectrumWriterProblems(order: order)
        if order.origin.system == .spectrum {
            // Spectrum has it already: writing it back would make a second change request.
            problems.error(.FMT009, "change order \(order.number) came from Spectrum: it goes to Procore (sov-emit --to procore), not back to Spectrum", field: "origin.system", value: "spectrum")
            return .rejected(problems.all)
        }
        guard let computed = order.computed else {
            problems.error(.FMT004, "change order \(order.number) has no computed markup: run sov-markup before sov-emit --to spectrum", field: "computed")
            return .rejected(problems.all)
        }
        if let unapproved = Rulebook.approval(order) { problems.add(unapproved) }
        if order.lines.isEmpty {
            problems.error(.FMT004, "change order \(order.number) has no lines: there is nothing to send to Spectrum", field: "lines")
            return .rejected(problems.all)
        }
        guard computed.lines.count == order.lines.count else {
            problems.error(.REC001, "computed markup has \(computed.lines.count) lines but the change order has \(order.lines.count): run sov-markup again", field: "computed.lines")
            return .rejected(problems.all)
        }
        checkComputed(order, computed, &problems)
        let header = makeHeader(order, &problems)
        let lines = planLines(order, &problems)
        guard let header, let lines, !problems.hasErrors else { return .rejected(problems.all) }

        let guid = SpectrumGUID.make(using: &generator)
        let records: [SpectrumExportRecord]
        switch config.layout {
        case .changeRequest: records = changeRequestRecords(order, computed, header, lines, guid: guid, &problems)
        case .changeOrder: records = changeOrderRecords(order, computed, header, lines, guid: guid, &problems)
        }
        checkText(records, &problems)
        if problems.hasErrors { return .rejected(problems.all) }
        // The same for every change order of a run: those who say warnings say each one once.
        let authorization = config.authorizationId == nil ? [SpectrumExportConfig.missingAuthorizationWarning] : []
        return .exported(SpectrumChangeOrderExport(layout: config.layout, key: header.key, number: header.number, guid: guid, records: records, warnings: authorization + problems.warnings))
    }

    // MARK: Header

    struct Header {
        var key: ContractKey
        var number: String
        var description: String
        var date: CalendarDate
        var approvedDate: CalendarDate?
        var approvedDays: Int?
    }

    /// Company, job and customer: the document's own key, else the project map, else each missing
    /// part from the configuration (`--company/--job/--customer`).
    func resolveKey(_ order: ChangeOrder) -> ContractKey? {
        func clean(_ text: String?) -> String? {
            guard let trimmed = text?.spectrumWriterTrimmed, !trimmed.isEmpty else { return nil }
            return trimmed
        }
        func cleaned(_ key: ContractKey) -> ContractKey? {
            guard let company = clean(key.company), let job = clean(key.job), let customer = clean(key.customer) else { return nil }
            return ContractKey(company: company, job: job, customer: customer)
        }
        if let key = order.origin.contractKey.flatMap(cleaned) ?? order.contract.flatMap(cleaned) { return key }
        if let key = keyLookup(order).flatMap(cleaned) { return key }
        guard let company = clean(order.origin.company) ?? clean(order.contract?.company) ?? clean(config.company),
            let job = clean(order.origin.job) ?? clean(order.contract?.job) ?? clean(config.job),
            let customer = clean(order.origin.customer) ?? clean(order.contract?.customer) ?? clean(config.customer)
        else { return nil }
        return ContractKey(company: company, job: job, customer: customer)
    }

    func makeHeader(_ order: ChangeOrder, _ problems: inout SpectrumWriterProblems) -> Header? {
        let key = resolveKey(order)
        if let key {
            for (field, value) in [(SpectrumLimit.company, key.company), (.job, key.job), (.customer, key.customer)] {
                if let long = Rulebook.fieldLength(value, field, what: "\(field.name) '\(value)'", at: order.source.with(field: field.name)) { problems.add(long) }
            }
        } else {
            problems.add(Rulebook.unknownSpectrumContract(order, projectMap: projectMapFile))
        }

        let numberField = config.layout == .changeRequest ? "Change_Request_Number" : "Change_Order_Number"
        let bareNumber = order.number.spectrumWriterTrimmed
        let number = config.numberPrefix + bareNumber
        if bareNumber.isEmpty {
            problems.error(.FMT004, "the change order has no number", field: "number")
        } else if let long = Rulebook.fieldLength(
            number, config.layout == .changeRequest ? .changeRequestNumber : .changeOrderNumber,
            what: "\(numberField) '\(number)'" + (config.numberPrefix.isEmpty ? "" : " (prefix '\(config.numberPrefix)' included)"),
            at: order.source.with(field: "number"), value: order.number) {
            problems.add(long)
        }

        let description = changeOrderText(order)
        if let long = Rulebook.fieldLength(
            description, config.layout == .changeRequest ? .changeRequestDescription : .description, what: "the change order's description",
            at: order.source.with(field: order.title?.spectrumWriterTrimmed.isEmpty == false ? "title" : "description")) {
            problems.add(long)
        }

        if let undated = Rulebook.changeOrderDate(order) { problems.add(undated) }
        if order.approvedDate == nil {
            problems.warning(.FMT004, "change order \(order.number) has no approved date: Approved_Date is left out", field: "approved_date")
        }
        guard let key, let date = order.date else { return nil }
        return Header(key: key, number: number, description: description, date: date, approvedDate: order.approvedDate, approvedDays: order.scheduleImpactDays)
    }

    /// The one line of text a PCCO shows: its title, or its description when it has no title.
    func changeOrderText(_ order: ChangeOrder) -> String {
        for candidate in [order.title, order.description] {
            if let text = candidate?.spectrumWriterTrimmed, !text.isEmpty { return text }
        }
        return ""
    }

    func headerFields(_ header: Header, guid: String) -> [SpectrumExportField] {
        var fields = [
            SpectrumExportField("Authorization_ID", config.authorizationId ?? ""),
            SpectrumExportField("GUID", guid),
            SpectrumExportField("Company_Code", header.key.company),
            SpectrumExportField("Job_Number", header.key.job),
            SpectrumExportField("Customer_Code", header.key.customer),
        ]
        switch config.layout {
        case .changeRequest:
            fields += [
                SpectrumExportField("Change_Request_Number", header.number),
                SpectrumExportField("CR_Description", header.description),
                SpectrumExportField("CR_Status", config.changeRequestStatus),
                SpectrumExportField("Origination_Date", header.date.spectrum),
            ]
        case .changeOrder:
            fields += [
                SpectrumExportField("Change_Order_Number", header.number),
                SpectrumExportField("Description", header.description),
                SpectrumExportField("Status_Code", config.changeOrderStatus),
                SpectrumExportField("Change_Order_Date", header.date.spectrum),
            ]
        }
        if let approved = header.approvedDate { fields.append(SpectrumExportField("Approved_Date", approved.spectrum)) }
        if let days = header.approvedDays { fields.append(SpectrumExportField("Approved_Days", String(days))) }
        return fields
    }

    // MARK: Lines

    struct LinePlan {
        /// The billing item (associated prime contract line), trimmed.
        var billingItem: String
        /// Phase without separators and cost type; nil for a revenue-only line.
        var phase: String?
        var costType: String?
    }

    func planLines(_ order: ChangeOrder, _ problems: inout SpectrumWriterProblems) -> [LinePlan]? {
        var plans: [LinePlan] = []
        var revenueOnly: [Int] = []
        var failed = false
        for (index, line) in order.lines.enumerated() {
            let item = line.associatedLine?.spectrumWriterTrimmed ?? ""
            if let problem = Rulebook.associatedLine(order, line: index) ?? Rulebook.billingItemLength(order, line: index) {
                problems.add(problem)
                failed = true
            }
            var phase: String?
            var costType: String?
            let rawCode = line.costCode?.spectrumWriterTrimmed ?? ""
            let code = rawCode.spectrumWriterPhaseCode
            if config.layout == .changeOrder {
                // AR change orders carry revenue only: phases and cost types are not written.
            } else if code.isEmpty {
                revenueOnly.append(index)
            } else {
                phase = code
                if let long = Rulebook.fieldLength(code, .phase, what: "phase '\(code)' (cost code '\(rawCode)' without separators)", at: (line.source ?? order.source).with(field: "lines[\(index)].cost_code"), value: line.costCode) {
                    problems.add(long)
                    failed = true
                }
                let type = line.costType?.spectrumWriterTrimmed ?? ""
                if type.isEmpty {
                    problems.error(.FMT004, "line \(index + 1) has cost code '\(rawCode)' but no cost type; Spectrum's estimate needs both (Procore line item type)", line: index, field: "cost_type")
                    failed = true
                } else if let long = Rulebook.fieldLength(type, .costType, what: "cost type '\(type)'", at: (line.source ?? order.source).with(field: "lines[\(index)].cost_type"), value: line.costType) {
                    problems.add(long)
                    failed = true
                }
                costType = type
            }
            plans.append(LinePlan(billingItem: item, phase: phase, costType: costType))
        }
        if !revenueOnly.isEmpty && config.layout == .changeRequest {
            let names = revenueOnly.map { String($0 + 1) }.joined(separator: ", ")
            problems.warning(.FMT004, "line\(revenueOnly.count == 1 ? "" : "s") \(names) of change order \(order.number) \(revenueOnly.count == 1 ? "has" : "have") no cost code: no estimate record for \(revenueOnly.count == 1 ? "it" : "them") (revenue only)", line: revenueOnly.count == 1 ? revenueOnly[0] : nil, field: "cost_code")
        }
        return failed ? nil : plans
    }

    // MARK: Change request layout

    func changeRequestRecords(_ order: ChangeOrder, _ computed: ComputedMarkup, _ header: Header, _ lines: [LinePlan], guid: String, _ problems: inout SpectrumWriterProblems) -> [SpectrumExportRecord] {
        var estimates = SpectrumWriterSums<EstimateKey>()
        var billing = SpectrumWriterSums<String>()
        var revenueOnlyTotal = Money.zero(order.currency)
        for (index, plan) in lines.enumerated() {
            let line = order.lines[index]
            if let phase = plan.phase, let costType = plan.costType {
                estimates.add(line.amount, to: EstimateKey(phase: phase, costType: costType), &problems)
            } else {
                revenueOnlyTotal = problems.sum(revenueOnlyTotal, line.amount)
            }
            billing.add(computed.lines[index].revenue, to: plan.billingItem, &problems)
        }

        let itemDescription = fitted(changeOrderText(order), to: SpectrumLimit.billingItemDescription.length, SpectrumLimit.billingItemDescription.name, field: "title", &problems)

        let base = headerFields(header, guid: guid)
        var records: [SpectrumExportRecord] = []
        for (key, amount) in estimates.entries {
            checkAmount(amount, "Change_Request_Amount", &problems)
            records.append(SpectrumExportRecord(element: SpectrumExportLayout.changeRequest.elementName, fields: base + [
                SpectrumExportField("CR_Phase_Code", key.phase),
                SpectrumExportField("CR_Cost_Type", key.costType),
                SpectrumExportField("Change_Request_Amount", amount.description),
            ]))
        }
        for (item, revenue) in billing.entries {
            checkAmount(revenue, "CR_Revenue", &problems)
            records.append(SpectrumExportRecord(element: SpectrumExportLayout.changeRequest.elementName, fields: base + [
                SpectrumExportField("CR_Billing_Item_Code", item),
                SpectrumExportField("CR_Billing_Item_Description", itemDescription),
                SpectrumExportField("CR_Revenue", revenue.description),
            ]))
        }

        // Reconcile what is written with the document: billing to the grand total, estimates to
        // the lines before markup (less the revenue-only lines, which have no estimate).
        let linesBeforeMarkup = problems.total(order.lines.map(\.amount), order.currency)
        let estimateTotal = problems.total(estimates.entries.map(\.1), order.currency)
        let billingTotal = problems.total(billing.entries.map(\.1), order.currency)
        if billingTotal != computed.grandTotal {
            problems.error(.REC001, "billing revenue adds up to \(billingTotal) but the change order's grand total is \(computed.grandTotal)", field: "computed.grand_total")
        }
        if problems.sum(estimateTotal, revenueOnlyTotal) != linesBeforeMarkup {
            problems.error(.REC001, "estimate amounts add up to \(estimateTotal) (+ \(revenueOnlyTotal) revenue only) but the lines before markup add up to \(linesBeforeMarkup)", field: "lines")
        }
        return records
    }

    struct EstimateKey: Hashable {
        var phase: String
        var costType: String
    }

    // MARK: Checks shared by both layouts

    /// `computed` must hold together on its own before any figure of it is written.
    func checkComputed(_ order: ChangeOrder, _ computed: ComputedMarkup, _ problems: inout SpectrumWriterProblems) {
        var shareTotals: [String: Money] = [:]
        for (index, line) in computed.lines.enumerated() {
            let horizontal = problems.total(line.horizontal.map(\.amount), order.currency)
            if problems.sum(order.lines[index].amount, horizontal) != line.extendedAmount {
                problems.error(.REC001, "line \(index + 1): extended amount \(line.extendedAmount) is not the line's \(order.lines[index].amount) plus its horizontal markup \(horizontal)", field: "computed.lines[\(index)].extended_amount")
            }
            let shares = problems.total(line.verticalShares.map(\.amount), order.currency)
            if problems.sum(line.extendedAmount, shares) != line.revenue {
                problems.error(.REC001, "line \(index + 1): revenue \(line.revenue) is not its extended amount \(line.extendedAmount) plus its vertical shares \(shares)", field: "computed.lines[\(index)].revenue")
            }
            for share in line.verticalShares {
                shareTotals[share.name] = problems.sum(shareTotals[share.name] ?? .zero(order.currency), share.amount)
            }
        }
        let extendedTotal = problems.total(computed.lines.map(\.extendedAmount), order.currency)
        if extendedTotal != computed.subtotal {
            problems.error(.REC001, "extended amounts add up to \(extendedTotal) but the subtotal is \(computed.subtotal)", field: "computed.subtotal")
        }
        let verticalTotal = problems.total(computed.vertical.map(\.amount), order.currency)
        if problems.sum(computed.subtotal, verticalTotal) != computed.grandTotal {
            problems.error(.REC001, "subtotal \(computed.subtotal) plus vertical markup \(verticalTotal) is not the grand total \(computed.grandTotal)", field: "computed.grand_total")
        }
        for markup in computed.vertical {
            let shared = shareTotals[markup.name] ?? .zero(order.currency)
            if shared != markup.amount {
                problems.error(.REC001, "vertical markup '\(markup.name)' is \(markup.amount) but its shares on the lines add up to \(shared)", field: "computed.vertical")
            }
        }
    }

    /// Spectrum's amounts are 10.2: at most ten digits before the point.
    func checkAmount(_ amount: Money, _ field: String, _ problems: inout SpectrumWriterProblems) {
        if amount.integerDigitCount > SpectrumLimit.amountIntegerDigits {
            problems.error(.CO005, "\(field) \(amount) is beyond Spectrum's \(SpectrumLimit.amountIntegerDigits) digits before the decimal point", field: field, value: amount.description)
        }
    }

    /// Text XML 1.0 cannot carry, even escaped, rejects the document (nothing is dropped silently).
    /// Each bad value is reported once, under the first field that carries it.
    func checkText(_ records: [SpectrumExportRecord], _ problems: inout SpectrumWriterProblems) {
        var reported = Set<String>()
        for record in records {
            for field in record.fields where !reported.contains(field.value) {
                if let bad = XMLEscaping.firstForbiddenCharacter(in: field.value) {
                    reported.insert(field.value)
                    problems.error(.FMT008, "\(field.name) contains \(XMLEscaping.describe(bad.scalar)) at character \(bad.position), which XML 1.0 cannot carry", field: field.name, value: field.value)
                }
            }
        }
    }
}

/// Sums keyed by a Spectrum key, in the order keys first appear (so output follows the document).
struct SpectrumWriterSums<Key: Hashable> {
    private(set) var entries: [(Key, Money)] = []
    private var positions: [Key: Int] = [:]

    mutating func add(_ amount: Money, to key: Key, _ problems: inout SpectrumWriterProblems) {
        if let position = positions[key] {
            entries[position].1 = problems.sum(entries[position].1, amount)
        } else {
            positions[key] = entries.count
            entries.append((key, amount))
        }
    }
}

/// The diagnostics of one change order, located in its source.
struct SpectrumWriterProblems {
    let order: ChangeOrder
    private(set) var errors: [Diagnostic] = []
    private(set) var warnings: [Diagnostic] = []
    private var overflowReported = false

    init(order: ChangeOrder) { self.order = order }

    var hasErrors: Bool { !errors.isEmpty }
    var all: [Diagnostic] { errors + warnings }

    private func location(line: Int?, field: String?) -> SourceLocation {
        guard let line else { return order.source.with(field: field) }
        let path = field.map { "lines[\(line)].\($0)" } ?? "lines[\(line)]"
        return (order.lines[line].source ?? order.source).with(field: path)
    }

    mutating func error(_ code: DiagnosticCode, _ message: String, line: Int? = nil, field: String? = nil, value: String? = nil) {
        errors.append(.error(code, message, at: location(line: line, field: field), value: value))
    }

    /// A problem a shared rule found (Rulebook), located by the rule.
    mutating func add(_ diagnostic: Diagnostic) {
        if diagnostic.isError { errors.append(diagnostic) } else { warnings.append(diagnostic) }
    }

    mutating func warning(_ code: DiagnosticCode, _ message: String, line: Int? = nil, field: String? = nil, value: String? = nil) {
        warnings.append(.warning(code, message, at: location(line: line, field: field), value: value))
    }

    /// `a + b`, or an error (once) when the sum leaves Int64: hostile input must not trap.
    mutating func sum(_ a: Money, _ b: Money) -> Money {
        if let result = a.adding(b) { return result }
        if !overflowReported {
            overflowReported = true
            error(.CO005, "amounts too large to add up (beyond any amount Spectrum holds)", field: "lines")
        }
        return a
    }

    mutating func total(_ amounts: [Money], _ currency: Currency) -> Money {
        var result = Money.zero(currency)
        for amount in amounts { result = sum(result, amount) }
        return result
    }
}
