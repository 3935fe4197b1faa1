import Foundation
import Testing
@testable import SOVDelivery

/// The §6 example answer of DEX-TRANSPORT.md, verbatim.
let spectrumRejectedExample = """
    <SOAP-ENV:Envelope SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"
        xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"
        xmlns:xsd="http://www.w3.org/2001/XMLSchema"
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <SOAP-ENV:Header/>
      <SOAP-ENV:Body>
        <nis:ARChangeRequestResponse xmlns:nis="http://www.northgate-is.com/proiv/webservices/types">
          <returnArray>
            <returnData>
              <response>
                <error_code>I</error_code>
                <desc>Billing item does not exist for this contract</desc>
                <column>CR_Billing_Item_Code</column>
              </response>
            </returnData>
          </returnArray>
        </nis:ARChangeRequestResponse>
      </SOAP-ENV:Body>
    </SOAP-ENV:Envelope>
    """

func spectrumAnswer(_ rows: [(String, String, String)], method: String = "ARChangeRequest") -> String {
    let body = rows.map { "<response><error_code>\($0.0)</error_code><desc>\($0.1)</desc><column>\($0.2)</column></response>" }.joined()
    return """
        <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Header/><SOAP-ENV:Body>\
        <nis:\(method)Response xmlns:nis="http://www.northgate-is.com/proiv/webservices/types"><returnArray><returnData>\(body)\
        </returnData></returnArray></nis:\(method)Response></SOAP-ENV:Body></SOAP-ENV:Envelope>
        """
}

func spectrumFault(_ code: String, _ text: String) -> String {
    """
    <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault>\
    <faultcode>SOAP-ENV:\(code)</faultcode><faultstring>\(text)</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>
    """
}

@Suite struct SpectrumResponseParsingTests {
    func classify(_ text: String) throws -> SpectrumDEXAnswer {
        try SpectrumDEXResponseShape.classify(Array(text.utf8), method: .arChangeRequest)
    }

    @Test func documentedRejectionExample() throws {
        #expect(try classify(spectrumRejectedExample) == .rejected([
            SpectrumDEXResponseRow(code: "I", description: "Billing item does not exist for this contract", column: "CR_Billing_Item_Code"),
        ]))
    }

    @Test func severalRowsAndMissing() throws {
        let answer = try classify(spectrumAnswer([("M", "Job_Number is required", "Job_Number"), ("I", "CR_Cost_Type too long", "CR_Cost_Type")]))
        #expect(answer == .rejected([
            SpectrumDEXResponseRow(code: "M", description: "Job_Number is required", column: "Job_Number"),
            SpectrumDEXResponseRow(code: "I", description: "CR_Cost_Type too long", column: "CR_Cost_Type"),
        ]))
    }

    @Test func authorizationAbortAndE() throws {
        let abort = try classify(spectrumAnswer([("A", "The Web Service is not authorized. Authorization ID is not setup in the system.", "Authorization_ID")]))
        #expect(abort == .notAuthorized([SpectrumDEXResponseRow(code: "A", description: "The Web Service is not authorized. Authorization ID is not setup in the system.", column: "Authorization_ID")]))
        // The Get example's spelling: Error_Code/Error_Description/Error_Column.
        let getStyle = """
            <S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><n:ARChangeRequestResponse xmlns:n="x">\
            <returnArray><returnData><getJob><response><Error_Code>E</Error_Code><Error_Description>The web service is not Authorized</Error_Description>\
            <Error_Column>Authorization_ID</Error_Column></response></getJob></returnData></returnArray></n:ARChangeRequestResponse></S:Body></S:Envelope>
            """
        #expect(try classify(getStyle) == .notAuthorized([SpectrumDEXResponseRow(code: "E", description: "The web service is not Authorized", column: "Authorization_ID")]))
    }

    @Test func successShapes() throws {
        #expect(try classify(spectrumAnswer([])) == .accepted([]))
        let good = try classify(spectrumAnswer([("G", "Change request 007 created", "Change_Request_Number"), ("W", "note", "")]))
        #expect(good == .accepted([
            SpectrumDEXResponseRow(code: "G", description: "Change request 007 created", column: "Change_Request_Number"),
            SpectrumDEXResponseRow(code: "W", description: "note", column: nil),
        ]))
    }

    @Test func guidTimeoutIsRecognisedByItsText() throws {
        let answer = try classify(spectrumAnswer([("A", "Time out has occurred", "GUID")]))
        #expect(answer == .guidTimedOut(SpectrumDEXResponseRow(code: "A", description: "Time out has occurred", column: "GUID")))
    }

    @Test func faults() throws {
        #expect(try classify(spectrumFault("Server", "Error executing Web Service")) == .fault(code: "SOAP-ENV:Server", text: "Error executing Web Service", server: true))
        #expect(try classify(spectrumFault("Client", "bad SOAPAction")) == .fault(code: "SOAP-ENV:Client", text: "bad SOAPAction", server: false))
    }

    @Test func malformedAnswersThrow() {
        for text in [
            "", "<html>502 Bad Gateway</html>",
            String(spectrumRejectedExample.dropLast(30)),  // truncated
            spectrumAnswer([]).replacingOccurrences(of: "ARChangeRequestResponse", with: "ARChangeOrderResponse"),
            "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>" + spectrumAnswer([("I", "&e;", "x")]),
        ] {
            #expect(throws: SpectrumXMLError.self) { try classify(text) }
        }
    }
}

@Suite struct SpectrumXMLTests {
    @Test func entitiesCDATAAndNamespaces() throws {
        let root = try SpectrumXML.parse("<?xml version=\"1.0\"?><!-- c --><a xmlns=\"urn:a\" xmlns:b=\"urn:b\"><b:c x='1'>x &amp; &lt;y&gt; &#65;&#x42;<![CDATA[<z>]]></b:c><d/></a>")
        #expect(root.namespace == "urn:a")
        #expect(root.children.map(\.localName) == ["c", "d"])
        #expect(root.children[0].namespace == "urn:b")
        #expect(root.children[0].text == "x & <y> AB<z>")
        #expect(root.children[1].namespace == "urn:a")
    }

    @Test func rejectsWhatIsNotStrictXML() {
        let bad = [
            "<a><b></a>", "<a>&nbsp;</a>", "<p:a/>", "<a/><b/>", "<a x='1' x='2'/>", "<a>", "<a>\u{1}</a>x",
            "<!DOCTYPE a><a/>", "<a><!ENTITY x 'y'></a>",
        ]
        for text in bad {
            #expect(throws: SpectrumXMLError.self, "\(text)") { try SpectrumXML.parse(text) }
        }
        #expect(throws: SpectrumXMLError.self) { try SpectrumXML.parse([0x3C, 0x61, 0x3E, 0xFF, 0x3C, 0x2F, 0x61, 0x3E]) }
        let deep = String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40)
        #expect(throws: SpectrumXMLError.self) { try SpectrumXML.parse(deep) }
    }
}

@Suite struct SpectrumUnitTests {
    @Test func readsTheExampleUnit() throws {
        let unit = try SpectrumUnit.parse(Array(SpectrumFixtures.unit007.utf8))
        #expect(unit.method == .arChangeRequest)
        #expect(unit.guid == "cb503f33-36dd-42ea-8d93-18f7e1e9e122")
        #expect(unit.records.count == 4)
        #expect(unit.key == ["1", "24-1017", "OWN100", "007"])
        #expect(unit.records[1]["CR_Phase_Code"] == "16100")
        #expect(unit.records[3]["CR_Revenue"] == "2600.75")
    }

    @Test func envelopeIsInDocumentedOrderWithTheSecretFilledIn() throws {
        let unit = try SpectrumUnit.parse(Array(SpectrumFixtures.unit007.utf8))
        let bytes = SpectrumDEXResponseShape.envelope(method: .arChangeRequest, authorizationID: "se<cret", guid: "g-1", record: unit.records[0])
        let root = try SpectrumXML.parse(bytes)
        let call = try #require(root.children(named: "Body").first?.children.first)
        #expect(call.localName == "ARChangeRequest")
        #expect(call.namespace == SpectrumDEXResponseShape.dataNamespace)
        let names = call.children.map(\.localName)
        #expect(names == ["Authorization_ID", "GUID"] + SpectrumDEXMethod.arChangeRequest.fields)
        // The unit wrote Approved_Days right after Approved_Date; the layout puts it near the end.
        #expect(names.firstIndex(of: "Approved_Days")! > names.firstIndex(of: "CR_Revenue")!)
        #expect(call.children[0].text == "se<cret")
        #expect(call.children(named: "Change_Request_Amount").first?.text == "1000.00")
        #expect(call.children(named: "CR_Revenue").first?.text == "")
    }

    @Test func refusesUnitsThatCouldDuplicate() throws {
        let blank = SpectrumFixtures.unit007.replacingOccurrences(of: "<Change_Request_Number>007</Change_Request_Number>", with: "<Change_Request_Number/>")
        #expect(throws: SpectrumUnitError.badRecord(recordIndex: 0, field: "Change_Request_Number", message: "is blank; a Data Exchange resend would create a second ARChangeRequest")) {
            try SpectrumUnit.parse(Array(blank.utf8))
        }
        var mixed = SpectrumFixtures.unit007
        if let last = mixed.range(of: "<Job_Number>24-1017</Job_Number>", options: .backwards) {
            mixed.replaceSubrange(last, with: "<Job_Number>24-9999</Job_Number>")
        }
        #expect(throws: SpectrumUnitError.badRecord(recordIndex: 3, field: "Job_Number", message: "differs from record 0: a unit is one ARChangeRequest")) {
            try SpectrumUnit.parse(Array(mixed.utf8))
        }
        let unknown = SpectrumFixtures.unit004.replacingOccurrences(of: "<Approved_Days>3</Approved_Days>", with: "<Approved_Dayz>3</Approved_Dayz>")
        #expect(throws: SpectrumUnitError.self) { try SpectrumUnit.parse(Array(unknown.utf8)) }
    }

    @Test func authorizationIDNeverPrints() throws {
        let id = try #require(SpectrumAuthorizationID("topsecret-42"))
        let settings = SpectrumDEXSettings(dexURL: URL(string: "https://spectrum.example.com:8482")!, authorizationID: id)
        var dumped = ""
        dump(settings, to: &dumped)
        for text in ["\(id)", String(describing: id), String(reflecting: id), "\(settings)", dumped] {
            #expect(!text.contains("topsecret"), "\(text)")
        }
        #expect(id.redact("echo topsecret-42 back") == "echo <redacted> back")
        #expect(SpectrumAuthorizationID("") == nil)
        #expect(SpectrumAuthorizationID(String(repeating: "x", count: 21)) == nil)
        #expect(SpectrumDEXSettings.dexURL("ftp://x") == nil)
        #expect(SpectrumDEXResponseShape.endpoint(base: SpectrumDEXSettings.dexURL("https://spectrum.example.com:8482/")!, method: .arChangeRequest).absoluteString
            == "https://spectrum.example.com:8482/ws/ARChangeRequest")
    }
}

/// A transport that answers from a script and records what was sent; for paths the stand-in
/// cannot produce deterministically (HTTP 401, exhausted retries, echoed secrets).
final class ScriptedSpectrumTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var script: [Result<HTTPResponse, TransportError>]
    private(set) var sent: [HTTPRequest] = []

    init(_ script: [Result<HTTPResponse, TransportError>]) { self.script = script }

    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        sent.append(request)
        guard !script.isEmpty else { throw .connectionFailed("script exhausted") }
        return try script.removeFirst().get()
    }

    var requests: [HTTPRequest] {
        lock.lock()
        defer { lock.unlock() }
        return sent
    }
}

@Suite struct SpectrumDelivererScriptedTests {
    static let ok = Result<HTTPResponse, TransportError>.success(HTTPResponse(status: 200, body: Array(spectrumAnswer([("G", "ok", "")]).utf8)))

    func deliverer(_ transport: ScriptedSpectrumTransport, attempts: Int = 3) -> SpectrumDeliverer {
        let settings = SpectrumDEXSettings(dexURL: URL(string: "https://spectrum.example.com:8482")!, authorizationID: SpectrumAuthorizationID("topsecret-42")!)
        let clock = RetryClock(monotonicNow: { 0 }, unixNow: { 0 }, sleep: { _ in })
        let counter = GUIDCounter()
        return SpectrumDeliverer(
            client: SpectrumDEXClient(settings: settings, transport: transport),
            retryPolicy: RetryPolicy(maxAttempts: attempts, clock: clock), newGUID: { counter.next() })
    }

    final class GUIDCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> String {
            lock.lock()
            defer { lock.unlock() }
            value += 1
            return "guid-\(value)"
        }
    }

    func guidSent(_ request: HTTPRequest) throws -> String {
        let root = try SpectrumXML.parse(request.body)
        return try #require(root.children(named: "Body").first?.children.first?.children(named: "GUID").first?.text)
    }

    @Test func sendsOneCallPerRecordWithDocumentedHeaders() throws {
        let transport = ScriptedSpectrumTransport(Array(repeating: Self.ok, count: 4))
        #expect(deliverer(transport).deliver(unitXML: Array(SpectrumFixtures.unit007.utf8)) == .delivered(records: 4))
        let requests = transport.requests
        #expect(requests.count == 4)
        for request in requests {
            #expect(request.method == "POST")
            #expect(request.url.absoluteString == "https://spectrum.example.com:8482/ws/ARChangeRequest")
            #expect(request.headers["Content-Type"] == "text/xml; charset=utf-8")
            #expect(request.headers["SOAPAction"] == "https://spectrum.example.com:8482/ws/ARChangeRequest")
            #expect(request.headers["Connection"] == "close")
            #expect(try guidSent(request) == "cb503f33-36dd-42ea-8d93-18f7e1e9e122")
            #expect(String(decoding: request.body, as: UTF8.self).contains("<Authorization_ID>topsecret-42</Authorization_ID>"))
        }
    }

    @Test func guidTimeoutRenewsTheGUIDAndResendsTheSameRecord() throws {
        let timeout = Result<HTTPResponse, TransportError>.success(HTTPResponse(status: 200, body: Array(spectrumAnswer([("A", "Time out has occurred", "GUID")]).utf8)))
        let transport = ScriptedSpectrumTransport([Self.ok, timeout, Self.ok, Self.ok, Self.ok])
        #expect(deliverer(transport).deliver(unitXML: Array(SpectrumFixtures.unit007.utf8)) == .delivered(records: 4))
        let guids = try transport.requests.map(guidSent)
        #expect(guids == ["cb503f33-36dd-42ea-8d93-18f7e1e9e122", "cb503f33-36dd-42ea-8d93-18f7e1e9e122", "guid-1", "guid-1", "guid-1"])
        #expect(transport.requests[1].body.count > 0)
        #expect(transport.requests[1].body != transport.requests[2].body)  // only the GUID differs
        #expect(String(decoding: transport.requests[2].body, as: UTF8.self).contains("<CR_Phase_Code>16100</CR_Phase_Code>"))
    }

    @Test func lostAnswersAndFaultsAreRetriedThenFail() {
        let fault = Result<HTTPResponse, TransportError>.success(HTTPResponse(status: 500, body: Array(spectrumFault("Server", "Error executing Web Service").utf8)))
        let lost = Result<HTTPResponse, TransportError>.failure(.connectionFailed("connection closed"))
        let transport = ScriptedSpectrumTransport([lost, Self.ok, fault, Self.ok, Self.ok, Self.ok])
        #expect(deliverer(transport).deliver(unitXML: Array(SpectrumFixtures.unit004.utf8)) == .delivered(records: 4))
        #expect(transport.requests.count == 6)

        let failing = ScriptedSpectrumTransport([Self.ok, fault, fault, fault])
        let outcome = deliverer(failing).deliver(unitXML: Array(SpectrumFixtures.unit004.utf8))
        #expect(outcome == .failed("record 1 of ARChangeRequest 1/24-1022/OWN200/004: gave up after 3 attempt(s); last: SOAP fault SOAP-ENV:Server: Error executing Web Service"))
    }

    @Test func httpAuthorizationAndOtherStatuses() {
        let unauthorized = ScriptedSpectrumTransport([.success(HTTPResponse(status: 401, body: Array("denied for topsecret-42".utf8)))])
        #expect(deliverer(unauthorized).deliver(unitXML: Array(SpectrumFixtures.unit004.utf8)) == .notAuthorized("HTTP 401: denied for <redacted>"))
        let notFound = ScriptedSpectrumTransport([.success(HTTPResponse(status: 404, body: Array("no such service".utf8)))])
        #expect(deliverer(notFound).deliver(unitXML: Array(SpectrumFixtures.unit004.utf8)) == .failed("record 0 of ARChangeRequest 1/24-1022/OWN200/004: HTTP 404: no such service"))
        #expect(notFound.requests.count == 1)
    }

    @Test func echoedSecretIsRedactedFromRefusals() {
        let answer = spectrumAnswer([("I", "Phase 9 unknown for topsecret-42", "CR_Phase_Code")])
        let transport = ScriptedSpectrumTransport([Self.ok, .success(HTTPResponse(status: 200, body: Array(answer.utf8)))])
        let outcome = deliverer(transport).deliver(unitXML: Array(SpectrumFixtures.unit004.utf8))
        #expect(outcome == .refused(problems: [(1, "I", "CR_Phase_Code", "Phase 9 unknown for <redacted>")], acceptedRecords: [0]))
        #expect(!outcome.description.contains("topsecret"))
    }

    @Test func clientFaultIsARefusalNotARetry() {
        let transport = ScriptedSpectrumTransport([.success(HTTPResponse(status: 500, body: Array(spectrumFault("Client", "unknown element").utf8)))])
        #expect(deliverer(transport).deliver(unitXML: Array(SpectrumFixtures.unit004.utf8)) == .refused(problems: [(0, "SOAP-ENV:Client", nil, "unknown element")], acceptedRecords: []))
        #expect(transport.requests.count == 1)
    }

    @Test func aUnitWithABlankNumberIsNeverSent() {
        let transport = ScriptedSpectrumTransport([])
        let blank = SpectrumFixtures.unit004.replacingOccurrences(of: "<Change_Request_Number>004</Change_Request_Number>", with: "<Change_Request_Number> </Change_Request_Number>")
        let outcome = deliverer(transport).deliver(unitXML: Array(blank.utf8))
        #expect(outcome == .refused(problems: [(0, "UNIT", "Change_Request_Number", "not sent: is blank; a Data Exchange resend would create a second ARChangeRequest")], acceptedRecords: []))
        #expect(transport.requests.isEmpty)
    }
}
