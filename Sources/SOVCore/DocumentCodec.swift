/// Canonical documents to and from JSON. Key order is fixed here (`kind` first, then `schema`),
/// absent values are written as null so every line of a stream has the same shape. Each type
/// describes its JSON once (`encode(into:)`), written straight as bytes or built as a tree.
extension CanonicalDocument {
    public var json: JSONValue { JSONTreeOutput.build { encode(into: &$0) } }

    /// Appends the document's JSON to `buffer` (no tree in between: the stages' hot path).
    public func writeJSON(into buffer: inout [UInt8]) {
        JSONByteOutput.write(into: &buffer) { encode(into: &$0) }
    }

    /// Appends the document's JSON without the members `filter` leaves out (the ledger's
    /// comparable form), written straight as bytes as `writeJSON(into:)` writes it.
    public func writeJSON(into buffer: inout [UInt8], omitting filter: JSONMemberFilter) {
        JSONByteOutput.write(into: &buffer) { output in
            var filtered = FilteringJSONOutput(base: JSONByteOutput(), filter: filter)
            swap(&filtered.base, &output)
            encode(into: &filtered)
            swap(&filtered.base, &output)
        }
    }

    /// One JSON Lines line, without its newline.
    public var jsonLine: String {
        var buffer: [UInt8] = []
        writeJSON(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    func encode(into output: inout some JSONOutput) {
        switch self {
        case .primeContract(let contract): contract.encode(into: &output)
        case .changeOrder(let order): order.encode(into: &output)
        }
    }

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
    func encode(into output: inout some JSONOutput) {
        output.object {
            $0.member("system", system.rawValue)
            $0.member("company", company)
            $0.member("job", job)
            $0.member("customer", customer)
            $0.member("number", number)
        }
    }

    init(reader: FieldReader) throws(Diagnostic) {
        let systemText = try reader.requiredString("system")
        guard let system = SourceSystem(rawValue: systemText) else {
            throw reader.problem("system", "unknown origin system '\(systemText)'")
        }
        self.init(system: system, company: try reader.string("company"), job: try reader.string("job"), customer: try reader.string("customer"), number: try reader.string("number"))
    }
}

/// The keys written once per SOV line (a document has hundreds of lines), made once.
extension JSONKey {
    static let code = JSONKey("code")
    static let description = JSONKey("description")
    static let additionalDescription = JSONKey("additional_description")
    static let amount = JSONKey("amount")
    static let costCode = JSONKey("cost_code")
    static let group = JSONKey("group")
    static let unitPrice = JSONKey("unit_price")
    static let quantity = JSONKey("quantity")
    static let unitOfMeasure = JSONKey("unit_of_measure")
    static let source = JSONKey("source")
    static let file = JSONKey("file")
    static let line = JSONKey("line")
    static let record = JSONKey("record")
}

extension SourceLocation {
    func encode(into output: inout some JSONOutput) {
        // Not `output.object { }`: its closure would capture a copy of the location, per line.
        output.beginObject()
        output.member(.file, file)
        output.member(.line, int: line)
        if let record { output.member(.record, int: record) }
        output.endObject()
    }

    init(reader: FieldReader) throws(Diagnostic) {
        self.init(file: try reader.string("file"), line: try reader.int("line"), record: try reader.int("record"))
    }
}

extension ContractKey {
    func encode(into output: inout some JSONOutput) {
        output.object {
            $0.member("company", company)
            $0.member("job", job)
            $0.member("customer", customer)
        }
    }

    init(reader: FieldReader) throws(Diagnostic) {
        self.init(company: try reader.requiredString("company"), job: try reader.requiredString("job"), customer: try reader.requiredString("customer"))
    }
}

extension ProcoreLink {
    func encode(into output: inout some JSONOutput) {
        output.object {
            $0.member("project_id", projectId)
            $0.member("prime_contract_id", primeContractId)
            $0.member("change_order_id", changeOrderId)
        }
    }

    init(reader: FieldReader) throws(Diagnostic) {
        self.init(projectId: try reader.idText("project_id"), primeContractId: try reader.idText("prime_contract_id"), changeOrderId: try reader.idText("change_order_id"))
    }
}

extension ERPLink {
    func encode(into output: inout some JSONOutput) {
        output.object {
            $0.member("request_id", requestId)
            $0.member("request_detail_id", requestDetailId)
            $0.key("line_ids")
            $0.array(lineIds) { output, id in output.value(id.map(JSONValue.string) ?? .null) }
            $0.key("markup_ids")
            $0.array(markupIds.sorted { $0.key < $1.key }) { output, entry in
                output.object {
                    $0.member("name", entry.key)
                    $0.member("id", entry.value)
                }
            }
        }
    }

    init(reader: FieldReader) throws(Diagnostic) {
        var lineIds: [String?] = []
        if case .array(let items)? = reader.value["line_ids"] {
            for (index, item) in items.enumerated() {
                switch item {
                case .null: lineIds.append(nil)
                case .string(let text), .number(let text): lineIds.append(text)
                default: throw reader.problem("line_ids[\(index)]", "a line id must be a string or null")
                }
            }
        }
        var markupIds: [String: String] = [:]
        for item in try reader.array("markup_ids") {
            guard let name = try item.string("name"), let id = try item.idText("id") else { throw item.problem("", "a markup id needs its name and id") }
            markupIds[name] = id
        }
        self.init(requestId: try reader.idText("request_id"), requestDetailId: try reader.idText("request_detail_id"), lineIds: lineIds, markupIds: markupIds)
    }
}

extension MarkupAmount {
    func encode(into output: inout some JSONOutput) {
        output.object {
            $0.member("name", name)
            $0.member("amount", amount)
        }
    }

    init(reader: FieldReader, currency: Currency) throws(Diagnostic) {
        self.init(name: try reader.requiredString("name"), amount: try reader.requiredMoney("amount", currency))
    }
}

/// The members every canonical document starts with, in this order.
private func encodeHead(
    _ kind: String, _ origin: Origin, _ source: SourceLocation, number: String, title: String?, description: String?,
    status: String?, into output: inout some JSONOutput
) {
    output.member("kind", kind)
    output.member("schema", int: CanonicalDocument.schemaVersion)
    output.key("origin")
    origin.encode(into: &output)
    output.key("source")
    source.encode(into: &output)
    output.member("number", number)
    output.member("title", title)
    output.member("description", description)
    output.member("status", status)
}

/// The members every canonical document ends with: its Procore link once known, a change
/// order's ERP loop, its warnings.
private func encodeTail(_ procore: ProcoreLink?, _ diagnostics: [Diagnostic], erp: ERPLink? = nil, into output: inout some JSONOutput) {
    if let procore {
        output.key("procore")
        procore.encode(into: &output)
    }
    if let erp {
        output.key("erp")
        erp.encode(into: &output)
    }
    output.key("diagnostics")
    output.array(diagnostics) { $0.value($1.json) }
}

private func readDiagnostics(_ reader: FieldReader) throws(Diagnostic) -> [Diagnostic] {
    var result: [Diagnostic] = []
    for item in try reader.array("diagnostics") {
        guard let diagnostic = Diagnostic(json: item.value) else { throw item.problem("", "malformed diagnostic") }
        result.append(diagnostic)
    }
    return result
}

extension PrimeContract {
    public var json: JSONValue { JSONTreeOutput.build { encode(into: &$0) } }

    func encode(into output: inout some JSONOutput) {
        output.beginObject()
        encodeHead("prime_contract", origin, source, number: number, title: title, description: description, status: status, into: &output)
        output.key("customer")
        output.object {
            $0.member("code", customer.code)
            $0.member("name", customer.name)
        }
        output.member("owner_name", ownerName)
        output.member("price_method", priceMethod)
        output.member("currency", currency.code)
        output.member("original_amount", originalAmount)
        output.member("retainage_percent", retainagePercent)
        output.member("contract_date", contractDate)
        output.member("start_date", startDate)
        output.member("estimated_completion_date", estimatedCompletionDate)
        output.member("completion_date", completionDate)
        output.key("lines")
        output.beginArray()
        lines.withUnsafeBufferPointer { lines in
            for index in lines.indices { SOVLine.encode(lines.baseAddress! + index, into: &output) }
        }
        output.endArray()
        encodeTail(procore, diagnostics, into: &output)
        output.endObject()
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

extension SOVLine {
    /// The line where it lies in its document's buffer, read field by field: a line passed by
    /// value (`lines[index].encode`) was first copied whole, a dozen retains and releases.
    static func encode(_ line: UnsafePointer<SOVLine>, into output: inout some JSONOutput) {
        if output.sovLine(line, withSource: true) { return }
        output.beginObject()
        output.member(.code, line.pointee.code)
        output.member(.description, line.pointee.description)
        output.member(.additionalDescription, line.pointee.additionalDescription)
        output.member(.amount, line.pointee.amount)
        output.member(.costCode, line.pointee.costCode)
        output.member(.group, line.pointee.group)
        if line.pointee.isUnitPriced {
            output.member(.unitPrice, line.pointee.unitPrice)
            output.member(.quantity, line.pointee.quantity)
            output.member(.unitOfMeasure, line.pointee.unitOfMeasure)
        }
        if let source = line.pointee.source {
            output.key(.source)
            output.source(source)
        }
        output.endObject()
    }
}

extension Markup {
    func encode(into output: inout some JSONOutput) {
        output.object {
            $0.member("name", name)
            $0.member("set", set.rawValue)
            $0.member("percent", percent)
            $0.member("amount", amount)
            $0.member("position", int: position)
            $0.key("compound")
            $0.value(compound.json)
            $0.member("prime_line_item", primeLineItem)
            $0.member("calculation", calculation)
        }
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
    func encode(into output: inout some JSONOutput) {
        output.object { output in
            output.key("lines")
            output.array(lines) { output, line in
                output.object { output in
                    output.key("horizontal")
                    output.array(line.horizontal) { $1.encode(into: &$0) }
                    output.member("extended_amount", line.extendedAmount)
                    output.key("vertical_shares")
                    output.array(line.verticalShares) { $1.encode(into: &$0) }
                    output.member("revenue", line.revenue)
                }
            }
            output.member("subtotal", subtotal)
            output.key("vertical")
            output.array(vertical) { $1.encode(into: &$0) }
            output.member("grand_total", grandTotal)
        }
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
    public var json: JSONValue { JSONTreeOutput.build { encode(into: &$0) } }

    func encode(into output: inout some JSONOutput) {
        output.object { output in
            encodeHead("change_order", origin, source, number: number, title: title, description: description, status: status, into: &output)
            output.member("approved", bool: approved)
            output.member("date", date)
            output.member("approved_date", approvedDate)
            output.member("due_date", dueDate)
            output.member("schedule_impact_days", int: scheduleImpactDays)
            output.member("executed", bool: executed)
            output.key("contract")
            if let contract { contract.encode(into: &output) } else { output.null() }
            output.member("currency", currency.code)
            output.key("lines")
            output.array(lines) { output, line in
                output.object { output in
                    output.member("description", line.description)
                    output.member("amount", line.amount)
                    output.member("quantity", line.quantity)
                    output.member("unit_price", line.unitPrice)
                    output.member("associated_line", line.associatedLine)
                    output.member("associated_line_id", line.associatedLineId)
                    output.member("cost_code", line.costCode)
                    output.member("cost_type", line.costType)
                    output.member("additional_description", line.additionalDescription)
                    output.member("group", line.group)
                    if !line.procoreMarkup.isEmpty {
                        output.key("procore_markup")
                        output.array(line.procoreMarkup) { $1.encode(into: &$0) }
                    }
                    if let source = line.source {
                        output.key("source")
                        source.encode(into: &output)
                    }
                }
            }
            output.key("markups")
            output.array(markups) { $1.encode(into: &$0) }
            if let computed {
                output.key("computed")
                computed.encode(into: &output)
            }
            encodeTail(procore, diagnostics, erp: erp, into: &output)
        }
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
            erp: try reader.optionalObject("erp").map { r throws(Diagnostic) in try ERPLink(reader: r) },
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
