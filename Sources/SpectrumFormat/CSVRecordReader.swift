import SOVCore

/// Records out of a CSV export: the first row names the fields (docs/FORMATS.md, "Record shapes"), every later row is a
/// record. Built on SOVCore's strict RFC 4180 `CSVReader`; a malformed row, or one with another
/// field count than the header, is yielded as such (the rest of the file flows on); an
/// unterminated quote or an unreadable header row makes the whole input unusable. Blank lines
/// carry no data and are skipped. Rows are packed as they are read (`PackedRecords`): a value
/// becomes a String only where a document keeps it.
public final class CSVRecordReader: PackedRecordReader {
    private let reader: CSVReader
    public let name: String
    /// `header` and `headerCheck` are read for every row, and only by this reader's own methods,
    /// one at a time: unchecked, as each dynamic exclusivity check cost about 150 instructions.
    @exclusivity(unchecked) public private(set) var header: FieldNames?

    /// Judges the header row (its names and line) before any record: a problem there makes the
    /// whole input unusable, said once rather than on every row.
    @exclusivity(unchecked) private var headerCheck: (@Sendable ([String], Int) -> Diagnostic?)?
    private var headerLine = 1
    /// Rows whose every field is empty (`,,,,`, as Excel leaves after the data): skipped, since
    /// they hold nothing, and counted so that the reader says how many.
    public private(set) var blankRows: [Int] = []
    /// A failure met after some records of a batch: thrown by the next call, and every one after.
    private var failure: (any Error)?
    /// The last batch's sizes: the next one is made that large at once, not grown step by step
    /// (each step a copy of what it held and an allocation).
    private var lastBatch = (bytes: 0, values: 0, entries: 0)

    public init(_ input: InputFile, delimiter: UInt8 = UInt8(ascii: ","), encoding: TextEncoding = .utf8, headerCheck: (@Sendable ([String], Int) -> Diagnostic?)? = nil) {
        reader = CSVReader(input, delimiter: delimiter, encoding: encoding, checksFieldCount: false, maximumRecordBytes: Record.maximumBytes)
        name = input.name
        self.headerCheck = headerCheck
    }

    public func next() throws -> RecordItem? {
        try nextPacked(maximumRecords: 1, maximumBytes: .max)?.records().first
    }

    public func nextPacked(maximumRecords: Int, maximumBytes: Int) throws -> PackedRecords? {
        precondition(maximumRecords > 0 && maximumBytes > 0, "a batch holds at least one record")
        if let failure { throw failure }
        var batch = PackedRecords(file: name)
        // An eighth more: the next batch's rows may be a little longer.
        batch.reserve(bytes: lastBatch.bytes + lastBatch.bytes / 8, values: lastBatch.values + lastBatch.values / 8, entries: lastBatch.entries)
        defer { lastBatch = (batch.bytes.count, batch.valueEnds.count, batch.entries.count) }
        do {
            while batch.count < maximumRecords && batch.byteCount < maximumBytes, try read(into: &batch) {}
        } catch {
            failure = error
            if batch.isEmpty { throw error }
        }
        return batch.isEmpty ? nil : batch
    }

    /// Reads one row into `batch` (a record, a malformed row, or nothing for a skipped row);
    /// false at the end of the input.
    private func read(into batch: inout PackedRecords) throws -> Bool {
        guard let item = try reader.nextRaw() else { return false }
        switch item {
        case .record(let number, let line, let offset):
            enum Row { case skipped, header, blank, values(count: Int) }
            let headerCount = header?.count
            let row = reader.withValues { bytes, ends -> Row in
                if ends.count == 1 && ends[0] == 0 && (headerCount ?? 2) > 1 { return .skipped }
                if headerCount == nil { return .header }
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return .blank }
                return .values(count: ends.count)
            }
            switch row {
            case .skipped:
                return true
            case .header:
                header = FieldNames(reader.valueStrings())
                headerLine = line
                return true
            case .blank:
                blankRows.append(line)
                return true
            case .values(let count):
                guard let header else { return true }
                // Judged at the first row: a header alone is "no records", said as such.
                if let check = headerCheck {
                    headerCheck = nil
                    if let problem = check(header.names, headerLine) { throw InputFailure(unusable: problem) }
                }
                guard count == header.count else {
                    let reject = Self.fieldCountReject(reader.valueStrings(), header: header, file: name, line: line, record: number, offset: offset)
                    batch.appendMalformed(raw: reject.raw, reject.diagnostic)
                    return true
                }
                reader.withValues { bytes, ends in batch.append(line: line, fieldNames: header, values: bytes, ends: ends) }
                return true
            }
        case .malformed(let problem):
            let reject = try Self.malformedReject(problem, header: header, file: name, encoding: reader.encoding)
            batch.appendMalformed(raw: reject.raw, reject.diagnostic)
            return true
        }
    }
}

extension CSVRecordReader {
    /// A reject: what went wrong with a row, and the row as the rejects file shows it.
    typealias RowReject = (raw: JSONValue, diagnostic: Diagnostic)

    /// A row whose field count is not the header's (FMT007): its fields under the header's
    /// names, extra ones unnamed.
    static func fieldCountReject(_ fields: [String], header: FieldNames, file: String, line: Int, record: Int, offset: Int) -> RowReject {
        let diagnostic = Diagnostic.error(
            .FMT007, "record has \(fields.count) field\(fields.count == 1 ? "" : "s"), the header has \(header.count) (record \(record), byte \(offset))",
            at: SourceLocation(file: file, line: line, record: record))
        var raw = Record(file: file, line: line, fieldNames: FieldNames(fields.indices.map { $0 < header.count ? header.names[$0] : "" }), values: fields).json
        raw = raw.setting("record", to: .int(record)).setting("byte", to: .int(offset))
        return (raw, diagnostic)
    }

    /// A row the CSV reader could not read: its reject, or, when it is the header row or the
    /// problem ends the file (an unterminated quote), the input's failure.
    static func malformedReject(_ problem: CSVError, header: FieldNames?, file: String, encoding: TextEncoding) throws(InputFailure) -> RowReject {
        let fieldName = problem.field.flatMap { index in header.flatMap { index < $0.count ? $0.names[index] : nil } }
        let diagnostic = Diagnostic.error(
            problem.code, "\(problem.message) (record \(problem.record), byte \(problem.offset))",
            at: SourceLocation(file: file, line: problem.line, record: problem.record, field: fieldName))
        if header == nil {
            var headerProblem = diagnostic
            headerProblem.message = "the header row cannot be read: " + diagnostic.message
            throw InputFailure(unusable: headerProblem)
        }
        if problem.fatal { throw InputFailure(unusable: diagnostic) }
        // What the row holds is kept: its fields when only their bytes were undecodable
        // (those bytes shown as U+FFFD), else its text as in the file.
        var fields: JSONValue = .null
        if let header, let values = problem.lossyFields, values.count == header.count {
            fields = .object(Record.members(names: header.names, values: values))
        }
        var raw: [JSONMember] = [
            JSONMember("file", .string(file)), JSONMember("line", .int(problem.line)),
            JSONMember("record", .int(problem.record)), JSONMember("byte", .int(problem.offset)),
            JSONMember("layout", .null), JSONMember("fields", fields),
        ]
        if let bytes = problem.raw {
            raw.append(JSONMember("text", .string(TextDecoder.decodeLossy(bytes, as: encoding))))
            if problem.rawTruncated { raw.append(JSONMember("text_truncated", .bool(true))) }
        }
        return (.object(raw), diagnostic)
    }

    /// `--delimiter auto`: the delimiter of a header line that holds no comma and exactly one of
    /// `;`, tab and `|`; a comma otherwise (the line then reads as it always did).
    public static func sniffDelimiter(headerLine: [UInt8]) -> UInt8 {
        var bytes = headerLine[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        if let end = bytes.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) { bytes = bytes[..<end] }
        guard !bytes.contains(UInt8(ascii: ",")) else { return UInt8(ascii: ",") }
        let found = [UInt8(ascii: ";"), 0x09, UInt8(ascii: "|")].filter { bytes.contains($0) }
        return found.count == 1 ? found[0] : UInt8(ascii: ",")
    }
}
