import SOVCore

/// PC001: one prime contract per Procore project. The first contract of the input mapped to a
/// project wins; a later one, or one whose project already received another contract in an
/// earlier run (ledger), is rejected. The same contract again (same Spectrum key) is no conflict.
public struct OneContractPerProject: ValidationRule {
    public let code = DiagnosticCode.PC001
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .primeContract(let contract) = document, contract.origin.system == .spectrum,
            let projectId = context.procoreTarget(for: document).link?.projectId
        else { return [] }
        let location = contract.source.with(field: "Job_Number")
        if let claim = context.claims[projectId], claim.originId != document.originId {
            return [.error(code, "Procore project \(projectId) already receives \(claim.displayName) (\(claim.source.shortText)); a Procore project holds one prime contract", at: location, value: contract.origin.job)]
        }
        if let exported = context.knownContracts?.exportedContract(forProject: projectId), exported != document.originId {
            return [.error(code, "Procore project \(projectId) already received \(exported) in an earlier run; a Procore project holds one prime contract", at: location, value: contract.origin.job)]
        }
        return []
    }
}

/// PC002: Procore's ERP integration takes lump-sum SOVs only: no Price_Method_Code U, no line
/// with unit price, quantity or unit of measure.
public struct UnitPriceContract: ValidationRule {
    public let code = DiagnosticCode.PC002
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .primeContract(let contract) = document, contract.origin.system == .spectrum else { return [] }
        return Rulebook.unitPrice(contract)
    }
}

/// PC003: the SOV lines add up to the contract's Original_Contract, to the cent.
public struct SOVTotal: ValidationRule {
    public let code = DiagnosticCode.PC003
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .primeContract(let contract) = document, contract.origin.system == .spectrum else { return [] }
        let location = contract.source.with(field: "Original_Contract")
        var total = Money.zero(contract.currency)
        for line in contract.lines {
            guard let sum = total.adding(line.amount) else {
                return [.error(code, "the SOV lines are too large to add up", at: location, value: contract.originalAmount.description)]
            }
            total = sum
        }
        guard total != contract.originalAmount else { return [] }
        let difference = contract.originalAmount.adding(-total).map { " (difference \($0))" } ?? ""
        let lines = contract.lines.isEmpty ? "the contract has no SOV lines, which add up to 0.00" : "the \(contract.lines.count) SOV lines add up to \(total)"
        return [.error(code, "\(lines) but Original_Contract is \(contract.originalAmount)\(difference)", at: location, value: contract.originalAmount.description)]
    }
}

/// PC004: every SOV line has a billing item code, of at most 10 characters, unique in its SOV
/// (Procore matches line items to Spectrum by it).
public struct BillingItemCodes: ValidationRule {
    public let code = DiagnosticCode.PC004
    public static let maximumLength = 10
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .primeContract(let contract) = document, contract.origin.system == .spectrum else { return [] }
        var problems: [Diagnostic] = []
        // Every SOV line of every contract passes here: the location is made only for a problem,
        // and characters are counted only past `maximumLength` bytes (never more characters than
        // bytes); per line these cost more than the checks (7% of a sov-run).
        let lines = contract.lines
        // Spectrum lists an SOV by billing item: codes that ascend cannot repeat, and the
        // dictionary of first lines (a hash and an insert per line) is made only otherwise.
        // Codes that ascend with their blanks ascend without them: what the validator found
        // for the contract it is judging serves (when it says no, the dictionary finds no more).
        let mayRepeat = !(context.sovCodesAscend(lines) ?? Self.ascendStrictly(lines, skippingBlanks: true))
        var firstLine: [String: Int] = [:]
        if mayRepeat { firstLine.reserveCapacity(lines.count) }
        // Fields read in place: a copy of each line retained and released all its strings.
        for index in lines.indices {
            let lineCode = lines[index].code
            func location() -> SourceLocation { (lines[index].source ?? contract.source).with(field: "Billing_Item") }
            if lineCode.isBlank {
                problems.append(.error(code, "SOV line \(index + 1) has no billing item code", at: location(), value: lineCode))
                continue
            }
            if lineCode.utf8.count > Self.maximumLength, lineCode.count > Self.maximumLength {
                problems.append(.error(code, "billing item code '\(lineCode)' on SOV line \(index + 1) has \(lineCode.count) characters; Spectrum allows \(Self.maximumLength)", at: location(), value: lineCode))
            }
            guard mayRepeat else { continue }
            if let first = firstLine[lineCode] {
                let firstWhere = lines[first].source.map { " (\($0.shortText))" } ?? ""
                problems.append(.error(code, "billing item code '\(lineCode)' on SOV line \(index + 1) repeats SOV line \(first + 1)\(firstWhere)", at: location(), value: lineCode))
            } else {
                firstLine[lineCode] = index
            }
        }
        return problems
    }

    /// Whether the codes (those not blank, when `skippingBlanks`) are ASCII and each sorts after
    /// the one before, byte by byte: then no two are equal (for ASCII, String equality is byte
    /// equality).
    static func ascendStrictly(_ lines: [SOVLine], skippingBlanks: Bool) -> Bool {
        ascendStrictly(count: lines.count, skippingBlanks: skippingBlanks) { lines[$0].code }
    }

    static func ascendStrictly(_ codes: [String], skippingBlanks: Bool) -> Bool {
        ascendStrictly(count: codes.count, skippingBlanks: skippingBlanks) { codes[$0] }
    }

    @inline(__always)
    private static func ascendStrictly(count: Int, skippingBlanks: Bool, code: (Int) -> String) -> Bool {
        var previous: String?
        for index in 0..<count {
            let code = code(index)
            if skippingBlanks, code.isBlank { continue }
            let ascends = code.utf8.withContiguousStorageIfAvailable { current -> Bool in
                var bits: UInt8 = 0
                for byte in current { bits |= byte }
                guard bits < 0x80 else { return false }
                guard let previous else { return true }
                return previous.utf8.withContiguousStorageIfAvailable { compare($0, current) < 0 } ?? false
            }
            guard ascends == true else { return false }
            previous = code
        }
        return true
    }

    /// How `first` sorts against `second`, byte by byte (a prefix first): below zero, zero when
    /// they are the same bytes, above zero.
    static func compare(_ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>) -> Int {
        for index in 0..<min(first.count, second.count) where first[index] != second[index] {
            return first[index] < second[index] ? -1 : 1
        }
        return first.count - second.count
    }
}
