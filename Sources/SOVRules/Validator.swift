import SOVCore

/// The validator's verdict on one document.
/// Runs every rule (docs/FORMATS.md, "Rules and codes") over a stream of documents; `sov-validate` and the batch runner
/// share it.
///
/// Change orders are checked against their prime contract's SOV when that SOV is known (CO004).
/// A contract anywhere in the same input counts, so a change order whose contract has not been
/// seen yet is answered `held`, and the caller keeps it (where it likes: the batch runner and
/// sov-validate set it aside on disk) and hands it to `judgeHeld` once the input was read whole;
/// one whose contract came earlier is checked at once.
/// Contracts are checked at once, in input order (PC001: the first contract of a project wins).
public struct Validator {
    public private(set) var context: ValidationContext
    public let rules: [any ValidationRule]

    /// Every rule this stage applies, in the order their problems are listed.
    public static let standardRules: [any ValidationRule] = [
        SupportedDirection(), RequiredValues(),
        ProjectMapped(), PrimeContractMapped(), SpectrumContractKnown(),
        OneContractPerProject(), UnitPriceContract(), SOVTotal(), BillingItemCodes(),
        ChangeOrderDate(), LineBillingItemLength(), ApprovedStatus(), AssociatedLineItem(), SpectrumLimits(),
    ]

    public init(projectMap: ProjectMap? = nil, knownContracts: (any KnownContracts)? = nil, rules: [any ValidationRule] = Validator.standardRules) {
        self.context = ValidationContext(projectMap: projectMap, knownContracts: knownContracts)
        self.rules = rules
    }

    /// Validates one document. A change order is `held` when its prime contract may still come
    /// later in the input: the caller keeps it for `judgeHeld`.
    public mutating func validate(_ document: CanonicalDocument) -> Verdict {
        switch document {
        case .primeContract(let contract):
            // Whether the SOV's codes ascend, asked once for BillingItemCodes and the record.
            var ascend: Bool?
            if contract.origin.system == .spectrum {
                let codesAscend = BillingItemCodes.ascendStrictly(contract.lines, skippingBlanks: false)
                ascend = codesAscend
                context.judgedSOV = contract.lines.withUnsafeBufferPointer { (UnsafeRawPointer($0.baseAddress), $0.count, codesAscend) }
            }
            let result = judge(document)
            context.judgedSOV = nil
            context.record(contract, target: context.procoreTarget(for: document), codesAscend: ascend)
            return result
        case .changeOrder(let order):
            if let key = context.contractKey(of: order), context.contractItems[key] == nil {
                return .held(document)
            }
            return judge(document)
        }
    }

    /// Validates a change order that was `held`, now that every contract of the input is known.
    /// Call at the end of the input for each held document, in the order they were held.
    public mutating func judgeHeld(_ document: CanonicalDocument) -> Verdict {
        judge(document)
    }

    /// Every problem the rules find in `document`, without remembering anything.
    public func check(_ document: CanonicalDocument) -> [Diagnostic] {
        rules.flatMap { $0.check(document, in: context) }
    }

    private func judge(_ document: CanonicalDocument) -> Verdict {
        let problems = check(document)
        if problems.contains(where: \.isError) { return .rejected(document, problems) }
        var accepted = routed(document)
        accepted.diagnostics += problems
        return .accepted(accepted)
    }

    /// What the later stages need without reading the map again: Spectrum documents gain their
    /// Procore project (and prime contract); a Procore change order whose Spectrum contract came
    /// from the map gains it as `contract`, with a warning that says where it came from.
    private func routed(_ document: CanonicalDocument) -> CanonicalDocument {
        switch document {
        case .primeContract(var contract):
            guard contract.origin.system == .spectrum, let link = context.procoreTarget(for: document).link else { return document }
            contract.procore = link
            return .primeContract(contract)
        case .changeOrder(var order):
            switch order.origin.system {
            case .spectrum:
                guard let link = context.procoreTarget(for: document).link else { return document }
                var merged = order.procore ?? ProcoreLink()
                merged.projectId = link.projectId
                merged.primeContractId = link.primeContractId
                order.procore = merged
            case .procore:
                guard case .fromMap(let key) = context.spectrumContract(for: order) else { return document }
                order.contract = key
                order.diagnostics.append(.warning(.MAP004, "Spectrum contract \(key) taken from the project map \(context.projectMap?.file ?? "")", at: order.source.with(field: "contract"), value: key.description))
            }
            return .changeOrder(order)
        }
    }
}
