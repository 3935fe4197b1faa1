import Foundation
import SOVCore

/// Every reading of a Procore response body or header that DELIVERY.md leaves open, in one place.
/// Each member marked ASSUMPTION is to be checked against a real sandbox before production use;
/// the stand-in (tools/standins/procore_standin.py) answers the same way, so tests cannot catch
/// a wrong guess here.
public enum ProcoreResponseShapes {
    /// The id of a created or shown object: `{"id": 123, …}` (OAS shows integer ids for v1.0;
    /// v2.0 uses strings, so both are accepted). Kept as text: ids may exceed 32 bits.
    public static func id(of object: JSONValue) -> String? {
        guard let value = object["id"], let text = value.scalarText, !text.isEmpty else { return nil }
        return text
    }

    /// ASSUMPTION (not published: DELIVERY.md §6 "PCCO response schema"): the prime change order's
    /// create/show/list representation carries `"potential_change_orders": [{"id": N}]`, the PCO
    /// that single-tier projects create with it and that holds its lines. The stand-in models the
    /// same shape (Handler.change_order_view).
    public static func potentialChangeOrderId(ofPrimeChangeOrder object: JSONValue) -> String? {
        guard let first = object["potential_change_orders"]?.arrayValue?.first else { return nil }
        return id(of: first)
    }

    /// ASSUMPTION for the prime change order list (schema not published): a bare JSON array, like
    /// the v1.0 prime contract and markup lists whose schemas are published.
    public static func listItems(_ body: JSONValue) -> [JSONValue]? {
        body.arrayValue
    }

    /// The `rel="next"` URL of a `Link` header (PDOC pagination.md), absent on the last page.
    public static func nextPage(linkHeader: String?) -> URL? {
        guard let linkHeader else { return nil }
        for part in linkHeader.split(separator: ",") {
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = pieces.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            let isNext = pieces.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "rel=\"next\"" || $0 == "rel=next" }
            if isNext { return URL(string: String(target.dropFirst().dropLast())) }
        }
        return nil
    }

    /// A sync response (DELIVERY.md §2.3): `{entities: [...], errors: [...]}`, always HTTP 200.
    public static func syncResult(_ body: JSONValue) -> (entities: [JSONValue], errors: [JSONValue])? {
        guard let entities = body["entities"]?.arrayValue else { return nil }
        return (entities, body["errors"]?.arrayValue ?? [])
    }

    /// One sync error entry as text: it echoes the submitted attributes plus
    /// `errors: {field: [message]}` (PDOC using_sync_actions.md). Messages are kept verbatim.
    public static func describeSyncError(_ entry: JSONValue) -> String {
        let key = entry["origin_id"]?.scalarText ?? entry["id"]?.scalarText ?? "item"
        guard let members = entry["errors"]?.members else {
            return "\(key): \(entry["errors"]?.text ?? entry.text)"
        }
        let fields = members.map { member -> String in
            let messages = member.value.arrayValue?.map { $0.scalarText ?? $0.text } ?? [member.value.scalarText ?? member.value.text]
            return "\(member.key) \(messages.joined(separator: ", "))"
        }
        return "\(key): \(fields.joined(separator: "; "))"
    }

    /// The token response (oauth_token.create.response.schema.json): access_token required;
    /// expires_in and created_at optional (then 5400 s from now, the documented lifetime).
    public static func token(_ body: JSONValue) -> (accessToken: String, expiresIn: Double?, createdAt: Double?)? {
        guard let token = body["access_token"]?.stringValue, !token.isEmpty else { return nil }
        return (token, body["expires_in"]?.scalarText.flatMap(Double.init), body["created_at"]?.scalarText.flatMap(Double.init))
    }
}
