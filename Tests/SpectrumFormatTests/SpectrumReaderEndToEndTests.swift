import Testing
import SOVCore
@testable import SpectrumFormat

private typealias Support = ReaderTestSupport

/// The Spectrum files of `samples/` (see samples/README.md for what each should give).
private let sampleFiles = ["jobs.csv", "sov.csv", "change_orders.csv", "GetJobMain.xml", "sov-2040.xml"].map { Support.sample("spectrum/\($0)") }

@Suite("End to end on samples/spectrum")
struct SpectrumReaderEndToEndTests {
    @Test("every sample together: four contracts joined across CSV and XML, three change orders, nothing rejected")
    func allSamples() throws {
        let result = try Support.parse(sampleFiles, options: SpectrumReadOptions(encoding: .windows1252))
        #expect(result.rejects.isEmpty)
        #expect(result.unusable.isEmpty)
        // sov.csv and change_orders.csv are UTF-8: read as such despite windows-1252, and said so.
        #expect(result.warnings.map(\.location.file).compactMap { $0?.split(separator: "/").last.map(String.init) } == ["sov.csv", "change_orders.csv"])

        let contracts = Dictionary(uniqueKeysWithValues: result.contracts.map { ($0.origin.contractKey!.description, $0) })
        #expect(Set(contracts.keys) == ["1/24-1017/OWN100", "1/24-1022/OWN200", "1/24-1031/DOT300", "1/24-2040/OWN400"])
        let expected: [(String, String, String, Int, String)] = [
            ("1/24-1017/OWN100", "SMH-2024-017", "F", 6, "1250000.00"),
            ("1/24-1022/OWN200", "RUSD-CIP-22-114", "F", 8, "2480750.00"),
            ("1/24-1031/DOT300", "MC-DPW-2024-031", "U", 3, "865000.00"),
            ("1/24-2040/OWN400", "HVL-B-2025-01", "F", 8, "3175400.00"),
        ]
        for (key, number, method, lineCount, total) in expected {
            let contract = try #require(contracts[key])
            #expect(contract.number == number)
            #expect(contract.priceMethod == method)
            #expect(contract.lines.count == lineCount)
            #expect(contract.originalAmount.description == total)
            let sum = contract.lines.reduce(Money.zero()) { $0 + $1.amount }
            #expect(sum.description == total)  // no PC003 in the samples
        }
        // Windows-1252 bytes and the padded codes of jobs.csv.
        let stMarys = try #require(contracts["1/24-1017/OWN100"])
        #expect(stMarys.title == "St. Mary\u{2019}s Medical Office")
        #expect(stMarys.description == "Owner\u{2019}s rep: Dana Kowalski, PE; \"no retainage release before TCO\"")
        #expect(stMarys.origin.job == "24-1017")
        #expect(stMarys.retainagePercent?.description == "10")
        // The SOAP response: entities decoded, extra fields ignored, empty dates absent.
        let harborview = try #require(contracts["1/24-2040/OWN400"])
        #expect(harborview.customer.name == "Bayline Development & Co.")
        #expect(harborview.completionDate == nil)
        #expect(harborview.estimatedCompletionDate == CalendarDate(year: 2026, month: 6, day: 30))
        #expect(harborview.lines.first { $0.code == "06-100" }?.additionalDescription == "Wood framing levels 2\u{2013}5")
        #expect(contracts["1/24-1031/DOT300"]?.lines.map(\.group) == ["BID", "BID", "BID"])

        let orders = Dictionary(uniqueKeysWithValues: result.changeOrders.map { ($0.number, $0) })
        #expect(Set(orders.keys) == ["001", "002", "003"])
        let first = try #require(orders["001"])
        #expect(first.approved)
        #expect(first.lines.map(\.amount.description) == ["18450.00", "6275.50"])
        #expect(first.lines.map(\.associatedLine) == ["05-100", "03-300"])
        #expect(first.markups.map(\.name) == ["Fee"])
        #expect(first.markups.first?.set == .vertical)
        #expect(first.markups.first?.percent?.description == "5")
        #expect(first.title == "Owner\u{2019}s request: add steel canopy at main entry per ASI-04")
        #expect(orders["002"]?.approved == false)
        #expect(orders["002"]?.status == "P")
        #expect(orders["003"]?.lines.map(\.amount.description) == ["-14200.00", "-1850.00"])
        #expect(orders["003"]?.markups.isEmpty == true)
        #expect(orders["003"]?.scheduleImpactDays == 0)
    }

    @Test("jobs.csv without --encoding: every row with a Windows-1252 byte is an invalid UTF-8 error naming line and byte")
    func jobsWithoutEncoding() throws {
        let result = try Support.parse([Support.sample("spectrum/jobs.csv")])
        #expect(result.documents.isEmpty)
        #expect(result.rejects.count == 3)
        let first = try #require(result.rejects.first?.diagnostics.first)
        #expect(first.code == .FMT008)
        #expect(first.location.line == 2)
        #expect(first.message.contains("0x92"))
        #expect(first.message.contains("--encoding windows-1252"))
        #expect(first.message.contains("byte 281"))  // the first 0x92 in the file
    }

    @Test("canonical output round-trips through the codec every later stage reads")
    func canonicalRoundTrip() throws {
        let result = try Support.parse(sampleFiles, options: SpectrumReadOptions(encoding: .windows1252))
        for document in result.documents {
            let line = document.jsonLine
            let back = try CanonicalDocument(json: JSONParser.parse(line))
            #expect(back == document)
        }
    }

    @Test("--records view of a sample: raw values, untrimmed, with their layout")
    func rawRecords() throws {
        let parser = SpectrumParser(options: SpectrumReadOptions(encoding: .windows1252))
        var found: [Record] = []
        try parser.records(try InputFile(path: Support.sample("spectrum/jobs.csv")), format: .csv) { item in
            if case .record(let record) = item { found.append(record) }
        }
        #expect(found.count == 3)
        #expect(found.allSatisfy { $0.layout == .jobHeader })
        #expect(found.first?.value(named: "Job_Number") == "24-1017   ")
        #expect(found.first?.json["fields"]?["Customer_Code"] == .string("OWN100    "))
    }
}
