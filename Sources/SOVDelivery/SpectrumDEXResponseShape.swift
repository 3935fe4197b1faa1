import Foundation

/// One `<response>` row of a Data Exchange answer.
public struct SpectrumDEXResponseRow: Sendable, Hashable {
    public var code: String
    public var description: String
    public var column: String?

    public init(code: String, description: String, column: String?) {
        self.code = code
        self.description = description
        self.column = column
    }
}

/// What one Data Exchange call answered, as SOVBridge classifies it.
public enum SpectrumDEXAnswer: Sendable, Hashable {
    /// No A/E/I/M row: the record was taken (rows with G, S or W are kept for the audit log).
    case accepted([SpectrumDEXResponseRow])
    /// The GUID combination expired ("Time out has occurred"): nothing was done; use a new GUID.
    case guidTimedOut(SpectrumDEXResponseRow)
    /// A or E: the Authorization_ID is not set up, not active, or not granted this method/company.
    case notAuthorized([SpectrumDEXResponseRow])
    /// I or M rows: the record was rejected; each row names its column.
    case rejected([SpectrumDEXResponseRow])
    /// SOAP fault. `server` faults ("Error executing Web Service") are transient; client faults
    /// mean the request itself was not acceptable.
    case fault(code: String, text: String, server: Bool)
}

/// EVERY ASSUMPTION ABOUT THE DATA EXCHANGE WIRE FORMAT LIVES HERE. DEX-TRANSPORT.md documents
/// the element names, order, namespace and the answer rows (`returnArray/returnData/response`
/// with `error_code/desc/column`), but not the POST URL, the SOAPAction value, whether several
/// records may share one envelope, a successful Put answer, the GUID time-out answer or the HTTP
/// status of faults. The choices below follow the sheet's [3P]/[inferred] notes; a real
/// installation must confirm them against its WSDL (`/wsdls/<Service>.jws`) and a test call.
public enum SpectrumDEXResponseShape {
    public static let soapEnvelopeNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
    /// [D] the ProIV namespace (prefix `nis` in answers).
    public static let dataNamespace = "http://www.northgate-is.com/proiv/webservices/types"

    /// ASSUMPTION [3P]: the SOAP POST URL is `<dex_url>/ws/<Method>` (the WSDL's soap:address is
    /// authoritative).
    public static func endpoint(base: URL, method: SpectrumDEXMethod) -> URL {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        // A base URL that parsed once stays parseable with a plain path appended.
        return URL(string: text + "/ws/" + method.rawValue)!
    }

    /// ASSUMPTION [3P]: `SOAPAction` is the full endpoint URL, unquoted, as both third-party
    /// clients send it (the WSDL's soapAction attribute is authoritative).
    public static func headers(endpoint: URL) -> HTTPHeaders {
        HTTPHeaders([
            ("Content-Type", "text/xml; charset=utf-8"),
            ("SOAPAction", endpoint.absoluteString),
        ])
    }

    /// ASSUMPTION [inferred, §2]: one record per envelope (whether several are accepted is not
    /// documented), body element `<Method xmlns="nis-namespace">` with Authorization_ID, GUID and
    /// then every layout element in documented order, empty when unused.
    public static func envelope(method: SpectrumDEXMethod, authorizationID: String, guid: String, record: SpectrumDEXRecord) -> [UInt8] {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<soap:Envelope xmlns:soap=\"\(soapEnvelopeNamespace)\"><soap:Body>"
        xml += "<\(method.rawValue) xmlns=\"\(dataNamespace)\">"
        for (name, value) in [("Authorization_ID", authorizationID), ("GUID", guid)] + record.ordered(for: method) {
            xml += value.isEmpty ? "<\(name)/>" : "<\(name)>\(SpectrumXML.escape(value))</\(name)>"
        }
        xml += "</\(method.rawValue)></soap:Body></soap:Envelope>\n"
        return Array(xml.utf8)
    }

    /// ASSUMPTION [D text, inferred shape]: the GUID expiry is recognised by its documented text
    /// alone, whatever code the row carries (the code is not documented).
    public static let guidTimeoutText = "time out has occurred"

    /// Codes that stop on configuration (A; E appears with the same meaning in the Get example).
    public static let authorizationCodes: Set<String> = ["A", "E"]
    /// Codes that reject the record's data.
    public static let dataCodes: Set<String> = ["I", "M"]

    /// Classifies an HTTP answer body for `method`. ASSUMPTIONS [inferred]: a successful Put
    /// answers either no `<response>` row or rows without A/E/I/M (G expected); rows may sit at
    /// any depth below `<Method>Response` (one 3P client saw an extra wrapper on Gets); row
    /// children may be spelled `error_code/desc/column` (Put examples) or
    /// `Error_Code/Error_Description/Error_Column` (Get layouts). A SOAP Fault is recognised by
    /// its element, whatever the HTTP status (500 is usual for SOAP 1.1, not documented here).
    public static func classify(_ body: [UInt8], method: SpectrumDEXMethod) throws(SpectrumXMLError) -> SpectrumDEXAnswer {
        let root = try SpectrumXML.parse(body)
        guard root.localName == "Envelope", root.namespace == soapEnvelopeNamespace,
              let soapBody = root.children(named: "Body").first
        else {
            throw SpectrumXMLError(message: "not a SOAP 1.1 envelope", offset: 0)
        }
        if let fault = soapBody.children.first(where: { $0.localName == "Fault" && $0.namespace == soapEnvelopeNamespace }) {
            let code = fault.children(named: "faultcode").first?.text.spectrumTrimmed ?? ""
            let text = fault.children(named: "faultstring").first?.text.spectrumTrimmed ?? ""
            // SOAP 1.1 fault codes are QNames: `SOAP-ENV:Server` and dotted refinements of it.
            let local = code.split(separator: ":").last.map(String.init) ?? code
            return .fault(code: code, text: text, server: local == "Server" || local.hasPrefix("Server."))
        }
        guard let answer = soapBody.children.first, answer.localName == method.rawValue + "Response" else {
            throw SpectrumXMLError(message: "the Body holds no \(method.rawValue)Response", offset: 0)
        }
        let rows = answer.descendants(named: "response").map(row)
        if let timeout = rows.first(where: { $0.description.lowercased().contains(guidTimeoutText) }) {
            return .guidTimedOut(timeout)
        }
        let authorization = rows.filter { authorizationCodes.contains($0.code) }
        if !authorization.isEmpty { return .notAuthorized(authorization) }
        let rejected = rows.filter { dataCodes.contains($0.code) }
        if !rejected.isEmpty { return .rejected(rejected) }
        return .accepted(rows)
    }

    static func row(_ element: SpectrumXMLElement) -> SpectrumDEXResponseRow {
        func field(_ names: String...) -> String? {
            for child in element.children where names.contains(where: { $0.caseInsensitiveCompare(child.localName) == .orderedSame }) {
                return child.text.spectrumTrimmed
            }
            return nil
        }
        let column = field("column", "Error_Column")
        return SpectrumDEXResponseRow(
            code: (field("error_code") ?? "").uppercased(),
            description: field("desc", "Error_Description") ?? "",
            column: column?.isEmpty == false ? column : nil
        )
    }
}
