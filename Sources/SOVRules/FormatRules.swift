import SOVCore

/// FMT004: values no later stage may default. A Spectrum document needs Company, Job and
/// Customer (the key of its contract in Spectrum and of its origin id in Procore); a change
/// order needs its number.
public struct RequiredValues: ValidationRule {
    public let code = DiagnosticCode.FMT004
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        let origin = document.origin
        let system = origin.system
        let keyKnown: Bool
        switch document {
        case .primeContract: keyKnown = false
        case .changeOrder(let order): keyKnown = order.contract != nil
        }
        if system == .spectrum, !keyKnown {
            for (field, value) in [(FieldName.company, origin.company), (.job, origin.job), (.customer, origin.customer)] where value?.isBlank ?? true {
                problems.append(.error(code, "\(field.spectrum) is required (Spectrum identifies a contract by company, job and customer)", at: document.source.with(field: field.spectrum), value: value))
            }
        }
        if case .changeOrder(let order) = document, order.number.isBlank {
            problems.append(.error(code, "the change order number is required", at: order.source.with(field: FieldName.changeOrderNumber.of(system)), value: order.number))
        }
        return problems
    }
}

/// FMT009: documents go one way per origin (docs/FORMATS.md, "Rules and codes"): prime contracts from Spectrum to Procore;
/// change orders either way. A prime contract from Procore has nowhere to go.
public struct SupportedDirection: ValidationRule {
    public let code = DiagnosticCode.FMT009
    public init() {}

    public func check(_ document: CanonicalDocument, in context: ValidationContext) -> [Diagnostic] {
        guard case .primeContract(let contract) = document, contract.origin.system == .procore else { return [] }
        return [.error(code, "prime contracts go from Spectrum to Procore only; this one comes from Procore", at: contract.source.with(field: "origin.system"), value: contract.origin.system.rawValue)]
    }
}
