import SOVCore

/// The `sov-markup` stage on one canonical document, shared by the command and the batch runner:
/// prime contracts pass through unchanged; a change order gets its markups (its own, else the
/// defaults for its job) and its `computed` block, or is rejected with every problem found.
public struct MarkupStage: Sendable {
    public var defaults: MarkupDefaults?

    public init(defaults: MarkupDefaults? = nil) {
        self.defaults = defaults
    }

    public func process(_ document: CanonicalDocument) -> Verdict {
        guard case .changeOrder(var order) = document else { return .accepted(document) }
        if order.markups.isEmpty, let defaults {
            order.markups = defaults.markups(for: order)
        }
        switch MarkupEngine.compute(order) {
        case .computed(let computed, let warnings):
            order.computed = computed
            order.diagnostics += warnings
            return .accepted(.changeOrder(order))
        case .rejected(let problems):
            return .rejected(document, problems)
        }
    }
}
