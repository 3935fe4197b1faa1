import SOVCore
@testable import SOVRules
import SOVTestSupport
import Testing

/// `Validator.validate` works out once whether a prime contract's SOV codes ascend, for
/// BillingItemCodes and for the contract's KnownBillingItems; these check that both say and
/// keep what they did when each worked it out itself.
@Suite("SOV codes ascending, worked out once")
struct SOVCodesAscendTests {
    static let pool = ["", " ", "\t", "100", "200", "0100", "01-000", "01-007", "a", "b", "A", "é", "e\u{301}", "K", "\u{212A}", "12345678901", "z z"]

    /// Contracts whose codes are sorted, shuffled, repeated, blank, non-ASCII, canonically equal.
    static func contracts() -> [PrimeContract] {
        var random = SplitMix64(seed: 0xA5CE_0D35)
        var contracts: [PrimeContract] = []
        for index in 0..<600 {
            var codes = (0..<Int(random.next() % 9)).map { _ in pool[Int(random.next() % UInt64(pool.count))] }
            switch index % 3 {
            case 0: codes = Array(Set(codes)).sorted()
            case 1: codes.sort()
            default: break
            }
            let lines = codes.map { SOVLine(code: $0, amount: Fixture.money("1.00")) }
            let key = ContractKey(company: "1", job: "J-\(index)", customer: "OWN100")
            contracts.append(Fixture.contract(key: key, original: "\(codes.count).00", lines: lines))
        }
        return contracts
    }

    @Test func theRuleSaysWhatItSaidAlone() {
        for contract in Self.contracts() {
            let document = CanonicalDocument.primeContract(contract)
            let alone = BillingItemCodes().check(document, in: ValidationContext(projectMap: Fixture.map))
            var judging = ValidationContext(projectMap: Fixture.map)
            let ascend = BillingItemCodes.ascendStrictly(contract.lines, skippingBlanks: false)
            judging.judgedSOV = contract.lines.withUnsafeBufferPointer { (UnsafeRawPointer($0.baseAddress), $0.count, ascend) }
            #expect(judging.sovCodesAscend(contract.lines) == ascend)
            #expect(BillingItemCodes().check(document, in: judging) == alone, "\(contract.lines.map(\.code))")
            // Other lines than the judged contract's are not answered for.
            let other = contract.lines + [SOVLine(code: "zzz", amount: Fixture.money("1.00"))]
            #expect(judging.sovCodesAscend(other) == nil)
        }
    }

    @Test func validateJudgesAndRecordsAsEachRuleAndRecordAlone() {
        var validator = Validator(projectMap: Fixture.map)
        let plain = Validator(projectMap: Fixture.map)
        for contract in Self.contracts() {
            let document = CanonicalDocument.primeContract(contract)
            let expected = plain.check(document)
            let verdict = validator.validate(document)
            if expected.contains(where: \.isError) {
                #expect(verdict == .rejected(document, expected), "\(contract.lines.map(\.code))")
            } else {
                #expect(verdict.accepted?.diagnostics == expected)
            }
            #expect(validator.context.judgedSOV == nil, "the codes are forgotten once the contract is judged")
            let recorded = validator.context.contractItems[contract.origin.contractKey!]
            let alone = KnownBillingItems(lines: contract.lines, seenIn: contract.source.shortText)
            #expect(recorded == alone)
            for probe in Self.pool + ["300", "Z"] {
                #expect(recorded?.contains(probe) == alone.contains(probe), "\(probe) in \(contract.lines.map(\.code))")
            }
        }
    }
}
