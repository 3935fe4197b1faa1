import SOVCore

/// The field names of a record, shared by every record of the same shape (a CSV header, an XML
/// row shape), so that a layout is recognised once per shape rather than once per record.
public final class FieldNames: Sendable {
    /// Names exactly as in the file (CSV header text, XML local names).
    public let names: [String]

    public init(_ names: [String]) {
        self.names = names
    }

    public var count: Int { names.count }
}

/// One row from any reader (docs/ARCHITECTURE.md, "The path of a record"): ordered fields, name -> raw text, with its position.
/// Values are exactly as in the file: not trimmed, not converted.
public struct Record: Sendable {
    public var file: String
    /// Line the record starts on (the CSV row, the XML record element's start tag).
    public var line: Int
    public var fieldNames: FieldNames
    public var values: [String]
    /// The layout that recognised the record, once known.
    public var layout: SpectrumLayout?

    public init(file: String, line: Int, fieldNames: FieldNames, values: [String], layout: SpectrumLayout? = nil) {
        precondition(fieldNames.count == values.count, "a record needs one value per field name")
        self.file = file
        self.line = line
        self.fieldNames = fieldNames
        self.values = values
        self.layout = layout
    }

    /// Builds a record from name/value pairs (tests, fixtures).
    public init(file: String, line: Int, fields: KeyValuePairs<String, String>, layout: SpectrumLayout? = nil) {
        self.init(file: file, line: line, fieldNames: FieldNames(fields.map(\.key)), values: fields.map(\.value), layout: layout)
    }

    /// Text one record may hold in all. Spectrum's longest field holds 250 characters, so 1 MB is
    /// far past any export row; refusing more keeps one hostile line or element from taking all
    /// memory (a CSV row over it is rejected, an XML element over it makes the input unusable).
    public static let maximumBytes = 1 << 20

    public var names: [String] { fieldNames.names }
    public var count: Int { values.count }

    /// The raw value of the first field whose trimmed name matches `name`, ignoring case.
    public func value(named name: String) -> String? {
        let wanted = name.lowercased()
        for (index, candidate) in fieldNames.names.enumerated() where trimmedSpaces(candidate).lowercased() == wanted {
            return values[index]
        }
        return nil
    }

    public var location: SourceLocation { SourceLocation(file: file, line: line) }

    /// `{"file", "line", "layout", "fields": {name: value}}`: what `sov-parse --records` prints and
    /// what the rejects stream keeps of a record, values exactly as in the file.
    /// Fields as JSON members with unique keys (an object repeating a key is refused by JSON
    /// readers, ours included): a name seen before becomes `name (column N)`.
    static func members(names: [String], values: [String]) -> [JSONMember] {
        var fields: [JSONMember] = []
        fields.reserveCapacity(values.count)
        var seen: Set<String> = []
        for (index, value) in values.enumerated() {
            let name = index < names.count ? names[index] : ""
            var key = name
            if !seen.insert(key).inserted {
                key = "\(name.isEmpty ? "" : name + " ")(column \(index + 1))"
                while !seen.insert(key).inserted { key += "'" }
            }
            fields.append(JSONMember(key, .string(value)))
        }
        return fields
    }

    public var json: JSONValue {
        let fields = Record.members(names: fieldNames.names, values: values)
        return .object([
            JSONMember("file", .string(file)),
            JSONMember("line", .int(line)),
            JSONMember("layout", .optional(layout?.rawValue)),
            JSONMember("fields", .object(fields)),
        ])
    }
}

/// What a record reader yields: a record, or a row that could not be read as one (kept for the
/// rejects stream with its problem).
public enum RecordItem: Sendable {
    case record(Record)
    case malformed(raw: JSONValue, Diagnostic)
}

/// A reader of records from one input. `next()` throws `InputFailure` when the input cannot be
/// used as a whole (malformed XML, a DOCTYPE, an unterminated CSV quote) and `IOFailure` when
/// reading fails.
public protocol RecordReader: AnyObject {
    func next() throws -> RecordItem?
}

/// Records whose values are still UTF-8 bytes, several to one buffer. A reader that parses on a
/// thread of its own hands these over, so that making Strings of the values (validating,
/// allocating) falls to the consumer's thread rather than lengthening the parsing thread's.
public struct PackedRecords: Sendable {
    struct Entry: Sendable {
        var line: Int
        var fieldNames: FieldNames
    }

    public let file: String
    var bytes: [UInt8] = []
    /// Where each value ends in `bytes`; a value starts where the one before it ends.
    var valueEnds: [Int] = []
    var entries: [Entry] = []

    init(file: String) {
        self.file = file
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    var byteCount: Int { bytes.count }

    /// Adds a record whose values are `values` (one per field name), concatenated.
    mutating func append(line: Int, fieldNames: FieldNames, values: UnsafeBufferPointer<UInt8>, ends: some Sequence<Int>) {
        let base = bytes.count
        bytes.append(contentsOf: values)
        for end in ends { valueEnds.append(base + end) }
        entries.append(Entry(line: line, fieldNames: fieldNames))
    }

    /// Forgets the last `count` records, whose values start at `bytesFrom`.
    mutating func removeLast(_ count: Int, bytesFrom: Int) {
        var values = 0
        for entry in entries.suffix(count) { values += entry.fieldNames.count }
        entries.removeLast(count)
        valueEnds.removeLast(values)
        bytes.removeSubrange(bytesFrom...)
    }

    /// Takes the first records off as a batch: records are added while the batch holds fewer
    /// than `maximumRecords` and fewer than `maximumBytes` bytes of values (so the record that
    /// takes it to the byte limit is the last one).
    mutating func removeFirst(maximumRecords: Int, maximumBytes: Int) -> PackedRecords {
        var taken = 0
        var values = 0
        var byteEnd = 0
        while taken < entries.count && taken < maximumRecords && byteEnd < maximumBytes {
            values += entries[taken].fieldNames.count
            byteEnd = values == 0 ? 0 : valueEnds[values - 1]
            taken += 1
        }
        if taken == entries.count {
            var all = PackedRecords(file: file)
            swap(&all, &self)
            return all
        }
        var batch = PackedRecords(file: file)
        batch.bytes = Array(bytes[..<byteEnd])
        batch.valueEnds = Array(valueEnds[..<values])
        batch.entries = Array(entries[..<taken])
        bytes.removeSubrange(..<byteEnd)
        valueEnds.removeSubrange(..<values)
        for index in valueEnds.indices { valueEnds[index] -= byteEnd }
        entries.removeSubrange(..<taken)
        return batch
    }

    /// The records, values decoded.
    public func records() -> [RecordItem] {
        var items: [RecordItem] = []
        items.reserveCapacity(entries.count)
        bytes.withUnsafeBufferPointer { bytes in
            var value = 0
            var start = 0
            for entry in entries {
                var values: [String] = []
                values.reserveCapacity(entry.fieldNames.count)
                for _ in 0..<entry.fieldNames.count {
                    let end = valueEnds[value]
                    values.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
                    start = end
                    value += 1
                }
                items.append(.record(Record(file: file, line: entry.line, fieldNames: entry.fieldNames, values: values)))
            }
        }
        return items
    }
}

/// A reader that can also yield its records packed (values not yet decoded), for a prefetching
/// thread to hand over. Only this module's readers conform: `PackedRecords` is built here.
public protocol PackedRecordReader: RecordReader {
    /// The next records: at most `maximumRecords`, and no more once `maximumBytes` of values are
    /// held; nil at the end. When reading fails after some records, those records come first;
    /// the failure is thrown by the next call and every one after it.
    func nextPacked(maximumRecords: Int, maximumBytes: Int) throws -> PackedRecords?
}

/// Spectrum pads codes with spaces; values are trimmed of surrounding white space and nothing else.
@inline(__always)
func isPadding(_ byte: UInt8) -> Bool {
    byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
}

/// `text` without surrounding spaces, tabs and line ends; the same string when there are none.
func trimmedSpaces(_ text: String) -> String {
    // The fast path: a native string's bytes, looked at in place (nearly every value has no padding).
    if let untouched = text.utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
        guard let first = bytes.first, let last = bytes.last else { return true }
        return !isPadding(first) && !isPadding(last)
    }), untouched {
        return text
    }
    let utf8 = text.utf8
    guard let first = utf8.first, let last = utf8.last, isPadding(first) || isPadding(last) else { return text }
    guard let start = utf8.firstIndex(where: { !isPadding($0) }) else { return "" }
    let end = utf8.index(after: utf8.lastIndex(where: { !isPadding($0) })!)
    // Cut at ASCII bytes, so the slice is whole UTF-8.
    return String(decoding: utf8[start..<end], as: UTF8.self)
}
