import PropertyBased
import SOVTestSupport
import Testing

@testable import SOVCore

struct MoneyParsingTests {
    @Test(arguments: [
        ("0", Int64(0)), ("1250", 125_000), ("1250.5", 125_050), ("1250.50", 125_050), ("-1234.56", -123_456),
        ("+7.01", 701), ("-0.00", 0), ("0.05", 5), ("-0.05", -5), ("92233720368547758.07", Int64.max),
    ])
    func parsesValidAmounts(text: String, minorUnits: Int64) throws {
        #expect(try Money.parse(text).minorUnits == minorUnits)
    }

    @Test(arguments: ["", "12.50abc", "1,234.56", "abc", "-", ".", "5.", ".5", "1.2.3", " 12.00", "12.00 ", "--1", "1e3", "(12.00)", "12,00", "0x10", "1 000"])
    func rejectsMalformedAmounts(text: String) {
        #expect(throws: MoneyParseError.self) { try Money.parse(text) }
    }

    @Test func emptyIsNamedEmpty() {
        #expect(throws: MoneyParseError.empty) { try Money.parse("") }
    }

    @Test func tooManyDecimalsNamesTheText() {
        #expect(throws: MoneyParseError.tooManyDecimals("1.005", allowed: 2)) { try Money.parse("1.005") }
    }

    @Test func errorsNameTheRawText() {
        #expect(throws: MoneyParseError.malformed("12.50abc")) { try Money.parse("12.50abc") }
        let message = MoneyParseError.malformed("12.50abc").description
        #expect(message.contains("'12.50abc'"))
    }

    @Test func fortyDigitsOverflowWithoutCrashing() {
        let forty = String(repeating: "9", count: 40)
        #expect(throws: MoneyParseError.outOfRange(forty)) { try Money.parse(forty) }
        #expect(throws: MoneyParseError.outOfRange("92233720368547758.08")) { try Money.parse("92233720368547758.08") }
        #expect(throws: MoneyParseError.self) { try Money.parse("-" + forty + ".00") }
    }

    @Test func accountingProfileAllowsSeparatorsAndParentheses() throws {
        #expect(try Money.parse("1,234.56", format: .accounting).minorUnits == 123_456)
        #expect(try Money.parse("1,234,567", format: .accounting).minorUnits == 123_456_700)
        #expect(try Money.parse("(1234.56)", format: .accounting).minorUnits == -123_456)
        #expect(try Money.parse("(1,234.56)", format: .accounting).minorUnits == -123_456)
        for bad in ["1,23.00", "12,34", ",123", "1,2345", "(-12.00)", "(12.00", "1,234,56"] {
            #expect(throws: MoneyParseError.self, "\(bad)") { try Money.parse(bad, format: .accounting) }
        }
    }

    @Test func parseExactAcceptsAnyScaleThatIsWholeCents() throws {
        #expect(try Money.parseExact("299.0").minorUnits == 29_900)
        #expect(try Money.parseExact("299.000").minorUnits == 29_900)
        #expect(try Money.parseExact("12.3400").minorUnits == 1234)
        #expect(throws: MoneyParseError.tooManyDecimals("12.345", allowed: 2)) { try Money.parseExact("12.3450") }
        #expect(try Money.parseExact("7").minorUnits == 700)
        #expect(throws: MoneyParseError.tooManyDecimals("12.345", allowed: 2)) { try Money.parseExact("12.345") }
    }

    @Test(arguments: [(Int64(125_000), "1250.00"), (-5, "-0.05"), (0, "0.00"), (1, "0.01"), (-100, "-1.00"), (Int64.min + 1, "-92233720368547758.07")])
    func formatsWithExactScale(minorUnits: Int64, text: String) {
        #expect(Money(minorUnits: minorUnits).description == text)
    }

    @Test func formatThenParseIsIdentity() async {
        await propertyCheck(count: 2000, input: Gen.int64(in: -999_999_999_999_99...999_999_999_999_99)) { units in
            let money = Money(minorUnits: units)
            #expect((try? Money.parse(money.description)) == money)
        }
    }

    @Test func sumsAreExact() async {
        await propertyCheck(count: 1000, input: Gen.int64(in: -1_000_000_00...1_000_000_00).array(of: 0...50)) { amounts in
            let total = amounts.reduce(Money.zero()) { $0 + Money(minorUnits: $1) }
            #expect(total.minorUnits == amounts.reduce(0, +))
            // Summing parsed text gives the same cents as summing integers.
            let reparsed = amounts.compactMap { try? Money.parse(Money(minorUnits: $0).description) }
            #expect(reparsed.count == amounts.count)
            #expect(reparsed.reduce(Money.zero(), +) == total)
        }
    }

    @Test func integerDigitsForSpectrumLimits() {
        #expect(Money(minorUnits: 999_999_999_999).integerDigitCount == 10)
        #expect(Money(minorUnits: 1_000_000_000_000).integerDigitCount == 11)
        #expect(Money(minorUnits: -5).integerDigitCount == 1)
    }
}

struct RoundingTests {
    @Test(arguments: [
        // cents × percent: (minor units, percent text, expected minor units)
        (Int64(50), "1", Int64(1)),  // 0.50 × 1% = 0.005 -> 0.01
        (-50, "1", -1),  // -0.005 -> -0.01
        (23_450, "0.01", 2),  // 234.50 × 0.01% = 0.02345 -> 0.02
        (234_500, "0.001", 2),  // 2345.00 × 0.001% = 0.02345 -> 0.02
        (100_000, "3", 3000),
        (353_500, "3", 10_605),  // docs/FORMATS.md, "Markup": 3535.00 × 3% = 106.05
    ])
    func percentOfMoneyRoundsHalfAwayFromZero(units: Int64, percent: String, expected: Int64) throws {
        let result = Money(minorUnits: units).applying(try Percent.parse(percent), .halfAwayFromZero)
        #expect(result.minorUnits == expected)
    }

    @Test func ties() {
        // 0.005, -0.005, 2.345 and -2.5 as exact rationals over 1000 and 10.
        #expect(Rounding.divide(5, by: 1000, .halfAwayFromZero) == 0)  // 0.005 of a unit -> 0
        #expect(Rounding.divide(5, by: 10, .halfAwayFromZero) == 1)  // 0.5 -> 1
        #expect(Rounding.divide(-5, by: 10, .halfAwayFromZero) == -1)  // -0.5 -> -1
        #expect(Rounding.divide(2345, by: 10, .halfAwayFromZero) == 235)  // 234.5 -> 235
        #expect(Rounding.divide(-25, by: 10, .halfAwayFromZero) == -3)  // -2.5 -> -3
        #expect(Rounding.divide(-25, by: 10, .halfEven) == -2)
        #expect(Rounding.divide(-35, by: 10, .halfEven) == -4)
        #expect(Rounding.divide(-29, by: 10, .towardZero) == -2)
        #expect(Rounding.divide(29, by: -10, .halfAwayFromZero) == -3)
    }

    @Test func moneyTiesAtHalfACent() throws {
        // 0.005 rounds up to 0.01, -0.005 down to -0.01, 2.345 to 2.35 (as cents ×1000 / 1000).
        #expect(Rounding.divide(5, by: 10, .halfAwayFromZero) == 1)
        #expect(Rounding.divide(2345, by: 10, .halfAwayFromZero) == 235)
        let half = Money(minorUnits: 1).applying(try Percent.parse("50"), .halfAwayFromZero)
        #expect(half.minorUnits == 1)  // 0.005 -> 0.01
        let negativeHalf = Money(minorUnits: -1).applying(try Percent.parse("50"), .halfAwayFromZero)
        #expect(negativeHalf.minorUnits == -1)  // -0.005 -> -0.01
    }

    @Test func roundingIsWithinHalfAUnitAndSymmetric() async {
        await propertyCheck(count: 2000, input: Gen.int64(in: -1_000_000_000...1_000_000_000), Gen.int64(in: 1...1_000_000)) { numerator, denominator in
            let rounded = Rounding.divide(Int128(numerator), by: Int128(denominator), .halfAwayFromZero)
            let error = (Int128(numerator) - rounded * Int128(denominator)).magnitude * 2
            #expect(error <= UInt128(denominator))
            #expect(Rounding.divide(Int128(-numerator), by: Int128(denominator), .halfAwayFromZero) == -rounded)
        }
    }
}

struct PercentTests {
    @Test(arguments: [("3.5", Int64(3_500_000)), ("10", 10_000_000), ("0.125", 125_000), ("-2.000001", -2_000_001), ("10.1250000", 10_125_000)])
    func parses(text: String, millionths: Int64) throws {
        #expect(try Percent.parse(text).millionths == millionths)
    }

    @Test(arguments: ["", "3.5%", "1.0000001", "abc", "3,5"])
    func rejects(text: String) {
        #expect(throws: MoneyParseError.self) { try Percent.parse(text) }
    }

    @Test func formatsShortestExactText() throws {
        #expect(try Percent.parse("3.50").description == "3.5")
        #expect(try Percent.parse("10").description == "10")
        #expect(try Percent.parse("-0.000001").description == "-0.000001")
        #expect(try Percent.parse("3.2").decimalPlaces == 1)
        #expect(try Percent.parse("10.125").decimalPlaces == 3)
    }
}

struct CalendarDateTests {
    @Test(arguments: [("03/14/2025", "2025-03-14"), ("2025-03-14", "2025-03-14"), ("20250314", "2025-03-14"), ("02/29/2024", "2024-02-29"), ("12/31/1999", "1999-12-31")])
    func parsesTheThreeForms(text: String, iso: String) {
        #expect(CalendarDate.parse(text)?.iso == iso)
    }

    @Test(arguments: ["13/45/2025", "02/29/2025", "2025-02-30", "3/14/2025", "2025-3-14", "2025/03/14", "", "20251301", "2025-03-14T00:00:00Z", "04/31/2025", "00/10/2025", "ab/cd/efgh"])
    func rejectsImpossibleOrOtherForms(text: String) {
        #expect(CalendarDate.parse(text) == nil)
    }

    @Test func writesSpectrumForm() {
        #expect(CalendarDate(year: 2025, month: 3, day: 4)?.spectrum == "03/04/2025")
    }
}

/// Plain amounts (`-`, digits, a point and decimals) are read by a shorter path than the full
/// grammar: at every length around where Int64 runs out, and every scale, it gives what the
/// grammar gives. Oracle: the value computed in Int128 from the digits.
struct PlainAmountTests {
    @Test("plain amounts of every length and scale", arguments: 0...6)
    func plainAmounts(_ scale: Int) {
        var random = SplitMix64(seed: UInt64(scale) &+ 41)
        let currency = Currency(code: "XTS", minorDigits: scale)
        for _ in 0..<400 {
            let negative = Bool.random(using: &random)
            let wholeDigits = Int.random(in: 1...21, using: &random)
            let fractionDigits = Bool.random(using: &random) ? 0 : Int.random(in: 1...(scale + 2), using: &random)
            let digits = (0..<(wholeDigits + fractionDigits)).map { _ in Character(String(Int.random(in: 0...9, using: &random))) }
            var text = negative ? "-" : ""
            text += String(digits.prefix(wholeDigits))
            if fractionDigits > 0 { text += "." + String(digits.suffix(fractionDigits)) }

            var whole: Int128 = 0
            for digit in digits.prefix(wholeDigits) { whole = whole * 10 + Int128(digit.wholeNumberValue!) }
            var fraction: Int128 = 0
            for digit in digits.suffix(fractionDigits) { fraction = fraction * 10 + Int128(digit.wholeNumberValue!) }
            var scaled = whole
            for _ in 0..<scale { scaled *= 10 }
            var fractionScaled = fraction
            for _ in 0..<max(scale - fractionDigits, 0) { fractionScaled *= 10 }
            let magnitude = scaled + fractionScaled
            let expected: Result<Int64, MoneyParseError>
            if whole > Int128(Int64.max) {
                expected = .failure(.outOfRange(text))
            } else if fractionDigits > scale {
                expected = .failure(.tooManyDecimals(text, allowed: scale))
            } else if magnitude > Int128(Int64.max) {
                expected = .failure(.outOfRange(text))
            } else {
                expected = .success(Int64(negative ? -magnitude : magnitude))
            }
            let actual = Result { () throws(MoneyParseError) -> Int64 in try Money.parse(text, currency: currency).minorUnits }
            #expect(actual == expected, "\(text) at scale \(scale)")
            let bytes = Array(text.utf8)
            let fromBytes = bytes.withUnsafeBufferPointer { Money.parse(utf8: $0, currency: currency)?.minorUnits }
            #expect(fromBytes == (try? expected.get()), "\(text) at scale \(scale), from bytes")
        }
    }
}
