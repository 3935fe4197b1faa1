import SOVCore

/// CO001: a change order needs its date (Spectrum's Change_Order_Date, Procore's PCCO date),
/// both ways: it is never defaulted to today or to the approval date.
public struct ChangeOrderDate: ValidationRule {
    public let code = DiagnosticCode.CO001
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .changeOrder(let order) = document else { return [] }
        return Rulebook.changeOrderDate(order).map { [$0] } ?? []
    }
}

/// CO002: the billing item code a change order line points at fits Spectrum's 10 characters.
public struct LineBillingItemLength: ValidationRule {
    public let code = DiagnosticCode.CO002
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .changeOrder(let order) = document else { return [] }
        return order.lines.indices.compactMap { Rulebook.billingItemLength(order, line: $0) }
    }
}

/// CO003: only approved change orders cross over. Spectrum documents carry `approved` as the
/// reader computed it from the site's profile; Procore's status must be `approved`.
public struct ApprovedStatus: ValidationRule {
    public let code = DiagnosticCode.CO003
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .changeOrder(let order) = document else { return [] }
        return Rulebook.approval(order).map { [$0] } ?? []
    }
}

/// CO004: every line names the prime contract line item (billing item) it changes. When the
/// prime contract's SOV is known (earlier in this input, or exported before per the ledger) the
/// item must be on it. Several lines may name the same item.
public struct AssociatedLineItem: ValidationRule {
    public let code = DiagnosticCode.CO004
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .changeOrder(let order) = document else { return [] }
        if order.lines.isEmpty {
            return [.error(code, "change order \(order.number) has no lines", at: order.source.with(field: "lines"))]
        }
        let key = context.contractKey(of: order)
        let known = key.flatMap { context.billingItems(of: $0) }
        var problems: [Diagnostic] = []
        for (index, line) in order.lines.enumerated() {
            let location = order.location(ofLine: index, field: .associatedLine)
            if let missing = Rulebook.associatedLine(order, line: index) {
                problems.append(missing)
                continue
            }
            guard let item = line.associatedLine else { continue }
            if let key, let known, !known.contains(item) {
                problems.append(.error(code, "billing item '\(item)' on \(order.lineLabel(index)) is not on the SOV of prime contract \(key) (as seen in \(known.seenIn))", at: location, value: item))
            }
        }
        return problems
    }
}

/// CO005: Spectrum's field limits. Procore change orders bound for Spectrum must fit them as
/// they are (nothing is truncated): Change_Order_Number <= 8, Description <= 250,
/// Additional_Description <= 40, Revenue per billing item within 10 integer digits and 2
/// decimals. Spectrum change orders bound for Procore: a Fee_Percent, where one was written,
/// must be positive with at most 3 integer digits and 2 decimals. Procore's own markups are
/// exempt: the Spectrum writer sends the fee as Fee_Amount, so 10.125 % is fine.
public struct SpectrumLimits: ValidationRule {
    public let code = DiagnosticCode.CO005
    public static let revenueIntegerDigits = SpectrumLimit.amountIntegerDigits
    public static let revenueDecimals = SpectrumLimit.amountDecimals
    public static let feeIntegerDigits = SpectrumLimit.feeIntegerDigits
    public static let feeDecimals = SpectrumLimit.feeDecimals
    /// The vertical markup a Spectrum reader makes of Fee_Percent / Fee_Amount (docs/FORMATS.md, "Layouts").
    public static let feeMarkupName = "Fee"

    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .changeOrder(let order) = document else { return [] }
        switch order.origin.system {
        case .procore: return limits(order)
        case .spectrum: return feePercent(order)
        }
    }

    private func limits(_ order: ChangeOrder) -> [Diagnostic] {
        var problems: [Diagnostic] = [
            Rulebook.fieldLength(order.number, .changeOrderNumber, what: "change order number '\(order.number)'", at: order.source.with(field: FieldName.changeOrderNumber.procore)),
            Rulebook.fieldLength(order.title, .description, what: "the title", at: order.source.with(field: FieldName.title.procore)),
            Rulebook.fieldLength(order.description, .description, what: "the description", at: order.source.with(field: FieldName.description.procore)),
        ].compactMap { $0 }
        for (index, line) in order.lines.enumerated() {
            if let long = Rulebook.fieldLength(line.additionalDescription, .additionalDescription, what: "the additional description of \(order.lineLabel(index))", at: order.location(ofLine: index, field: .additionalDescription)) {
                problems.append(long)
            }
        }
        problems += revenue(order)
        return problems
    }

    /// Spectrum gets one revenue per billing item (lines naming the same item are summed), so
    /// the limit applies to those sums: the computed revenues once `sov-markup` ran, else the
    /// line amounts (the writer checks again after markup).
    private func revenue(_ order: ChangeOrder) -> [Diagnostic] {
        let computed = order.computed.flatMap { $0.lines.count == order.lines.count ? $0.lines.map(\.revenue) : nil }
        let amounts = computed ?? order.lines.map(\.amount)
        let what = computed == nil ? "amount before markup" : "revenue"
        var totals: [(item: String, firstLine: Int, total: Money?)] = []
        var position: [String: Int] = [:]
        for (index, line) in order.lines.enumerated() {
            guard let item = line.associatedLine, !item.isBlank else { continue }
            if let at = position[item] {
                totals[at].total = totals[at].total?.adding(amounts[index])
            } else {
                position[item] = totals.count
                totals.append((item, index, amounts[index]))
            }
        }
        let subCent = order.currency.minorDigits > Self.revenueDecimals ? order.currency.minorPerMajor / 100 : 1
        var problems: [Diagnostic] = []
        for (item, index, total) in totals {
            let location = order.location(ofLine: index, field: .lineAmount)
            guard let total else {
                problems.append(.error(code, "the \(what) for billing item '\(item)' is too large to add up", at: location))
                continue
            }
            if total.integerDigitCount > Self.revenueIntegerDigits {
                problems.append(.error(code, "the \(what) for billing item '\(item)' is \(total); Spectrum's Revenue holds at most \(Self.revenueIntegerDigits) digits before the decimal point", at: location, value: total.description))
            }
            if total.minorUnits % subCent != 0 {
                problems.append(.error(code, "the \(what) for billing item '\(item)' is \(total); Spectrum's Revenue holds \(Self.revenueDecimals) decimals", at: location, value: total.description))
            }
        }
        return problems
    }

    private func feePercent(_ order: ChangeOrder) -> [Diagnostic] {
        order.markups.compactMap { markup in
            guard markup.set == .vertical, markup.name == Self.feeMarkupName, let percent = markup.percent else { return nil }
            let location = order.source.with(field: "Fee_Percent")
            if percent <= .zero {
                return .error(code, "Fee_Percent \(percent) must be positive", at: location, value: percent.description)
            }
            let integerDigits = String(percent.millionths / Percent.scale).count
            if percent.decimalPlaces > Self.feeDecimals || integerDigits > Self.feeIntegerDigits {
                return .error(code, "Fee_Percent \(percent) does not fit Spectrum's \(Self.feeIntegerDigits).\(Self.feeDecimals) (at most \(Self.feeDecimals) decimals)", at: location, value: percent.description)
            }
            return nil
        }
    }
}
