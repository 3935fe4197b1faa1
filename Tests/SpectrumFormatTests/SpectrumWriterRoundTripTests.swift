import SOVCore
import SpectrumFormat
import Testing

/// What we write, read back by libxml2, gives the same records and the same amounts.
/// (Integrator: switch these to `XMLRecordReader` once the reader is merged.)
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
}
