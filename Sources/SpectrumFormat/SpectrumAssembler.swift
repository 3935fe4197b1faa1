import SOVCore

/// What reading Spectrum input produces, in order.

/// Turns records into documents (docs/FORMATS.md, "Layouts").
///
/// - Flat contract and change order rows stream: a document is complete when the key changes
///   (Company + Job + Customer, plus the change order number), so memory is bounded by the
///   largest document. Rows of one document that are not together make the file unusable,
///   since half a document must never be emitted.
/// - Job header and SOV line records, from one file or several, are joined by Company + Job +
///   Customer and emitted by `finish`, in the order their keys first appeared. Headers stay in
///   memory (one per contract); past `spillAfterLines` held SOV lines the rest go to a temporary
///   file (`JoinSpill`), so an export of lines whose headers never come (300,000 of them) does
///   not hold them all: memory is bounded by the number of contracts and the largest one.
/// - Data Exchange error rows (`Error_Code` A, I, M, E) are rejected with their description; W
///   is a warning, except the one saying the result exceeded the maximum: the export is
///   truncated and the whole file is unusable.
///
/// Per input: `add` its records, then `endFile` when it was read to its end, or `abandonFile`
/// when it turned out unusable (its contributions to the join are dropped).
public final class SpectrumAssembler {
    public let profile: SpectrumProfile
    public let binder: LayoutBinder

    private struct OrderKey: Hashable {
        var contract: ContractKey
        var number: String
    }

    /// An SOV line held for the join: in memory, or where the spill file has it. Indirect, so a
    /// spilled line costs a few bytes rather than a record's size.
    private enum HeldLine {
        indirect case memory(StagedRecord)
        case spilled(Int64)
    }

    private struct JoinEntry {
        var header: StagedRecord?
        var lines: [HeldLine] = []
    }

    /// A run of one key's records in the current input: what it gives the join.
    private struct JoinRun {
        var key: ContractKey
        var headers: [StagedRecord] = []
        var lines: [HeldLine] = []
    }

    // The current flat contract's state is reached for every row, only by the assembler's
    // own methods, none reentered: unchecked, as each dynamic exclusivity check cost about
    // 150 instructions.
    @exclusivity(unchecked) private var flatKey: ContractKey?
    /// The current flat contract's first row as the next rows are compared with it: the raw
    /// bytes of each field a flat export repeats (`SpectrumDocuments.flatRepeatedFields`) that it
    /// has, back to back, with the field, its index and where it ends; and its binding.
    @exclusivity(unchecked) private var flatFirstBytes: [UInt8] = []
    @exclusivity(unchecked) private var flatFirstFields: [(field: SpectrumField, index: Int, end: Int)] = []
    @exclusivity(unchecked) private var flatFirstBinding: LayoutBinding?
    /// The same fields as (index, end) pairs, and which of them are key fields (bit k: the
    /// k-th): a row of the first row's binding is compared in one pass over them.
    @exclusivity(unchecked) private var flatFirstSlots: [Record.ValueSlot] = []
    @exclusivity(unchecked) private var flatFirstKeyMask: UInt64 = 0
    /// When those fields are next to each other in the record (a flat export's usually are):
    /// the first one's index, and where each ends counted from its start.
    @exclusivity(unchecked) private var flatFirstSpan: Int?
    @exclusivity(unchecked) private var flatFirstSpanEnds: [Int] = []
    @exclusivity(unchecked) private var flatRows: [StagedRecord] = []
    /// The rows of the current flat contract (indices in `flatRows`) whose repeated fields are
    /// not all byte for byte the first row's: the only ones whose agreement is left to check.
    @exclusivity(unchecked) private var flatRowsToCheck: [Int] = []
    private var flatKeysDone: Set<ContractKey> = []
    private var orderKey: OrderKey?
    private var orderRows: [StagedRecord] = []
    private var orderKeysDone: Set<OrderKey> = []
    /// The current input's header and SOV line records, by runs of one key (an export lists a
    /// contract's lines together, so the key is kept once per run, not once per line).
    /// A key's first run moves its lines into the join whole, not copied line by line.
    private var pendingJoin: [JoinRun] = []
    /// SOV lines held in memory; past `spillAfterLines` the next ones go to `spill`.
    public let spillAfterLines: Int
    private var linesInMemory = 0
    private var spill: JoinSpill?
    /// Where the current input's spilled lines start, to drop them if it turns out unusable.
    private var spillFileStart: Int64 = 0

    private var joinOrder: [ContractKey] = []
    private var joined: [ContractKey: JoinEntry] = [:]

    public init(profile: SpectrumProfile = .standard, spillAfterLines: Int = 20_000) {
        self.profile = profile
        self.spillAfterLines = spillAfterLines
        self.binder = LayoutBinder(profile: profile)
    }

    /// Consuming: the record is moved on into its `StagedRecord` (and from there into the rows
    /// kept), not copied at each step.
    public func add(_ record: consuming Record, emit: (ReadEvent) throws -> Void) throws {
        let binding = binder.binding(for: record.fieldNames)
        record.layout = binding.layout
        var warnings: [Diagnostic] = []

        if let code = value(.errorCode, record, binding) {
            let description = value(.errorDescription, record, binding) ?? value(.errorDesc, record, binding) ?? ""
            let column = value(.errorColumn, record, binding).map { " (column \($0))" } ?? ""
            switch code.uppercased() {
            case "A", "I", "M", "E":
                try emit(.rejected(Reject(record: record.json, diagnostics: [
                    .error(.SRC001, "Spectrum reported error \(code): \(description)\(column)", at: record.location, value: code)
                ])))
                return
            case "W":
                let lowered = description.lowercased()
                if lowered.contains("exceed") && lowered.contains("max") {
                    throw InputFailure(unusable: .error(
                        .SRC002, "the export is truncated (Spectrum: '\(description)'); the whole file is rejected rather than half imported: export less at a time (e.g. by job) and try again",
                        at: record.location, value: code))
                }
                warnings.append(.warning(.SRC002, "Spectrum warning: \(description)\(column)", at: record.location, value: code))
            default:
                warnings.append(.warning(.SRC002, "Spectrum returned Error_Code '\(code)': \(description)\(column)", at: record.location, value: code))
            }
        }

        if !binding.duplicates.isEmpty {
            let names = binding.duplicates.map(\.name).joined(separator: ", ")
            try emit(.rejected(Reject(record: record.json, diagnostics: [
                .error(.FMT007, "field\(binding.duplicates.count == 1 ? "" : "s") \(names) appear\(binding.duplicates.count == 1 ? "s" : "") more than once in the record; which value is meant cannot be known", at: record.location)
            ] + warnings)))
            return
        }

        let staged = StagedRecord(record: consume record, binding: binding, warnings: warnings)
        // From here on the record is the staged one's.
        switch binding.layout {
        case nil:
            if let fault = staged.record.value(named: "faultstring") {
                throw InputFailure(unusable: .error(.SRC001, "SOAP fault from Spectrum: \(trimmedSpaces(fault))", at: staged.record.location))
            }
            if !warnings.isEmpty, binding.has(.errorCode) {
                for warning in warnings { try emit(.warning(warning)) }  // a W row without data
                return
            }
            try emit(.rejected(Reject(record: staged.record.json, diagnostics: [
                .error(.FMT007, "the fields (\(staged.record.names.prefix(12).joined(separator: ", "))\(staged.record.count > 12 ? ", ..." : "")) match no Spectrum layout: a job header needs Job_Number with Job_Description, Contract_Number or Original_Contract; an SOV line Billing_Item; a change order Change_Order_Number. A --profile can rename fields" + Self.delimiterHint(staged.record), at: staged.record.location)
            ] + warnings)))
        case .jobHeader?:
            pendingJoin[pendingRun(for: contractKey(staged.record, binding))].headers.append(staged)
        case .sovLine?:
            let line = try hold(staged)
            pendingJoin[pendingRun(for: contractKey(staged.record, binding))].lines.append(line)
        case .flatContract?:
            let comparison = flatKey == nil ? nil : compareWithFlatFirst(staged.record, binding)
            if comparison?.sameKey != true {
                let key = contractKey(staged.record, binding)
                if key != flatKey {
                    try finishFlat(emit: emit)
                    if flatKeysDone.contains(key) { throw notGrouped("contract \(key)", staged.record) }
                    flatKey = key
                    keepFlatFirst(staged.record, binding)
                    flatRows.append(consume staged)
                    return
                }
            }
            if comparison?.same != true { flatRowsToCheck.append(flatRows.count) }
            // Moved in: appending the `let` copied it, a dozen retains and releases per row.
            flatRows.append(consume staged)
        case .changeOrder?:
            let key = OrderKey(contract: contractKey(staged.record, binding), number: value(.changeOrderNumber, staged.record, binding) ?? "")
            if key != orderKey {
                try finishOrder(emit: emit)
                if orderKeysDone.contains(key) { throw notGrouped("change order \(key.number) of \(key.contract)", staged.record) }
                orderKey = key
            }
            orderRows.append(consume staged)
        }
    }

    /// The input was read to its end: completes its streamed documents and hands its header and
    /// SOV records to the join.
    public func endFile(emit: (ReadEvent) throws -> Void) throws {
        try finishFlat(emit: emit)
        try finishOrder(emit: emit)
        flatKeysDone.removeAll()
        orderKeysDone.removeAll()
        var contributions = pendingJoin
        pendingJoin = []
        spillFileStart = spill?.end ?? 0
        // Each run is let go once joined: the join's references are never held twice.
        for index in contributions.indices {
            let run = contributions[index]
            contributions[index] = JoinRun(key: run.key)
            let key = run.key
            if joined[key] == nil {
                joined[key] = JoinEntry(header: nil, lines: run.lines)
                joinOrder.append(key)
            } else {
                joined[key]!.lines.append(contentsOf: run.lines)
            }
            for staged in run.headers {
                if let first = joined[key]!.header {
                    try emit(.rejected(Reject(record: staged.record.json, diagnostics: [
                        .error(.FMT007, "a second job header for contract \(key) (the first is at \(first.record.file):\(first.record.line))", at: staged.record.location)
                    ])))
                } else {
                    joined[key]!.header = staged
                }
            }
        }
    }

    /// The index of the run the next record of `key` belongs to: the last one, or a new one.
    private func pendingRun(for key: ContractKey) -> Int {
        if pendingJoin.last?.key != key { pendingJoin.append(JoinRun(key: key)) }
        return pendingJoin.count - 1
    }

    /// The input turned out unusable: forgets everything it contributed.
    public func abandonFile() {
        flatKey = nil
        flatRows.removeAll()
        flatRowsToCheck.removeAll()
        flatKeysDone.removeAll()
        orderKey = nil
        orderRows.removeAll()
        orderKeysDone.removeAll()
        for run in pendingJoin {
            for line in run.lines { if case .memory = line { linesInMemory -= 1 } }
        }
        pendingJoin.removeAll()
        spill?.truncate(to: spillFileStart)
    }

    /// Keeps an SOV line for the join: in memory up to `spillAfterLines`, then in the spill file.
    private func hold(_ staged: StagedRecord) throws -> HeldLine {
        // A record with warnings (a Spectrum W row) is rare and keeps them in memory.
        guard linesInMemory >= spillAfterLines, staged.warnings.isEmpty else {
            linesInMemory += 1
            return .memory(staged)
        }
        if spill == nil { spill = JoinSpill() }
        return .spilled(try spill!.append(staged))
    }

    private func lines(_ held: [HeldLine]) throws -> [StagedRecord] {
        try held.map { line in
            switch line {
            case .memory(let staged): staged
            case .spilled(let offset): try spill!.read(at: offset)
            }
        }
    }

    /// After the last input: one prime contract per joined key.
    public func finish(emit: (ReadEvent) throws -> Void) throws {
        let keys = joinOrder
        joinOrder.removeAll()
        for key in keys {
            guard let entry = joined.removeValue(forKey: key) else { continue }
            let held = try lines(entry.lines)
            for line in entry.lines { if case .memory = line { linesInMemory -= 1 } }
            if let header = entry.header {
                try emit(output(SpectrumDocuments.contract(header: header, lines: held, flat: false, profile: profile)))
            } else if let first = held.first {
                let origin = Origin(system: .spectrum, company: key.company, job: key.job, customer: key.customer)
                try emit(.rejected(Reject(
                    document: SpectrumDocuments.rawDocument("prime_contract", origin, held),
                    diagnostics: [.error(.FMT004, "\(held.count) SOV line\(held.count == 1 ? "" : "s") for contract \(key) but no job header: give the header export (e.g. jobs.csv) in the same call; a flat export names the line amount Item_Original_Contract or Line_Amount", at: first.record.location)])))
            }
        }
        joined.removeAll()
        linesInMemory = 0
        spill = nil
        spillFileStart = 0
    }

    private func finishFlat(emit: (ReadEvent) throws -> Void) throws {
        guard let key = flatKey, let first = flatRows.first else { return }
        flatKeysDone.insert(key)
        let built = SpectrumDocuments.contract(header: first, lines: flatRows, flat: true, profile: profile, rowsToCheck: flatRowsToCheck)
        flatKey = nil
        flatRows.removeAll(keepingCapacity: true)
        flatRowsToCheck.removeAll(keepingCapacity: true)
        try emit(output(built))
    }

    private func finishOrder(emit: (ReadEvent) throws -> Void) throws {
        guard let key = orderKey, !orderRows.isEmpty else { return }
        orderKeysDone.insert(key)
        let built = SpectrumDocuments.changeOrder(rows: orderRows, profile: profile)
        orderKey = nil
        orderRows.removeAll(keepingCapacity: true)
        try emit(output(built))
    }

    /// A document built from records (accepted), or everything known about it (rejected).
    private func output(_ built: Verdict) -> ReadEvent { .read(built) }

    private func notGrouped(_ what: String, _ record: Record) -> InputFailure {
        InputFailure(unusable: .error(
            .FMT007, "the rows of \(what) are not together (they appear again on line \(record.line) after other rows); the file is read as a stream, one document at a time: sort the export by Company_Code, Job_Number, Customer_Code\(record.layout == .changeOrder ? ", Change_Order_Number" : "")",
            at: record.location))
    }

    private func value(_ field: SpectrumField, _ record: Record, _ binding: LayoutBinding) -> String? {
        guard let index = binding.index(of: field) else { return nil }
        let text = record.trimmedValue(at: index)
        return text.isEmpty ? nil : text
    }

    /// `record` against the current flat contract's first row, by bytes: whether it has that
    /// row's Company_Code, Job_Number and Customer_Code (then its key is the contract's, found
    /// with no String made; otherwise the key is made and compared as text), and whether every
    /// repeated field is that row's too (then `checkRepeated` has nothing to look at in it:
    /// equal bytes are equal values).
    private func compareWithFlatFirst(_ record: Record, _ binding: LayoutBinding) -> (sameKey: Bool, same: Bool) {
        let sameBinding = binding === flatFirstBinding
        if sameBinding {
            let keyMask = flatFirstKeyMask
            if let span = flatFirstSpan, flatFirstBytes.withUnsafeBufferPointer({ bytes in
                flatFirstSpanEnds.withUnsafeBufferPointer { record.hasSpan(from: span, ends: $0, bytes: bytes) }
            }) {
                // Nearly every row: every field the first row's, compared as one span.
                let keys = keyMask.nonzeroBitCount == 3
                return (keys, keys)
            }
            // One pass over the first row's fields, by their indices.
            let equal = flatFirstBytes.withUnsafeBufferPointer { bytes in
                flatFirstSlots.withUnsafeBufferPointer { record.equalValues(bytes, $0) }
            }
            guard equal & keyMask == keyMask, keyMask.nonzeroBitCount == 3 else { return (false, false) }
            let all: UInt64 = flatFirstSlots.count >= 64 ? ~0 : (1 &<< UInt64(flatFirstSlots.count)) &- 1
            return (true, equal == all)
        }
        return flatFirstBytes.withUnsafeBufferPointer { bytes in
            var keyFields = 0
            var same = sameBinding
            var start = 0
            for (field, firstIndex, end) in flatFirstFields {
                defer { start = end }
                let index = sameBinding ? firstIndex : binding.index(of: field)
                let equal = index.map { record.hasBytes(UnsafeBufferPointer(rebasing: bytes[start..<end]), at: $0) } ?? false
                if field == .companyCode || field == .jobNumber || field == .customerCode {
                    guard equal else { return (false, false) }
                    keyFields += 1
                } else if !equal {
                    same = false
                }
            }
            return (keyFields == 3, same && keyFields == 3)
        }
    }

    private func keepFlatFirst(_ record: Record, _ binding: LayoutBinding) {
        flatFirstBytes.removeAll(keepingCapacity: true)
        flatFirstFields.removeAll(keepingCapacity: true)
        flatFirstSlots.removeAll(keepingCapacity: true)
        flatFirstKeyMask = 0
        flatFirstBinding = binding
        // In the record's order: fields next to each other there are compared as one span.
        let present = SpectrumDocuments.flatRepeatedFields.compactMap { field in binding.index(of: field).map { (field, $0) } }
        for (field, index) in present.sorted(by: { $0.1 < $1.1 }) {
            record.appendValue(at: index, to: &flatFirstBytes)
            if field == .companyCode || field == .jobNumber || field == .customerCode {
                flatFirstKeyMask |= 1 << UInt64(flatFirstFields.count)
            }
            flatFirstFields.append((field, index, flatFirstBytes.count))
            flatFirstSlots.append(Record.ValueSlot(index: index, end: flatFirstBytes.count))
        }
        let adjacent = flatFirstSlots.indices.dropFirst().allSatisfy { flatFirstSlots[$0].index == flatFirstSlots[$0 - 1].index + 1 }
        flatFirstSpan = adjacent ? flatFirstSlots.first?.index : nil
        flatFirstSpanEnds = flatFirstSlots.map(\.end)
    }

    /// A CSV read with the wrong delimiter has one field whose name holds the real delimiter.
    static func delimiterHint(_ record: Record) -> String {
        guard record.count == 1, let name = record.names.first else { return "" }
        for (character, option) in [("\t", "tab"), (";", "';'"), ("|", "'|'")] where name.contains(character) {
            return "; the header is one field holding \(option == "tab" ? "tabs" : option + " characters"): give --delimiter \(option)"
        }
        return ""
    }

    private func contractKey(_ record: Record, _ binding: LayoutBinding) -> ContractKey {
        ContractKey(
            company: value(.companyCode, record, binding) ?? "", job: value(.jobNumber, record, binding) ?? "",
            customer: value(.customerCode, record, binding) ?? "")
    }
}
