import SOVCore
@testable import SOVMarkup

/// Money in cents, USD.
func cents(_ units: Int64) -> Money { Money(minorUnits: units) }

func money(_ text: String) -> Money { try! Money.parse(text) }

func percent(_ text: String) -> Percent { try! Percent.parse(text) }

func order(
    _ amounts: [String], markups: [Markup] = [], items: [String?]? = nil,
    procore: [[MarkupAmount]]? = nil, job: String = "24-1017"
) -> ChangeOrder {
    let lines = amounts.enumerated().map { index, text in
        ChangeOrderLine(
            amount: money(text), associatedLine: items?[index] ?? nil,
            procoreMarkup: procore?[index] ?? [])
    }
    return ChangeOrder(
        origin: Origin(system: .procore, company: "1", job: job, customer: "OWN100", number: "001"),
        source: SourceLocation(file: "test.json", line: 1), number: "001", approved: true,
        lines: lines, markups: markups)
}

func horizontal(_ name: String, _ text: String, position: Int = 1, compound: MarkupCompounding = .none, calculation: String? = nil) -> Markup {
    Markup(name: name, set: .horizontal, percent: percent(text), position: position, compound: compound, calculation: calculation)
}

func vertical(_ name: String, _ text: String, position: Int = 1, compound: MarkupCompounding = .none, item: String? = nil, calculation: String? = nil) -> Markup {
    Markup(name: name, set: .vertical, percent: percent(text), position: position, compound: compound, primeLineItem: item, calculation: calculation)
}

func lumpSum(_ name: String, _ text: String, position: Int = 1, item: String? = nil) -> Markup {
    Markup(name: name, set: .vertical, amount: money(text), position: position, primeLineItem: item)
}

struct Rejected: Error, CustomStringConvertible {
    var diagnostics: [Diagnostic]
    var description: String { diagnostics.map(\.humanLine).joined(separator: "\n") }
}

/// The computed figures, or the test fails with the diagnostics.
func computed(_ order: ChangeOrder) throws -> (ComputedMarkup, [Diagnostic]) {
    switch MarkupEngine.compute(order) {
    case .computed(let result, let warnings): return (result, warnings)
    case .rejected(let problems): throw Rejected(diagnostics: problems)
    }
}

func rejection(_ order: ChangeOrder) -> [Diagnostic] {
    if case .rejected(let problems) = MarkupEngine.compute(order) { return problems }
    return []
}

extension ComputedMarkup {
    /// Compact text of every figure, for whole-result comparisons.
    var summary: String {
        var parts: [String] = []
        for line in lines {
            parts.append("h[" + line.horizontal.map { "\($0.name)=\($0.amount)" }.joined(separator: ",") + "] e=\(line.extendedAmount) v[" + line.verticalShares.map { "\($0.name)=\($0.amount)" }.joined(separator: ",") + "] r=\(line.revenue)")
        }
        parts.append("S=\(subtotal) V[" + vertical.map { "\($0.name)=\($0.amount)" }.joined(separator: ",") + "] G=\(grandTotal)")
        return parts.joined(separator: " | ")
    }
}
