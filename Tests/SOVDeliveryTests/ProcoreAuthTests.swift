import Foundation
import SOVCore
import Testing
@testable import SOVDelivery

@Suite struct ProcoreAuthTests {
    static let settings = ProcoreSettings(
        apiURL: URL(string: "http://127.0.0.1:9")!, loginURL: URL(string: "http://127.0.0.1:9")!,
        companyId: "7", clientId: "id-1", clientSecret: "s3cr3t-value", tokenRenewalMargin: 300)

    static func tokenResponse(_ token: String, createdAt: Double, expiresIn: Int = 5400) -> Result<HTTPResponse, TransportError> {
        .success(HTTPResponse(status: 200, body: Array(#"{"access_token":"\#(token)","token_type":"bearer","expires_in":\#(expiresIn),"created_at":\#(Int(createdAt))}"#.utf8)))
    }

    @Test func renewsBeforeExpiryMinusMargin() throws {
        let clock = FakeClock()
        let start = clock.now.unix
        let transport = ScriptedTransport([Self.tokenResponse("t1", createdAt: start), Self.tokenResponse("t2", createdAt: start + 5100)])
        let auth = ProcoreAuth(settings: Self.settings, transport: transport, policy: RetryPolicy(clock: clock.retryClock))
        #expect(try auth.token() == "t1")
        clock.advance(5400 - 300 - 1)
        #expect(try auth.token() == "t1")  // still inside the margin
        #expect(auth.tokenFetches == 1)
        clock.advance(2)
        #expect(try auth.token() == "t2")
        #expect(auth.tokenFetches == 2)

        let sent = transport.sentRequests
        #expect(sent.count == 2)
        #expect(sent[0].url.absoluteString == "http://127.0.0.1:9/oauth/token")
        #expect(sent[0].headers["content-type"] == "application/x-www-form-urlencoded")
        #expect(String(decoding: sent[0].body, as: UTF8.self) == "grant_type=client_credentials&client_id=id-1&client_secret=s3cr3t-value")
    }

    @Test func renewAfter401FetchesOnceForABurst() throws {
        let clock = FakeClock()
        let now = clock.now.unix
        let transport = ScriptedTransport([Self.tokenResponse("t1", createdAt: now), Self.tokenResponse("t2", createdAt: now)])
        let auth = ProcoreAuth(settings: Self.settings, transport: transport, policy: RetryPolicy(clock: clock.retryClock))
        let first = try auth.token()
        #expect(try auth.renew(rejected: first) == "t2")
        #expect(try auth.renew(rejected: first) == "t2")  // someone already replaced t1
        #expect(auth.tokenFetches == 2)
    }

    @Test func wrongCredentialsNameTheSettings() {
        let clock = FakeClock()
        let transport = ScriptedTransport([.success(HTTPResponse(status: 401, body: Array(#"{"error":"invalid_client"}"#.utf8)))])
        let auth = ProcoreAuth(settings: Self.settings, transport: transport, policy: RetryPolicy(clock: clock.retryClock))
        #expect {
            _ = try auth.token()
        } throws: { error in
            guard let error = error as? ProcoreError, case .authentication(let text) = error else { return false }
            return text.contains("client_id") && text.contains("client_secret") && text.contains("invalid_client")
        }
    }

    @Test func clientRenewsOnceOn401ThenReportsAuthError() throws {
        let clock = FakeClock()
        let now = clock.now.unix
        let ok = HTTPResponse(status: 200, body: Array("[]".utf8))
        let unauthorized = HTTPResponse(status: 401, body: Array(#"{"errors":"The access token is invalid"}"#.utf8))
        let transport = ScriptedTransport([
            Self.tokenResponse("t1", createdAt: now), .success(unauthorized), Self.tokenResponse("t2", createdAt: now), .success(ok),
            .success(unauthorized), Self.tokenResponse("t3", createdAt: now), .success(unauthorized),
        ])
        let client = ProcoreClient(settings: Self.settings, transport: transport, policy: RetryPolicy(clock: clock.retryClock, random: { _ in 0 }))
        let response = try client.send(method: "GET", path: "/rest/v1.0/prime_contracts", query: [("project_id", "5")])
        #expect(response.status == 200)
        let sent = transport.sentRequests
        #expect(sent[1].headers["Authorization"] == "Bearer t1")
        #expect(sent[3].headers["Authorization"] == "Bearer t2")
        #expect(sent[3].headers["Procore-Company-Id"] == "7")
        #expect(sent[3].url.absoluteString == "http://127.0.0.1:9/rest/v1.0/prime_contracts?project_id=5")

        #expect {
            _ = try client.send(method: "GET", path: "/rest/v1.0/prime_contracts", query: [("project_id", "5")])
        } throws: { error in
            guard let error = error as? ProcoreError, case .authentication(let text) = error else { return false }
            return text.contains("client_id") && text.contains("The access token is invalid")
        }
    }

    @Test func secretIsNeverPrinted() {
        let settings = Self.settings
        #expect(!settings.description.contains("s3cr3t"))
        #expect(!"\(settings)".contains("s3cr3t"))
        #expect(!String(reflecting: settings).contains("s3cr3t"))
        var dumped = ""
        dump(settings, to: &dumped)
        #expect(!dumped.contains("s3cr3t"))
        #expect(settings.description.contains("id-1"))
    }
}
