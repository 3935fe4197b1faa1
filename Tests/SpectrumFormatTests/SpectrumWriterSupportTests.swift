import CLibXML2
import SOVCore
import SpectrumFormat
import SOVTestSupport
import Testing

/// Fixtures and helpers of the Spectrum writer tests.
enum WriterFixture {
    static func money(_ text: String) -> Money { try! Money.parse(text) }


    struct Line {
        var amount: String
        var item: String?
        var costCode: String?
        var costType: String?
        /// Horizontal markup on this line (Insurance) and its share of the vertical (Fee).
        var horizontal: String
        var share: String
        var additional: String? = nil
    }

    /// Lines 1000.00 / 2500.00 / 500.00 / 200.00, Insurance 1 % horizontal, Fee 3 % vertical
    /// (the example in docs/FORMATS.md, "Markup", plus two lines): extended 1010.00, 2525.00, 505.00, 202.00; subtotal
    /// 4242.00; fee 127.26 shared 30.30, 75.75, 15.15, 6.06; grand total 4369.26.
    /// Lines 1 and 2 share a phase once separators go (01-100, 01.100), lines 1 and 3 share
    /// billing item 1000, line 4 has no cost code (revenue only).
    static let standardLines = [
        Line(amount: "1000.00", item: "1000", costCode: "01-100", costType: "L", horizontal: "10.00", share: "30.30"),
        Line(amount: "2500.00", item: "2000", costCode: "01.100", costType: "L", horizontal: "25.00", share: "75.75"),
        Line(amount: "500.00", item: "1000", costCode: "02-200", costType: "M", horizontal: "5.00", share: "15.15"),
        Line(amount: "200.00", item: "2000", costCode: nil, costType: nil, horizontal: "2.00", share: "6.06"),
    ]

    /// A change order after `sov-markup`, its computed block derived from `lines` by addition.
    static func order(
        lines: [Line] = standardLines, number: String = "003", title: String? = "Added storm drain",
        key: ContractKey? = ContractKey(company: "1", job: "24-1017", customer: "OWN100"),
        approved: Bool = true, date: CalendarDate? = CalendarDate(year: 2025, month: 3, day: 14)
    ) -> ChangeOrder {
        var computedLines: [ComputedLine] = []
        var subtotal = money("0.00")
        var fee = money("0.00")
        for line in lines {
            let extended = money(line.amount) + money(line.horizontal)
            let share = money(line.share)
            computedLines.append(ComputedLine(
                horizontal: [MarkupAmount(name: "Insurance", amount: money(line.horizontal))], extendedAmount: extended,
                verticalShares: [MarkupAmount(name: "Fee", amount: share)], revenue: extended + share))
            subtotal += extended
            fee += share
        }
        return ChangeOrder(
            origin: Origin(system: .procore, company: key?.company, job: key?.job, customer: key?.customer, number: number),
            source: SourceLocation(file: "pcco.json", line: 1),
            number: number, title: title, description: "Storm drain at the north entrance, per RFI 12",
            status: approved ? "approved" : "pending", approved: approved, date: date,
            approvedDate: CalendarDate(year: 2025, month: 3, day: 20), scheduleImpactDays: 5,
            lines: lines.map { ChangeOrderLine(description: "work", amount: money($0.amount), associatedLine: $0.item, costCode: $0.costCode, costType: $0.costType, additionalDescription: $0.additional) },
            markups: [
                Markup(name: "Insurance", set: .horizontal, percent: try! Percent.parse("1"), position: 1),
                Markup(name: "Fee", set: .vertical, percent: try! Percent.parse("3"), position: 2),
            ],
            computed: ComputedMarkup(lines: computedLines, subtotal: subtotal, vertical: [MarkupAmount(name: "Fee", amount: fee)], grandTotal: subtotal + fee),
            procore: ProcoreLink(projectId: "562949953421312", primeContractId: "77", changeOrderId: "901"))
    }

    static func writer(_ layout: SpectrumExportLayout = .changeRequest, authorization: String? = "SOVTEST", configure: (inout SpectrumExportConfig) -> Void = { _ in }) -> SpectrumChangeRequestWriter {
        var config = SpectrumExportConfig(authorizationId: authorization, layout: layout)
        configure(&config)
        return SpectrumChangeRequestWriter(config: config)
    }

    static func export(_ order: ChangeOrder, _ writer: SpectrumChangeRequestWriter = writer()) -> SpectrumExportResult {
        var generator = SplitMix64(seed: 42)
        return writer.export(order, using: &generator)
    }

    static func codes(_ result: SpectrumExportResult) -> [DiagnosticCode] {
        result.diagnostics.filter(\.isError).map(\.code)
    }
}

/// A record read back from written XML: its element, namespace and fields (name, text).
struct ParsedRecord: Equatable {
    var element: String
    var namespace: String?
    var fields: [(String, String)]

    subscript(name: String) -> String? { fields.first { $0.0 == name }?.1 }

    static func == (lhs: ParsedRecord, rhs: ParsedRecord) -> Bool {
        lhs.element == rhs.element && lhs.namespace == rhs.namespace
            && lhs.fields.map(\.0) == rhs.fields.map(\.0) && lhs.fields.map(\.1) == rhs.fields.map(\.1)
    }
}

/// Reads our envelope back with libxml2 itself (no network, no entities), the parser the
/// project's XML record reader is built on. The integrator should move these round trips to
/// `XMLRecordReader` once it is merged.
enum LibXMLReadBack {
    struct Envelope {
        var rootName: String
        var rootNamespace: String?
        var bodyName: String
        var records: [ParsedRecord]
    }

    static func parse(_ text: String) -> Envelope? {
        let bytes = Array(text.utf8)
        let options = Int32(XML_PARSE_NONET.rawValue)
        let document: xmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                xmlReadMemory(pointer, Int32(buffer.count), "written.xml", "UTF-8", options)
            }
        }
        guard let document else { return nil }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else { return nil }
        guard let body = elements(under: root).first else { return nil }
        let records = elements(under: body).map { record in
            ParsedRecord(element: name(record), namespace: namespace(record), fields: elements(under: record).map { (name($0), content($0)) })
        }
        return Envelope(rootName: name(root), rootNamespace: namespace(root), bodyName: name(body), records: records)
    }

    private static func elements(under node: xmlNodePtr) -> [xmlNodePtr] {
        var result: [xmlNodePtr] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE { result.append(current) }
            child = current.pointee.next
        }
        return result
    }

    private static func name(_ node: xmlNodePtr) -> String { String(cString: node.pointee.name) }

    private static func namespace(_ node: xmlNodePtr) -> String? {
        node.pointee.ns.flatMap { $0.pointee.href.map { String(cString: $0) } }
    }

    /// The element's text: its text and CDATA children, joined (a field holds nothing else).
    private static func content(_ node: xmlNodePtr) -> String {
        var text = ""
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_TEXT_NODE || current.pointee.type == XML_CDATA_SECTION_NODE, let content = current.pointee.content {
                text += String(cString: content)
            }
            child = current.pointee.next
        }
        return text
    }
}
