import SOVCore
import SOVTestSupport
import Testing
@testable import SpectrumFormat

/// The assembler compares a flat row's key and repeated header fields with its contract's
/// first row by bytes, and leaves only the rows that differ to `checkRepeated`. Oracle: rows
/// grouped by their key as text (`ContractKey`) and each contract mapped with every row checked,
/// as Strings. Values vary the ways that matter: equal, padded, different, canonically
/// equivalent Unicode spelled otherwise, blank.
@Suite("Flat contracts: repeated fields compared by bytes, against Strings")
struct FlatRepeatedFieldsTests {
    private static let names = [
        "Company_Code", "Job_Number", "Customer_Code", "Contract_Number", "Job_Description", "Customer_Name",
        "Price_Method_Code", "Original_Contract", "Billing_Item", "Billing_Description", "Item_Original_Contract",
    ]

    private static func variant(_ base: String, _ random: inout SplitMix64) -> String {
        switch Int.random(in: 0..<12, using: &random) {
        case 0: " \(base) "
        case 1: "\(base)\t"
        case 2: base + "x"
        case 3: base.replacingOccurrences(of: "\u{E9}", with: "e\u{301}")
        case 4: ""
        default: base
        }
    }

    @Test("verdicts and every diagnostic are those of the String comparison", arguments: 0..<6)
    func againstStrings(_ seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 7_777 &+ 1)
        let fieldNames = FieldNames(Self.names)
        var disagreements = 0
        var accepted = 0
        for round in 0..<25 {
            var records: [Record] = []
            var line = 2
            for contract in 0..<Int.random(in: 1...4, using: &random) {
                let job = "20-\(contract)"
                for row in 0..<Int.random(in: 1...6, using: &random) {
                    let values = [
                        Self.variant("1", &random), Self.variant(job, &random), Self.variant("C\u{E9}", &random),
                        Self.variant("PC-\(contract)", &random), Self.variant("Caf\u{E9} \(contract)", &random),
                        Self.variant("Owner", &random), Self.variant("F", &random), Self.variant("100.00", &random),
                        "\(row)", "Line \(row)", "\(row).50",
                    ]
                    records.append(Record(file: "f.csv", line: line, fieldNames: fieldNames, values: values))
                    line += 1
                }
            }
            let profile = SpectrumProfile.standard
            var actual: [String] = []
            let assembler = SpectrumAssembler(profile: profile)
            do {
                for record in records { try assembler.add(record) { actual.append(dumped($0)) } }
                try assembler.endFile { actual.append(dumped($0)) }
            } catch {
                actual.append("failure \(error)")
            }

            var expected: [String] = []
            let binder = LayoutBinder(profile: profile)
            var groups: [(key: ContractKey, rows: [StagedRecord])] = []
            var failed = false
            func key(_ record: Record) -> ContractKey {
                func value(_ name: String) -> String { trimmedSpaces(record.value(named: name) ?? "") }
                return ContractKey(company: value("Company_Code"), job: value("Job_Number"), customer: value("Customer_Code"))
            }
            for var record in records {
                let binding = binder.binding(for: record.fieldNames)
                record.layout = binding.layout
                let staged = StagedRecord(record: record, binding: binding)
                if let last = groups.last, last.key == key(record) {
                    groups[groups.count - 1].rows.append(staged)
                } else if groups.contains(where: { $0.key == key(record) }) {
                    for group in groups { expected.append(dumped(ReadEvent.read(SpectrumDocuments.contract(header: group.rows[0], lines: group.rows, flat: true, profile: profile)))) }
                    expected.removeAll()
                    failed = true
                    break
                } else {
                    groups.append((key(record), [staged]))
                }
            }
            if failed {
                // The file is unusable as a whole: compare the failure only.
                #expect(actual.last?.hasPrefix("failure") == true, "seed \(seed) round \(round)")
                continue
            }
            for group in groups {
                expected.append(dumped(ReadEvent.read(SpectrumDocuments.contract(header: group.rows[0], lines: group.rows, flat: true, profile: profile))))
            }
            #expect(actual == expected, "seed \(seed) round \(round)")
            disagreements += actual.filter { $0.contains("differs between rows") }.count
            accepted += actual.filter { $0.contains("accepted") }.count
        }
        // The rounds reach both outcomes.
        #expect(disagreements > 0 && accepted > 0)
    }
}
