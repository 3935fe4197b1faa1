/// Where a JSON description goes: written straight out as bytes (`JSONByteOutput`), or built
/// into a `JSONValue` (`JSONTreeOutput`). A type describes its JSON once, generic over this, and
/// has both: bytes for the hot path (a document per line between stages), a tree for code that
/// looks inside (rejects, content hashes).
public protocol JSONOutput {
    mutating func beginObject()
    mutating func endObject()
    mutating func beginArray()
    mutating func endArray()
    /// The key of the next member of the open object; its value follows.
    mutating func key(_ key: String)
    mutating func string(_ text: String)
    /// A number's text, which must follow JSON's number grammar.
    mutating func number(_ text: String)
    mutating func bool(_ value: Bool)
    mutating func null()
    /// A value already built.
    mutating func value(_ value: JSONValue)
}

extension JSONOutput {
    @inlinable
    public mutating func object(_ body: (inout Self) -> Void) {
        beginObject()
        body(&self)
        endObject()
    }

    @inlinable
    public mutating func array<Elements: Sequence>(_ elements: Elements, _ body: (inout Self, Elements.Element) -> Void) {
        beginArray()
        for element in elements { body(&self, element) }
        endArray()
    }

    /// A member whose value is a string, or null when absent.
    @inlinable
    public mutating func member(_ name: String, _ text: String?) {
        key(name)
        if let text { string(text) } else { null() }
    }

    /// A member whose value is a value's description as a string (amounts, dates), or null.
    @inlinable
    public mutating func member<T: CustomStringConvertible>(_ name: String, _ value: T?) {
        key(name)
        if let value { string(value.description) } else { null() }
    }

    @inlinable
    public mutating func member(_ name: String, int value: Int?) {
        key(name)
        if let value { number(String(value)) } else { null() }
    }

    @inlinable
    public mutating func member(_ name: String, bool value: Bool?) {
        key(name)
        if let value { bool(value) } else { null() }
    }
}

/// Writes compact JSON straight into a byte buffer, with no tree in between.
public struct JSONByteOutput: JSONOutput {
    public var buffer: [UInt8]
    /// A value was written at this level, so the next one needs a comma before it.
    private var needsComma = false

    public init(buffer: [UInt8] = []) {
        self.buffer = buffer
    }

    /// Runs `body` writing into `target`, which is moved in and back out, not copied.
    public static func write(into target: inout [UInt8], _ body: (inout JSONByteOutput) -> Void) {
        var output = JSONByteOutput()
        swap(&output.buffer, &target)
        body(&output)
        swap(&output.buffer, &target)
    }

    private mutating func separate() {
        if needsComma { buffer.append(UInt8(ascii: ",")) }
    }

    private mutating func open(_ bracket: UInt8) {
        separate()
        buffer.append(bracket)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        buffer.append(bracket)
        needsComma = true
    }

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    public mutating func key(_ key: String) {
        separate()
        JSONWriter.writeString(key, into: &buffer)
        buffer.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ text: String) {
        separate()
        JSONWriter.writeString(text, into: &buffer)
        needsComma = true
    }

    public mutating func number(_ text: String) {
        separate()
        buffer.append(contentsOf: text.utf8)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        buffer.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separate()
        buffer.append(contentsOf: "null".utf8)
        needsComma = true
    }

    public mutating func value(_ value: JSONValue) {
        separate()
        JSONWriter.write(value, into: &buffer)
        needsComma = true
    }
}

/// Builds a `JSONValue` from a description.
public struct JSONTreeOutput: JSONOutput {
    private struct Open {
        /// The key the container goes under in its parent object.
        var key: String?
        var isObject: Bool
        var elements: [JSONValue] = []
        var members: [JSONMember] = []
    }

    private var open: [Open] = []
    private var pendingKey: String?
    /// The value built, once its outermost container is closed.
    public private(set) var result: JSONValue = .null

    public init() {}

    /// The value `body` describes.
    public static func build(_ body: (inout JSONTreeOutput) -> Void) -> JSONValue {
        var output = JSONTreeOutput()
        body(&output)
        return output.result
    }

    private mutating func put(_ value: JSONValue) {
        guard !open.isEmpty else {
            result = value
            return
        }
        if open[open.count - 1].isObject {
            open[open.count - 1].members.append(JSONMember(pendingKey ?? "", value))
            pendingKey = nil
        } else {
            open[open.count - 1].elements.append(value)
        }
    }

    private mutating func begin(isObject: Bool) {
        open.append(Open(key: pendingKey, isObject: isObject))
        pendingKey = nil
    }

    /// The innermost container, taken off; the key it goes under is pending again.
    private mutating func end() -> Open {
        let closed = open.removeLast()
        pendingKey = closed.key
        return closed
    }

    public mutating func beginObject() { begin(isObject: true) }
    public mutating func endObject() { put(.object(end().members)) }
    public mutating func beginArray() { begin(isObject: false) }
    public mutating func endArray() { put(.array(end().elements)) }

    public mutating func key(_ key: String) { pendingKey = key }
    public mutating func string(_ text: String) { put(.string(text)) }
    public mutating func number(_ text: String) { put(.number(text)) }
    public mutating func bool(_ value: Bool) { put(.bool(value)) }
    public mutating func null() { put(.null) }
    public mutating func value(_ value: JSONValue) { put(value) }
}
