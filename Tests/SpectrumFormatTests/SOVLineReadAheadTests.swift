import SOVCore
import SOVTestSupport
import Testing
@testable import SpectrumFormat

/// A flat row's SOV line is read ahead on the reading thread (`SOVLineReading.Preparer`), by a
/// plain reading that leaves any row with a problem to the full one. Oracle: the same contracts
/// mapped from rows not read ahead (every line read in full by the mapping). Values vary the
/// ways that matter: padded, blank, too long in bytes or in characters, amounts of every
/// spelling the money grammar accepts or refuses, zero and nonzero unit prices and quantities.
@Suite("Flat rows: the SOV line read ahead is the one read in full")
struct SOVLineReadAheadTests {
    private static let names = [
        "Company_Code", "Job_Number", "Customer_Code", "Original_Contract", "Billing_Item", "Billing_Description",
        "Additional_Billing_Description", "Group_Code", "Unit_Price", "Quantity", "Unit_Of_Measure", "Item_Original_Contract",
    ]
    private static let amounts = [
        "24857.43", "-5.00", "+5", "0", "0.00", "-0", "7", "00012.10", "12.3", "1250.0000", "1250.0010", " 12.50 ",
        "9999999999999999.99", "99999999999999999.99", "(5.00)", "1,234.56", "$5.00", ".5", "5.", "", "abc", "1.234", "-",
    ]
    private static let texts = [
        "Concrete", "  padded\t", "", "caf\u{E9}", String(repeating: "x", count: 30), String(repeating: "x", count: 31),
        String(repeating: "\u{E9}", count: 20), String(repeating: "\u{E9}", count: 31), "q\"uote, comma",
    ]
    private static let codes = ["00-000", " 01 ", "", "1234567890", "12345678901", String(repeating: "\u{E9}", count: 10)]
    private static let quantities = ["", "0", "0.00", "1.5", "-0", "+2", "12", "abc", "1.2.3"]

    @Test("contracts and every diagnostic are those of the full reading", arguments: 0..<4)
    func againstFullReading(_ seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 9_173 &+ 5)
        var profiles = [SpectrumProfile.standard, SpectrumProfile(money: .accounting)]
        var withSymbols = SpectrumProfile.standard
        withSymbols.currencySymbols = ["$"]
        profiles.append(withSymbols)
        let fieldNames = FieldNames(Self.names)
        var accepted = 0
        var rejected = 0
        for round in 0..<40 {
            let profile = profiles[round % profiles.count]
            func pick(_ values: [String]) -> String {
                // Mostly values that read plainly, so that whole contracts are accepted too.
                Int.random(in: 0..<8, using: &random) == 0 ? values[Int.random(in: 0..<values.count, using: &random)] : values[Int.random(in: 0..<3, using: &random)]
            }
            var rows: [Record] = []
            for row in 0..<Int.random(in: 1...8, using: &random) {
                let values = [
                    "1", "20-1", "C1", "100.00", pick(Self.codes), pick(Self.texts), pick(Self.texts), pick(Self.texts),
                    pick(Self.amounts), pick(Self.quantities), pick(["EA", "", "\u{E9}"]), pick(Self.amounts),
                ]
                rows.append(Record(file: "f.csv", line: row + 2, fieldNames: fieldNames, values: values))
            }
            let binding = LayoutBinder(profile: profile).binding(for: fieldNames)
            let preparer = SOVLineReading.Preparer(profile: profile)
            var readAhead: [StagedRecord] = []
            var inFull: [StagedRecord] = []
            for row in rows {
                var prepared = row
                preparer.prepare(&prepared)
                #expect(prepared.sovLine != nil)
                readAhead.append(StagedRecord(record: prepared, binding: binding))
                inFull.append(StagedRecord(record: row, binding: binding))
            }
            let actual = dumped(SpectrumDocuments.contract(header: readAhead[0], lines: readAhead, flat: true, profile: profile))
            let expected = dumped(SpectrumDocuments.contract(header: inFull[0], lines: inFull, flat: true, profile: profile))
            #expect(actual == expected, "seed \(seed) round \(round)")
            if actual.contains("accepted") { accepted += 1 } else { rejected += 1 }
        }
        #expect(accepted > 0 && rejected > 0)
    }
}
