import SOVCore

/// A prime contract's line item requests written straight as bytes, for
/// `ProcoreImportDraft.writeJSON`: one per SOV line, 100 a contract, they were 95% of its
/// rendering (5,800 instructions a line through `JSONByteOutput`, with a String built per line
/// for the origin id and one for the origin data). What every request of a contract shares
/// (method, path, query, project id, up to the amount) is made once; per line only the amount,
/// the description, the origin id and the origin data are written, by pointer into the room the
/// caller made for all of them (`room(for:)`): into the import's own array, so that its 30 KB
/// are not written to a buffer of their own first and copied (an `Array.append` per piece cost
/// 100 to 170 instructions).
///
/// The bytes are those `ProcoreImportDraft.encodeRequests` describes, as `JSONByteOutput` writes
/// them (ProcoreImportWriterTests compares the two, for text that needs escaping too).
struct ProcoreLineItemBytes {
    /// `,{"method":"POST","path":...,"query":{},"body":{"project_id":N,"line_item":{"amount":"`
    private let opening: [UInt8]
    /// The line's origin id up to its billing item code: the contract's, escaped, and `:`.
    private let originIdPrefix: [UInt8]
    /// Where `write` writes; set by it.
    private var storage: UnsafeMutablePointer<UInt8>
    /// Bytes written at `storage`.
    private var count = 0

    init(path: String, projectId: String, contractOriginId: String) {
        var opening: [UInt8] = []
        opening.append(contentsOf: #",{"method":"POST","path":"#.utf8)
        JSONWriter.writeString(path, into: &opening)
        opening.append(contentsOf: #","query":{},"body":{"project_id":"#.utf8)
        opening.append(contentsOf: projectId.utf8)
        opening.append(contentsOf: #","line_item":{"amount":""#.utf8)
        self.opening = opening
        var quoted: [UInt8] = []
        JSONWriter.writeString(contractOriginId + ":", into: &quoted)
        originIdPrefix = Array(quoted.dropFirst().dropLast())
        // None until `write` is given one.
        storage = UnsafeMutablePointer(bitPattern: 1)!
    }

    /// At most how many bytes the requests of `lines` take. Escaped text takes at most 6 bytes a
    /// byte (`\u0001`); percent-encoded, 3. The code is in the origin id and in the origin data;
    /// the description is the first description, else the second, and the second goes in the
    /// origin data too. Fixed text and the amount take less than 160 bytes.
    func room(for lines: [SOVLine]) -> Int {
        var room = 0
        for index in lines.indices {
            room += opening.count + 160 + originIdPrefix.count + 9 * lines[index].code.utf8.count
                + 6 * ((lines[index].description?.utf8.count ?? 0) + (lines[index].additionalDescription?.utf8.count ?? 0))
                + 3 * (lines[index].group?.utf8.count ?? 0)
        }
        return room
    }

    /// Writes the requests of `lines` (each after a comma, as the requests before them are) at
    /// `start`, which has `room(for: lines)` bytes; returns how many it wrote.
    mutating func write(_ lines: [SOVLine], to start: UnsafeMutablePointer<UInt8>) -> Int {
        storage = start
        count = 0
        // Fields read in place: a copy of each line retained and released all its strings.
        for index in lines.indices {
            let description = lines[index].description ?? lines[index].additionalDescription
            let additional = lines[index].description == nil ? nil : lines[index].additionalDescription
            append(amount: lines[index].amount, description: description, code: lines[index].code, additional: additional, group: lines[index].group)
        }
        return count
    }

    /// Writes `text` (room reserved), by `JSONByteOutput`'s word moves.
    @inline(__always)
    private mutating func put(_ text: StaticString) {
        JSONByteOutput.copy(text.utf8Start, count: text.utf8CodeUnitCount, to: storage + count)
        count += text.utf8CodeUnitCount
    }

    @inline(__always)
    private mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { put($0) }
    }

    @inline(__always)
    private mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let base = bytes.baseAddress { JSONByteOutput.copy(base, count: bytes.count, to: storage + count) }
        count += bytes.count
    }

    private mutating func append(amount: Money, description: String?, code: String, additional: String?, group: String?) {
        put(opening)
        count += Self.amount(amount, into: storage + count)
        put(#"""#)
        if let description {
            put(#","description":"#)
            Self.withUTF8(description) { putString($0) }
        }
        put(#","origin_id":""#)
        put(originIdPrefix)
        Self.withUTF8(code) { putContents($0) }
        // Procore's line item has one text field; the billing item code and the second
        // description line keep their Spectrum names here, readable by an integration.
        // Percent-encoded: nothing in it needs a JSON escape. There is always a code, so the
        // origin data is never empty.
        put(#"","origin_data":"billing_item="#)
        Self.withUTF8(code) { putEncoded($0) }
        if let additional {
            put("&additional_description=")
            Self.withUTF8(additional) { putEncoded($0) }
        }
        if let group {
            put("&group_code=")
            Self.withUTF8(group) { putEncoded($0) }
        }
        put(#""}}}"#)
    }

    /// The UTF-8 of `text` without copying it (a native String's always is contiguous).
    @inline(__always)
    private static func withUTF8(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        if text.utf8.withContiguousStorageIfAvailable(body) == nil {
            var text = text
            text.withUTF8(body)
        }
    }

    /// `text` as a JSON string, quotes included (room reserved).
    private mutating func putString(_ text: UnsafeBufferPointer<UInt8>) {
        storage[count] = UInt8(ascii: "\"")
        count += 1
        putContents(text)
        storage[count] = UInt8(ascii: "\"")
        count += 1
    }

    /// What `text` is inside a JSON string, escaped as `JSONWriter.writeString` escapes it
    /// (room reserved): copied and checked in one pass by `JSONByteOutput` (eight bytes at a
    /// time), escaped by it only when it needs it.
    private mutating func putContents(_ text: UnsafeBufferPointer<UInt8>) {
        guard JSONByteOutput.copyUnlessEscaped(text, to: storage + count) else {
            count += JSONByteOutput.escape(text, into: storage + count)
            return
        }
        count += text.count
    }

    /// `text` percent-encoded as `OriginData` encodes a value (room reserved).
    private mutating func putEncoded(_ text: UnsafeBufferPointer<UInt8>) {
        let hex: StaticString = "0123456789ABCDEF"
        let digits = hex.utf8Start
        for byte in text {
            if OriginData.isUnreserved(byte) {
                storage[count] = byte
                count += 1
            } else {
                storage[count] = UInt8(ascii: "%")
                storage[count + 1] = digits[Int(byte >> 4)]
                storage[count + 2] = digits[Int(byte & 0x0F)]
                count += 3
            }
        }
    }

    /// The amount as `Money.description` spells it (`-1250.05`), without quotes, at `out` (room
    /// for 24 bytes); returns its length. `JSONByteOutput`'s digits, two at a time, where one at
    /// a time cost twice as many instructions.
    static func amount(_ amount: Money, into out: UnsafeMutablePointer<UInt8>) -> Int {
        JSONByteOutput.amount(amount, into: out)
    }
}
