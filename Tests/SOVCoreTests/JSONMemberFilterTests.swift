import Testing
@testable import SOVCore

/// A document written with members left out (the ledger's comparable form and any other
/// filter) is the filtered tree, byte for byte: SOV lines written whole, with or without their
/// source, as well as member by member.
@Suite("JSONMemberFilter")
struct JSONMemberFilterTests {
    static let filters = [
        JSONMemberFilter(topLevel: ["diagnostics", "source", "erp"], everywhere: ["source"]),
        JSONMemberFilter(topLevel: ["source"], everywhere: []),
        JSONMemberFilter(topLevel: [], everywhere: ["source"]),
        JSONMemberFilter(topLevel: [], everywhere: []),
        JSONMemberFilter(topLevel: ["lines"], everywhere: []),
        JSONMemberFilter(topLevel: [], everywhere: ["code", "source"]),
    ]

    static func contract() -> PrimeContract {
        var contract = DocumentCodecTests.sampleContract()
        contract.lines = (0..<6).map { index in
            SOVLine(code: "0\(index)-000", description: index == 3 ? "needs \"escaping\"" : "Line \(index)", amount: Money(minorUnits: Int64(index) * 1_000),
                    group: index == 2 ? "G" : nil, source: index == 4 ? nil : SourceLocation(file: index == 5 ? "other.csv" : "sov.csv", line: index + 2))
        }
        return contract
    }

    @Test(arguments: filters)
    func writtenIsTheFilteredTree(_ filter: JSONMemberFilter) {
        let document = CanonicalDocument.primeContract(Self.contract())
        var written: [UInt8] = []
        document.writeJSON(into: &written, omitting: filter)
        var tree: [UInt8] = []
        JSONWriter.write(filter.filtered(document.json, depth: 0), into: &tree)
        #expect(written == tree)
        for depth in 2...4 {
            #expect(filter.leavesOutNestedSources == filter.leavesOut("source", depth: depth))
        }
    }
}
