import PropertyBased
import SOVCore
import SOVMarkup
import SOVTestSupport
import Testing

/// A second, independent implementation of the markup (docs/FORMATS.md, "Markup") in plain Int arithmetic (random inputs are
/// bounded so that no product leaves Int), written the obvious way rather than the fast way.
enum Reference {
    struct Result: Equatable {
        var horizontal: [[Int]]
        var extended: [Int]
        var subtotal: Int
        var vertical: [Int]
        var shares: [[Int]]
        var revenue: [Int]
        var grandTotal: Int
    }

    /// numerator / denominator, ties away from zero.
    static func roundHalfAway(_ numerator: Int, _ denominator: Int) -> Int {
        let negative = (numerator < 0) != (denominator < 0)
        let n = abs(numerator), d = abs(denominator)
        let rounded = (2 * n + d) / (2 * d)
        return negative ? -rounded : rounded
    }

    static func inOrder(_ markups: [Markup], _ set: MarkupSet) -> [Markup] {
        markups.enumerated().filter { $0.element.set == set }
            .sorted { $0.element.position != $1.element.position ? $0.element.position < $1.element.position : $0.offset < $1.offset }
            .map(\.element)
    }

    static func compounded(_ markup: Markup, _ earlier: [Markup], _ amounts: [String: Int]) -> Int {
        var compound = markup.compound
        if compound == .none, markup.calculation == "compounding" { compound = .above }
        switch compound {
        case .none: return 0
        case .above: return earlier.reduce(0) { $0 + amounts[$1.name]! }
        case .names(let names): return Set(names).reduce(0) { $0 + amounts[$1]! }
        }
    }

    /// Largest remainders, spelled out: hand out one cent at a time to the line whose exact share
    /// is furthest beyond what it has so far.
    static func split(_ total: Int, _ weights: [Int]) -> [Int] {
        var shares = Array(repeating: 0, count: weights.count)
        let sum = weights.reduce(0, +)
        if total == 0 || weights.isEmpty { return shares }
        if sum == 0 { shares[0] = total; return shares }
        for i in weights.indices { shares[i] = (total * weights[i]) / sum }  // Swift's / cuts toward zero
        var left = total - shares.reduce(0, +)
        let direction = left > 0 ? 1 : -1
        var taken = Set<Int>()
        while left != 0 {
            var best = -1
            for i in weights.indices where !taken.contains(i) {
                // Compare (exact - cut) × direction, as fractions over |sum|.
                let excess = (total * weights[i] - shares[i] * sum) * (sum < 0 ? -1 : 1) * direction
                if best < 0 || excess > (total * weights[best] - shares[best] * sum) * (sum < 0 ? -1 : 1) * direction { best = i }
            }
            shares[best] += direction
            taken.insert(best)
            left -= direction
        }
        return shares
    }

    /// nil when a vertical markup has no line to go to.
    static func compute(_ order: ChangeOrder) -> Result? {
        let lineAmounts = order.lines.map { Int($0.amount.minorUnits) }
        let horizontal = inOrder(order.markups, .horizontal)
        let vertical = inOrder(order.markups, .vertical)
        var h: [[Int]] = []
        var e: [Int] = []
        for a in lineAmounts {
            var amounts: [String: Int] = [:]
            var row: [Int] = []
            for (j, markup) in horizontal.enumerated() {
                let base = a + compounded(markup, Array(horizontal[..<j]), amounts)
                let value = roundHalfAway(base * Int(markup.percent!.millionths), 100_000_000)
                amounts[markup.name] = value
                row.append(value)
            }
            h.append(row)
            e.append(a + row.reduce(0, +))
        }
        let s = e.reduce(0, +)
        var v: [Int] = []
        var amounts: [String: Int] = [:]
        for (k, markup) in vertical.enumerated() {
            let value: Int
            if let lump = markup.amount {
                value = Int(lump.minorUnits)
            } else {
                value = roundHalfAway((s + compounded(markup, Array(vertical[..<k]), amounts)) * Int(markup.percent!.millionths), 100_000_000)
            }
            amounts[markup.name] = value
            v.append(value)
        }
        var shares = Array(repeating: Array(repeating: 0, count: vertical.count), count: lineAmounts.count)
        for (k, markup) in vertical.enumerated() where v[k] != 0 {
            if lineAmounts.isEmpty { return nil }
            if let item = markup.primeLineItem {
                guard let target = order.lines.firstIndex(where: { $0.associatedLine == item }) else { return nil }
                shares[target][k] = v[k]
            } else {
                // A lump sum over lines of mixed sign goes by their sizes, not their signed amounts.
                let mixed = e.contains { $0 > 0 } && e.contains { $0 < 0 }
                let weights = markup.amount != nil && mixed ? e.map(abs) : e
                for (i, share) in split(v[k], weights).enumerated() { shares[i][k] = share }
            }
        }
        let revenue = e.indices.map { e[$0] + shares[$0].reduce(0, +) }
        return Result(horizontal: h, extended: e, subtotal: s, vertical: v, shares: shares, revenue: revenue, grandTotal: s + v.reduce(0, +))
    }
}

/// Deterministic random change orders from a seed (SplitMix64), so a failure names its seed.
struct RandomOrders {
    private var generator: SplitMix64

    init(state: UInt64) { generator = SplitMix64(seed: state) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }

    mutating func amount() -> Int64 {
        switch int(1...10) {
        case 1: return 0
        case 2: return Int64(int(-99...99))  // cents only: ties and zero shares
        case 3: return Int64(int(-100_000_000...100_000_000))  // up to a million dollars
        case 4: return Int64(int(1...20)) * 50  // whole half-dollars: many exact ties at 1%
        default: return Int64(int(-2_000_000...5_000_000))
        }
    }

    mutating func percent() -> Percent {
        switch int(1...5) {
        case 1: return Percent(millionths: Int64(int(0...50)) * 500_000)  // 0, 0.5, 1 ... 25 %
        case 2: return Percent(millionths: Int64(int(-5_000_000...5_000_000)))  // discounts too
        default: return Percent(millionths: Int64(int(0...30_000_000)))  // six decimals
        }
    }

    mutating func order() -> ChangeOrder {
        let items = ["100", "200", "300"]
        var amounts = (0..<int(0...6)).map { _ in amount() }
        if amounts.count >= 2, chance(10) { amounts[amounts.count - 1] = -amounts.dropLast().reduce(0, +) }  // zero subtotal
        let lines = amounts.map { ChangeOrderLine(amount: Money(minorUnits: $0), associatedLine: items[int(0...2)]) }
        var markups: [Markup] = []
        for set in [MarkupSet.horizontal, .vertical] {
            var names: [String] = []
            for index in 0..<int(0...3) {
                let name = "\(set == .horizontal ? "H" : "V")\(index)"
                let lump = set == .vertical && chance(25)
                var compound = MarkupCompounding.none
                var calculation: String?
                if !lump, !names.isEmpty {
                    switch int(1...4) {
                    case 1: compound = .above
                    case 2: compound = .names(names.filter { _ in chance(50) })
                    case 3: calculation = "compounding"
                    default: break
                    }
                }
                markups.append(Markup(
                    name: name, set: set, percent: lump ? nil : percent(),
                    amount: lump ? Money(minorUnits: Int64(int(-500_000...2_000_000))) : nil,
                    position: index * 2 + int(0...1), compound: compound,
                    primeLineItem: set == .vertical && chance(15) ? items[int(0...2)] : nil,
                    calculation: calculation))
                names.append(name)
            }
        }
        markups.shuffle(using: &self)
        return ChangeOrder(origin: Origin(system: .spectrum), source: SourceLocation(file: "random"), number: "R", approved: true, lines: lines, markups: markups)
    }
}

extension RandomOrders: RandomNumberGenerator {}

func negated(_ order: ChangeOrder) -> ChangeOrder {
    var copy = order
    copy.lines = order.lines.map { var line = $0; line.amount = -line.amount; return line }
    copy.markups = order.markups.map { var markup = $0; markup.amount = markup.amount.map { -$0 }; return markup }
    return copy
}

@Suite struct MarkupProperties {
    static let seeds = Gen.uint64(in: 0...UInt64.max)

    @Test func agreesWithTheReferenceImplementation() async {
        await propertyCheck(count: 4000, input: Self.seeds) { seed in
            var random = RandomOrders(state: seed)
            let order = random.order()
            let expected = Reference.compute(order)
            switch MarkupEngine.compute(order) {
            case .rejected(let problems):
                #expect(expected == nil, "seed \(seed): rejected \(problems.map(\.humanLine))")
            case .computed(let result, let warnings):
                #expect(warnings.isEmpty)
                guard let expected else {
                    Issue.record("seed \(seed): the reference refuses what the engine computed: \(result.summary)")
                    return
                }
                let actual = Reference.Result(
                    horizontal: result.lines.map { $0.horizontal.map { Int($0.amount.minorUnits) } },
                    extended: result.lines.map { Int($0.extendedAmount.minorUnits) },
                    subtotal: Int(result.subtotal.minorUnits),
                    vertical: result.vertical.map { Int($0.amount.minorUnits) },
                    shares: result.lines.map { $0.verticalShares.map { Int($0.amount.minorUnits) } },
                    revenue: result.lines.map { Int($0.revenue.minorUnits) },
                    grandTotal: Int(result.grandTotal.minorUnits))
                #expect(actual == expected, "seed \(seed)")
            }
        }
    }

    @Test func invariants() async {
        await propertyCheck(count: 4000, input: Self.seeds) { seed in
            var random = RandomOrders(state: seed)
            let order = random.order()
            guard case .computed(let result, _) = MarkupEngine.compute(order) else { return }
            let sum = { (amounts: [Money]) in amounts.reduce(Money.zero()) { $0 + $1 } }
            // G = Σ extended + Σ vertical = Σ revenue; S = Σ extended.
            #expect(result.subtotal == sum(result.lines.map(\.extendedAmount)), "seed \(seed)")
            #expect(result.grandTotal == result.subtotal + sum(result.vertical.map(\.amount)), "seed \(seed)")
            #expect(result.grandTotal == sum(result.lines.map(\.revenue)), "seed \(seed)")
            for (lineIndex, line) in result.lines.enumerated() {
                #expect(line.extendedAmount == order.lines[lineIndex].amount + sum(line.horizontal.map(\.amount)))
                #expect(line.revenue == line.extendedAmount + sum(line.verticalShares.map(\.amount)))
            }
            // Each vertical markup's shares add up to it, and each share is within a cent of exact.
            let subtotal = Int128(result.subtotal.minorUnits)
            let mixedSigns = result.lines.contains { $0.extendedAmount.isNegative } && result.lines.contains { $0.extendedAmount > .zero() }
            for (k, markup) in result.vertical.enumerated() {
                #expect(sum(result.lines.map { $0.verticalShares[k].amount }) == markup.amount, "seed \(seed)")
                let definition = order.markups.first { $0.name == markup.name }!
                // A lump sum over mixed signs is shared by the lines' sizes (see mixedSignLumpSums).
                let bySize = definition.amount != nil && mixedSigns
                let weight = { (line: ComputedLine) -> Int128 in
                    let extended = Int128(line.extendedAmount.minorUnits)
                    return bySize && extended < 0 ? -extended : extended
                }
                let total = bySize ? result.lines.reduce(Int128(0)) { $0 + weight($1) } : subtotal
                guard definition.primeLineItem == nil, total != 0 else { continue }
                for line in result.lines {
                    let exactTimesS = Int128(markup.amount.minorUnits) * weight(line)
                    let error = Int128(line.verticalShares[k].amount.minorUnits) * total - exactTimesS
                    #expect(error.magnitude < total.magnitude, "seed \(seed): share off by a cent or more")
                }
            }
            // Each percent markup within half a cent of its exact rational value on its base.
            for (lineIndex, line) in result.lines.enumerated() {
                for (j, amount) in line.horizontal.enumerated() {
                    let definition = order.markups.first { $0.name == amount.name }!
                    let earlier = line.horizontal[..<j]
                    let base = Int128(order.lines[lineIndex].amount.minorUnits) + compoundedBase(definition, earlier.map { $0 })
                    let exact = base * Int128(definition.percent!.millionths)
                    let error = Int128(amount.amount.minorUnits) * 100_000_000 - exact
                    #expect(error.magnitude * 2 <= 100_000_000, "seed \(seed): \(amount.name) on line \(lineIndex + 1)")
                }
            }
            for (k, amount) in result.vertical.enumerated() {
                let definition = order.markups.first { $0.name == amount.name }!
                guard let rate = definition.percent else {
                    #expect(amount.amount.minorUnits == definition.amount?.minorUnits)
                    continue
                }
                let base = subtotal + compoundedBase(definition, Array(result.vertical[..<k]))
                let error = Int128(amount.amount.minorUnits) * 100_000_000 - base * Int128(rate.millionths)
                #expect(error.magnitude * 2 <= 100_000_000, "seed \(seed): \(amount.name)")
            }
        }
    }

    /// Issue #18: a lump sum of 50.00 on lines +1000.00 and −999.00 was shared by the signed
    /// amounts (subtotal 1.00) into +50,000.00 and −49,950.00. Over random change orders whose
    /// lines have both signs, every share of a lump sum lies between 0 and the lump sum, and the
    /// shares and revenues reconcile to the cent.
    @Test func mixedSignLumpSums() async {
        await propertyCheck(count: 3000, input: Self.seeds) { seed in
            var random = RandomOrders(state: seed)
            let count = random.int(2...8)
            var amounts = (0..<count).map { _ in Int64(random.int(-5_000_000...5_000_000)) }
            amounts[0] = Int64(random.int(1...5_000_000))
            amounts[1] = -Int64(random.int(1...5_000_000))
            if random.chance(30) { amounts[count - 1] = amounts[count - 1] - amounts.reduce(0, +) }  // subtotal near or at zero
            amounts.shuffle(using: &random)
            var markups: [Markup] = []
            if random.chance(50) { markups.append(Markup(name: "Insurance", set: .horizontal, percent: random.percent(), position: 1)) }
            let lump = Int64(random.int(-2_000_000...2_000_000))
            markups.append(Markup(name: "Fee", set: .vertical, amount: Money(minorUnits: lump), position: random.int(1...3)))
            if random.chance(40) { markups.append(Markup(name: "Bond", set: .vertical, percent: random.percent(), position: 2)) }
            let order = ChangeOrder(
                origin: Origin(system: .spectrum), source: SourceLocation(file: "random"), number: "M", approved: true,
                lines: amounts.map { ChangeOrderLine(amount: Money(minorUnits: $0), associatedLine: "100") }, markups: markups)
            guard case .computed(let result, _) = MarkupEngine.compute(order) else {
                Issue.record("seed \(seed): rejected")
                return
            }
            let fee = result.vertical.firstIndex { $0.name == "Fee" }!
            let shares = result.lines.map { $0.verticalShares[fee].amount.minorUnits }
            #expect(shares.reduce(0, +) == lump, "seed \(seed)")
            for share in shares {
                #expect(lump >= 0 ? (0...lump).contains(share) : (lump...0).contains(share), "seed \(seed): share \(share) of \(lump)")
            }
            #expect(result.grandTotal == result.lines.reduce(Money.zero()) { $0 + $1.revenue }, "seed \(seed)")
            #expect(result.grandTotal == result.subtotal + result.vertical.reduce(Money.zero()) { $0 + $1.amount }, "seed \(seed)")
        }
    }

    @Test func negatingEveryLineNegatesEveryAmount() async {
        await propertyCheck(count: 3000, input: Self.seeds) { seed in
            var random = RandomOrders(state: seed)
            let order = random.order()
            let forward = MarkupEngine.compute(order)
            let backward = MarkupEngine.compute(negated(order))
            switch (forward, backward) {
            case (.computed(let a, _), .computed(let b, _)):
                #expect(b.grandTotal == -a.grandTotal && b.subtotal == -a.subtotal, "seed \(seed)")
                #expect(b.vertical.map { -$0.amount } == a.vertical.map(\.amount), "seed \(seed)")
                for (x, y) in zip(a.lines, b.lines) {
                    #expect(y.horizontal.map { -$0.amount } == x.horizontal.map(\.amount), "seed \(seed)")
                    #expect(y.verticalShares.map { -$0.amount } == x.verticalShares.map(\.amount), "seed \(seed)")
                    #expect(y.extendedAmount == -x.extendedAmount && y.revenue == -x.revenue, "seed \(seed)")
                }
            case (.rejected, .rejected):
                break
            default:
                Issue.record("seed \(seed): only one of an order and its negation was computed")
            }
        }
    }

    @Test func deterministic() async {
        await propertyCheck(count: 500, input: Self.seeds) { seed in
            var first = RandomOrders(state: seed)
            var second = RandomOrders(state: seed)
            #expect(MarkupEngine.compute(first.order()) == MarkupEngine.compute(second.order()))
        }
    }

    @Test func procoresOwnFiguresRoundTrip() async {
        // Feeding our own split back as Procore's is accepted silently; moving one cent of one
        // markup between two lines keeps the total and is accepted with Procore's split.
        await propertyCheck(count: 1500, input: Self.seeds) { seed in
            var random = RandomOrders(state: seed)
            var order = random.order()
            guard case .computed(let ours, _) = MarkupEngine.compute(order), !ours.lines.isEmpty,
                !(ours.lines.first?.horizontal.isEmpty ?? true) || !ours.vertical.isEmpty else { return }
            for index in order.lines.indices {
                order.lines[index].procoreMarkup = ours.lines[index].horizontal + ours.lines[index].verticalShares
            }
            guard case .computed(let same, let quiet) = MarkupEngine.compute(order) else {
                Issue.record("seed \(seed): own figures rejected")
                return
            }
            #expect(same == ours && quiet.isEmpty, "seed \(seed)")
            guard order.lines.count >= 2 else { return }
            let moved = order.lines[0].procoreMarkup[0].name
            order.lines[0].procoreMarkup[0].amount += cents(1)
            let position = order.lines[1].procoreMarkup.firstIndex { $0.name == moved }!
            order.lines[1].procoreMarkup[position].amount -= cents(1)
            guard case .computed(let kept, let warnings) = MarkupEngine.compute(order) else {
                Issue.record("seed \(seed): a moved cent was rejected")
                return
            }
            #expect(warnings.map(\.code) == [.MKP001], "seed \(seed)")
            #expect(kept.grandTotal == ours.grandTotal, "seed \(seed)")
            #expect(kept.grandTotal == kept.lines.reduce(Money.zero()) { $0 + $1.revenue }, "seed \(seed)")
            // One cent more on the total of that markup is a disagreement.
            order.lines[1].procoreMarkup[position].amount += cents(1)
            order.lines[1].procoreMarkup[position].amount += cents(1)
            #expect(rejectionCodes(order) == [.MKP001], "seed \(seed)")
        }
    }
}

func rejectionCodes(_ order: ChangeOrder) -> [DiagnosticCode] {
    if case .rejected(let problems) = MarkupEngine.compute(order) { return problems.map(\.code) }
    return []
}

/// The amounts a markup compounds, from the amounts above it in its set (in position order).
func compoundedBase(_ markup: Markup, _ above: [MarkupAmount]) -> Int128 {
    var compound = markup.compound
    if compound == .none, markup.calculation == "compounding" { compound = .above }
    switch compound {
    case .none: return 0
    case .above: return above.reduce(0) { $0 + Int128($1.amount.minorUnits) }
    case .names(let names): return above.filter { names.contains($0.name) }.reduce(0) { $0 + Int128($1.amount.minorUnits) }
    }
}

@Suite struct RandomOrderCoverage {
    /// The random orders reach the cases that matter, so the properties above are not vacuous.
    @Test func generatorReachesEveryCase() {
        var computed = 0, rejected = 0, zeroSubtotal = 0, negative = 0, lumpSums = 0, byName = 0, directed = 0, tiesAtHalfCent = 0
        for seed in 0..<3000 as Range<UInt64> {
            var random = RandomOrders(state: seed &* 7919)
            let order = random.order()
            if order.markups.contains(where: { $0.amount != nil }) { lumpSums += 1 }
            if order.markups.contains(where: { if case .names(let names) = $0.compound { !names.isEmpty } else { false } }) { byName += 1 }
            if order.markups.contains(where: { $0.primeLineItem != nil }) { directed += 1 }
            if order.lines.contains(where: { $0.amount.isNegative }) { negative += 1 }
            switch MarkupEngine.compute(order) {
            case .computed(let result, _):
                computed += 1
                if result.subtotal.isZero, result.vertical.contains(where: { !$0.amount.isZero }) { zeroSubtotal += 1 }
                for (index, line) in result.lines.enumerated() {
                    for (j, amount) in line.horizontal.enumerated() {
                        let definition = order.markups.first { $0.name == amount.name }!
                        let base = Int128(order.lines[index].amount.minorUnits) + compoundedBase(definition, Array(line.horizontal[..<j]))
                        if (base * Int128(definition.percent!.millionths)) % 100_000_000 == 50_000_000 { tiesAtHalfCent += 1 }
                    }
                }
            case .rejected:
                rejected += 1
            }
        }
        #expect(computed > 2000)
        #expect(rejected > 20)
        #expect(zeroSubtotal > 5)
        #expect(negative > 1000)
        #expect(lumpSums > 300)
        #expect(byName > 300)
        #expect(directed > 300)
        #expect(tiesAtHalfCent > 20)
    }
}
