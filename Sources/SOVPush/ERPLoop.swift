import SOVCore
import SOVDelivery

/// Procore's ERP export loop (DELIVERY.md §5.2): once a change order is in Spectrum, write the
/// Spectrum keys back to Procore (External Data) and close the export's Request Detail as
/// `success`; when Spectrum, or our own validation, says no, close it as `failed` with one
/// message per problem, so the change order comes back in Procore to be fixed. Both calls are
/// PATCHes that may be repeated: a push killed between them sends them again, harmlessly.
public enum ERPLoop {
    /// Paths of the ERP calls. Show ERP Request's path is not in Procore's public text
    /// (DELIVERY.md §5.1 marks it inferred): it lives here alone, to be checked on a real sandbox.
    public static func showRequestPath(company: String, id: String) -> String { "/rest/v1.0/companies/\(company)/erp_requests/\(id)" }
    static func externalDataPath(company: String) -> String { "/rest/v1.0/companies/\(company)/external_data/sync" }
    static func requestDetailPath(company: String, id: String) -> String { "/rest/v1.0/companies/\(company)/erp_request_details/\(id)" }

    /// The origin ids written back: the Spectrum change request and, under it, each PCCO line
    /// and markup (unique per item type in the company, as External Data requires).
    static func spectrumKey(company: String, job: String, customer: String, number: String) -> String {
        "spectrum:\(company):\(job):\(customer):cr:\(number)"
    }

    /// External Data for the change order, its lines and markups (`erp` as the reader kept it).
    static func externalData(erp: JSONValue, changeOrderId: String, key: String) -> JSONValue {
        var updates: [JSONValue] = [item("change_order", changeOrderId, key)]
        for (index, id) in (erp["line_ids"]?.arrayValue ?? []).enumerated() {
            guard let id = id.scalarText else { continue }
            updates.append(item("line_item", id, "\(key):line:\(index + 1)"))
        }
        for entry in erp["markup_ids"]?.arrayValue ?? [] {
            guard let name = entry["name"]?.stringValue, let id = entry["id"]?.scalarText else { continue }
            updates.append(item("markup", id, "\(key):markup:\(name)"))
        }
        return .object([JSONMember("updates", .array(updates))])
    }

    private static func item(_ type: String, _ id: String, _ origin: String) -> JSONValue {
        .object([JSONMember("item_type", .string(type)), JSONMember("item_id", .number(id)), JSONMember("origin_id", .string(origin))])
    }

    static func requestDetail(success: Bool, messages: [String]) -> JSONValue {
        var detail: [JSONMember] = [JSONMember("status", .string(success ? "success" : "failed"))]
        if !messages.isEmpty { detail.append(JSONMember("messages", .array(messages.map(JSONValue.string)))) }
        return .object([JSONMember("request_detail", .object(detail))])
    }

    /// Writes the keys back (when Procore's change order id is known) and closes the Request
    /// Detail as success (when there is one).
    static func succeed(_ client: ProcoreClient, erp: JSONValue, changeOrderId: String?, key: String) throws(ProcoreError) {
        let company = client.settings.companyId
        if let changeOrderId {
            let response = try client.send(method: "PATCH", path: externalDataPath(company: company), body: externalData(erp: erp, changeOrderId: changeOrderId, key: key))
            if let errors = response.json?["errors"]?.arrayValue, !errors.isEmpty {
                throw .refused(message: "External Data refused: \(JSONValue.array(errors).text)", status: response.status)
            }
        }
        if let detail = erp["request_detail_id"]?.scalarText {
            _ = try client.send(method: "PATCH", path: requestDetailPath(company: company, id: detail), body: requestDetail(success: true, messages: []))
        }
    }

    /// Closes the Request Detail as failed, with the messages the accountant sees in Procore.
    static func fail(_ client: ProcoreClient, requestDetailId: String, messages: [String]) throws(ProcoreError) {
        _ = try client.send(
            method: "PATCH", path: requestDetailPath(company: client.settings.companyId, id: requestDetailId),
            body: requestDetail(success: false, messages: messages))
    }

    /// What Spectrum's column is in our words: the change order field it was written from.
    static func ourField(forSpectrumColumn column: String) -> String? {
        switch column {
        case "Change_Request_Number", "Change_Order_Number": "number"
        case "CR_Description", "Description": "description"
        case "CR_Billing_Item_Description", "Additional_Description": "title"
        case "Origination_Date", "Change_Order_Date": "date"
        case "Approved_Date": "approved_date"
        case "Approved_Days": "schedule_impact_days"
        case "CR_Billing_Item_Code", "CO_Billing_Item_Code": "lines[].associated_line"
        case "CR_Phase_Code": "lines[].cost_code"
        case "CR_Cost_Type": "lines[].cost_type"
        case "CR_Revenue", "Revenue", "Change_Request_Amount": "lines[].amount"
        case "Company_Code", "Job_Number", "Customer_Code": "contract"
        case "CR_Status", "Status_Code": "status"
        default: nil
        }
    }
}

/// `sov-push fetch-erp-request ID`: an ERP Request's payload, as the readers take it.
public enum ERPRequestFetch {
    public struct Failure: Error, Sendable {
        public var message: String
        public var status: ExitStatus
    }

    public static func fetch(id: String, settings: ProcoreSettings, transport: any HTTPTransport = URLSessionTransport()) -> Result<[UInt8], Failure> {
        let client = ProcoreClient(settings: settings, transport: transport)
        do {
            let response = try client.send(method: "GET", path: ERPLoop.showRequestPath(company: settings.companyId, id: id))
            guard let json = response.json else { return .failure(Failure(message: "Procore's answer is not JSON", status: .unavailable)) }
            var bytes: [UInt8] = []
            JSONWriter.write(json, into: &bytes)
            bytes.append(0x0A)
            return .success(bytes)
        } catch {
            switch error {
            case .refused(let message, let status): return .failure(Failure(message: "Procore refused (HTTP \(status)): \(message)", status: .someRejected))
            case .authentication(let message): return .failure(Failure(message: "Procore refused the credentials: \(message)", status: .notPermitted))
            case .failed(let message), .uncertain(let message): return .failure(Failure(message: message, status: .unavailable))
            }
        }
    }
}
