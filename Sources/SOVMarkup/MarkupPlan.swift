import SOVCore

/// A change order's markup definitions, checked and put in calculation order: each set sorted by
/// `position` (ties keep the order of the list), compounding resolved to indices of markups
/// above in the same set. Built only from definitions without problems.
struct MarkupPlan: Sendable {
    struct Step: Sendable {
        /// Index of the definition in the list it came from.
        var index: Int
        var name: String
        /// Millionths of a percent, or nil for a lump sum.
        var millionths: Int64?
        /// Minor units of a lump sum (vertical only).
        var lumpSum: Int64?
        /// Indices, in this set's sorted steps, of the markups whose amounts join the base.
        var compounds: [Int]
        var primeLineItem: String?
    }

    var horizontal: [Step]
    var vertical: [Step]

    var isEmpty: Bool { horizontal.isEmpty && vertical.isEmpty }

    /// The calculation types SOVBridge knows, as `Markup.calculation` spells them (case-insensitive):
    /// nil or "basic" (Procore's basic calculation: percent of the base `compound` describes) and
    /// "compounding" (Procore's compounding: a markup that does not say what it compounds
    /// compounds every markup above it). Anything else, such as Procore's margin type, is refused.
    enum Calculation {
        case basic
        case compounding
    }

    static func calculation(_ raw: String?) -> Calculation? {
        guard let raw else { return .basic }
        switch raw.trimmingSpaces.lowercased() {
        case "", "basic": return .basic
        case "compounding": return .compounding
        default: return nil
        }
    }

    /// Checks `markups` and plans them. `field` names the list in diagnostics ("markups").
    /// Returns every problem found, not only the first; the plan only when there are none.
    static func make(_ markups: [Markup], at location: SourceLocation, field: String) -> (plan: MarkupPlan?, problems: [Diagnostic]) {
        var problems = Problems(location: location, field: field)
        for (index, markup) in markups.enumerated() { check(markup, index, among: markups, &problems) }
        let horizontal = steps(of: .horizontal, markups, &problems)
        let vertical = steps(of: .vertical, markups, &problems)
        guard problems.found.isEmpty else { return (nil, problems.found) }
        return (MarkupPlan(horizontal: horizontal, vertical: vertical), [])
    }

    /// The problems of one list, each at `field[index].member`.
    struct Problems {
        let location: SourceLocation
        let field: String
        var found: [Diagnostic] = []

        mutating func add(_ code: DiagnosticCode, _ index: Int, _ member: String?, _ message: String, value: String? = nil) {
            let path = "\(field)[\(index)]" + (member.map { ".\($0)" } ?? "")
            found.append(.error(code, message, at: location.with(field: path), value: value))
        }
    }

    /// What is wrong with one definition on its own: its name, its percent or amount, its calculation.
    private static func check(_ markup: Markup, _ index: Int, among markups: [Markup], _ problems: inout Problems) {
        let label = "markup '\(markup.name)'"
        let field = problems.field
        if markup.name.trimmingSpaces.isEmpty {
            problems.add(.FMT004, index, "name", "a markup needs a name (Procore's markup amounts refer to it by name)")
        } else if let first = markups[..<index].firstIndex(where: { $0.name == markup.name }) {
            problems.add(.MKP002, index, "name", "two markups are named '\(markup.name)' (\(field)[\(first)] and \(field)[\(index)]); names must be unique because markup amounts are matched by name", value: markup.name)
        }
        switch (markup.percent, markup.amount) {
        case (nil, nil):
            problems.add(.FMT004, index, "percent", "\(label) has neither a percent nor an amount")
        case (.some(let percent), .some(let amount)):
            problems.add(.FMT010, index, "amount", "\(label) has both a percent (\(percent)) and an amount (\(amount)); give one")
        case (nil, .some):
            if markup.set == .horizontal {
                problems.add(.MKP002, index, "amount", "\(label) is a lump sum on the horizontal set; a lump sum is only possible as a vertical markup")
            }
            if markup.compound != .none {
                problems.add(.MKP002, index, "compound", "\(label) is a lump sum and cannot compound other markups")
            }
        case (.some, nil):
            break
        }
        switch calculation(markup.calculation) {
        case nil:
            let raw = markup.calculation ?? ""
            let why = raw.trimmingSpaces.lowercased() == "margin"
                ? "Procore's margin calculation is not supported"
                : "unknown markup calculation type '\(raw)' (known: basic, compounding)"
            problems.add(.MKP002, index, "calculation", "\(label): \(why); the document is refused rather than guessed at", value: raw)
        case .compounding? where markup.percent == nil && markup.amount != nil:
            problems.add(.MKP002, index, "calculation", "\(label) is a lump sum and cannot use the compounding calculation", value: markup.calculation)
        default:
            break
        }
    }

    /// The steps of one set, in position order (stable: equal positions keep the list's order),
    /// each with the ranks of the markups above it that it compounds.
    private static func steps(of set: MarkupSet, _ markups: [Markup], _ problems: inout Problems) -> [Step] {
        let members = markups.indices.filter { markups[$0].set == set }
            .sorted { (markups[$0].position, $0) < (markups[$1].position, $1) }
        var steps: [Step] = []
        for (rank, index) in members.enumerated() {
            let markup = markups[index]
            var compound = markup.compound
            if compound == .none, markup.percent != nil, calculation(markup.calculation) == .compounding {
                compound = .above
            }
            var compounds: [Int] = []
            switch compound {
            case .none:
                break
            case .above:
                compounds = Array(0..<rank)
            case .names(let names):
                for name in names {
                    if name == markup.name {
                        problems.add(.MKP002, index, "compound", "markup '\(markup.name)' cannot compound itself", value: name)
                    } else if let above = members[..<rank].firstIndex(where: { markups[$0].name == name }) {
                        let aboveRank = above - members.startIndex
                        if !compounds.contains(aboveRank) { compounds.append(aboveRank) }
                    } else if members[rank...].contains(where: { markups[$0].name == name }) {
                        problems.add(.MKP002, index, "compound", "markup '\(markup.name)' compounds '\(name)', which comes after it in the \(set.rawValue) set; only markups above can be compounded", value: name)
                    } else {
                        problems.add(.MKP002, index, "compound", "markup '\(markup.name)' compounds '\(name)', which is not a \(set.rawValue) markup of this change order", value: name)
                    }
                }
            }
            steps.append(Step(
                index: index, name: markup.name, millionths: markup.percent?.millionths,
                lumpSum: markup.percent == nil ? markup.amount?.minorUnits : nil,
                compounds: compounds, primeLineItem: markup.primeLineItem))
        }
        return steps
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: Substring {
        let text = Substring(self)
        guard let first = text.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = text.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return text[first...last]
    }
}
