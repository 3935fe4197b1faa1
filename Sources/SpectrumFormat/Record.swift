import SOVCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

/// The values of records, UTF-8, back to back, shared by the records of one batch: a record is
/// a place in it, so that a batch of rows handed over makes no String and no array per row, and
/// a value becomes a String only when a document keeps it.
public final class RecordValues: Sendable {
    let bytes: [UInt8]
    /// Where each value ends in `bytes`; a value starts where the one before it ends.
    let ends: [Int]

    init(bytes: [UInt8], ends: [Int]) {
        self.bytes = bytes
        self.ends = ends
    }

    /// `values`, packed.
    convenience init(_ values: [String]) {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        ends.reserveCapacity(values.count)
        for value in values {
            bytes.append(contentsOf: value.utf8)
            ends.append(bytes.count)
        }
        self.init(bytes: bytes, ends: ends)
    }
}

/// One row from any reader (docs/ARCHITECTURE.md, "The path of a record"): ordered fields, name -> raw text, with its position.
/// Values are exactly as in the file: not trimmed, not converted.
public struct Record: Sendable {
    public var file: String
    /// Line the record starts on (the CSV row, the XML record element's start tag).
    public var line: Int
    public var fieldNames: FieldNames
    /// The values: `storage`'s, from value `first` on, one per field name.
    private var storage: RecordValues
    private var first: Int
    /// The layout that recognised the record, once known.
    public var layout: SpectrumLayout?
    /// A flat contract row's SOV line, when it was read ahead on the reading thread.
    var sovLine: SOVLineAhead?

    public init(file: String, line: Int, fieldNames: FieldNames, values: [String], layout: SpectrumLayout? = nil) {
        precondition(fieldNames.count == values.count, "a record needs one value per field name")
        self.init(file: file, line: line, fieldNames: fieldNames, storage: RecordValues(values), first: 0, layout: layout)
    }

    /// A record whose values are `storage`'s from value `first` on (a reader's batch).
    init(file: String, line: Int, fieldNames: FieldNames, storage: RecordValues, first: Int, layout: SpectrumLayout? = nil) {
        self.file = file
        self.line = line
        self.fieldNames = fieldNames
        self.storage = storage
        self.first = first
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

    /// The values as Strings (every one decoded: for code that looks at whole records).
    public var values: [String] {
        get { (0..<count).map { value(at: $0) } }
        set {
            precondition(fieldNames.count == newValue.count, "a record needs one value per field name")
            storage = RecordValues(newValue)
            first = 0
            sovLine = nil
        }
    }

    /// The values this record's are among (shared by the records of a batch).
    var valueStorage: RecordValues { storage }

    /// Where value `index` lies in `storage.bytes`.
    @inline(__always)
    private func range(_ index: Int) -> Range<Int> {
        let slot = first + index
        return (slot == 0 ? 0 : storage.ends[slot - 1])..<storage.ends[slot]
    }

    /// The raw value of field `index`, as in the file.
    public func value(at index: Int) -> String {
        let range = range(index)
        return storage.bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self) }
    }

    /// The value of field `index` without surrounding spaces, tabs and line ends (`trimmedSpaces`).
    public func trimmedValue(at index: Int) -> String {
        storage.bytes.withUnsafeBufferPointer { bytes in
            let trimmed = Self.trimmed(bytes, range(index))
            return trimmed.isEmpty ? "" : String(decoding: UnsafeBufferPointer(rebasing: bytes[trimmed]), as: UTF8.self)
        }
    }

    /// Runs `body` on the UTF-8 bytes of field `index` without surrounding padding.
    public func withTrimmedValue<Result>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try storage.bytes.withUnsafeBufferPointer { bytes in
            try body(UnsafeBufferPointer(rebasing: bytes[Self.trimmed(bytes, range(index))]))
        }
    }

    /// Whether the trimmed value of field `index` is empty.
    public func isBlank(at index: Int) -> Bool {
        storage.bytes.withUnsafeBufferPointer { Self.trimmed($0, range(index)).isEmpty }
    }

    /// Whether field `index` holds exactly the bytes of `other`'s field `otherIndex`. Equal bytes
    /// are equal Strings; the converse does not hold (Strings compare by canonical equivalence),
    /// so a caller that finds them different compares the Strings before it concludes anything.
    public func hasSameBytes(at index: Int, as other: Record, at otherIndex: Int) -> Bool {
        let range = range(index)
        let otherRange = other.range(otherIndex)
        guard range.count == otherRange.count else { return false }
        if storage === other.storage && range == otherRange { return true }
        return storage.bytes.withUnsafeBufferPointer { bytes in
            other.storage.bytes.withUnsafeBufferPointer { otherBytes in
                range.isEmpty || memcmp(bytes.baseAddress! + range.lowerBound, otherBytes.baseAddress! + otherRange.lowerBound, range.count) == 0
            }
        }
    }

    /// Whether field `index` holds exactly `bytes`.
    public func hasBytes(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        let range = range(index)
        guard range.count == bytes.count else { return false }
        guard !range.isEmpty else { return true }
        return storage.bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + range.lowerBound, bytes.baseAddress!, range.count) == 0 }
    }

    /// A field of a record and where its expected bytes end among others, back to back.
    struct ValueSlot {
        var index: Int
        var end: Int
    }

    /// Which of `slots` hold exactly their expected bytes (`expected`, back to back, each
    /// ending at its slot's `end`): bit k for the k-th slot (the first 64 slots). One pass with
    /// the record's bytes in hand, words compared inline: a `hasBytes` per field, each with its
    /// own access to the storage and a `memcmp` call, cost several times as much.
    func equalValues(_ expected: UnsafeBufferPointer<UInt8>, _ slots: UnsafeBufferPointer<ValueSlot>) -> UInt64 {
        storage.bytes.withUnsafeBufferPointer { bytes in
            storage.ends.withUnsafeBufferPointer { ends in
                let count = min(slots.count, 64)
                var equal: UInt64 = 0
                var start = 0
                for position in 0..<count {
                    let slot = slots[position]
                    defer { start = slot.end }
                    let at = first + slot.index
                    let lower = at == 0 ? 0 : ends[at - 1]
                    let count = ends[at] - lower
                    guard count == slot.end - start else { continue }
                    if count == 0 || Self.sameBytes(bytes.baseAddress! + lower, expected.baseAddress! + start, count) {
                        equal |= 1 &<< UInt64(position)
                    }
                }
                return equal
            }
        }
    }

    /// Whether the fields from `index` on, one per element of `ends`, hold exactly `expected`:
    /// each field ending where `ends` says (counted from the first field's start), their bytes
    /// (one span, the fields being next to each other) those of `expected`.
    func hasSpan(from index: Int, ends expectedEnds: UnsafeBufferPointer<Int>, bytes expected: UnsafeBufferPointer<UInt8>) -> Bool {
        storage.bytes.withUnsafeBufferPointer { bytes in
            storage.ends.withUnsafeBufferPointer { ends in
                let at = first + index
                let lower = at == 0 ? 0 : ends[at - 1]
                for field in 0..<expectedEnds.count where ends[at + field] - lower != expectedEnds[field] { return false }
                let count = expectedEnds.last ?? 0
                return count == 0 || Self.sameBytes(bytes.baseAddress! + lower, expected.baseAddress!, count)
            }
        }
    }

    /// Whether `count` (> 0) bytes at `a` and `b` are equal: eight at a time, the last word
    /// overlapping the one before, or byte by byte below eight.
    @inline(__always)
    private static func sameBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        guard count >= 8 else {
            for index in 0..<count where a[index] != b[index] { return false }
            return true
        }
        let left = UnsafeRawPointer(a)
        let right = UnsafeRawPointer(b)
        var offset = 0
        while offset + 8 < count {
            if left.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != right.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
            offset += 8
        }
        return left.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == right.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
    }

    /// Appends the raw bytes of field `index` to `target`.
    public func appendValue(at index: Int, to target: inout [UInt8]) {
        let range = range(index)
        storage.bytes.withUnsafeBufferPointer { target.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// `range` of `bytes` without padding at either end.
    @inline(__always)
    private static func trimmed(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound
        var upper = range.upperBound
        while lower < upper && isPadding(bytes[lower]) { lower += 1 }
        while upper > lower && isPadding(bytes[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    public var names: [String] { fieldNames.names }
    public var count: Int { fieldNames.count }

    /// The raw value of the first field whose trimmed name matches `name`, ignoring case.
    public func value(named name: String) -> String? {
        let wanted = name.lowercased()
        for (index, candidate) in fieldNames.names.enumerated() where trimmedSpaces(candidate).lowercased() == wanted {
            return value(at: index)
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

/// Records whose values are still UTF-8 bytes, several to one buffer, as a reader on a thread
/// of its own hands them over: the consumer makes Strings only of the values it keeps. A row
/// that could not be read as a record (CSV) takes its place among them, with no values.
public struct PackedRecords: Sendable {
    enum Entry: Sendable {
        case record(line: Int, fieldNames: FieldNames)
        /// Boxed: rare, and large beside a record's entry.
        indirect case malformed(raw: JSONValue, Diagnostic)

        var valueCount: Int {
            switch self {
            case .record(_, let fieldNames): fieldNames.count
            case .malformed: 0
            }
        }
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

    /// Makes room for this many value bytes, values and entries.
    mutating func reserve(bytes byteCount: Int, values: Int, entries entryCount: Int) {
        bytes.reserveCapacity(byteCount)
        valueEnds.reserveCapacity(values)
        entries.reserveCapacity(entryCount)
    }

    /// Adds a record whose values are `values` (one per field name), concatenated.
    mutating func append(line: Int, fieldNames: FieldNames, values: UnsafeBufferPointer<UInt8>, ends: some Sequence<Int>) {
        let base = bytes.count
        bytes.append(contentsOf: values)
        // Ends in one buffer (the CSV reader's) are copied in one go, then moved by `base`;
        // others (the XML reader's, computed) are appended one by one, as they come.
        let firstEnd = valueEnds.count
        if ends.withContiguousStorageIfAvailable({ valueEnds.append(contentsOf: $0) }) != nil {
            if base != 0 {
                valueEnds.withUnsafeMutableBufferPointer { valueEnds in
                    for index in firstEnd..<valueEnds.count { valueEnds[index] += base }
                }
            }
        } else {
            for end in ends { valueEnds.append(base + end) }
        }
        entries.append(.record(line: line, fieldNames: fieldNames))
    }

    /// Adds a row that could not be read as a record.
    mutating func appendMalformed(raw: JSONValue, _ diagnostic: Diagnostic) {
        entries.append(.malformed(raw: raw, diagnostic))
    }

    /// Forgets the last `count` records, whose values start at `bytesFrom`.
    mutating func removeLast(_ count: Int, bytesFrom: Int) {
        var values = 0
        for entry in entries.suffix(count) { values += entry.valueCount }
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
            values += entries[taken].valueCount
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

    /// The records, their values left packed (one `RecordValues` for the batch).
    public func records() -> [RecordItem] {
        var items: [RecordItem] = []
        items.reserveCapacity(entries.count)
        var cursor = Cursor(self)
        while let item = cursor.next() { items.append(item) }
        return items
    }

    /// Gives the records one at a time, without an array of them.
    struct Cursor {
        private let storage: RecordValues
        private let file: String
        private let entries: [Entry]
        private var index = 0
        private var value = 0
        /// Field names the records get in place of the reader's (see `ownCopies`).
        private var names: (original: FieldNames, copy: FieldNames)?
        private let ownCopies: Bool

        /// With `ownCopies`, the records get a file name and field names of their own (equal to
        /// the reader's): the reading thread makes records of one batch while the other thread
        /// copies those of the last, and two threads counting references to one object (the
        /// file name is in every record and every line's source) wait on each other's writes.
        init(_ records: PackedRecords, ownCopies: Bool = false) {
            storage = RecordValues(bytes: records.bytes, ends: records.valueEnds)
            file = ownCopies ? String(decoding: Array(records.file.utf8), as: UTF8.self) : records.file
            entries = records.entries
            self.ownCopies = ownCopies
        }

        /// `prepare` runs on each record before it is wrapped in its item (preparing a record
        /// taken out of an item copied it).
        mutating func next(preparing prepare: ((inout Record) -> Void)? = nil) -> RecordItem? {
            guard index < entries.count else { return nil }
            defer { index += 1 }
            switch entries[index] {
            case .record(let line, var fieldNames):
                defer { value += fieldNames.count }
                if ownCopies {
                    if let names, names.original === fieldNames {
                        fieldNames = names.copy
                    } else {
                        let copy = FieldNames(fieldNames.names)
                        names = (fieldNames, copy)
                        fieldNames = copy
                    }
                }
                var record = Record(file: file, line: line, fieldNames: fieldNames, storage: storage, first: value)
                prepare?(&record)
                return .record(record)
            case .malformed(let raw, let diagnostic):
                return .malformed(raw: raw, diagnostic)
            }
        }
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
