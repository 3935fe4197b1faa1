import Foundation
import SOVCore
import SOVTestSupport
@testable import SOVDelivery

/// The Spectrum stand-in (tools/standins/spectrum_standin.py) for one test, started through the
/// shared `StandIn` launcher (bounded start-up, `--max-lifetime`, SIGTERM then SIGKILL on stop).
final class SpectrumStandIn: Sendable {
    static let authorizationID = "sovbridge01"

    let standIn: StandIn
    private let transport = URLSessionTransport()

    var baseURL: URL { standIn.baseURL }

    init(guidTimeoutAfter: Int? = nil) throws {
        var arguments = ["--authorization-id", Self.authorizationID, "--company", "1"]
        if let guidTimeoutAfter { arguments += ["--guid-timeout-after", String(guidTimeoutAfter)] }
        standIn = try StandIn(script: "tools/standins/spectrum_standin.py", arguments: arguments)
    }

    func stop() { standIn.stop() }

    func setFaults(_ json: String) throws { try standIn.post("/__standin/faults", json: json) }
    func state() throws -> JSONValue { try standIn.get("/__standin/state") }
    func requests() throws -> [JSONValue] { try standIn.get("/__standin/requests").arrayValue ?? [] }

    /// Settings pointing at this stand-in.
    func settings(authorizationID: String = SpectrumStandIn.authorizationID) -> SpectrumDEXSettings {
        SpectrumDEXSettings(dexURL: baseURL, authorizationID: SpectrumAuthorizationID(authorizationID)!, requestTimeout: 5)
    }

    func deliverer(authorizationID: String = SpectrumStandIn.authorizationID) -> SpectrumDeliverer {
        let policy = RetryPolicy(maxAttempts: 6, baseDelay: 0.01, maxDelay: 0.05)
        var bounded = policy
        bounded.deadline = policy.deadline(in: 15)
        return SpectrumDeliverer(client: SpectrumDEXClient(settings: settings(authorizationID: authorizationID), transport: transport), retryPolicy: bounded)
    }
}

/// Amounts per line of a change request, as exact money: estimates keyed "phase/costtype",
/// billing keyed by item.
struct SpectrumAmounts: Equatable, CustomStringConvertible {
    var estimates: [String: Money] = [:]
    var billing: [String: Money] = [:]

    var description: String {
        let e = estimates.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let b = billing.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        return "estimates \(e) billing \(b)"
    }

    /// What a unit says Spectrum should hold.
    init(unit: SpectrumUnit) throws {
        for record in unit.records {
            if !record["CR_Phase_Code"].isEmpty {
                estimates["\(record["CR_Phase_Code"])/\(record["CR_Cost_Type"])"] = try Money.parse(record["Change_Request_Amount"])
            }
            if !record["CR_Billing_Item_Code"].isEmpty {
                billing[record["CR_Billing_Item_Code"]] = try Money.parse(record["CR_Revenue"])
            }
        }
    }

    /// What the stand-in holds for one stored change request.
    init(stored: JSONValue) throws {
        for line in stored["estimates"]?.arrayValue ?? [] {
            let key = "\(line["CR_Phase_Code"]?.stringValue ?? "")/\(line["CR_Cost_Type"]?.stringValue ?? "")"
            estimates[key] = try Money.parse(line["Change_Request_Amount"]?.stringValue ?? "")
        }
        for line in stored["billing"]?.arrayValue ?? [] {
            billing[line["CR_Billing_Item_Code"]?.stringValue ?? ""] = try Money.parse(line["CR_Revenue"]?.stringValue ?? "")
        }
    }
}
