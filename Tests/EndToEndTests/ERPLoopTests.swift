import Foundation
import SOVCore
import SOVTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Procore -> Spectrum with Procore's ERP loop, against both stand-ins: approved PCCO export
/// events go to Spectrum as change requests, the Spectrum keys go back to Procore (External
/// Data) and each Request Detail is closed as success, or as failed with the reason.
@Suite(.serialized)
struct ERPLoopTests {
    static let company = "4264807"
    static let authorization = "ERP-TEST-ID"

    /// The sample export event as PCCO `index`: its own ids, number and Request Detail.
    static func event(_ index: Int, withoutDate: Bool = false) throws -> String {
        let sample = String(decoding: try #require(FileManager.default.contents(atPath: Checkout.path("samples/procore/pcco-event.json"))), as: UTF8.self)
        var text = sample
            .replacingOccurrences(of: "1186921", with: String(2_000_000 + index))
            .replacingOccurrences(of: "9034411", with: String(9_100_000 + index * 2))
            .replacingOccurrences(of: "9034412", with: String(9_100_001 + index * 2))
            .replacingOccurrences(of: "\"number\": \"007\"", with: "\"number\": \"\(100 + index)\"")
            .replacingOccurrences(of: "\"request_data\": {", with: "\"request_data\": {\n    \"request_detail_id\": \(5_000 + index),")
        if withoutDate { text = text.replacingOccurrences(of: "\"transaction_date\": \"2025-03-14\"", with: "\"transaction_date\": null") }
        return text
    }

    static func push(_ procore: StandIn, _ spectrum: StandIn, ledger: String) -> [String] {
        ["--ledger", ledger, "--procore-api-url", procore.baseURL.absoluteString, "--procore-login-url", procore.baseURL.absoluteString,
         "--procore-company-id", company, "--procore-client-id", "standin-client", "--spectrum-dex-url", spectrum.baseURL.absoluteString]
    }

    static let secrets = ["PROCORE_CLIENT_SECRET": "standin-secret", "SPECTRUM_AUTHORIZATION_ID": authorization]

    @Test func fortyApprovedChangeOrdersReachSpectrumOnceAndProcoreIsToldOnce() throws {
        let folder = TemporaryFolder()
        for index in 0..<40 { folder.write("in/pcco-\(index).json", try Self.event(index)) }
        // One Spectrum refuses (its number), one our own rules refuse (no transaction date).
        folder.write("in/pcco-bad.json", try Self.event(40, withoutDate: true))
        let ledger = folder.file("l.sqlite")
        let run = try Tool.run("sov-run", ["--ledger", ledger, "--project-map", "samples/project-map.csv", "--out", folder.file("out"), folder.file("in")])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("[CO001]"))
        #expect(run.stderr.contains("40 exported"))

        let procore = try StandIn(script: "tools/standins/procore_standin.py", arguments: ["--company-id", Self.company], maxLifetime: 300)
        defer { procore.stop() }
        let spectrum = try StandIn(script: "tools/standins/spectrum_standin.py", arguments: ["--authorization-id", Self.authorization], maxLifetime: 300)
        defer { spectrum.stop() }
        _ = try spectrum.post("/__standin/faults", json: #"{"every_nth_fault": 7, "lose_response": [{"count": 1, "skip": 20}], "refuse_numbers": ["139"]}"#)
        _ = try procore.post("/__standin/faults", json: #"{"every_nth_503": 13, "every_nth_429": 17, "retry_after": 0}"#)

        let arguments = Self.push(procore, spectrum, ledger: ledger)
        #expect(try Tool.killAfter(1_200, "sov-push", arguments, environment: Self.secrets), "the kill came after the push had finished")

        let final = try Tool.run("sov-push", arguments, environment: Self.secrets)
        #expect(final.status == 1, "one refused: \(final.stderr)")
        #expect(final.stderr.contains("Spectrum refused"))

        // Each change request once in Spectrum, with the sample's exact amounts.
        let stored = try spectrum.get("/__standin/state")["change_requests"]?.arrayValue ?? []
        #expect(stored.count == 39)
        #expect(Set(stored.compactMap { $0["number"]?.stringValue }) == Set((0..<39).map { String(100 + $0) }))
        for request in stored {
            let billing = request["billing"]?.arrayValue ?? []
            #expect(try total(billing.map { $0["CR_Revenue"]?.stringValue }) == money("3641.05"))
            let estimates = request["estimates"]?.arrayValue ?? []
            #expect(try total(estimates.map { $0["Change_Request_Amount"]?.stringValue }) == money("3500.00"))
        }

        // Procore: each Request Detail closed once, as success or failed with the reason.
        let state = try procore.get("/__standin/state")
        let details = Dictionary(uniqueKeysWithValues: (state["request_details"]?.arrayValue ?? []).compactMap { detail in
            detail["id"]?.scalarText.map { ($0, detail) }
        })
        #expect(details.count == 41)
        for index in 0..<39 { #expect(details[String(5_000 + index)]?["status"]?.stringValue == "success", "detail \(5_000 + index)") }
        let refusedBySpectrum = try #require(details["5039"])
        #expect(refusedBySpectrum["status"]?.stringValue == "failed")
        #expect(refusedBySpectrum["messages"]?.arrayValue?.first?.stringValue?.hasPrefix("Spectrum refused") == true)
        let refusedByUs = try #require(details["5040"])
        #expect(refusedByUs["status"]?.stringValue == "failed")
        let reason = refusedByUs["messages"]?.arrayValue?.first?.stringValue ?? ""
        #expect(reason.hasPrefix("[CO001]") && !reason.contains("/in/"), "in words, without file paths: \(reason)")
        // External Data: the change order, its two lines and two markups for each one in Spectrum.
        let external = state["external_data"]?.arrayValue ?? []
        #expect(external.filter { $0["item_type"]?.stringValue == "change_order" }.count == 39)
        #expect(external.filter { $0["item_type"]?.stringValue == "line_item" }.count == 78)
        #expect(external.filter { $0["item_type"]?.stringValue == "markup" }.count == 2, "the two markups are the same in every event")
        #expect(external.contains { $0["origin_id"]?.stringValue == "spectrum:1:24-1017:OWN100:cr:100" })

        // A re-run makes no call.
        let procoreCalls = try procore.get("/__standin/requests").arrayValue?.count ?? 0
        let spectrumCalls = try spectrum.get("/__standin/requests").arrayValue?.count ?? 0
        let again = try Tool.run("sov-push", arguments, environment: Self.secrets)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try procore.get("/__standin/requests").arrayValue?.count == procoreCalls)
        #expect(try spectrum.get("/__standin/requests").arrayValue?.count == spectrumCalls)
        let units = try ledgerList(ledger)
        #expect(units.filter { $0.text("state") == "delivered" }.count == 40)
        #expect(units.filter { $0.text("state") == "refused" }.count == 1)
    }

    /// The inferred Show ERP Request call: the payload into a file for the inbox.
    @Test func fetchERPRequestWritesThePayload() throws {
        let folder = TemporaryFolder()
        let procore = try StandIn(script: "tools/standins/procore_standin.py", arguments: ["--company-id", Self.company], maxLifetime: 120)
        defer { procore.stop() }
        let payload = try Self.event(7)
        _ = try procore.post("/__standin/erp_requests", json: "{\"2000007\": \(payload)}")
        let arguments = ["fetch-erp-request", "2000007", "--out", folder.file("inbox/req.json"),
                         "--procore-api-url", procore.baseURL.absoluteString, "--procore-login-url", procore.baseURL.absoluteString,
                         "--procore-company-id", Self.company, "--procore-client-id", "standin-client"]
        let fetched = try Tool.run("sov-push", arguments, environment: Self.secrets)
        #expect(fetched.status == 0, "\(fetched.stderr)")
        let parsed = try Tool.run("sov-parse", [folder.file("inbox/req.json")])
        #expect(parsed.status == 0, "\(parsed.stderr)")
        let document = try #require(try parsed.jsonLines().first)
        #expect(document.text("erp", "request_detail_id") == "5007")
        #expect(document.text("number") == "107")
        let missing = try Tool.run("sov-push", ["fetch-erp-request", "99"] + arguments.dropFirst(2), environment: Self.secrets)
        #expect(missing.status == 1)
    }
}
