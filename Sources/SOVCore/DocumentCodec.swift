/// Canonical documents to and from JSON. Key order is fixed here (`kind` first, then `schema`),
/// absent values are written as null so every line of a stream has the same shape.
extension CanonicalDocument {
    public var json: JSONValue {
        switch self {
        case .primeContract(let contract): contract.json
        case .changeOrder(let order): order.json
        }
    }

    /// One JSON Lines line, without its newline.
    public var jsonLine: String { json.text }

    /// Reads a canonical document, or says exactly which field is wrong (FMT009).
    public init(json: JSONValue, at location: SourceLocation = SourceLocation()) throws(Diagnostic) {
        var reader = FieldReader(value: json, path: "", location: location)
        guard json.members != nil else { throw reader.problem("", "a canonical document must be a JSON object") }
        guard let kind = json["kind"]?.stringValue else { throw reader.problem("kind", "missing \"kind\"") }
        guard let schema = json["schema"] else {
            throw reader.problem("schema", "missing \"schema\": is this a canonical document from sov-parse?")
        }
        guard schema.intValue == CanonicalDocument.schemaVersion else {
            throw reader.problem("schema", "unknown canonical schema version \(schema.text); this SOVBridge reads version \(CanonicalDocument.schemaVersion)")
        }
        switch kind {
        case "prime_contract": self = .primeContract(try PrimeContract(reader: &reader))
        case "change_order": self = .changeOrder(try ChangeOrder(reader: &reader))
        default: throw reader.problem("kind", "unknown document kind '\(kind)'")
        }
    }
}

extension Origin {
    var json: JSONValue {
        .object([
            "system": .string(system.rawValue), "company": .optional(company), "job": .optional(job),
            "customer": .optional(customer), "number": .optional(number),
        ])
    }

    init(reader: FieldReader) throws(Diagnostic) {
        let systemText = try reader.requiredString("system")
        guard let system = SourceSystem(rawValue: systemText) else {
            throw reader.problem("system", "unknown origin system '\(systemText)'")
        }
        self.init(system: system, company: try reader.string("company"), job: try reader.string("job"), customer: try reader.string("customer"), number: try reader.string("number"))
    }
}

extension SourceLocation {
    var json: JSONValue {
        var members = [JSONMember("file", .optional(file)), JSONMember("line", line.map(JSONValue.int) ?? .null)]
        if let record { members.append(JSONMember("record", .int(record))) }
        return .object(members)
    }

    init(reader: FieldReader) throws(Diagnostic) {
        self.init(file: try reader.string("file"), line: try reader.int("line"), record: try reader.int("record"))
    }
}

extension ContractKey {
    var json: JSONValue { .object(["company": .string(company), "job": .string(job), "customer": .string(customer)]) }

    init(reader: FieldReader) throws(Diagnostic) {
        self.init(company: try reader.requiredString("company"), job: try reader.requiredString("job"), customer: try reader.requiredString("customer"))
    }
}

extension ProcoreLink {
    var json: JSONValue {
        .object(["project_id": .optional(projectId), "prime_contract_id": .optional(primeContractId), "change_order_id": .optional(changeOrderId)])
    }

    init(reader: FieldReader) throws(Diagnostic) {
        self.init(projectId: try reader.idText("project_id"), primeContractId: try reader.idText("prime_contract_id"), changeOrderId: try reader.idText("change_order_id"))
    }
}

extension MarkupAmount {
    var json: JSONValue { .object(["name": .string(name), "amount": .string(amount.description)]) }

    init(reader: FieldReader, currency: Currency) throws(Diagnostic) {
        self.init(name: try reader.requiredString("name"), amount: try reader.requiredMoney("amount", currency))
    }
}

private func diagnosticsJSON(_ diagnostics: [Diagnostic]) -> JSONValue { .array(diagnostics.map(\.json)) }

private func readDiagnostics(_ reader: FieldReader) throws(Diagnostic) -> [Diagnostic] {
    var result: [Diagnostic] = []
    for item in try reader.array("diagnostics") {
        guard let diagnostic = Diagnostic(json: item.value) else { throw item.problem("", "malformed diagnostic") }
        result.append(diagnostic)
    }
    return result
}

extension PrimeContract {
    public var json: JSONValue {
        var members: [JSONMember] = [
            JSONMember("kind", .string("prime_contract")),
            JSONMember("schema", .int(CanonicalDocument.schemaVersion)),
            JSONMember("origin", origin.json),
            JSONMember("source", source.json),
            JSONMember("number", .string(number)),
            JSONMember("title", .optional(title)),
            JSONMember("description", .optional(description)),
            JSONMember("status", .optional(status)),
            JSONMember("customer", .object(["code": .string(customer.code), "name": .optional(customer.name)])),
            JSONMember("owner_name", .optional(ownerName)),
            JSONMember("price_method", .optional(priceMethod)),
            JSONMember("currency", .string(currency.code)),
            JSONMember("original_amount", .string(originalAmount.description)),
            JSONMember("retainage_percent", .optional(retainagePercent)),
            JSONMember("contract_date", .optional(contractDate)),
            JSONMember("start_date", .optional(startDate)),
            JSONMember("estimated_completion_date", .optional(estimatedCompletionDate)),
            JSONMember("completion_date", .optional(completionDate)),
        ]
        members.append(JSONMember("lines", .array(lines.map { line in
            var fields: [JSONMember] = [
                JSONMember("code", .string(line.code)),
                JSONMember("description", .optional(line.description)),
                JSONMember("additional_description", .optional(line.additionalDescription)),
                JSONMember("amount", .string(line.amount.description)),
                JSONMember("cost_code", .optional(line.costCode)),
                JSONMember("group", .optional(line.group)),
            ]
            if line.isUnitPriced {
                fields.append(JSONMember("unit_price", .optional(line.unitPrice)))
                fields.append(JSONMember("quantity", .optional(line.quantity)))
                fields.append(JSONMember("unit_of_measure", .optional(line.unitOfMeasure)))
            }
            if let source = line.source { fields.append(JSONMember("source", source.json)) }
            return .object(fields)
        })))
        if let procore { members.append(JSONMember("procore", procore.json)) }
        members.append(JSONMember("diagnostics", diagnosticsJSON(diagnostics)))
        return .object(members)
    }

    init(reader: inout FieldReader) throws(Diagnostic) {
        let currency = try reader.currency()
        let origin = try Origin(reader: try reader.requiredObject("origin"))
        let source = try reader.optionalObject("source").map { r throws(Diagnostic) in try SourceLocation(reader: r) } ?? reader.location
        let customerReader = try reader.requiredObject("customer")
        var lines: [SOVLine] = []
        for item in try reader.array("lines") {
            lines.append(SOVLine(
                code: try item.requiredString("code"), description: try item.string("description"),
                additionalDescription: try item.string("additional_description"),
                amount: try item.requiredMoney("amount", currency), costCode: try item.string("cost_code"),
                group: try item.string("group"), unitPrice: try item.money("unit_price", currency),
                quantity: try item.string("quantity"), unitOfMeasure: try item.string("unit_of_measure"),
                source: try item.optionalObject("source").map { r throws(Diagnostic) in try SourceLocation(reader: r) }))
        }
        self.init(
            origin: origin, source: source, number: try reader.requiredString("number"),
            title: try reader.string("title"), description: try reader.string("description"),
            status: try reader.string("status"),
            customer: Party(code: try customerReader.requiredString("code"), name: try customerReader.string("name")),
            ownerName: try reader.string("owner_name"), priceMethod: try reader.string("price_method"),
            currency: currency, originalAmount: try reader.requiredMoney("original_amount", currency),
            retainagePercent: try reader.percent("retainage_percent"),
            contractDate: try reader.date("contract_date"), startDate: try reader.date("start_date"),
            estimatedCompletionDate: try reader.date("estimated_completion_date"),
            completionDate: try reader.date("completion_date"), lines: lines,
            procore: try reader.optionalObject("procore").map { r throws(Diagnostic) in try ProcoreLink(reader: r) },
            diagnostics: try readDiagnostics(reader))
    }
}

extension Markup {
    var json: JSONValue {
        .object([
            "name": .string(name), "set": .string(set.rawValue), "percent": .optional(percent),
            "amount": .optional(amount), "position": .int(position), "compound": compound.json,
            "prime_line_item": .optional(primeLineItem), "calculation": .optional(calculation),
        ])
    }

    init(reader: FieldReader, currency: Currency) throws(Diagnostic) {
        let setText = try reader.requiredString("set")
        guard let set = MarkupSet(rawValue: setText) else { throw reader.problem("set", "markup set must be horizontal or vertical, not '\(setText)'") }
        let compound: MarkupCompounding
        switch reader.value["compound"] {
        case nil, .null?, .string("none")?: compound = .none
        case .string("above")?: compound = .above
        case .array(let names)?:
            var list: [String] = []
            for name in names {
                guard let text = name.stringValue else { throw reader.problem("compound", "compound names must be strings") }
                list.append(text)
            }
            compound = .names(list)
        default: throw reader.problem("compound", "compound must be \"none\", \"above\" or a list of markup names")
        }
        guard let position = try reader.int("position") else { throw reader.problem("position", "missing \"position\"") }
        self.init(
            name: try reader.requiredString("name"), set: set, percent: try reader.percent("percent"),
            amount: try reader.money("amount", currency), position: position, compound: compound,
            primeLineItem: try reader.string("prime_line_item"), calculation: try reader.string("calculation"))
    }
}

extension ComputedMarkup {
    var json: JSONValue {
        .object([
            "lines": .array(lines.map { line in
                .object([
                    "horizontal": .array(line.horizontal.map(\.json)),
                    "extended_amount": .string(line.extendedAmount.description),
                    "vertical_shares": .array(line.verticalShares.map(\.json)),
                    "revenue": .string(line.revenue.description),
                ])
            }),
            "subtotal": .string(subtotal.description),
            "vertical": .array(vertical.map(\.json)),
            "grand_total": .string(grandTotal.description),
        ])
    }

    init(reader: FieldReader, currency: Currency) throws(Diagnostic) {
        var lines: [ComputedLine] = []
        for item in try reader.array("lines") {
            var horizontal: [MarkupAmount] = []
            for share in try item.array("horizontal") { horizontal.append(try MarkupAmount(reader: share, currency: currency)) }
            var vertical: [MarkupAmount] = []
            for share in try item.array("vertical_shares") { vertical.append(try MarkupAmount(reader: share, currency: currency)) }
            lines.append(ComputedLine(horizontal: horizontal, extendedAmount: try item.requiredMoney("extended_amount", currency), verticalShares: vertical, revenue: try item.requiredMoney("revenue", currency)))
        }
        var vertical: [MarkupAmount] = []
        for item in try reader.array("vertical") { vertical.append(try MarkupAmount(reader: item, currency: currency)) }
        self.init(lines: lines, subtotal: try reader.requiredMoney("subtotal", currency), vertical: vertical, grandTotal: try reader.requiredMoney("grand_total", currency))
    }
}

extension ChangeOrder {
    public var json: JSONValue {
        var members: [JSONMember] = [
            JSONMember("kind", .string("change_order")),
            JSONMember("schema", .int(CanonicalDocument.schemaVersion)),
            JSONMember("origin", origin.json),
            JSONMember("source", source.json),
            JSONMember("number", .string(number)),
            JSONMember("title", .optional(title)),
            JSONMember("description", .optional(description)),
            JSONMember("status", .optional(status)),
            JSONMember("approved", .bool(approved)),
            JSONMember("date", .optional(date)),
            JSONMember("approved_date", .optional(approvedDate)),
            JSONMember("due_date", .optional(dueDate)),
            JSONMember("schedule_impact_days", scheduleImpactDays.map(JSONValue.int) ?? .null),
            JSONMember("executed", executed.map(JSONValue.bool) ?? .null),
            JSONMember("contract", contract?.json ?? .null),
            JSONMember("currency", .string(currency.code)),
        ]
        members.append(JSONMember("lines", .array(lines.map { line in
            var fields: [JSONMember] = [
                JSONMember("description", .optional(line.description)),
                JSONMember("amount", .string(line.amount.description)),
                JSONMember("quantity", .optional(line.quantity)),
                JSONMember("unit_price", .optional(line.unitPrice)),
                JSONMember("associated_line", .optional(line.associatedLine)),
                JSONMember("associated_line_id", .optional(line.associatedLineId)),
                JSONMember("cost_code", .optional(line.costCode)),
                JSONMember("cost_type", .optional(line.costType)),
                JSONMember("additional_description", .optional(line.additionalDescription)),
                JSONMember("group", .optional(line.group)),
            ]
            if !line.procoreMarkup.isEmpty { fields.append(JSONMember("procore_markup", .array(line.procoreMarkup.map(\.json)))) }
            if let source = line.source { fields.append(JSONMember("source", source.json)) }
            return .object(fields)
        })))
        members.append(JSONMember("markups", .array(markups.map(\.json))))
        if let computed { members.append(JSONMember("computed", computed.json)) }
        if let procore { members.append(JSONMember("procore", procore.json)) }
        members.append(JSONMember("diagnostics", diagnosticsJSON(diagnostics)))
        return .object(members)
    }

    init(reader: inout FieldReader) throws(Diagnostic) {
        let currency = try reader.currency()
        let origin = try Origin(reader: try reader.requiredObject("origin"))
        let source = try reader.optionalObject("source").map { r throws(Diagnostic) in try SourceLocation(reader: r) } ?? reader.location
        var lines: [ChangeOrderLine] = []
        for item in try reader.array("lines") {
            var shares: [MarkupAmount] = []
            for share in try item.array("procore_markup") { shares.append(try MarkupAmount(reader: share, currency: currency)) }
            lines.append(ChangeOrderLine(
                description: try item.string("description"), amount: try item.requiredMoney("amount", currency),
                quantity: try item.string("quantity"), unitPrice: try item.money("unit_price", currency),
                associatedLine: try item.string("associated_line"), associatedLineId: try item.idText("associated_line_id"),
                costCode: try item.string("cost_code"), costType: try item.string("cost_type"),
                additionalDescription: try item.string("additional_description"), group: try item.string("group"),
                procoreMarkup: shares,
                source: try item.optionalObject("source").map { r throws(Diagnostic) in try SourceLocation(reader: r) }))
        }
        var markups: [Markup] = []
        for item in try reader.array("markups") { markups.append(try Markup(reader: item, currency: currency)) }
        guard let approved = reader.value["approved"]?.boolValue else { throw reader.problem("approved", "missing boolean \"approved\"") }
        let executed: Bool?
        switch reader.value["executed"] {
        case nil, .null?: executed = nil
        case .bool(let flag)?: executed = flag
        default: throw reader.problem("executed", "\"executed\" must be true, false or null")
        }
        self.init(
            origin: origin, source: source, number: try reader.requiredString("number"),
            title: try reader.string("title"), description: try reader.string("description"),
            status: try reader.string("status"), approved: approved, date: try reader.date("date"),
            approvedDate: try reader.date("approved_date"), dueDate: try reader.date("due_date"),
            scheduleImpactDays: try reader.int("schedule_impact_days"), executed: executed,
            contract: try reader.optionalObject("contract").map { r throws(Diagnostic) in try ContractKey(reader: r) },
            currency: currency, lines: lines, markups: markups,
            computed: try reader.optionalObject("computed").map { r throws(Diagnostic) in try ComputedMarkup(reader: r, currency: currency) },
            procore: try reader.optionalObject("procore").map { r throws(Diagnostic) in try ProcoreLink(reader: r) },
            diagnostics: try readDiagnostics(reader))
    }
}

/// Typed access to one JSON object of a canonical document; every failure names its field path.
struct FieldReader {
    let value: JSONValue
    let path: String
    let location: SourceLocation

    func problem(_ field: String, _ message: String) -> Diagnostic {
        let fullPath = field.isEmpty ? path : (path.isEmpty ? field : "\(path).\(field)")
        return .error(.FMT009, message, at: location.with(field: fullPath.isEmpty ? nil : fullPath))
    }

    func child(_ field: String, _ value: JSONValue) -> FieldReader {
        FieldReader(value: value, path: path.isEmpty ? field : "\(path).\(field)", location: location)
    }

    func string(_ field: String) throws(Diagnostic) -> String? {
        switch value[field] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw problem(field, "\"\(field)\" must be a string")
        }
    }

    func requiredString(_ field: String) throws(Diagnostic) -> String {
        guard let text = try string(field) else { throw problem(field, "missing \"\(field)\"") }
        return text
    }

    /// Ids may be written as strings or numbers; both are kept as text.
    func idText(_ field: String) throws(Diagnostic) -> String? {
        switch value[field] {
        case nil, .null?: return nil
        case .string(let text)?, .number(let text)?: return text
        default: throw problem(field, "\"\(field)\" must be a string or a number")
        }
    }

    func int(_ field: String) throws(Diagnostic) -> Int? {
        switch value[field] {
        case nil, .null?: return nil
        case .number(let text)?:
            guard let number = Int(text) else { throw problem(field, "\"\(field)\" must be a whole number") }
            return number
        default: throw problem(field, "\"\(field)\" must be a number")
        }
    }

    func money(_ field: String, _ currency: Currency) throws(Diagnostic) -> Money? {
        guard let text = try string(field) else { return nil }
        do { return try Money.parse(text, currency: currency) } catch { throw problem(field, error.description) }
    }

    func requiredMoney(_ field: String, _ currency: Currency) throws(Diagnostic) -> Money {
        guard let amount = try money(field, currency) else { throw problem(field, "missing \"\(field)\"") }
        return amount
    }

    func percent(_ field: String) throws(Diagnostic) -> Percent? {
        guard let text = try string(field) else { return nil }
        do { return try Percent.parse(text) } catch { throw problem(field, error.description) }
    }

    func date(_ field: String) throws(Diagnostic) -> CalendarDate? {
        guard let text = try string(field) else { return nil }
        guard let date = CalendarDate.parse(text) else { throw problem(field, "'\(text)' is not a date (YYYY-MM-DD)") }
        return date
    }

    func currency() throws(Diagnostic) -> Currency {
        guard let code = try string("currency") else { return .usd }
        guard let currency = Currency.named(code) else { throw problem("currency", "unknown currency '\(code)'") }
        return currency
    }

    func optionalObject(_ field: String) throws(Diagnostic) -> FieldReader? {
        switch value[field] {
        case nil, .null?: return nil
        case .object(let members)?: return child(field, .object(members))
        default: throw problem(field, "\"\(field)\" must be an object")
        }
    }

    func requiredObject(_ field: String) throws(Diagnostic) -> FieldReader {
        guard let reader = try optionalObject(field) else { throw problem(field, "missing \"\(field)\"") }
        return reader
    }

    func array(_ field: String) throws(Diagnostic) -> [FieldReader] {
        switch value[field] {
        case nil, .null?: return []
        case .array(let items)?:
            return items.enumerated().map { child("\(field)[\($0.offset)]", $0.element) }
        default: throw problem(field, "\"\(field)\" must be an array")
        }
    }
}
