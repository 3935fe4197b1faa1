import SOVTestSupport
@testable import SOVCore
import Testing

/// `ContractKey.originId` and `description` are copied into one buffer; these check them against
/// the interpolations they replaced, byte for byte.
@Suite("ContractKey text")
struct ContractKeyTextTests {
    private func expectSameText(_ key: ContractKey, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(Array(key.originId.utf8) == Array("spectrum:\(key.company):\(key.job):\(key.customer)".utf8), sourceLocation: sourceLocation)
        #expect(Array(key.description.utf8) == Array("\(key.company)/\(key.job)/\(key.customer)".utf8), sourceLocation: sourceLocation)
    }

    @Test("fixed keys: usual, empty parts, long, non-ASCII, separators inside")
    func fixedKeys() {
        expectSameText(ContractKey(company: "1", job: "24-1017", customer: "OWN100"))
        expectSameText(ContractKey(company: "", job: "", customer: ""))
        expectSameText(ContractKey(company: "001", job: String(repeating: "9", count: 40), customer: "C"))
        expectSameText(ContractKey(company: "Bäckerei", job: "e\u{301}", customer: "漢字🚧"))
        expectSameText(ContractKey(company: "a:b", job: "c/d", customer: "\u{0}\n\""))
        expectSameText(ContractKey(company: String("  x  ".dropFirst(2).dropLast(2)), job: String(repeating: "é", count: 100), customer: " "))
    }

    @Test("2,000 generated keys")
    func generatedKeys() {
        var random = SplitMix64(seed: 0xC0_47A5)
        let pieces = ["1", "24", "-", "1017", "OWN", " ", ":", "/", "é", "\u{301}", "漢", "🚧", "\u{0}"]
        func part() -> String { (0..<Int(random.next() % 8)).map { _ in pieces[Int(random.next() % UInt64(pieces.count))] }.joined() }
        for _ in 0..<2_000 {
            expectSameText(ContractKey(company: part(), job: part(), customer: part()))
        }
    }
}
