/// Members a JSON description leaves out, by key: the ledger's comparable form of a document
/// (`ContentHash`) is its canonical JSON without where it came from and this run's warnings.
public struct JSONMemberFilter: Sendable {
    /// Keys left out of the outermost object.
    public let topLevel: [String]
    /// Keys left out of every object, at any depth.
    public let everywhere: [String]

    /// The UTF-8 lengths of all those keys, bit n for n bytes (all of 64 and more in bit 63): a
    /// key of another length is kept without comparing strings, as nearly every key is.
    private let lengths: UInt64
    /// Whether a lump-sum SOV line below the outermost object keeps every member but perhaps
    /// its source (which `leavesOut` then says): `FilteringJSONOutput` may have it written whole.
    let keepsSOVLineMembers: Bool
    /// Whether a line's source goes, below the outermost object (`leavesOut(source, depth: 2...)`):
    /// asked for every SOV line, so known once.
    let leavesOutNestedSources: Bool

    public init(topLevel: [String], everywhere: [String]) {
        self.topLevel = topLevel
        self.everywhere = everywhere
        lengths = (topLevel + everywhere).reduce(0) { $0 | JSONMemberFilter.lengthBit($1) }
        keepsSOVLineMembers = ![JSONKey.code, .description, .additionalDescription, .amount, .costCode, .group].contains { everywhere.contains($0.name) }
        leavesOutNestedSources = everywhere.contains(JSONKey.source.name)
    }

    @inline(__always)
    private static func lengthBit(_ key: String) -> UInt64 { 1 << UInt64(min(key.utf8.count, 63)) }

    /// `value` without the members left out, as if it stood at `depth` (1: inside the
    /// outermost object). For values handed over whole (`JSONOutput.value`).
    func filtered(_ value: JSONValue, depth: Int) -> JSONValue {
        switch value {
        case .object(let members):
            let kept = members.filter { !leavesOut($0.key, depth: depth + 1) }
            return .object(kept.map { JSONMember($0.key, filtered($0.value, depth: depth + 1)) })
        case .array(let values):
            return .array(values.map { filtered($0, depth: depth + 1) })
        default:
            return value
        }
    }

    /// Whether a member with `key`, in an object that is at `depth` (1: the outermost), goes.
    @inline(__always)
    func leavesOut(_ key: String, depth: Int) -> Bool {
        guard lengths & JSONMemberFilter.lengthBit(key) != 0 else { return false }
        return everywhere.contains(key) || (depth == 1 && topLevel.contains(key))
    }
}

/// Passes a description on to `base`, without the members `filter` leaves out (each with its
/// whole value), so that a type's one `encode(into:)` also writes a filtered form, straight as
/// bytes, with no tree in between.
struct FilteringJSONOutput<Base: JSONOutput>: JSONOutput {
    var base: Base
    let filter: JSONMemberFilter
    /// Containers open in `base` (1: inside the outermost).
    private var depth = 0
    /// The value about to start is left out.
    private var dropsNext = false
    /// Containers open inside a value being left out (0: none is being left out).
    private var droppedDepth = 0

    init(base: Base, filter: JSONMemberFilter) {
        self.base = base
        self.filter = filter
    }

    /// Whether the value starting now goes (and, for a container, everything in it).
    @inline(__always)
    private mutating func drops(opening: Bool) -> Bool {
        if droppedDepth > 0 {
            if opening { droppedDepth += 1 }
            return true
        }
        if dropsNext {
            dropsNext = false
            if opening { droppedDepth = 1 }
            return true
        }
        return false
    }

    @inline(__always)
    private mutating func dropsClosing() -> Bool {
        guard droppedDepth > 0 else { return false }
        droppedDepth -= 1
        return true
    }

    mutating func beginObject() {
        if drops(opening: true) { return }
        depth += 1
        base.beginObject()
    }

    mutating func endObject() {
        if dropsClosing() { return }
        depth -= 1
        base.endObject()
    }

    mutating func beginArray() {
        if drops(opening: true) { return }
        depth += 1
        base.beginArray()
    }

    mutating func endArray() {
        if dropsClosing() { return }
        depth -= 1
        base.endArray()
    }

    /// Whether the member named `name` goes on to `base` (if not, its value is left out too).
    @inline(__always)
    private mutating func passes(key name: String) -> Bool {
        if droppedDepth > 0 { return false }
        if filter.leavesOut(name, depth: depth) {
            dropsNext = true
            return false
        }
        return true
    }

    mutating func key(_ key: String) {
        if passes(key: key) { base.key(key) }
    }

    mutating func key(_ key: JSONKey) {
        if passes(key: key.name) { base.key(key) }
    }

    /// A line below the outermost object, none of whose members but its source is left out,
    /// goes to the base writer whole (without its source when that is left out).
    mutating func sovLine(_ line: UnsafePointer<SOVLine>, withSource: Bool) -> Bool {
        guard droppedDepth == 0, !dropsNext, depth >= 1, filter.keepsSOVLineMembers else { return false }
        // The line's members are at depth + 1, 2 or more: only `everywhere` can leave them out.
        return base.sovLine(line, withSource: withSource && !filter.leavesOutNestedSources)
    }

    mutating func string(_ text: String) {
        if !drops(opening: false) { base.string(text) }
    }

    mutating func number(_ text: String) {
        if !drops(opening: false) { base.number(text) }
    }

    mutating func bool(_ value: Bool) {
        if !drops(opening: false) { base.bool(value) }
    }

    mutating func null() {
        if !drops(opening: false) { base.null() }
    }

    mutating func value(_ value: JSONValue) {
        if !drops(opening: false) { base.value(filter.filtered(value, depth: depth)) }
    }

    mutating func integer(_ value: Int) {
        if !drops(opening: false) { base.integer(value) }
    }

    mutating func money(_ value: Money) {
        if !drops(opening: false) { base.money(value) }
    }
}
