import SOVCore

/// A record on its way into a document: its binding, and warnings found on it (Data Exchange W rows).
public struct StagedRecord: Sendable {
    public var record: Record
    public var binding: LayoutBinding
    public var warnings: [Diagnostic]

    public init(record: Record, binding: LayoutBinding, warnings: [Diagnostic] = []) {
        self.record = record
        self.binding = binding
        self.warnings = warnings
    }
}


/// One SOV line read from its record, with the problems found in it, in the order found. For a
/// flat export it is read on the prefetching thread (`prepare`, through `RecordPrefetcher`), so
/// that the thread assembling documents only gathers it; otherwise when the contract is mapped.
/// A class: records carry it (`Record.sovLine`) and are copied often, so it is one reference.
/// Unchecked Sendable: it is made on the reading thread before its record is handed over, and
/// only the consumer touches it after that (`takeLine`, once).
public final class SOVLineReading: @unchecked Sendable {
    /// Nil when the amount could not be read. Spelled `Optional<>`: unlike `SOVLine?` it has no
    /// implicit nil to start from, so `init` initializes it rather than assigning over a nil
    /// (measured: about 200 instructions fewer per row).
    private var line: Optional<SOVLine>
    private var taken = false
    let problems: [Diagnostic]

    /// The line, moved out rather than copied (a copy retains a dozen Strings, and the reading's
    /// own would be released after); the mapping takes it once.
    func takeLine() -> SOVLine? {
        precondition(!taken, "an SOV line reading is taken once")
        taken = true
        var moved: SOVLine?
        swap(&moved, &line)
        return moved
    }

    private init(line: consuming SOVLine?, problems: [Diagnostic]) {
        self.line = line
        self.problems = problems
    }

    /// Consuming: the row's reader takes `staged` over (a borrowed one was copied into it).
    convenience init(_ staged: consuming StagedRecord, flat: Bool, profile: SpectrumProfile) {
        let amountField: SpectrumField
        if flat {
            amountField = staged.binding.has(.itemOriginalContract) ? .itemOriginalContract : .lineAmount
        } else {
            amountField = .originalContract
        }
        let problems = Problems()
        let source = staged.record.location
        let row = ValueReader(staged: staged, profile: profile, problems: problems)
        // A blank billing item is left to the validator (PC004), which names the rule.
        let code = row.string(.billingItem) ?? ""
        let description = row.string(.billingDescription)
        let additional = row.string(.additionalBillingDescription)
        let amount = row.money(amountField, required: true)
        let group = row.string(.groupCode)
        // Cost_Center is Spectrum's revenue distribution unit, not a Procore cost code: a code
        // Procore does not know would fail the import, so it is not carried as cost_code.
        let unitPrice = row.unitPrice(.unitPrice)
        let quantity = row.quantity(.quantity)
        let unitOfMeasure = row.string(.unitOfMeasure)
        var line: SOVLine?
        if let amount {
            line = SOVLine(
                code: code, description: description, additionalDescription: additional, amount: amount,
                group: group, unitPrice: unitPrice, quantity: quantity,
                unitOfMeasure: unitOfMeasure, source: source)
        }
        self.init(line: line, problems: problems.list)
    }

    /// The line of a row in which every value reads with no problem (nearly every row), read
    /// as the full reading (`init(_:flat:profile:)`) reads it but with no copy of the record,
    /// the binding or the profile and no `Problems`; nil for a row with any problem, which the
    /// full reading then names.
    /// Added to `lines` here: returned as an optional and unwrapped by the caller, the line was
    /// copied whole once more (a dozen retains) and the first one destroyed.
    fileprivate static func plainLine(_ record: Record, _ binding: LayoutBinding, amountField: SpectrumField, money: MoneyFormat, into lines: SOVLinesAhead) -> SOVLineAhead? {
        guard let code = Self.plainText(record, binding, .billingItem),
            let description = Self.plainText(record, binding, .billingDescription),
            let additional = Self.plainText(record, binding, .additionalBillingDescription),
            let amount = Self.plainMoney(record, binding, amountField, money), let amount,
            let group = Self.plainText(record, binding, .groupCode),
            let unitPrice = Self.plainMoney(record, binding, .unitPrice, money),
            let quantity = Self.plainText(record, binding, .quantity),
            let unitOfMeasure = Self.plainText(record, binding, .unitOfMeasure)
        else { return nil }
        if let quantity, !isDecimal(quantity) { return nil }
        let price = unitPrice.flatMap { $0.isZero ? nil : $0 }
        let units = quantity.flatMap { text in text.utf8.allSatisfy { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") } ? nil : text }
        let location = record.location
        return lines.add(.line(SOVLine(
            code: code ?? "", description: description, additionalDescription: additional, amount: amount,
            group: group, unitPrice: price, quantity: units, unitOfMeasure: unitOfMeasure, source: location)))
    }

    /// `ValueReader.string`'s value when it finds no problem (`.some(nil)`: absent or blank);
    /// nil when the value is longer than the field allows in bytes (in characters it may not
    /// be: the full reading counts them).
    private static func plainText(_ record: Record, _ binding: LayoutBinding, _ field: SpectrumField) -> String?? {
        guard let index = binding.index(of: field) else { return .some(nil) }
        let value = record.trimmedValue(at: index)
        if value.isEmpty { return .some(nil) }
        if let limit = field.maximumLength, value.utf8.count > limit { return nil }
        return .some(value)
    }

    /// `ValueReader.money`'s amount when it parses from the bytes (`.some(nil)`: absent or
    /// blank); nil when it does not (the full reading says why).
    private static func plainMoney(_ record: Record, _ binding: LayoutBinding, _ field: SpectrumField, _ format: MoneyFormat) -> Money?? {
        guard let index = binding.index(of: field) else { return .some(nil) }
        return record.withTrimmedValue(at: index) { bytes -> Money?? in
            if bytes.isEmpty { return .some(nil) }
            guard let amount = Money.parse(utf8: bytes, format: format) else { return nil }
            return .some(amount)
        }
    }

    /// Reads the SOV line of a flat contract row ahead, into the record (`Record.sovLine`), with
    /// the binding the assembler will find for it. One per reading thread: its binder is not shared.
    final class Preparer {
        private let binder: LayoutBinder
        /// What the plain reading needs of the profile, taken once: passing the profile copied
        /// it, three times a row.
        private let readsPlain: Bool
        private let money: MoneyFormat
        /// The lines of the batch being prepared, and the values its records share, which tell
        /// one batch from the next (held, so that no later batch's can take its address).
        private var batch: SOVLinesAhead?
        private var batchValues: RecordValues?

        init(profile: SpectrumProfile) {
            binder = LayoutBinder(profile: profile)
            readsPlain = profile.currencySymbols.isEmpty
            money = profile.money
        }

        func prepare(_ record: inout Record) {
            let binding = binder.binding(for: record.fieldNames)
            guard binding.layout == .flatContract, binding.duplicates.isEmpty else { return }
            let amountField: SpectrumField = binding.has(.itemOriginalContract) ? .itemOriginalContract : .lineAmount
            if record.valueStorage !== batchValues {
                // A new batch: what is handed over with the last one is no longer touched here.
                batchValues = record.valueStorage
                batch = SOVLinesAhead()
            }
            let lines = batch!
            // The plain reading first, with no copy of the record into a `StagedRecord`.
            if readsPlain, let ahead = SOVLineReading.plainLine(record, binding, amountField: amountField, money: money, into: lines) {
                record.sovLine = ahead
            } else {
                record.sovLine = lines.add(.reading(SOVLineReading(StagedRecord(record: record, binding: binding), flat: true, profile: binder.profile)))
            }
        }
    }
}

/// The SOV lines read ahead for the flat rows of one batch (`SOVLineReading.Preparer`): one
/// allocation for a batch, where a reading a row made one a row, allocated on the reading thread
/// and freed on the other (glibc's slow paths on both: measured, about 300 instructions a row
/// between the two threads). Unchecked Sendable: the reading thread adds to it until the batch is
/// handed over, and only the consumer touches it after that (`take`, once a line).
final class SOVLinesAhead: @unchecked Sendable {
    enum Entry {
        /// A line read with no problem.
        case line(SOVLine)
        /// A row read in full (it has a problem, or its line could not be read plainly).
        case reading(SOVLineReading)
        case taken
    }

    /// Unchecked: reached only through `add` and `take`, never reentered, and a dynamic
    /// exclusivity check on every row cost about 80 instructions.
    @exclusivity(unchecked) private var entries: [Entry] = []

    init() {
        entries.reserveCapacity(256)
    }

    func add(_ entry: consuming Entry) -> SOVLineAhead {
        entries.append(entry)
        return SOVLineAhead(lines: self, slot: entries.count - 1)
    }

    /// The line of `slot`, moved out; its problems go to `problems`.
    fileprivate func take(_ slot: Int, problems: Problems) -> SOVLine? {
        // Moved out of its place and `.taken` put there (a swap copied the entry).
        let entry = entries.withUnsafeMutableBufferPointer { buffer in
            let place = buffer.baseAddress! + slot
            let entry = place.move()
            place.initialize(to: .taken)
            return entry
        }
        switch consume entry {
        case .line(let line):
            return line
        case .reading(let reading):
            if !reading.problems.isEmpty { problems.list.append(contentsOf: reading.problems) }
            return reading.takeLine()
        case .taken:
            preconditionFailure("an SOV line read ahead is taken once")
        }
    }
}

/// A record's place among the lines read ahead for its batch.
struct SOVLineAhead: Sendable {
    let lines: SOVLinesAhead
    let slot: Int
}

/// Every problem found while mapping one document (not only the first: docs/FORMATS.md, "Rules and codes").
final class Problems {
    /// Unchecked: appended to and read by the one mapping that made it, and a dynamic
    /// exclusivity check on every row's reading cost about 150 instructions.
    @exclusivity(unchecked) var list: [Diagnostic] = []
    var hasErrors: Bool { list.contains(where: \.isError) }
}

/// Typed values out of one record. Values are trimmed of surrounding spaces (Spectrum pads its
/// codes) and otherwise taken as they are; blank means absent. Every failure names file, line
/// and the field as the file spells it.
struct ValueReader {
    let staged: StagedRecord
    let profile: SpectrumProfile
    let problems: Problems

    var record: Record { staged.record }

    func location(_ field: SpectrumField) -> SourceLocation {
        let name = staged.binding.index(of: field).map { record.names[$0] } ?? field.name
        return SourceLocation(file: record.file, line: record.line, field: name)
    }

    /// The trimmed value, nil when the field is absent or blank.
    func text(_ field: SpectrumField) -> String? {
        guard let index = staged.binding.index(of: field) else { return nil }
        let value = record.trimmedValue(at: index)
        return value.isEmpty ? nil : value
    }

    func error(_ code: DiagnosticCode, _ field: SpectrumField, _ message: String, value: String? = nil) {
        problems.list.append(.error(code, message, at: location(field), value: value))
    }

    /// Text within Spectrum's length for the field (FMT005), or a FMT004 when required and blank.
    func string(_ field: SpectrumField, required: Bool = false) -> String? {
        guard let value = text(field) else {
            if required {
                let state = staged.binding.has(field) ? "is blank" : "is missing"
                error(.FMT004, field, "required field \(field.name) \(state)")
            }
            return nil
        }
        // Bytes bound characters from above, so most values need no counting.
        if let limit = field.maximumLength, value.utf8.count > limit {
            let length = value.unicodeScalars.count
            if length > limit {
                error(.FMT005, field, "\(field.name) is \(length) characters long; Spectrum allows \(limit)", value: value)
            }
        }
        return value
    }

    func money(_ field: SpectrumField, required: Bool = false) -> Money? {
        // Plain amounts (no currency symbols to take off) parse from the bytes, with no String;
        // whatever does not parse so is read below as text, which gives its exact problem.
        let format = profile.money
        if profile.currencySymbols.isEmpty, let index = staged.binding.index(of: field),
            let amount = record.withTrimmedValue(at: index, { Money.parse(utf8: $0, format: format) })
        {
            return amount
        }
        guard let value = text(field) else {
            if required { _ = string(field, required: true) }
            return nil
        }
        do {
            return try parseAmount(Self.withoutCurrencySymbol(value, profile.currencySymbols), format: profile.money)
        } catch {
            var message = "\(field.name): \(error.description)"
            if !profile.money.allowsThousandsSeparators, value.contains(",") {
                message += "; a profile with [money] thousands_separators = true accepts 1,234.56"
            } else if !profile.money.allowsParenthesesForNegative, value.hasPrefix("(") {
                message += "; a profile with [money] parentheses = true accepts (1234.56)"
            }
            if let symbol = value.first(where: { !$0.isNumber && !"-(,. ".contains($0) }), profile.currencySymbols.isEmpty, value.first == symbol || value.dropFirst().first == symbol {
                message += "; a profile with currency_symbols = [\"\(symbol)\"] accepts it"
            }
            self.error(.FMT001, field, message, value: value)
            return nil
        }
    }

    /// `$98,500.00`, `-$5.00`, `($5.00)`, `$-5.00`: the amount without the symbol, when the
    /// profile names it (otherwise the text as it is, and a symbol is an error).
    static func withoutCurrencySymbol(_ value: String, _ symbols: [String]) -> String {
        for symbol in symbols {
            for prefix in ["", "-", "("] where value.hasPrefix(prefix + symbol) {
                return prefix + value.dropFirst(prefix.count + symbol.count)
            }
        }
        return value
    }

    func percent(_ field: SpectrumField) -> Percent? {
        guard let value = text(field) else { return nil }
        do {
            return try Percent.parse(value)
        } catch {
            self.error(.FMT002, field, "\(field.name): '\(value)' is not a percentage (e.g. 10.00)", value: value)
            return nil
        }
    }

    func date(_ field: SpectrumField) -> CalendarDate? {
        guard let value = text(field) else { return nil }
        let formats = profile.dateFormats
        let readings = SpectrumDateFormat.read(value, formats: formats)
        switch readings.count {
        case 1:
            return readings[0].date
        case 0:
            var message = "\(field.name): '\(value)' is not a date (\(formats.map(\.rawValue).joined(separator: ", ")))"
            if !formats.contains(.looseMonthDayYear), SpectrumDateFormat.looseMonthDayYear.parse(value) != nil {
                message += "; a profile with date_formats = [\"MM/DD/YYYY\", \"M/D/YYYY\"] accepts it"
            }
            error(.FMT003, field, message, value: value)
        default:
            let both = readings.map { "\($0.date.iso) as \($0.format.rawValue)" }.joined(separator: " or ")
            error(.FMT003, field, "\(field.name): '\(value)' is ambiguous: \(both); the profile's date_formats accept both, so it is not guessed", value: value)
        }
        return nil
    }

    /// A whole number; `10.00` is 10 (SQL decimal columns), `10.5` is an error.
    func wholeNumber(_ field: SpectrumField) -> Int? {
        guard let value = text(field) else { return nil }
        var digits = Substring(value)
        if let point = digits.firstIndex(of: "."), digits[digits.index(after: point)...].allSatisfy({ $0 == "0" }) {
            digits = digits[..<point]
        }
        guard let number = Int(digits) else {
            error(.FMT006, field, "\(field.name): '\(value)' is not a whole number", value: value)
            return nil
        }
        return number
    }

    /// A decimal number kept as text (quantities); nil when blank or zero, as lump-sum rows of a
    /// unit-field export carry 0.
    func quantity(_ field: SpectrumField) -> String? {
        guard let value = text(field) else { return nil }
        guard isDecimal(value) else {
            error(.FMT006, field, "\(field.name): '\(value)' is not a number", value: value)
            return nil
        }
        return value.allSatisfy({ $0 == "0" || $0 == "." || $0 == "-" || $0 == "+" }) ? nil : value
    }

    /// A unit price; nil when blank or zero (see `quantity`).
    func unitPrice(_ field: SpectrumField) -> Money? {
        guard let price = money(field) else { return nil }
        return price.isZero ? nil : price
    }
}

func isDecimal(_ text: String) -> Bool {
    var bytes = text.utf8[...]
    if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
    var digits = 0
    var points = 0
    for byte in bytes {
        if byte == UInt8(ascii: ".") {
            points += 1
        } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
            digits += 1
        } else {
            return false
        }
    }
    return digits > 0 && points <= 1
}

/// Money as Spectrum writes it (docs/FORMATS.md, "Layouts": `-1234.56`; a profile may allow `1,234.56` and `(1234.56)`),
/// also accepting zeros past the cents that carry no value: SQL money columns export `1250.0000`.
func parseAmount(_ text: String, format: MoneyFormat) throws(MoneyParseError) -> Money {
    do {
        return try Money.parse(text, format: format)
    } catch .tooManyDecimals(let original, let allowed) {
        var body = Substring(text)
        var closing = ""
        if body.hasSuffix(")") {
            body = body.dropLast()
            closing = ")"
        }
        guard let point = body.firstIndex(of: ".") else { throw .tooManyDecimals(original, allowed: allowed) }
        let fraction = body[body.index(after: point)...]
        guard fraction.dropFirst(allowed).allSatisfy({ $0 == "0" }) else { throw .tooManyDecimals(original, allowed: allowed) }
        let kept = body[...point] + fraction.prefix(allowed)
        return try Money.parse(String(kept) + closing, format: format)
    }
}

/// Maps records of the layouts (docs/FORMATS.md, "Layouts") to canonical documents.
public enum SpectrumDocuments {
    /// Header fields a flat export repeats on every line; they must agree within one contract.
    static let contractHeaderFields: [SpectrumField] = [
        .contractNumber, .jobDescription, .customerName, .ownerName, .priceMethodCode, .originalContract,
        .statusCode, .startDate, .completeDate, .estCompleteDate, .contractDate, .retentionPercent, .comment,
    ]
    /// The fields a flat export repeats on every line, which must agree within one contract.
    static let flatRepeatedFields: [SpectrumField] = contractHeaderFields + [.companyCode, .jobNumber, .customerCode]
    /// Change order header fields repeated on every detail row. The fee (percent or amount) is
    /// the change order's, repeated like the rest (docs/FORMATS.md, "Layouts"; our ARChangeOrder writer repeats
    /// it too): adding Fee_Amount up across rows would count it once per billing item.
    static let changeOrderHeaderFields: [SpectrumField] = [
        .description, .statusCode, .changeOrderDate, .approvedDate, .approvedDays, .feePercent, .feeAmount,
    ]

    /// A prime contract from its header record and SOV line records. For a flat export the header
    /// is the first row and every row is also a line (`flat: true`); `rowsToCheck`, when known,
    /// are the only rows whose repeated fields may disagree with the first's (the others hold its
    /// bytes).
    public static func contract(header: StagedRecord, lines: [StagedRecord], flat: Bool, profile: SpectrumProfile, rowsToCheck: [Int]? = nil) -> Verdict {
        let problems = Problems()
        let head = ValueReader(staged: header, profile: profile, problems: problems)
        let company = head.string(.companyCode, required: true)
        let job = head.string(.jobNumber, required: true)
        let customer = head.string(.customerCode, required: true)
        let number = head.string(.contractNumber) ?? job
        let title = head.string(.jobDescription)
        let customerName = head.string(.customerName)
        let ownerName = head.string(.ownerName)
        let priceMethod = head.string(.priceMethodCode)
        let status = head.string(.statusCode)
        let original = head.money(.originalContract, required: true)
        let retainage = head.percent(.retentionPercent)
        let contractDate = head.date(.contractDate)
        let startDate = head.date(.startDate)
        let estimatedCompletion = head.date(.estCompleteDate)
        let completion = head.date(.completeDate)
        let comment = head.string(.comment)
        if flat {
            checkRepeated(flatRepeatedFields, first: header, in: lines, only: rowsToCheck, what: "contract \(keyText(company, job, customer))", problems: problems)
        }

        var sovLines: [SOVLine] = []
        sovLines.reserveCapacity(lines.count)
        // By index: `for staged in lines` copied every row (a dozen retains and releases), and
        // a row read ahead needs only its reading.
        for index in lines.indices {
            // Read ahead on the reading thread (`SOVLineReading.Preparer`) for a flat export's rows.
            if let ahead = lines[index].record.sovLine {
                if let line = ahead.lines.take(ahead.slot, problems: problems) { sovLines.append(line) }
                continue
            }
            let reading = SOVLineReading(lines[index], flat: flat, profile: profile)
            if !reading.problems.isEmpty { problems.list.append(contentsOf: reading.problems) }
            if let line = reading.takeLine() { sovLines.append(line) }
        }

        // Not `([header] + lines)`: that copies every row to read their warnings; and only
        // rows that have some (`flatMap` appended every row's empty array, growing as it went).
        var warnings = header.warnings
        for index in lines.indices where !lines[index].warnings.isEmpty { warnings += lines[index].warnings }
        let origin = Origin(system: .spectrum, company: company, job: job, customer: customer, number: number)
        guard !problems.hasErrors, company != nil, let job, let customer, let original else {
            return .rejected(Reject(document: rawDocument("prime_contract", origin, flat ? lines : [header] + lines), diagnostics: problems.list + uniqueWarnings(warnings)))
        }
        let contract = PrimeContract(
            origin: origin, source: header.record.location, number: number ?? job, title: title, description: comment,
            status: status, customer: Party(code: customer, name: customerName), ownerName: ownerName,
            priceMethod: priceMethod, originalAmount: original, retainagePercent: retainage,
            contractDate: contractDate, startDate: startDate, estimatedCompletionDate: estimatedCompletion,
            completionDate: completion, lines: sovLines, diagnostics: uniqueWarnings(warnings))
        return .accepted(.primeContract(contract))
    }

    /// A change order from its detail rows (ARChangeOrder: one row per line, header repeated).
    public static func changeOrder(rows: [StagedRecord], profile: SpectrumProfile) -> Verdict {
        precondition(!rows.isEmpty, "a change order has at least one row")
        let problems = Problems()
        let head = ValueReader(staged: rows[0], profile: profile, problems: problems)
        let company = head.string(.companyCode, required: true)
        let job = head.string(.jobNumber, required: true)
        let customer = head.string(.customerCode, required: true)
        let number = head.string(.changeOrderNumber, required: true)
        let description = head.string(.description)
        let status = head.string(.statusCode)
        let date = head.date(.changeOrderDate)
        let approvedDate = head.date(.approvedDate)
        let approvedDays = head.wholeNumber(.approvedDays)
        let feePercent = head.percent(.feePercent)
        let feeAmount = head.money(.feeAmount)
        if let first = rows.first {
            checkRepeated(changeOrderHeaderFields, first: first, in: rows, what: "change order \(number ?? "?") of \(keyText(company, job, customer))", problems: problems)
        }

        var lines: [ChangeOrderLine] = []
        for staged in rows {
            let row = ValueReader(staged: staged, profile: profile, problems: problems)
            let amount = row.money(.revenue, required: true)
            let item = row.string(.coBillingItemCode)
            let group = row.string(.coBillingGroupCode)
            let additional = row.string(.additionalDescription)
            let unitPrice = row.unitPrice(.unitPrice)
            let quantity = row.quantity(.quantity)
            if let amount {
                lines.append(ChangeOrderLine(
                    description: additional, amount: amount, quantity: quantity, unitPrice: unitPrice,
                    associatedLine: item, additionalDescription: additional, group: group,
                    source: staged.record.location))
            }
        }
        var markups: [Markup] = []
        if let feePercent, feePercent != .zero {
            markups.append(Markup(name: "Fee", set: .vertical, percent: feePercent, position: 1))
        } else if let feeAmount, !feeAmount.isZero {
            markups.append(Markup(name: "Fee", set: .vertical, amount: feeAmount, position: 1))
        }

        let warnings = uniqueWarnings(rows.flatMap(\.warnings))
        let origin = Origin(system: .spectrum, company: company, job: job, customer: customer, number: number)
        guard !problems.hasErrors, let company, let job, let customer, let number else {
            return .rejected(Reject(document: rawDocument("change_order", origin, rows), diagnostics: problems.list + warnings))
        }
        let order = ChangeOrder(
            origin: origin, source: rows[0].record.location, number: number, title: description,
            description: description, status: status, approved: profile.isApproved(status), date: date,
            approvedDate: approvedDate, scheduleImpactDays: approvedDays,
            contract: ContractKey(company: company, job: job, customer: customer),
            lines: lines, markups: markups, diagnostics: warnings)
        return .accepted(.changeOrder(order))
    }

    /// Header fields repeated on every row must agree; the first disagreement of each is reported.
    /// Each of `rows` against `first` (which may be one of them: it then agrees with itself).
    /// Takes the first row apart from the others rather than a joined array: a contract's rows are
    /// many, and copying them is most of what this would cost.
    /// `only`: the rows to look at, when the others are known to hold the first row's bytes.
    static func checkRepeated(_ fields: [SpectrumField], first staged: StagedRecord, in rows: [StagedRecord], only: [Int]? = nil, what: String, problems: Problems) {
        let first = staged.record
        let firstBinding = staged.binding
        var reported = [Bool](repeating: false, count: SpectrumField.allCases.count)
        // The fields the first row has, and where: looked up once, not once per row and field.
        let present = fields.compactMap { field in firstBinding.index(of: field).map { (field, $0) } }
        for rowIndex in only ?? Array(rows.indices) {
            let binding = rows[rowIndex].binding
            let row = rows[rowIndex].record
            for (field, expectedIndex) in present {
                // Equal bytes are equal values: only a field whose bytes differ is looked at as text.
                guard let index = binding.index(of: field), !row.hasSameBytes(at: index, as: first, at: expectedIndex),
                    !reported[field.rawValue]
                else { continue }
                let rawExpected = first.value(at: expectedIndex)
                let rawValue = row.value(at: index)
                guard rawValue != rawExpected else { continue }
                // Padding may differ (Spectrum pads codes); the values themselves may not.
                let expected = trimmedSpaces(rawExpected)
                let value = trimmedSpaces(rawValue)
                if value != expected {
                    reported[field.rawValue] = true
                    problems.list.append(.error(
                        .FMT007, "\(field.name) differs between rows of \(what): '\(expected)' on line \(first.line), '\(value)' on line \(row.line)",
                        at: SourceLocation(file: row.file, line: row.line, field: row.names[index]), value: value))
                }
            }
        }
    }

    /// What the rejects stream keeps of a document that could not be built: its key and every
    /// record it came from, values as in the file, so nothing is lost.
    static func rawDocument(_ kind: String, _ origin: Origin, _ records: [StagedRecord]) -> JSONValue {
        let first = records.first?.record
        return .object([
            JSONMember("kind", .string(kind)),
            JSONMember("origin", .object([
                "system": .string(origin.system.rawValue), "company": .optional(origin.company), "job": .optional(origin.job),
                "customer": .optional(origin.customer), "number": .optional(origin.number),
            ])),
            JSONMember("source", .object(["file": .optional(first?.file), "line": first.map { .int($0.line) } ?? .null])),
            JSONMember("records", .array(records.map(\.record.json))),
        ])
    }

    static func keyText(_ company: String?, _ job: String?, _ customer: String?) -> String {
        "\(company ?? "?")/\(job ?? "?")/\(customer ?? "?")"
    }

    /// A warning repeated on every row of a document is said once.
    static func uniqueWarnings(_ warnings: [Diagnostic]) -> [Diagnostic] {
        var seen = Set<String>()
        return warnings.filter { seen.insert("\($0.code)|\($0.message)").inserted }
    }
}
