import SOVCore
import SOVTestSupport
import SpectrumFormat
import Testing

/// What we write, read back by libxml2's tree (envelope structure) and by our own streaming
/// record reader (what `sov-parse` would see), gives the same records and the same amounts.
@Suite("Spectrum writer: round trip through an XML parser")
struct SpectrumWriterRoundTripTests {
    typealias F = WriterFixture

    func readBack(_ records: [SpectrumExportRecord]) throws -> LibXMLReadBack.Envelope {
        try #require(LibXMLReadBack.parse(SpectrumEnvelopeWriter.document(records)))
    }

    @Test(arguments: SpectrumExportLayout.allCases)
    func recordsComeBackFieldForField(layout: SpectrumExportLayout) throws {
        let export = try #require(F.export(F.order(), F.writer(layout)).export)
        let envelope = try readBack(export.records)
        #expect(envelope.rootName == "Envelope")
        #expect(envelope.rootNamespace == SpectrumEnvelopeWriter.soapNamespace)
        #expect(envelope.bodyName == "Body")
        #expect(envelope.records.count == export.records.count)
        for (read, written) in zip(envelope.records, export.records) {
            #expect(read.element == layout.elementName)
            #expect(read.namespace == "http://www.northgate-is.com/proiv/webservices/types")
            #expect(read.fields.map(\.0) == written.fields.map(\.name))
            #expect(read.fields.map(\.1) == written.fields.map(\.value))
        }
    }

    /// Our own reader, the one `sov-parse` uses, sees every record with every field and value.
    @Test(arguments: SpectrumExportLayout.allCases)
    func ourXMLReaderReadsTheSameRecords(layout: SpectrumExportLayout) throws {
        let order = F.order()
        let export = try #require(F.export(order, F.writer(layout)).export)
        let scratch = TemporaryFolder()
        let path = scratch.write("roundtrip.xml", SpectrumEnvelopeWriter.document(export.records))
        let reader = try XMLRecordReader(try InputFile(path: path))
        var read: [Record] = []
        while let item = try reader.next() {
            guard case .record(let record) = item else {
                Issue.record("a malformed record in our own output: \(item)")
                continue
            }
            read.append(record)
        }
        #expect(read.count == export.records.count)
        for (record, written) in zip(read, export.records) {
            #expect(record.names == written.fields.map(\.name))
            #expect(record.values == written.fields.map(\.value))
        }
        let amountField = layout == .changeRequest ? "CR_Revenue" : "Revenue"
        var total = try read.compactMap { $0.value(named: amountField) }.reduce(F.money("0.00")) { $0 + (try Money.parse($1)) }
        if layout == .changeOrder {
            // Fee_Amount is a header field, repeated on every record: the fee once.
            let fees = Set(read.compactMap { $0.value(named: "Fee_Amount") })
            #expect(fees.count == 1)
            total += try Money.parse(try #require(fees.first))
        }
        #expect(total == order.computed!.grandTotal)
    }

    @Test func changeRequestAmountsReadBackReconcile() throws {
        let order = F.order()
        let export = try #require(F.export(order).export)
        let records = try readBack(export.records).records
        let revenue = try records.compactMap { $0["CR_Revenue"] }.reduce(F.money("0.00")) { $0 + (try Money.parse($1)) }
        let estimates = try records.compactMap { $0["Change_Request_Amount"] }.reduce(F.money("0.00")) { $0 + (try Money.parse($1)) }
        #expect(revenue == order.computed!.grandTotal)
        // Every line before markup but the revenue-only 200.00.
        #expect(estimates == F.money("4000.00"))
        #expect(records.compactMap { $0["CR_Revenue"] } == ["1560.45", "2808.81"])
    }

    @Test func changeOrderAmountsReadBackReconcile() throws {
        let order = F.order()
        let export = try #require(F.export(order, F.writer(.changeOrder)).export)
        let records = try readBack(export.records).records
        let revenue = try records.map { try Money.parse($0["Revenue"]!) }.reduce(F.money("0.00"), +)
        let fee = try Money.parse(records[0]["Fee_Amount"]!)
        #expect(revenue + fee == order.computed!.grandTotal)
        #expect(records.allSatisfy { $0["Fee_Percent"] == "" })
    }

    @Test func markupCharactersAndLineEndsSurviveTheTrip() throws {
        let title = "Tom's \"A&B\" <fence> \t 5 > 4\r\nsecond line"
        let export = try #require(F.export(F.order(title: title, key: ContractKey(company: "1", job: "J&<1>", customer: "O'N")), F.writer(authorization: "a&b<c>\"'")).export)
        let text = SpectrumEnvelopeWriter.document(export.records)
        #expect(!text.contains("<fence>"))
        #expect(text.contains("&amp;") && text.contains("&lt;") && text.contains("&gt;") && text.contains("&quot;") && text.contains("&apos;") && text.contains("&#13;"))
        let read = try readBack(export.records).records[0]
        #expect(read["CR_Description"] == title)
        #expect(read["Job_Number"] == "J&<1>")
        #expect(read["Customer_Code"] == "O'N")
        #expect(read["Authorization_ID"] == "a&b<c>\"'")
    }

    @Test func batchEnvelopeHoldsEveryChangeOrderInOrder() throws {
        let writer = F.writer()
        var records: [SpectrumExportRecord] = []
        for number in ["1", "2", "3"] {
            records += try #require(F.export(F.order(number: number), writer).export).records
        }
        let read = try readBack(records).records
        #expect(read.count == 12)
        #expect(read.map { $0["Change_Request_Number"]! } == Array(repeating: "1", count: 4) + Array(repeating: "2", count: 4) + Array(repeating: "3", count: 4))
    }

    /// Random change orders: keys never repeat, and what is read back reconciles to the cent.
    @Test func randomChangeOrdersNeverRepeatAKeyAndAlwaysReconcile() throws {
        var random = SplitMix64(seed: 2025)
        let items = ["1000", "2000", "3000"]
        let codes = ["01-100", "01.100", "01 100", "02-200", nil]
        func amount(_ range: ClosedRange<Int64>) -> String { Money(minorUnits: Int64.random(in: range, using: &random)).description }
        for _ in 0..<150 {
            let lines = (0..<Int.random(in: 1...8, using: &random)).map { _ in
                let code = codes.randomElement(using: &random)!
                return F.Line(
                    amount: amount(-500_000...2_000_000), item: items.randomElement(using: &random)!,
                    costCode: code, costType: code == nil ? nil : ["L", "M"].randomElement(using: &random)!,
                    horizontal: amount(-1_000...5_000), share: amount(-1_000...10_000))
            }
            let order = F.order(lines: lines)
            for layout in SpectrumExportLayout.allCases {
                let export = try #require(F.export(order, F.writer(layout)).export)
                let records = try #require(LibXMLReadBack.parse(SpectrumEnvelopeWriter.document(export.records))).records
                func total(_ field: String) throws -> Money {
                    try records.compactMap { $0[field] }.map { try Money.parse($0) }.reduce(F.money("0.00"), +)
                }
                switch layout {
                case .changeRequest:
                    let billing = records.compactMap { $0["CR_Billing_Item_Code"] }
                    let estimates = records.filter { $0["CR_Phase_Code"] != nil }.map { $0["CR_Phase_Code"]! + "/" + $0["CR_Cost_Type"]! }
                    #expect(Set(billing).count == billing.count)
                    #expect(Set(estimates).count == estimates.count)
                    #expect(try total("CR_Revenue") == order.computed!.grandTotal)
                    let costed = order.lines.filter { $0.costCode != nil }.map(\.amount).reduce(F.money("0.00"), +)
                    #expect(try total("Change_Request_Amount") == costed)
                case .changeOrder:
                    let billing = records.compactMap { $0["CO_Billing_Item_Code"] }
                    #expect(Set(billing).count == billing.count)
                    let fee = try Money.parse(records[0]["Fee_Amount"]!)
                    #expect(try total("Revenue") + fee == order.computed!.grandTotal)
                }
            }
        }
    }
}
