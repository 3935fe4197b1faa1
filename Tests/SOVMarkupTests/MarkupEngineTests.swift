import SOVCore
import SOVMarkup
import Testing

@Suite struct WorkedExample {
    let markups = [horizontal("Insurance", "1"), vertical("Contractor's Fee", "3")]

    @Test func specExample() throws {
        let (result, warnings) = try computed(order(["1000.00", "2500.00"], markups: markups))
        #expect(warnings.isEmpty)
        #expect(result.lines.map(\.horizontal) == [[MarkupAmount(name: "Insurance", amount: money("10.00"))], [MarkupAmount(name: "Insurance", amount: money("25.00"))]])
        #expect(result.lines.map(\.extendedAmount) == [money("1010.00"), money("2525.00")])
        #expect(result.subtotal == money("3535.00"))
        #expect(result.vertical == [MarkupAmount(name: "Contractor's Fee", amount: money("106.05"))])
        #expect(result.lines.map { $0.verticalShares.map(\.amount) } == [[money("30.30")], [money("75.75")]])
        #expect(result.lines.map(\.revenue) == [money("1040.30"), money("2600.75")])
        #expect(result.grandTotal == money("3641.05"))
    }

    @Test func deductiveChangeOrderIsSymmetric() throws {
        let (result, _) = try computed(order(["-1000.00", "-2500.00"], markups: markups))
        #expect(result.lines.map { $0.horizontal[0].amount } == [money("-10.00"), money("-25.00")])
        #expect(result.vertical[0].amount == money("-106.05"))
        #expect(result.lines.map(\.revenue) == [money("-1040.30"), money("-2600.75")])
        #expect(result.grandTotal == money("-3641.05"))
    }

    @Test func computedBlockAsJSON() throws {
        let (result, _) = try computed(order(["1000.00", "2500.00"], markups: markups))
        var document = order(["1000.00", "2500.00"], markups: markups)
        document.computed = result
        let text = CanonicalDocument.changeOrder(document).jsonLine
        #expect(text.contains(#""computed":{"lines":[{"horizontal":[{"name":"Insurance","amount":"10.00"}],"extended_amount":"1010.00","vertical_shares":[{"name":"Contractor's Fee","amount":"30.30"}],"revenue":"1040.30"},{"horizontal":[{"name":"Insurance","amount":"25.00"}],"extended_amount":"2525.00","vertical_shares":[{"name":"Contractor's Fee","amount":"75.75"}],"revenue":"2600.75"}],"subtotal":"3535.00","vertical":[{"name":"Contractor's Fee","amount":"106.05"}],"grand_total":"3641.05"}"#))
    }
}

@Suite struct RoundingTies {
    @Test(arguments: [
        ("0.50", "1", "0.01"), ("-0.50", "1", "-0.01"),  // exactly half a cent: away from zero
        ("0.49", "1", "0.00"), ("-0.49", "1", "0.00"),
        ("1.50", "0.5", "0.01"), ("-1.50", "0.5", "-0.01"),  // 0.0075
        ("0.25", "2", "0.01"), ("-0.25", "2", "-0.01"),  // 0.005 again
        ("333.33", "0.000003", "0.00"),
        ("1000.00", "12.345678", "123.46"), ("-1000.00", "12.345678", "-123.46"),
    ])
    func horizontalTies(line: String, rate: String, expected: String) throws {
        let (result, _) = try computed(order([line], markups: [horizontal("H", rate)]))
        #expect(result.lines[0].horizontal[0].amount == money(expected))
        #expect(result.lines[0].extendedAmount == money(line) + money(expected))
    }

    @Test func verticalTies() throws {
        let (up, _) = try computed(order(["0.50"], markups: [vertical("V", "1")]))
        #expect(up.vertical[0].amount == money("0.01"))
        let (down, _) = try computed(order(["-0.50"], markups: [vertical("V", "1")]))
        #expect(down.vertical[0].amount == money("-0.01"))
    }

    @Test func eachMarkupRoundedOnceAndTotalsAreSumsOfRoundedAmounts() throws {
        // Three lines of 0.50 at 1%: each 0.005 -> 0.01, so the markup is 0.03 (not 0.015 -> 0.02).
        let (result, _) = try computed(order(["0.50", "0.50", "0.50"], markups: [horizontal("H", "1")]))
        #expect(result.lines.map { $0.horizontal[0].amount } == [money("0.01"), money("0.01"), money("0.01")])
        #expect(result.subtotal == money("1.53"))
    }
}

@Suite struct Compounding {
    @Test func horizontalAbove() throws {
        let basic = try computed(order(["1000.00"], markups: [horizontal("Insurance", "1"), horizontal("Bond", "2", position: 2)])).0
        #expect(basic.lines[0].horizontal.map(\.amount) == [money("10.00"), money("20.00")])
        let above = try computed(order(["1000.00"], markups: [horizontal("Insurance", "1"), horizontal("Bond", "2", position: 2, compound: .above)])).0
        #expect(above.lines[0].horizontal.map(\.amount) == [money("10.00"), money("20.20")])
        #expect(above.lines[0].extendedAmount == money("1030.20"))
    }

    @Test func horizontalByName() throws {
        let markups = [
            horizontal("Insurance", "1", position: 1), horizontal("Tax", "5", position: 2),
            horizontal("Bond", "2", position: 3, compound: .names(["Insurance"])),
        ]
        let result = try computed(order(["1000.00"], markups: markups)).0
        #expect(result.lines[0].horizontal.map(\.amount) == [money("10.00"), money("50.00"), money("20.20")])
        #expect(result.lines[0].extendedAmount == money("1080.20"))
        var all = markups
        all[2].compound = .above
        #expect(try computed(order(["1000.00"], markups: all)).0.lines[0].horizontal[2].amount == money("21.20"))
    }

    @Test func verticalAboveAndCompoundingCalculation() throws {
        let above = try computed(order(["1000.00"], markups: [vertical("Fee", "10"), vertical("Bond", "1", position: 2, compound: .above)])).0
        #expect(above.vertical.map(\.amount) == [money("100.00"), money("11.00")])
        #expect(above.grandTotal == money("1111.00"))
        // Procore's compounding calculation with nothing named compounds everything above.
        let compounding = try computed(order(["1000.00"], markups: [vertical("Fee", "10"), vertical("Bond", "1", position: 2, calculation: "Compounding")])).0
        #expect(compounding.vertical.map(\.amount) == [money("100.00"), money("11.00")])
        let basic = try computed(order(["1000.00"], markups: [vertical("Fee", "10"), vertical("Bond", "1", position: 2, calculation: "basic")])).0
        #expect(basic.vertical.map(\.amount) == [money("100.00"), money("10.00")])
    }

    @Test func positionOrderNotListOrder() throws {
        let shuffled = [horizontal("Bond", "2", position: 2, compound: .above), vertical("Tax", "1", position: 5, compound: .above), horizontal("Insurance", "1", position: 1), vertical("Fee", "10", position: 3)]
        let result = try computed(order(["1000.00"], markups: shuffled)).0
        #expect(result.lines[0].horizontal.map(\.name) == ["Insurance", "Bond"])
        #expect(result.lines[0].horizontal.map(\.amount) == [money("10.00"), money("20.20")])
        #expect(result.vertical.map(\.name) == ["Fee", "Tax"])
        // S = 1030.20; Fee = 103.02; Tax = 1% of 1133.22 = 11.33
        #expect(result.vertical.map(\.amount) == [money("103.02"), money("11.33")])
    }

    @Test func equalPositionsKeepListOrder() throws {
        let result = try computed(order(["1000.00"], markups: [horizontal("A", "1", position: 1), horizontal("B", "1", position: 1, compound: .above)])).0
        #expect(result.lines[0].horizontal.map(\.amount) == [money("10.00"), money("10.10")])
    }
}

@Suite struct LumpSumAndShares {
    @Test func lumpSumSharedByExtendedAmount() throws {
        let result = try computed(order(["300.00", "100.00"], markups: [lumpSum("Fee", "100.00")])).0
        #expect(result.vertical[0].amount == money("100.00"))
        #expect(result.lines.map { $0.verticalShares[0].amount } == [money("75.00"), money("25.00")])
        #expect(result.grandTotal == money("500.00"))
    }

    @Test func lumpSumCompoundedByAPercentBelow() throws {
        let result = try computed(order(["1000.00"], markups: [lumpSum("Fee", "50.00"), vertical("Tax", "10", position: 2, compound: .above)])).0
        #expect(result.vertical.map(\.amount) == [money("50.00"), money("105.00")])
        #expect(result.grandTotal == money("1155.00"))
    }

    @Test func tiedRemaindersGoToTheEarlierLine() throws {
        let up = try computed(order(["1.00", "1.00", "1.00"], markups: [lumpSum("Fee", "0.10")])).0
        #expect(up.lines.map { $0.verticalShares[0].amount } == [cents(4), cents(3), cents(3)])
        let down = try computed(order(["1.00", "1.00", "1.00"], markups: [lumpSum("Fee", "-0.10")])).0
        #expect(down.lines.map { $0.verticalShares[0].amount } == [cents(-4), cents(-3), cents(-3)])
        let negativeLines = try computed(order(["-1.00", "-1.00", "-1.00"], markups: [lumpSum("Fee", "-0.10")])).0
        #expect(negativeLines.lines.map { $0.verticalShares[0].amount } == [cents(-4), cents(-3), cents(-3)])
    }

    @Test func largestRemainderWins() throws {
        // 100 cents over 1:2:4 -> exact 14.29, 28.57, 57.14: the cut leaves 99, the cent goes to line 2.
        let result = try computed(order(["1.00", "2.00", "4.00"], markups: [lumpSum("Fee", "1.00")])).0
        #expect(result.lines.map { $0.verticalShares[0].amount } == [cents(14), cents(29), cents(57)])
        let negated = try computed(order(["-1.00", "-2.00", "-4.00"], markups: [lumpSum("Fee", "-1.00")])).0
        #expect(negated.lines.map { $0.verticalShares[0].amount } == [cents(-14), cents(-29), cents(-57)])
    }

    @Test func zeroSubtotalGoesToTheFirstLine() throws {
        let result = try computed(order(["100.00", "-100.00"], markups: [lumpSum("Fee", "50.00"), vertical("Tax", "10", position: 2)])).0
        #expect(result.subtotal == money("0.00"))
        #expect(result.vertical.map(\.amount) == [money("50.00"), money("0.00")])
        // The lines have both signs, so the lump sum goes by their sizes (100 : 100); only the
        // 10 % of a zero subtotal is zero.
        #expect(result.lines.map { $0.verticalShares.map(\.amount) } == [[money("25.00"), money("0.00")], [money("25.00"), money("0.00")]])
        #expect(result.lines.map(\.revenue) == [money("125.00"), money("-75.00")])
        #expect(result.grandTotal == money("50.00"))
        // All lines zero: the first line takes it.
        let zeros = try computed(order(["0.00", "0.00"], markups: [lumpSum("Fee", "50.00")])).0
        #expect(zeros.lines.map { $0.verticalShares[0].amount } == [money("50.00"), money("0.00")])
    }

    /// Issue #18: 50.00 on +1000.00 and −999.00 was shared by the signed amounts (subtotal 1.00)
    /// into 50,000.00 and −49,950.00; by the lines' sizes it is 25.01 and 24.99.
    @Test func lumpSumOnMixedSignsGoesByLineSize() throws {
        let result = try computed(order(["1000.00", "-999.00"], markups: [lumpSum("Fee", "50.00")])).0
        #expect(result.lines.map { $0.verticalShares[0].amount } == [money("25.01"), money("24.99")])
        #expect(result.lines.map(\.revenue) == [money("1025.01"), money("-974.01")])
        #expect(result.grandTotal == money("51.00"))
        let negated = try computed(order(["-1000.00", "999.00"], markups: [lumpSum("Fee", "-50.00")])).0
        #expect(negated.lines.map { $0.verticalShares[0].amount } == [money("-25.01"), money("-24.99")])
        // A percent markup stays a rate on each line: −999.00 rightly carries a negative share.
        let percent = try computed(order(["1000.00", "-999.00"], markups: [vertical("Fee", "10")])).0
        #expect(percent.lines.map { $0.verticalShares[0].amount } == [money("100.00"), money("-99.90")])
    }

    @Test func mixedSignsShareProportionally() throws {
        let result = try computed(order(["300.00", "-100.00"], markups: [vertical("Fee", "10")])).0
        #expect(result.vertical[0].amount == money("20.00"))
        #expect(result.lines.map { $0.verticalShares[0].amount } == [money("30.00"), money("-10.00")])
    }

    @Test func markupNamingABillingItemGoesWhollyToIt() throws {
        let markups = [horizontal("Insurance", "1"), vertical("Contractor's Fee", "3", item: "200")]
        let result = try computed(order(["1000.00", "2500.00"], markups: markups, items: ["100", "200"])).0
        #expect(result.lines.map { $0.verticalShares[0].amount } == [money("0.00"), money("106.05")])
        #expect(result.lines.map(\.revenue) == [money("1010.00"), money("2631.05")])
        // Several lines on the item: the first of them takes it (the writer sums per billing item).
        let twice = try computed(order(["1000.00", "2500.00", "5.00"], markups: markups, items: ["200", "100", "200"])).0
        #expect(twice.lines.map { $0.verticalShares[0].amount } == [money("106.20"), money("0.00"), money("0.00")])
    }

    @Test func markupNamingAnAbsentBillingItemIsRefused() {
        let problems = rejection(order(["1000.00"], markups: [vertical("Fee", "3", item: "999")], items: ["100"]))
        #expect(problems.map(\.code) == [.MKP002])
        #expect(problems.first?.location.field == "markups[0].prime_line_item")
    }

    @Test func noLines() throws {
        let empty = try computed(order([], markups: [horizontal("H", "1"), vertical("V", "3")])).0
        #expect(empty.lines.isEmpty)
        #expect(empty.grandTotal == money("0.00"))
        #expect(rejection(order([], markups: [lumpSum("Fee", "10.00")])).map(\.code) == [.MKP002])
    }

    @Test func noMarkups() throws {
        let result = try computed(order(["12.34", "-0.34"])).0
        #expect(result.lines.map(\.revenue) == [money("12.34"), money("-0.34")])
        #expect(result.lines.allSatisfy { $0.horizontal.isEmpty && $0.verticalShares.isEmpty })
        #expect(result.subtotal == money("12.00"))
        #expect(result.grandTotal == money("12.00"))
    }

    @Test func shareFunctionDirectly() {
        #expect(MarkupEngine.share(10, over: [1, 1, 1]) == [4, 3, 3])
        #expect(MarkupEngine.share(-10, over: [1, 1, 1]) == [-4, -3, -3])
        #expect(MarkupEngine.share(10, over: [-1, -1, -1]) == [4, 3, 3])
        #expect(MarkupEngine.share(7, over: [5, -5]) == [7, 0])
        #expect(MarkupEngine.share(0, over: [5, 3]) == [0, 0])
        #expect(MarkupEngine.share(5, over: []) == [])
        // 3 over 2:-1 (sum 1): exact 6 and -3.
        #expect(MarkupEngine.share(3, over: [2, -1]) == [6, -3])
        // 1 over 3:-1 (sum 2): exact 1.5 and -0.5 -> cut 1 and 0, which already add up to 1.
        #expect(MarkupEngine.share(1, over: [3, -1]) == [1, 0])
        // 2 over 1:1:1: exact 0.67 each -> cut 0, 0, 0; the two cents go to lines 1 and 2.
        #expect(MarkupEngine.share(2, over: [1, 1, 1]) == [1, 1, 0])
    }
}

@Suite struct Definitions {
    @Test func everyProblemIsReported() {
        let markups = [
            Markup(name: "Both", set: .vertical, percent: percent("1"), amount: money("5.00"), position: 1),
            Markup(name: "Neither", set: .vertical, position: 2),
            Markup(name: "Flat", set: .horizontal, amount: money("5.00"), position: 1),
            horizontal("Tax", "1", position: 2),
            vertical("Tax", "1", position: 3),
            horizontal("Bond", "1", position: 3, compound: .names(["Nope"])),
            horizontal("Early", "1", position: 0, compound: .names(["Tax"])),
            vertical("Margin", "10", position: 4, calculation: "margin"),
            vertical("Odd", "10", position: 5, calculation: "weighted"),
            Markup(name: " ", set: .vertical, percent: percent("1"), position: 6),
        ]
        let problems = rejection(order(["100.00"], markups: markups))
        let byField = Dictionary(grouping: problems, by: { $0.location.field ?? "" }).mapValues { $0.map(\.code).sorted() }
        #expect(byField["markups[0].amount"] == [.FMT010])
        #expect(byField["markups[1].percent"] == [.FMT004])
        #expect(byField["markups[2].amount"] == [.MKP002])
        #expect(byField["markups[4].name"] == [.MKP002])
        #expect(byField["markups[5].compound"] == [.MKP002])
        #expect(byField["markups[6].compound"] == [.MKP002])
        #expect(byField["markups[7].calculation"] == [.MKP002])
        #expect(byField["markups[8].calculation"] == [.MKP002])
        #expect(byField["markups[9].name"] == [.FMT004])
        #expect(problems.count == 9)
        #expect(problems.allSatisfy { $0.isError && $0.location.file == "test.json" })
        #expect(problems.first { $0.location.field == "markups[7].calculation" }?.message.contains("margin") == true)
    }

    @Test func checkWithoutComputing() {
        #expect(MarkupEngine.check([horizontal("A", "1"), vertical("B", "2", compound: .names(["A"]))], at: SourceLocation()).map(\.code) == [.MKP002])
        #expect(MarkupEngine.check([horizontal("A", "1"), horizontal("B", "2", position: 2, compound: .names(["A"]))], at: SourceLocation()).isEmpty)
        #expect(MarkupEngine.check([lumpSum("Fee", "5.00"), Markup(name: "X", set: .vertical, amount: money("1.00"), position: 2, compound: .above)], at: SourceLocation()).map(\.code) == [.MKP002])
        #expect(MarkupEngine.check([horizontal("Self", "1", compound: .names(["Self"]))], at: SourceLocation()).map(\.code) == [.MKP002])
    }

    @Test func amountsBeyondRangeAreRejectedNotTrapped() {
        let huge = ChangeOrderLine(amount: Money(minorUnits: Int64.max))
        var big = order([], markups: [horizontal("H", "100")])
        big.lines = [huge]
        #expect(rejection(big).map(\.code) == [.MKP002])
        var wide = order(["10000000000.00"], markups: [Markup(name: "P", set: .horizontal, percent: Percent(millionths: Int64.max), position: 1)])
        #expect(rejection(wide).map(\.code) == [.MKP002])
        wide.markups = [Markup(name: "P", set: .vertical, percent: Percent(millionths: Int64.max), position: 1)]
        #expect(rejection(wide).map(\.code) == [.MKP002])
        var sum = order([], markups: [])
        sum.lines = [huge, ChangeOrderLine(amount: cents(1))]
        #expect(rejection(sum).map(\.code) == [.MKP002])
        // Extended 9e16 and -9e16 + 0.01 leave a subtotal of one cent: by signed amounts the
        // shares would leave Int64; by the lines' sizes a lump sum stays within itself.
        var lever = order([], markups: [lumpSum("Fee", "90000000000000.00")])
        lever.lines = [ChangeOrderLine(amount: cents(9_000_000_000_000_000)), ChangeOrderLine(amount: cents(-8_999_999_999_999_999))]
        #expect(rejection(lever).isEmpty)
        // A percent markup on that cent is a cent's worth, shared by the signed amounts.
        lever.markups = [vertical("Fee", "100")]
        guard case .computed(let shared, _) = MarkupEngine.compute(lever) else {
            Issue.record("a 100 % markup on a one-cent subtotal was rejected")
            return
        }
        #expect(shared.grandTotal == cents(2))
    }

    @Test func spectrumSizedAmountsNeverOverflow() throws {
        // Spectrum's Revenue holds 10.2 digits; 1000% stays exact far beyond that.
        let result = try computed(order(["9999999999.99", "-9999999999.99", "9999999999.99"], markups: [horizontal("H", "999.999999"), horizontal("H2", "1000", position: 2, compound: .above), vertical("V", "1000", compound: .none)])).0
        #expect(result.grandTotal == result.lines.reduce(money("0.00")) { $0 + $1.revenue })
    }
}

@Suite struct ProcoreAmounts {
    let markups = [horizontal("Insurance", "1"), vertical("Contractor's Fee", "3")]

    func shares(_ insurance: String, _ fee: String) -> [MarkupAmount] {
        [MarkupAmount(name: "Insurance", amount: money(insurance)), MarkupAmount(name: "Contractor's Fee", amount: money(fee))]
    }

    @Test func agreementIsSilent() throws {
        let (result, warnings) = try computed(order(["1000.00", "2500.00"], markups: markups, procore: [shares("10.00", "30.30"), shares("25.00", "75.75")]))
        #expect(warnings.isEmpty)
        #expect(result.grandTotal == money("3641.05"))
    }

    @Test func aTotalOffByACentRejectsWithBothFigures() {
        let problems = rejection(order(["1000.00", "2500.00"], markups: markups, procore: [shares("10.00", "30.30"), shares("25.00", "75.74")]))
        #expect(problems.map(\.code) == [.MKP001])
        #expect(problems[0].message.contains("106.04"))
        #expect(problems[0].message.contains("106.05"))
        #expect(problems[0].location.field == "markups[1]")
    }

    @Test func everyDisagreeingMarkupIsReported() {
        let problems = rejection(order(["1000.00", "2500.00"], markups: markups, procore: [shares("10.01", "30.30"), shares("25.00", "75.00")]))
        #expect(problems.map(\.code) == [.MKP001, .MKP001])
    }

    @Test func aMarkupProcoreLeftOutDisagrees() {
        let onlyInsurance = [[MarkupAmount(name: "Insurance", amount: money("10.00"))], [MarkupAmount(name: "Insurance", amount: money("25.00"))]]
        let problems = rejection(order(["1000.00", "2500.00"], markups: markups, procore: onlyInsurance))
        #expect(problems.map(\.code) == [.MKP001])
        #expect(problems[0].message.contains("0.00") && problems[0].message.contains("106.05"))
    }

    @Test func anUndefinedProcoreMarkupDisagrees() {
        var extra = [shares("10.00", "30.30"), shares("25.00", "75.75")]
        extra[1].append(MarkupAmount(name: "Bond", amount: money("1.00")))
        #expect(rejection(order(["1000.00", "2500.00"], markups: markups, procore: extra)).map(\.code) == [.MKP001])
    }

    @Test func procoreSplitIsKeptWhenOnlyTheSplitDiffers() throws {
        let (result, warnings) = try computed(order(["1000.00", "2500.00"], markups: markups, procore: [shares("10.00", "30.31"), shares("25.00", "75.74")]))
        #expect(result.lines.map { $0.verticalShares[0].amount } == [money("30.31"), money("75.74")])
        #expect(result.lines.map(\.revenue) == [money("1040.31"), money("2600.74")])
        #expect(result.vertical[0].amount == money("106.05"))
        #expect(result.grandTotal == money("3641.05"))
        #expect(warnings.count == 1)
        #expect(warnings.first?.severity == .warning)
        #expect(warnings.first?.code == .MKP001)
        #expect(warnings.first?.message.contains("line 1: Procore 30.31, computed 30.30") == true)
    }

    @Test func procoreHorizontalSplitIsKeptToo() throws {
        let (result, warnings) = try computed(order(["1000.00", "2500.00"], markups: markups, procore: [shares("10.01", "30.30"), shares("24.99", "75.75")]))
        #expect(result.lines.map(\.extendedAmount) == [money("1010.01"), money("2524.99")])
        #expect(result.subtotal == money("3535.00"))
        #expect(result.lines.map(\.revenue) == [money("1040.31"), money("2600.74")])
        #expect(result.grandTotal == money("3641.05"))
        #expect(warnings.map(\.location.field) == ["markups[0]"])
    }
}
