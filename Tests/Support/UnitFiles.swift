/// Outbox units in assertions: `00000003-spectrum-1-24-1017-own100-co-001-57d2be6cff.json` is
/// known by its slug and extension, `spectrum-1-24-1017-own100-co-001.json` (sequence and hash
/// depend on the order of the run).
public enum UnitFiles {
    public static func slug(_ name: String) -> String? {
        guard let dot = name.lastIndex(of: "."), name.count > 20 else { return nil }
        let stem = name[..<dot]
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].count >= 8, parts[0].allSatisfy(\.isNumber), parts.last!.count == 10 else { return nil }
        return parts.dropFirst().dropLast().joined(separator: "-") + String(name[dot...])
    }
}
