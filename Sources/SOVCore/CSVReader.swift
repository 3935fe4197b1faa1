#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV problem, named by record, line and byte so a user can find it in the file.
public struct CSVError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// 1-based record number (the header is record 1).
    public var record: Int
    /// 1-based line of the offending byte.
    public var line: Int
    /// 0-based byte offset of the offending byte in the file.
    public var offset: Int
    public var code: DiagnosticCode
    /// True when the rest of the file cannot be read (an unterminated quote runs to the end).
    public var fatal: Bool
    /// 0-based index of the field the problem is in, when it is in one.
    public var field: Int?
    /// The malformed record's bytes as in the file, from its first byte to the end of the line
    /// where reading resumed (without the line end), so the rejects stream can keep it. At most
    /// `CSVReader.maximumRawBytes`; `rawTruncated` says when there was more.
    public var raw: [UInt8]?
    public var rawTruncated = false
    /// A record whose bytes could not be decoded: its fields with each undecodable byte shown
    /// as U+FFFD, to keep what can be kept.
    public var lossyFields: [String]?

    public var description: String { "record \(record), line \(line), byte \(offset): \(message)" }
}

public struct CSVRecord: Sendable, Hashable {
    /// 1-based record number (the header is record 1).
    public var number: Int
    /// Line the record starts on.
    public var line: Int
    /// Byte offset of the record's first byte.
    public var offset: Int
    /// Field values, decoded, exactly as in the file (not trimmed).
    public var fields: [String]
}

/// A strict, streaming RFC 4180 reader working on bytes: quoted fields with `""` escapes and
/// embedded newlines (kept as they are), LF or CRLF record ends, a chosen delimiter, UTF-8 or
/// Windows-1252 (a UTF-8 BOM wins and is dropped). Nothing is repaired: a malformed record is
/// reported and skipped up to the end of its line, and reading goes on.
///
/// The work is done by `CSVScanner`, a struct: its state is reached through one `inout` access
/// per record, not through class properties (each of those pays a dynamic exclusivity check).
public final class CSVReader {
    public enum Item {
        case record(CSVRecord)
        case malformed(CSVError)
    }

    /// An item of `nextRaw`: a record's values are read with `withValues`, as UTF-8 bytes,
    /// with no String made (a reader that keeps few of them makes only those).
    public enum RawItem {
        case record(number: Int, line: Int, offset: Int)
        case malformed(CSVError)
    }

    private let input: InputFile
    public let maximumRecordBytes: Int
    /// Fields cost memory even when empty (a line of ten million commas), so their number is
    /// bounded too.
    public let maximumFieldsPerRecord: Int
    /// Unchecked: only this reader's methods reach the scanner, none of them while another
    /// runs, and a dynamic exclusivity check (about 150 instructions) per access was two per row.
    @exclusivity(unchecked) private var scanner: CSVScanner

    /// How much of one malformed record is kept for the rejects stream: far more than any real
    /// export row, far less than a runaway line.
    public static let maximumRawBytes = 64 << 10
    /// How far past a malformed record's fault its line end is looked for: as far as what is
    /// kept of it (64 KB). /dev/zero has no line end and was scanned for ever; no real export
    /// row runs on this long, so past the bound the input fails as a whole (65).
    public static let maximumSkippedBytes = maximumRawBytes

    public convenience init(_ input: InputFile, delimiter: UInt8 = UInt8(ascii: ","), encoding: TextEncoding = .utf8, checksFieldCount: Bool = true, maximumRecordBytes: Int = 64 << 20, maximumFieldsPerRecord: Int = 10_000) {
        self.init(input, delimiter: delimiter, encoding: encoding, checksFieldCount: checksFieldCount, maximumRecordBytes: maximumRecordBytes, maximumFieldsPerRecord: maximumFieldsPerRecord, chunkSize: 1 << 20)
    }

    /// `chunkSize`: bytes read at a time; tests make it small so that buffer ends fall everywhere.
    init(_ input: InputFile, delimiter: UInt8, encoding: TextEncoding, checksFieldCount: Bool, maximumRecordBytes: Int, maximumFieldsPerRecord: Int, chunkSize: Int) {
        self.input = input
        self.maximumRecordBytes = maximumRecordBytes
        self.maximumFieldsPerRecord = maximumFieldsPerRecord
        scanner = CSVScanner(
            delimiter: delimiter, encoding: encoding, checksFieldCount: checksFieldCount,
            recordLimit: maximumRecordBytes, fieldLimit: maximumFieldsPerRecord, chunkSize: chunkSize)
    }

    deinit {
        scanner.deallocate()
    }

    public var name: String { input.name }
    public var encoding: TextEncoding { scanner.encoding }
    /// The header's fields, once read, when field counts are checked.
    public var header: [String]? { scanner.header }

    /// The next record or malformed record; nil at the end of the input.
    public func next() throws(IOFailure) -> Item? {
        switch try scanner.next(input) {
        case .record(let number, let line, let offset)?:
            return .record(CSVRecord(number: number, line: line, offset: offset, fields: scanner.valueStrings()))
        case .malformed(let problem)?:
            return .malformed(problem)
        case nil:
            return nil
        }
    }

    /// The same as `next`, with the record's values left as bytes for `withValues`.
    public func nextRaw() throws(IOFailure) -> RawItem? {
        try scanner.next(input)
    }

    /// The values of the record `nextRaw` gave last: UTF-8 bytes back to back, and where each
    /// value ends in them (one end per field). Valid only inside `body`, until the next read.
    public func withValues<Result>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<Int>) throws -> Result) rethrows -> Result {
        try scanner.withValues(body)
    }

    /// The values of the record `nextRaw` gave last, as Strings.
    public func valueStrings() -> [String] {
        scanner.valueStrings()
    }
}

/// The byte classes the scanner tells apart.
enum CSVByteClass: UInt8 {
    case other = 0, delimiter, quote, lineFeed, carriageReturn, nul
}

/// Scanner states. `skipping` passes over the rest of a malformed record's line.
enum CSVState: UInt8 {
    case fieldStart = 0, unquoted, quoted, quoteInQuoted, afterCR, skipping
}

/// What a transition does besides changing state.
enum CSVAction: UInt8 {
    case none
    /// Copies the run of ordinary bytes that starts here; `copyFirst` also marks where the
    /// field starts, `copyQuoted` runs on over delimiters and line ends inside quotes.
    case copyFirst, copy, copyQuoted
    case openQuote, escapeQuote
    case endField, endRecord
    case quoteInUnquoted, nul, textAfterQuote, loneCR
}

/// The transition table, in the shape of rust-csv's csv-core: one entry per state and byte
/// class, so that every rule of the grammar is in one place.
struct CSVTransitions {
    struct Entry {
        var next: CSVState
        var action: CSVAction
    }

    static let classCount = 6

    static func entry(_ state: CSVState, _ byte: CSVByteClass) -> Entry {
        switch (state, byte) {
        case (.skipping, _): Entry(next: .skipping, action: .none)  // handled before the table
        case (.quoted, .quote): Entry(next: .quoteInQuoted, action: .none)
        case (_, .nul) where state != .quoteInQuoted && state != .afterCR: Entry(next: .skipping, action: .nul)
        case (.quoted, _): Entry(next: .quoted, action: .copyQuoted)
        case (.afterCR, .lineFeed): Entry(next: .fieldStart, action: .endRecord)
        case (.afterCR, _): Entry(next: .skipping, action: .loneCR)
        case (_, .delimiter): Entry(next: .fieldStart, action: .endField)
        case (_, .lineFeed): Entry(next: .fieldStart, action: .endRecord)
        case (_, .carriageReturn): Entry(next: .afterCR, action: .none)
        case (.fieldStart, .quote): Entry(next: .quoted, action: .openQuote)
        case (.fieldStart, _): Entry(next: .unquoted, action: .copyFirst)
        case (.unquoted, .quote): Entry(next: .skipping, action: .quoteInUnquoted)
        case (.unquoted, _): Entry(next: .unquoted, action: .copy)
        case (.quoteInQuoted, .quote): Entry(next: .quoted, action: .escapeQuote)
        case (.quoteInQuoted, _): Entry(next: .skipping, action: .textAfterQuote)
        }
    }
}

/// A growable buffer of plain values with no uniqueness or exclusivity bookkeeping: appending a
/// field's bytes is a bounds check and a `memcpy`. Owned by one scanner, freed by its reader.
struct RawBuffer<Element: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    subscript(index: Int) -> Element {
        get { base[index] }
        set { base[index] = newValue }
    }

    var last: Element? { count > 0 ? base[count - 1] : nil }

    mutating func append(_ element: Element) {
        if count == capacity { grow(count + 1) }
        base[count] = element
        count += 1
    }

    mutating func append(_ elements: UnsafePointer<Element>, count added: Int) {
        if count + added > capacity { grow(count + added) }
        (base + count).update(from: elements, count: added)
        count += added
    }

    mutating func removeAll() { count = 0 }

    /// Counts `added` elements written past the end (into room made by `reserve`).
    @inline(__always)
    mutating func added(_ added: Int) { count += added }

    /// Makes room for `added` more elements.
    @inline(__always)
    mutating func reserve(_ added: Int) {
        if count + added > capacity { grow(count + added) }
    }

    private mutating func grow(_ needed: Int) {
        let bigger = max(needed, capacity * 2)
        let moved = UnsafeMutablePointer<Element>.allocate(capacity: bigger)
        moved.update(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = bigger
    }

    func buffer(_ range: Range<Int>) -> UnsafeBufferPointer<Element> {
        UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    func deallocate() { base.deallocate() }
}
