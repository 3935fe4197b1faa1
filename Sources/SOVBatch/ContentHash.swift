import SOVCore

/// What the ledger compares between runs: the canonical document without where it came from.
/// `source` (file and line, at any depth: lines carry one too) and `diagnostics` (warnings of
/// this run) are left out, so the same contract read from another file name is "unchanged".
///
/// Ledgers hold SHA-256 hashes of exactly these bytes: a change to them would make every
/// document "updated" after an upgrade. They were first made by filtering the document's tree
/// and writing its text; that function is kept in the tests as the oracle these bytes must match
/// (ContentHashTests).
public enum ContentHash {
    /// What the comparable form leaves out. `erp` is how Procore's ERP loop is closed (ids of
    /// the event), not what is exported.
    static let leftOut = JSONMemberFilter(topLevel: ["diagnostics", "source", "erp"], everywhere: ["source"])

    /// The document as the ledger stores and compares it: compact JSON, written straight from
    /// the document (no tree in between).
    public static func comparableText(_ document: CanonicalDocument) -> [UInt8] {
        var bytes: [UInt8] = []
        document.writeJSON(into: &bytes, omitting: leftOut)
        return bytes
    }

    /// The comparable document as a tree, to say what changed.
    public static func comparable(_ document: CanonicalDocument) -> JSONValue {
        (try? JSONParser.parse(comparableText(document))) ?? .null
    }

    /// SHA-256 (hex) of the comparable document's compact JSON text.
    public static func of(_ document: CanonicalDocument) -> String {
        SHA256.hex(comparableText(document))
    }
}

/// "What changed" between the version last exported and this one, in words for the report and
/// the dry run: top-level fields (one level into objects such as `customer` or `computed`),
/// markups by name, and lines by billing item code (or position) with their amounts.
public enum DocumentChanges {
    public static let maximumEntries = 25

    public static func describe(from old: JSONValue, to new: JSONValue) -> [String] {
        var changes: [String] = []
        let skipped: Set<String> = ["kind", "schema", "source", "diagnostics"]
        for key in keys(old, new) where !skipped.contains(key) {
            let before = old[key] ?? .null
            let after = new[key] ?? .null
            guard before != after else { continue }
            switch (before, after) {
            case (.array, _), (_, .array):
                changes += describeList(key, before.arrayValue ?? [], after.arrayValue ?? [])
            case (.object, .object):
                var inner: [String] = []
                for child in keys(before, after) {
                    let a = before[child] ?? .null
                    let b = after[child] ?? .null
                    if a != b, isScalar(a), isScalar(b) { inner.append("\(key).\(child): \(show(a)) -> \(show(b))") }
                }
                changes += inner.isEmpty ? ["\(key) changed"] : inner
            default:
                changes.append(isScalar(before) && isScalar(after) ? "\(key): \(show(before)) -> \(show(after))" : "\(key) changed")
            }
        }
        if changes.count > maximumEntries {
            let more = changes.count - maximumEntries + 1
            changes = Array(changes.prefix(maximumEntries - 1)) + ["and \(more) more changes"]
        }
        return changes
    }

    /// Lines keyed by `code` (prime contract SOV), markups by `name`, else by position.
    private static func describeList(_ field: String, _ old: [JSONValue], _ new: [JSONValue]) -> [String] {
        let noun = field == "lines" ? "line" : (field == "markups" ? "markup" : field)
        func keyed(_ items: [JSONValue]) -> [(String, JSONValue)]? {
            for name in ["code", "name"] {
                let keys = items.compactMap { $0[name]?.stringValue }
                if keys.count == items.count, Set(keys).count == keys.count, !items.isEmpty { return Array(zip(keys, items)) }
            }
            return nil
        }
        let oldItems = keyed(old) ?? old.enumerated().map { (String($0.offset + 1), $0.element) }
        let newItems = keyed(new) ?? new.enumerated().map { (String($0.offset + 1), $0.element) }
        let oldByKey = Dictionary(oldItems, uniquingKeysWith: { first, _ in first })
        let newKeys = Set(newItems.map(\.0))
        var changes: [String] = []
        for (key, item) in newItems {
            guard let previous = oldByKey[key] else {
                changes.append("\(noun) \(key) added" + (summaryAmount(item).map { " (\($0))" } ?? ""))
                continue
            }
            guard previous != item else { continue }
            var parts: [String] = []
            var others: [String] = []
            for child in keys(previous, item) where child != "source" {
                let a = previous[child] ?? .null
                let b = item[child] ?? .null
                guard a != b else { continue }
                if ["amount", "percent"].contains(child) { parts.append("\(child) \(show(a)) -> \(show(b))") } else { others.append(child) }
            }
            if !others.isEmpty { parts.append(others.joined(separator: ", ") + " changed") }
            if !parts.isEmpty { changes.append("\(noun) \(key): " + parts.joined(separator: "; ")) }
        }
        for (key, item) in oldItems where !newKeys.contains(key) {
            changes.append("\(noun) \(key) removed" + (summaryAmount(item).map { " (was \($0))" } ?? ""))
        }
        return changes
    }

    private static func summaryAmount(_ item: JSONValue) -> String? {
        (item["amount"] ?? item["percent"]).flatMap { isScalar($0) && !$0.isNull ? show($0) : nil }
    }

    private static func keys(_ a: JSONValue, _ b: JSONValue) -> [String] {
        var seen = Set<String>()
        var result: [String] = []
        for member in (b.members ?? []) + (a.members ?? []) where seen.insert(member.key).inserted { result.append(member.key) }
        return result
    }

    private static func isScalar(_ value: JSONValue) -> Bool {
        switch value {
        case .array, .object: false
        default: true
        }
    }

    private static func show(_ value: JSONValue) -> String {
        switch value {
        case .null: "none"
        case .string(let text): text.isEmpty ? "''" : text
        default: value.text
        }
    }
}
