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
    /// The same, for a key known ahead (`JSONKey`): the byte writer copies its JSON text.
    mutating func key(_ key: JSONKey)
    mutating func string(_ text: String)
    /// A number's text, which must follow JSON's number grammar.
    mutating func number(_ text: String)
    mutating func bool(_ value: Bool)
    mutating func null()
    /// A value already built.
    mutating func value(_ value: JSONValue)
    /// A whole number (as `number(String(value))`).
    mutating func integer(_ value: Int)
    /// A source location as an object (`SourceLocation.encode`); the byte writer reuses the text
    /// before the line number when the file is the one it wrote last (a document's lines).
    mutating func source(_ location: SourceLocation)
    /// An amount as a string, as `Money.description` spells it.
    mutating func money(_ value: Money)
    /// Writes an SOV line in one go when the writer can (`JSONByteOutput`, for a line whose
    /// source follows the last one written, or, `withSource` false, a line written without its
    /// source); false, with nothing written, otherwise (then the line is described member by
    /// member, `SOVLine.encode`).
    mutating func sovLine(_ line: UnsafePointer<SOVLine>, withSource: Bool) -> Bool
}

/// A member name the canonical model writes on every line (`"code"`, `"source"`...), with its
/// JSON text (`"code":`) made once: the byte writer copies those bytes rather than checking the
/// name for escapes, member after member, line after line.
public struct JSONKey: Sendable {
    public let name: String
    /// The name as a JSON string, then a colon.
    let quoted: [UInt8]
    /// The same bytes in words, when they fit (every member name of the model does): the byte
    /// writer keeps them, no reference to count, and stores them with the value that follows.
    let packed: PackedText?

    public init(_ name: String) {
        self.name = name
        var quoted: [UInt8] = []
        JSONWriter.writeString(name, into: &quoted)
        quoted.append(UInt8(ascii: ":"))
        self.quoted = quoted
        packed = PackedText(quoted)
    }
}

/// Up to 32 bytes held in words (zeros after them), stored four words at a time.
struct PackedText: Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    var count = 0

    init() {}

    /// `name` as a JSON string and a colon, when it needs no escaping and fits.
    init?(key name: String) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let count: Int? = name.utf8.withContiguousStorageIfAvailable { utf8 in
            guard utf8.count <= 29 else { return nil }
            return withUnsafeMutableBytes(of: &words) { raw in
                let out = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
                out[0] = UInt8(ascii: "\"")
                guard JSONByteOutput.copyUnlessEscaped(utf8, to: out + 1) else { return nil }
                out[utf8.count + 1] = UInt8(ascii: "\"")
                out[utf8.count + 2] = UInt8(ascii: ":")
                return utf8.count + 3
            }
        } ?? nil
        guard let count else { return nil }
        self.words = words
        self.count = count
    }

    init?(_ bytes: [UInt8]) {
        guard bytes.count <= 32 else { return nil }
        withUnsafeMutableBytes(of: &words) { $0.copyBytes(from: bytes) }
        count = bytes.count
    }

    /// Stores all 32 bytes at `target` (room for them needed): the `count` that matter, then
    /// zeros for the writer to write over.
    @inline(__always)
    func store(at target: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(target).storeBytes(of: words, as: (UInt64, UInt64, UInt64, UInt64).self)
    }
}

extension JSONOutput {
    public mutating func sovLine(_ line: UnsafePointer<SOVLine>, withSource: Bool) -> Bool { false }
    public mutating func source(_ location: SourceLocation) { location.encode(into: &self) }
    public mutating func key(_ key: JSONKey) { self.key(key.name) }
    public mutating func integer(_ value: Int) { number(String(value)) }
    public mutating func money(_ value: Money) { string(value.description) }

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
        if let value { integer(value) } else { null() }
    }

    /// A member whose value is an amount as a string, or null (chosen over the generic
    /// `CustomStringConvertible` member, so that the byte writer spells it without a String).
    @inlinable
    public mutating func member(_ name: String, _ value: Money?) {
        key(name)
        if let value { money(value) } else { null() }
    }

    @inlinable
    public mutating func member(_ name: String, bool value: Bool?) {
        key(name)
        if let value { bool(value) } else { null() }
    }

    /// The members above, under a key known ahead.
    @inlinable
    public mutating func member(_ name: JSONKey, _ text: String?) {
        key(name)
        if let text { string(text) } else { null() }
    }

    @inlinable
    public mutating func member(_ name: JSONKey, _ value: Money?) {
        key(name)
        if let value { money(value) } else { null() }
    }

    @inlinable
    public mutating func member(_ name: JSONKey, int value: Int?) {
        key(name)
        if let value { integer(value) } else { null() }
    }
}

/// Writes compact JSON straight into a byte buffer, with no tree in between.
///
/// The bytes go into `storage` through raw pointers: `storage` is kept longer than what was
/// written (zero-filled slack, cut off when done), so that each write is a capacity check and
/// stores, not an `Array.append` (a generic call and a uniqueness check per piece).
public struct JSONByteOutput: JSONOutput {
    private var storage: [UInt8]
    /// Bytes of `storage` written; the rest is slack.
    private var written: Int
    /// A value was written at this level, so the next one needs a comma before it.
    private var needsComma = false
    /// The file of the last source location written with no record number, and where its text
    /// (`{"file":...,"line":`, before the number) lies in `storage`.
    private var sourceFile: String?
    private var sourcePrefix: Range<Int> = 0..<0
    /// A key known ahead (`key(_: JSONKey)`) not written yet: it goes out with its value, in the
    /// value's write (one capacity check and one uniqueness check for the member, not two).
    private var pendingKey = PackedText()

    public init(buffer: [UInt8] = []) {
        storage = buffer
        written = buffer.count
    }

    /// What has been written.
    public var buffer: [UInt8] {
        get { Array(storage[..<written]) }
        set {
            storage = newValue
            written = newValue.count
            sourceFile = nil
            pendingKey.count = 0
        }
    }

    /// Runs `body` writing into `target`, which is moved in and back out, not copied.
    public static func write(into target: inout [UInt8], _ body: (inout JSONByteOutput) -> Void) {
        var output = JSONByteOutput()
        swap(&output.storage, &target)
        output.written = output.storage.count
        body(&output)
        output.trim()
        swap(&output.storage, &target)
    }

    /// Cuts the slack off `storage`.
    private mutating func trim() {
        if storage.count > written { storage.removeLast(storage.count - written) }
    }

    /// Lets `body` write at most `count` bytes at the end; it returns how many it wrote.
    @inline(__always)
    private mutating func write(upTo count: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if storage.count - written < count { grow(count) }
        let start = written
        written += storage.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
    }

    /// Zeros to extend `storage` with: copied in one go, not element by element.
    private static let zeros = [UInt8](repeating: 0, count: 16 << 10)

    /// Extends the slack to at least `count` bytes (more, up to 4 KB, when the capacity
    /// allows: slack is zero-filled, so growing in steps keeps that cost per byte written).
    private mutating func grow(_ count: Int) {
        let needed = count - (storage.count - written)
        if storage.capacity < storage.count + needed {
            storage.reserveCapacity(max(storage.capacity * 2, storage.count + needed + Self.zeros.count))
        }
        var adding = max(needed, min(storage.capacity - storage.count, 4096))
        Self.zeros.withUnsafeBufferPointer { zeros in
            while adding > 0 {
                let piece = min(adding, zeros.count)
                storage.append(contentsOf: UnsafeBufferPointer(rebasing: zeros[..<piece]))
                adding -= piece
            }
        }
    }

    /// The separator a value needs, and whether it needs one.
    @inline(__always)
    private var comma: Int { needsComma ? 1 : 0 }

    /// Lets `body` write a value (or a key given as a String) of at most `count` bytes, after
    /// the comma it needs and the key pending for it; `body` returns how many it wrote.
    @inline(__always)
    private mutating func writeValue(upTo count: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        let comma = self.comma
        let key = pendingKey
        pendingKey.count = 0
        write(upTo: count + 33) { out in
            out[0] = UInt8(ascii: ",")
            if key.count > 0 { key.store(at: out + comma) }
            let start = comma + key.count
            return start + body(out + start)
        }
    }

    private mutating func open(_ bracket: UInt8) {
        writeValue(upTo: 1) { out in
            out[0] = bracket
            return 1
        }
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        write(upTo: 1) { out in
            out[0] = bracket
            return 1
        }
        needsComma = true
    }

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    public mutating func key(_ key: String) {
        // A short plain name is held as a key known ahead is, and goes out with its value.
        if let packed = PackedText(key: key) {
            pendingKey = packed
            return
        }
        quoted(key, colon: true)
        needsComma = false
    }

    public mutating func key(_ key: JSONKey) {
        if let packed = key.packed {
            // The comma before the member, if needed, goes out with the value.
            pendingKey = packed
            return
        }
        key.quoted.withUnsafeBufferPointer { text in
            let comma = self.comma
            write(upTo: text.count + 1) { out in
                out[0] = UInt8(ascii: ",")
                JSONByteOutput.copy(text.baseAddress!, count: text.count, to: out + comma)
                return comma + text.count
            }
        }
        needsComma = false
    }

    public mutating func string(_ text: String) {
        quoted(text, colon: false)
        needsComma = true
    }

    /// `text` as a JSON string (after a comma when one is needed, before a colon for a key),
    /// escaped as `JSONWriter.writeString` escapes it. The UTF-8 is taken without copying the
    /// String (a small one is put on the stack by the standard library).
    private mutating func quoted(_ text: String, colon: Bool) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { quoted($0, colon: colon) }
        if done == nil {
            var text = text
            text.withUTF8 { quoted($0, colon: colon) }
        }
    }

    /// A string with nothing to escape (nearly every one) is checked and copied in one pass;
    /// only one that needs escaping is written a second time, escaped.
    private mutating func quoted(_ utf8: UnsafeBufferPointer<UInt8>, colon: Bool) {
        let count = utf8.count
        var escaped = false
        writeValue(upTo: count + 3) { out in
            out[0] = UInt8(ascii: "\"")
            guard JSONByteOutput.copyUnlessEscaped(utf8, to: out + 1) else {
                // The comma and the key stay; the string is written again, escaped.
                escaped = true
                return 0
            }
            return JSONByteOutput.closeQuote(out, count: count, colon: colon)
        }
        guard escaped else { return }
        write(upTo: 6 * count + 3) { out in
            out[0] = UInt8(ascii: "\"")
            let count = JSONByteOutput.escape(utf8, into: out + 1)
            return JSONByteOutput.closeQuote(out, count: count, colon: colon)
        }
    }

    /// Puts the closing quote (and the colon of a key) after the opening quote at `out` and
    /// the `count` bytes of text after it; returns the length of the whole.
    @inline(__always)
    private static func closeQuote(_ out: UnsafeMutablePointer<UInt8>, count: Int, colon: Bool) -> Int {
        out[count + 1] = UInt8(ascii: "\"")
        out[count + 2] = UInt8(ascii: ":")
        return count + (colon ? 3 : 2)
    }

    /// Whether any byte of `word` needs escaping: one below 0x20, or equal to '"', '\\' or DEL,
    /// exactly when these bit tricks leave a high bit set (each is exact as a yes or no; bytes of
    /// 0x80 and above set none of them).
    @inlinable @inline(__always)
    public static func anyNeedsEscape<Word: FixedWidthInteger & UnsignedInteger>(_ word: Word) -> Bool {
        let ones = Word.max / 0xFF
        let highs = ones &<< 7
        // Zero bytes of a word leave their high bit set here (not only they, above a zero byte;
        // but only when there is one).
        @inline(__always) func zeros(_ word: Word) -> Word { (word &- ones) & ~word }
        let below = (word &- ones &* 0x20) & ~word
        // One test for the four, not a branch each.
        return (below | zeros(word ^ (ones &* 0x22)) | zeros(word ^ (ones &* 0x5C)) | zeros(word ^ (ones &* 0x7F))) & highs != 0
    }

    /// Copies `bytes` to `out` unless one needs escaping (then what was copied is to be
    /// ignored); returns whether none did. Eight bytes at a time, the last word overlapping the
    /// one before (its bytes checked and stored twice, harmlessly), so that a short string is
    /// a few loads and stores with no call and no byte loop; four at a time the same way below
    /// eight bytes. Nothing is read or written outside `bytes` and its copy.
    @inlinable @inline(__always)
    public static func copyUnlessEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Bool {
        let count = bytes.count
        guard let base = bytes.baseAddress else { return true }
        let source = UnsafeRawPointer(base)
        let target = UnsafeMutableRawPointer(out)
        @inline(__always) func move<Word: FixedWidthInteger & UnsignedInteger>(_: Word.Type, at offset: Int) -> Bool {
            let word = source.loadUnaligned(fromByteOffset: offset, as: Word.self)
            target.storeBytes(of: word, toByteOffset: offset, as: Word.self)
            return !anyNeedsEscape(Word(littleEndian: word))
        }
        if count >= 8 {
            var offset = 0
            while offset + 8 < count {
                guard move(UInt64.self, at: offset) else { return false }
                offset += 8
            }
            return move(UInt64.self, at: count - 8)
        }
        if count >= 4 { return move(UInt32.self, at: 0) && move(UInt32.self, at: count - 4) }
        for index in 0..<count {
            guard !needsEscape(base[index]) else { return false }
            out[index] = base[index]
        }
        return true
    }

    /// Copies `count` bytes from `source` to `target` (not overlapping): a short run (a key,
    /// the text before a line number, an amount) by overlapping word moves, which costs less
    /// than the call to `memmove` alone; a long one by `memmove`.
    @inlinable @inline(__always)
    public static func copy(_ source: UnsafePointer<UInt8>, count: Int, to target: UnsafeMutablePointer<UInt8>) {
        guard count >= 8, count <= 64 else {
            if count >= 8 {
                target.update(from: source, count: count)
            } else {
                for index in 0..<count { target[index] = source[index] }
            }
            return
        }
        let from = UnsafeRawPointer(source)
        let to = UnsafeMutableRawPointer(target)
        var offset = 0
        while offset + 8 < count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        to.storeBytes(of: from.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self), toByteOffset: count - 8, as: UInt64.self)
    }

    @inlinable @inline(__always)
    public static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == 0x7F
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes `bytes` escaped at `out` (room for six bytes each); returns how many were written.
    public static func escape(_ bytes: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int {
        var index = 0
        for byte in bytes {
            guard needsEscape(byte) else {
                out[index] = byte
                index += 1
                continue
            }
            out[index] = UInt8(ascii: "\\")
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out[index + 1] = byte
                index += 2
            case 0x0A, 0x0D, 0x09:
                out[index + 1] = byte == 0x0A ? UInt8(ascii: "n") : byte == 0x0D ? UInt8(ascii: "r") : UInt8(ascii: "t")
                index += 2
            default:
                out[index + 1] = UInt8(ascii: "u")
                out[index + 2] = UInt8(ascii: "0")
                out[index + 3] = UInt8(ascii: "0")
                out[index + 4] = hexDigits[Int(byte >> 4)]
                out[index + 5] = hexDigits[Int(byte & 0xF)]
                index += 6
            }
        }
        return index
    }

    public mutating func number(_ text: String) {
        raw(text)
        needsComma = true
    }

    /// Text written as it is (numbers, literals), after a comma when one is needed.
    private mutating func raw(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            writeValue(upTo: utf8.count) { out in
                if utf8.count > 0 { out.update(from: utf8.baseAddress!, count: utf8.count) }
                return utf8.count
            }
        }
    }

    public mutating func integer(_ value: Int) {
        writeValue(upTo: 20) { out in
            JSONByteOutput.digits(UInt64(value.magnitude), negative: value < 0, into: out)
        }
        needsComma = true
    }

    public mutating func money(_ value: Money) {
        writeValue(upTo: 26) { out in
            out[0] = UInt8(ascii: "\"")
            let end = 1 + JSONByteOutput.amount(value, into: out + 1)
            out[end] = UInt8(ascii: "\"")
            return end + 1
        }
        needsComma = true
    }

    /// Writes `magnitude` in decimal, after a minus sign when `negative`, with a point before
    /// its last `fractionDigits` digits (at least one digit before the point: "0.05"); returns
    /// the length, at most 24. The digits are made from the last, two at a time from a table
    /// (one division, a multiplication, per two), into a stack buffer, then copied: no String.
    static func digits(_ magnitude: UInt64, negative: Bool, fractionDigits: Int = 0, into out: UnsafeMutablePointer<UInt8>) -> Int {
        // "00" to "99": a literal, so no lazy global to check on each call.
        let pairs: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
        let pairText = UnsafeRawPointer(pairs.utf8Start)
        // 20 digits, a leading zero, a point and a sign, at most.
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &scratch) { scratch in
            let end = scratch.baseAddress!.assumingMemoryBound(to: UInt8.self) + scratch.count
            var start = end
            var rest = magnitude
            @inline(__always) func digit() {
                start -= 1
                start.pointee = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            }
            @inline(__always) func pair() {
                let (quotient, remainder) = rest.quotientAndRemainder(dividingBy: 100)
                start -= 2
                UnsafeMutableRawPointer(start).storeBytes(of: pairText.loadUnaligned(fromByteOffset: 2 * Int(remainder), as: UInt16.self), as: UInt16.self)
                rest = quotient
            }
            if fractionDigits > 0 {
                var left = fractionDigits
                while left >= 2 {
                    pair()
                    left -= 2
                }
                if left == 1 { digit() }
                start -= 1
                start.pointee = UInt8(ascii: ".")
            }
            while rest >= 100 { pair() }
            if rest >= 10 { pair() } else { digit() }
            if negative {
                start -= 1
                start.pointee = UInt8(ascii: "-")
            }
            let count = end - start
            copy(start, count: count, to: out)
            return count
        }
    }

    /// Writes `value` as `Money.description` spells it ("-1250.05"); returns the length.
    @inline(__always)
    public static func amount(_ value: Money, into out: UnsafeMutablePointer<UInt8>) -> Int {
        digits(value.minorUnits.magnitude, negative: value.minorUnits < 0, fractionDigits: value.currency.minorDigits, into: out)
    }

    public mutating func bool(_ value: Bool) {
        raw(value ? "true" : "false")
        needsComma = true
    }

    public mutating func null() {
        writeValue(upTo: 4) { out in
            out[0] = UInt8(ascii: "n")
            out[1] = UInt8(ascii: "u")
            out[2] = UInt8(ascii: "l")
            out[3] = UInt8(ascii: "l")
            return 4
        }
        needsComma = true
    }

    /// The lines of a document share their file: its text is escaped and written once by
    /// `SourceLocation.encode`, and copied from there for the next lines, only the number new.
    public mutating func source(_ location: SourceLocation) {
        guard location.record == nil, let file = location.file, let line = location.line else {
            location.encode(into: &self)
            return
        }
        if let sourceFile, sourceFile == file, !sourcePrefix.isEmpty {
            let prefix = sourcePrefix
            // How far back from the value's first byte (after the comma and the key) it lies.
            let back = written + comma + pendingKey.count - prefix.lowerBound
            writeValue(upTo: prefix.count + 22) { out in
                // The prefix lies before `out` in the same buffer: the two never overlap.
                JSONByteOutput.copy(out - back, count: prefix.count, to: out)
                var index = prefix.count
                index += JSONByteOutput.digits(UInt64(line.magnitude), negative: line < 0, into: out + index)
                out[index] = UInt8(ascii: "}")
                return index + 1
            }
            needsComma = true
            return
        }
        let start = written + comma + pendingKey.count
        location.encode(into: &self)
        // What `encode` wrote ends with the line number and the closing brace.
        sourceFile = file
        sourcePrefix = start..<(written - 1 - String(line).utf8.count)
    }

    /// A lump-sum line (no unit price, quantity or unit) whose source is in the file of the
    /// last source written (every line of a document but its first), with no text to escape:
    /// written in one pass, after one capacity check, byte for byte as `SOVLine.encode` writes
    /// it member by member (about a third of the instructions: no pending key, comma flag or
    /// buffer check per member). Anything else is left to `SOVLine.encode`, with nothing written.
    /// Without its source (`withSource` false: the ledger's comparable form), any lump-sum line
    /// with no text to escape.
    public mutating func sovLine(_ line: UnsafePointer<SOVLine>, withSource: Bool) -> Bool {
        guard line.pointee.unitPrice == nil, line.pointee.quantity == nil, line.pointee.unitOfMeasure == nil else { return false }
        var number = 0
        if withSource {
            guard let location = line.pointee.source, location.record == nil, let lineNumber = location.line,
                let file = location.file, let sourceFile, sourceFile == file, !sourcePrefix.isEmpty
            else { return false }
            number = lineNumber
        }
        func length(_ text: String?) -> Int { text?.utf8.count ?? 0 }
        let bound = length(line.pointee.code) + length(line.pointee.description) + length(line.pointee.additionalDescription)
            + length(line.pointee.costCode) + length(line.pointee.group) + sourcePrefix.count + pendingKey.count + 256
        if storage.count - written < bound { grow(bound) }
        let prefix = sourcePrefix
        let start = written
        let comma = self.comma
        let key = pendingKey
        let end: Int? = storage.withUnsafeMutableBufferPointer { buffer -> Int? in
            let base = buffer.baseAddress!
            var out = base + start
            if comma == 1 { JSONByteOutput.putText(",", &out) }
            if key.count > 0 {
                key.store(at: out)
                out += key.count
            }
            JSONByteOutput.putText("{\"code\":", &out)
            guard JSONByteOutput.putString(line.pointee.code, &out) else { return nil }
            JSONByteOutput.putText(",\"description\":", &out)
            guard JSONByteOutput.putString(line.pointee.description, &out) else { return nil }
            JSONByteOutput.putText(",\"additional_description\":", &out)
            guard JSONByteOutput.putString(line.pointee.additionalDescription, &out) else { return nil }
            JSONByteOutput.putText(",\"amount\":\"", &out)
            out += JSONByteOutput.amount(line.pointee.amount, into: out)
            JSONByteOutput.putText("\",\"cost_code\":", &out)
            guard JSONByteOutput.putString(line.pointee.costCode, &out) else { return nil }
            JSONByteOutput.putText(",\"group\":", &out)
            guard JSONByteOutput.putString(line.pointee.group, &out) else { return nil }
            guard withSource else {
                JSONByteOutput.putText("}", &out)
                return out - base
            }
            JSONByteOutput.putText(",\"source\":", &out)
            // The text before the line number, as `source` wrote it for the first line.
            JSONByteOutput.copy(base + prefix.lowerBound, count: prefix.count, to: out)
            out += prefix.count
            out += JSONByteOutput.digits(UInt64(number.magnitude), negative: number < 0, into: out)
            JSONByteOutput.putText("}}", &out)
            return out - base
        }
        guard let end else { return false }
        written = end
        pendingKey.count = 0
        needsComma = true
        return true
    }

    /// Text known ahead, at `out`, which moves past it.
    @inline(__always)
    private static func putText(_ text: StaticString, _ out: inout UnsafeMutablePointer<UInt8>) {
        copy(text.utf8Start, count: text.utf8CodeUnitCount, to: out)
        out += text.utf8CodeUnitCount
    }

    /// A string, quoted, or null, at `out`, which moves past it; false (`out` where it was) when
    /// the string needs escaping or its bytes cannot be had in place.
    @inline(__always)
    private static func putString(_ text: String?, _ out: inout UnsafeMutablePointer<UInt8>) -> Bool {
        guard let text else {
            putText("null", &out)
            return true
        }
        let target = out
        let count: Int? = text.utf8.withContiguousStorageIfAvailable { utf8 in
            target[0] = UInt8(ascii: "\"")
            guard copyUnlessEscaped(utf8, to: target + 1) else { return nil }
            target[utf8.count + 1] = UInt8(ascii: "\"")
            return utf8.count + 2
        } ?? nil
        guard let count else { return false }
        out += count
        return true
    }

    public mutating func value(_ value: JSONValue) {
        // The comma and the pending key first.
        writeValue(upTo: 0) { _ in 0 }
        trim()
        JSONWriter.write(value, into: &storage)
        written = storage.count
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
