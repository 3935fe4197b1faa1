import SOVCore

/// What `MarkupEngine.compute` made of a change order.
public enum MarkupResult: Sendable, Hashable {
    /// Every figure, reconciled; `warnings` did not reject the document (e.g. Procore's split kept).
    case computed(ComputedMarkup, warnings: [Diagnostic])
    /// Every problem found in the definitions, or the first figure that could not be computed.
    case rejected([Diagnostic])
}

/// Procore's horizontal and vertical financial markup, exact to the cent (docs/FORMATS.md, "Markup").
///
/// For line amounts a_i, horizontal markups H_j (p_j %) and vertical markups V_k (q_k %), each
/// set in `position` order:
///
///     h_ij = round((a_i + compounded h_i<j) × p_j / 100)      e_i = a_i + Σ_j h_ij
///     S    = Σ_i e_i
///     v_k  = round((S + compounded v_<k) × q_k / 100)          G   = S + Σ_k v_k
///
/// `round` is half away from zero to the minor unit, once per markup amount; every total is a
/// sum of rounded amounts, so everything reconciles exactly. A vertical lump sum is taken as is.
/// Each v_k is then shared among the lines in proportion to e_i (largest remainders, see
/// `share(_:over:)`), or wholly to the line of the billing item it names; a line's revenue is e_i
/// plus its shares, and the revenues add up to G. (A horizontal markup's `primeLineItem` changes
/// nothing: its amounts already sit on their own lines.)
///
/// When the lines carry Procore's own markup amounts (`ChangeOrderLine.procoreMarkup`), each
/// markup's total must equal ours to the cent (else MKP001, both figures in the message); when
/// only the split across lines differs, Procore's split is kept, with a warning, since it is
/// what Procore shows.
///
/// All arithmetic is on integers: Int128 for products, every figure checked to fit Money's Int64,
/// so no input can trap; an amount out of range rejects the document instead.
public enum MarkupEngine {
    /// Percent of a base in minor units: millionths of a percent, then per hundred.
    static let percentDivisor = Int128(Percent.scale) * 100

    /// Computes the markup of `order` from `order.markups` (already chosen: the document's own or
    /// the defaults). A change order without markups is computed too: extended = revenue = line.
    public static func compute(_ order: ChangeOrder) -> MarkupResult {
        let (plan, problems) = MarkupPlan.make(order.markups, at: order.source, field: "markups")
        guard let plan else { return .rejected(problems) }
        do throws(Diagnostic) {
            var figures = try Figures(order: order, plan: plan)
            var warnings: [Diagnostic] = []
            if order.lines.contains(where: { !$0.procoreMarkup.isEmpty }) {
                let disagreements = figures.reconcile(with: order, plan: plan, warnings: &warnings)
                if !disagreements.isEmpty { return .rejected(disagreements) }
            }
            return .computed(try figures.computedMarkup(order: order, plan: plan), warnings: warnings)
        } catch {
            return .rejected([error])
        }
    }

    /// Checks markup definitions without computing anything: percent xor amount, lump sums only
    /// vertical, known calculation types, compounded names above in the same set, unique names.
    /// `field` names the list in the diagnostics' field paths.
    public static func check(_ markups: [Markup], at location: SourceLocation, field: String = "markups") -> [Diagnostic] {
        MarkupPlan.make(markups, at: location, field: field).problems
    }

    /// `base × millionths / 10^8`, rounded half away from zero; nil when the product leaves Int128.
    static func percent(of base: Int128, millionths: Int64) -> Int128? {
        let (product, overflow) = base.multipliedReportingOverflow(by: Int128(millionths))
        if overflow { return nil }
        return Rounding.divide(product, by: percentDivisor, .halfAwayFromZero)
    }

    /// What a vertical markup is shared by: the extended amounts, except for a lump sum over lines
    /// of mixed sign, which is shared by their absolute values. A percent markup is a rate on each
    /// line, so a deductive line's share is rightly negative; a fixed fee is not, and its signed
    /// weights (+1000.00, −999.00 sum to 1.00) would multiply it by a thousand per line.
    static func weights(_ extended: [Int128], lumpSum: Bool) -> [Int128] {
        guard lumpSum, extended.contains(where: { $0 > 0 }), extended.contains(where: { $0 < 0 }) else { return extended }
        return extended.map { $0 < 0 ? -$0 : $0 }
    }

    /// Shares `total` among lines in proportion to `weights` (their extended amounts): each exact
    /// share total × w_i / Σw is cut toward zero, then the cents left over go one at a time to the
    /// lines whose cut-off remainder is largest in the direction of what is left (earlier line
    /// first on ties), so the shares add up to `total` exactly and each is within one cent of its
    /// exact value. Mirror-symmetric: negating `total` or every weight negates every share.
    /// With a zero weight sum the whole amount goes to the first line. `weights` must not be empty
    /// unless `total` is zero; every product total × w_i must fit Int128 (Int64 × Int64 does).
    public static func share(_ total: Int128, over weights: [Int128]) -> [Int128] {
        var shares = [Int128](repeating: 0, count: weights.count)
        if total == 0 || weights.isEmpty { return shares }
        var weightSum: Int128 = 0
        for weight in weights { weightSum += weight }
        if weightSum == 0 {
            shares[0] = total
            return shares
        }
        // A positive denominator makes remainders comparable: each is the signed fraction r_i / d.
        let sign: Int128 = weightSum < 0 ? -1 : 1
        let denominator = weightSum * sign
        var remainders = [Int128](repeating: 0, count: weights.count)
        var assigned: Int128 = 0
        for index in weights.indices {
            let numerator = total * weights[index] * sign
            shares[index] = numerator / denominator
            remainders[index] = numerator % denominator
            assigned += shares[index]
        }
        let left = total - assigned
        if left == 0 { return shares }
        // Σ r_i / d = left and every |r_i / d| < 1, so more than |left| lines have a remainder of
        // left's sign: the cents always go to lines whose exact share lies beyond their cut.
        let step: Int128 = left > 0 ? 1 : -1
        let order = weights.indices.sorted { a, b in
            let ra = remainders[a] * step
            let rb = remainders[b] * step
            return ra != rb ? ra > rb : a < b
        }
        for index in order.prefix(Int(left.magnitude)) { shares[index] += step }
        return shares
    }
}

/// The figures of one change order in minor units, before they become Money.
struct Figures {
    /// Per line, per horizontal step (in plan order).
    var horizontal: [[Int128]]
    /// Per vertical step.
    var vertical: [Int128]
    /// Per line, per vertical step.
    var shares: [[Int128]]
    var amounts: [Int128]

    init(order: ChangeOrder, plan: MarkupPlan) throws(Diagnostic) {
        amounts = order.lines.map { Int128($0.amount.minorUnits) }
        horizontal = []
        horizontal.reserveCapacity(amounts.count)
        var extended: [Int128] = []
        extended.reserveCapacity(amounts.count)
        var subtotal: Int128 = 0
        for (lineIndex, amount) in amounts.enumerated() {
            var row = [Int128](repeating: 0, count: plan.horizontal.count)
            var lineTotal = amount
            for (stepIndex, step) in plan.horizontal.enumerated() {
                var base = amount
                for above in step.compounds { base += row[above] }
                guard let value = MarkupEngine.percent(of: base, millionths: step.millionths ?? 0), fitsMoney(value) else {
                    throw outOfRange(order, "markup '\(step.name)' on line \(lineIndex + 1)", field: "markups[\(step.index)]")
                }
                row[stepIndex] = value
                lineTotal += value
            }
            guard fitsMoney(lineTotal) else { throw outOfRange(order, "the extended amount of line \(lineIndex + 1)", field: "lines[\(lineIndex)]") }
            horizontal.append(row)
            extended.append(lineTotal)
            subtotal += lineTotal
        }
        guard fitsMoney(subtotal) else { throw outOfRange(order, "the subtotal", field: "lines") }

        vertical = [Int128](repeating: 0, count: plan.vertical.count)
        for (stepIndex, step) in plan.vertical.enumerated() {
            let value: Int128?
            if let lumpSum = step.lumpSum {
                value = Int128(lumpSum)
            } else {
                var base = subtotal
                for above in step.compounds { base += vertical[above] }
                value = MarkupEngine.percent(of: base, millionths: step.millionths ?? 0)
            }
            guard let value, fitsMoney(value) else {
                throw outOfRange(order, "markup '\(step.name)'", field: "markups[\(step.index)]")
            }
            vertical[stepIndex] = value
        }

        shares = Array(repeating: [Int128](repeating: 0, count: plan.vertical.count), count: amounts.count)
        for (stepIndex, step) in plan.vertical.enumerated() {
            let total = vertical[stepIndex]
            if total == 0 { continue }
            if amounts.isEmpty {
                throw Diagnostic.error(.MKP002, "markup '\(step.name)' (\(format(total, order))) has no line to go to: the change order has no lines", at: order.source.with(field: "markups[\(step.index)]"))
            }
            if let item = step.primeLineItem {
                guard let target = order.lines.firstIndex(where: { $0.associatedLine == item })
                    ?? order.lines.firstIndex(where: { $0.associatedLineId == item })
                else {
                    throw Diagnostic.error(.MKP002, "markup '\(step.name)' goes to prime contract line item '\(item)', but no line of this change order is associated with that item, so its amount has no line to be billed with", at: order.source.with(field: "markups[\(step.index)].prime_line_item"), value: item)
                }
                shares[target][stepIndex] = total
                continue
            }
            for (lineIndex, share) in MarkupEngine.share(total, over: MarkupEngine.weights(extended, lumpSum: step.lumpSum != nil)).enumerated() {
                shares[lineIndex][stepIndex] = share
            }
        }
    }

    /// Compares with Procore's own amounts: returns MKP001 errors for totals that differ; when
    /// all agree, takes Procore's per-line split wherever it differs from ours (with a warning).
    mutating func reconcile(with order: ChangeOrder, plan: MarkupPlan, warnings: inout [Diagnostic]) -> [Diagnostic] {
        // Procore's amount per line and markup name (repeated entries add up).
        var theirs: [[String: Int128]] = []
        var theirTotals: [String: Int128] = [:]
        var theirNames: [String] = []
        for line in order.lines {
            var byName: [String: Int128] = [:]
            for share in line.procoreMarkup {
                byName[share.name, default: 0] += Int128(share.amount.minorUnits)
                if theirTotals[share.name] == nil { theirNames.append(share.name) }
                theirTotals[share.name, default: 0] += Int128(share.amount.minorUnits)
            }
            theirs.append(byName)
        }

        var problems: [Diagnostic] = []
        let location = order.source
        func compare(_ step: MarkupPlan.Step, ours: Int128) {
            let procore = theirTotals[step.name] ?? 0
            if procore != ours {
                problems.append(.error(.MKP001, "Procore's markup '\(step.name)' totals \(format(procore, order)) on this change order, SOVBridge computes \(format(ours, order)) (a difference of \(format(procore - ours, order)))", at: location.with(field: "markups[\(step.index)]"), value: format(procore, order)))
            }
        }
        for (stepIndex, step) in plan.horizontal.enumerated() {
            compare(step, ours: horizontal.reduce(0) { $0 + $1[stepIndex] })
        }
        for (stepIndex, step) in plan.vertical.enumerated() {
            compare(step, ours: vertical[stepIndex])
        }
        let known = Set(plan.horizontal.map(\.name) + plan.vertical.map(\.name))
        for name in theirNames where !known.contains(name) && theirTotals[name] != 0 {
            problems.append(.error(.MKP001, "Procore's markup '\(name)' totals \(format(theirTotals[name] ?? 0, order)) on this change order, but the change order defines no markup of that name (SOVBridge computes 0)", at: location.with(field: "lines"), value: name))
        }
        if !problems.isEmpty { return problems }

        func adopt(_ step: MarkupPlan.Step, _ stepIndex: Int, in matrix: inout [[Int128]]) {
            var differences: [String] = []
            for lineIndex in order.lines.indices {
                let procore = theirs[lineIndex][step.name] ?? 0
                let ours = matrix[lineIndex][stepIndex]
                if procore != ours {
                    differences.append("line \(lineIndex + 1): Procore \(format(procore, order)), computed \(format(ours, order))")
                    matrix[lineIndex][stepIndex] = procore
                }
            }
            guard !differences.isEmpty else { return }
            let shown = differences.prefix(3).joined(separator: "; ") + (differences.count > 3 ? "; and \(differences.count - 3) more lines" : "")
            warnings.append(.warning(.MKP001, "Procore splits markup '\(step.name)' across the lines differently (\(shown)); the total agrees, and Procore's split is kept", at: location.with(field: "markups[\(step.index)]")))
        }
        for (stepIndex, step) in plan.horizontal.enumerated() { adopt(step, stepIndex, in: &horizontal) }
        for (stepIndex, step) in plan.vertical.enumerated() { adopt(step, stepIndex, in: &shares) }
        return []
    }

    /// The figures as Money, every one checked against Money's range.
    func computedMarkup(order: ChangeOrder, plan: MarkupPlan) throws(Diagnostic) -> ComputedMarkup {
        let currency = order.currency
        func money(_ units: Int128, _ what: @autoclosure () -> String, field: String) throws(Diagnostic) -> Money {
            guard fitsMoney(units) else { throw outOfRange(order, what(), field: field) }
            return Money(minorUnits: Int64(units), currency: currency)
        }
        var lines: [ComputedLine] = []
        lines.reserveCapacity(amounts.count)
        var subtotal: Int128 = 0
        var revenues: Int128 = 0
        for lineIndex in amounts.indices {
            var extended = amounts[lineIndex]
            var horizontalAmounts: [MarkupAmount] = []
            horizontalAmounts.reserveCapacity(plan.horizontal.count)
            for (stepIndex, step) in plan.horizontal.enumerated() {
                let value = horizontal[lineIndex][stepIndex]
                extended += value
                horizontalAmounts.append(MarkupAmount(name: step.name, amount: try money(value, "markup '\(step.name)' on line \(lineIndex + 1)", field: "lines[\(lineIndex)]")))
            }
            var revenue = extended
            var verticalShares: [MarkupAmount] = []
            verticalShares.reserveCapacity(plan.vertical.count)
            for (stepIndex, step) in plan.vertical.enumerated() {
                let value = shares[lineIndex][stepIndex]
                revenue += value
                verticalShares.append(MarkupAmount(name: step.name, amount: try money(value, "the share of markup '\(step.name)' on line \(lineIndex + 1)", field: "lines[\(lineIndex)]")))
            }
            subtotal += extended
            revenues += revenue
            lines.append(ComputedLine(
                horizontal: horizontalAmounts,
                extendedAmount: try money(extended, "the extended amount of line \(lineIndex + 1)", field: "lines[\(lineIndex)]"),
                verticalShares: verticalShares,
                revenue: try money(revenue, "the revenue of line \(lineIndex + 1)", field: "lines[\(lineIndex)]")))
        }
        var verticalAmounts: [MarkupAmount] = []
        var grandTotal = subtotal
        for (stepIndex, step) in plan.vertical.enumerated() {
            grandTotal += vertical[stepIndex]
            verticalAmounts.append(MarkupAmount(name: step.name, amount: try money(vertical[stepIndex], "markup '\(step.name)'", field: "markups[\(step.index)]")))
        }
        // Holds by construction (shares add up to each markup); checked because the writers bill it.
        precondition(revenues == grandTotal, "markup revenues do not add up to the grand total")
        return ComputedMarkup(
            lines: lines, subtotal: try money(subtotal, "the subtotal", field: "lines"),
            vertical: verticalAmounts, grandTotal: try money(grandTotal, "the grand total", field: "markups"))
    }
}

func fitsMoney(_ units: Int128) -> Bool {
    units >= Int128(Int64.min) && units <= Int128(Int64.max)
}

func format(_ units: Int128, _ order: ChangeOrder) -> String {
    fitsMoney(units) ? Money.format(Int64(units), minorDigits: order.currency.minorDigits) : String(units) + " minor units"
}

func outOfRange(_ order: ChangeOrder, _ what: String, field: String) -> Diagnostic {
    .error(.MKP002, "\(what) cannot be computed: it exceeds the largest amount SOVBridge holds (\(Money.format(Int64.max, minorDigits: order.currency.minorDigits)))", at: order.source.with(field: field))
}
