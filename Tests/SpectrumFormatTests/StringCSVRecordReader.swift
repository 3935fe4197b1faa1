import SOVCore
@testable import SpectrumFormat

/// The CSV record reader as it was before rows were packed: each row's fields made into Strings
/// by `CSVReader.next`, then judged as Strings. Kept as the oracle `CSVRecordReader` (which packs
/// rows as bytes) is compared with, on random exports (CSVRecordReaderDifferentialTests).
final class StringCSVRecordReader: RecordReader {
    private let reader: CSVReader
    let name: String
    private(set) var header: FieldNames?

    /// Judges the header row (its names and line) before any record: a problem there makes the
    /// whole input unusable, said once rather than on every row.
    private var headerCheck: (@Sendable ([String], Int) -> Diagnostic?)?
    private var headerLine = 1
    /// Rows whose every field is empty (`,,,,`, as Excel leaves after the data): skipped, since
    /// they hold nothing, and counted so that the reader says how many.
    private(set) var blankRows: [Int] = []

    init(_ input: InputFile, delimiter: UInt8 = UInt8(ascii: ","), encoding: TextEncoding = .utf8, headerCheck: (@Sendable ([String], Int) -> Diagnostic?)? = nil) {
        reader = CSVReader(input, delimiter: delimiter, encoding: encoding, checksFieldCount: false, maximumRecordBytes: Record.maximumBytes)
        name = input.name
        self.headerCheck = headerCheck
    }

    func next() throws -> RecordItem? {
        while let item = try reader.next() {
            switch item {
            case .record(let row):
                if row.fields.count == 1 && row.fields[0].isEmpty && (header?.count ?? 2) > 1 { continue }
                guard let header else {
                    header = FieldNames(row.fields)
                    headerLine = row.line
                    continue
                }
                if row.fields.allSatisfy({ $0.allSatisfy { $0 == " " || $0 == "\t" } }) {
                    blankRows.append(row.line)
                    continue
                }
                // Judged at the first row: a header alone is "no records", said as such.
                if let check = headerCheck {
                    headerCheck = nil
                    if let problem = check(header.names, headerLine) { throw InputFailure(unusable: problem) }
                }
                guard row.fields.count == header.count else {
                    let diagnostic = Diagnostic.error(
                        .FMT007, "record has \(row.fields.count) field\(row.fields.count == 1 ? "" : "s"), the header has \(header.count) (record \(row.number), byte \(row.offset))",
                        at: SourceLocation(file: name, line: row.line, record: row.number))
                    var raw = Record(file: name, line: row.line, fieldNames: FieldNames(row.fields.indices.map { $0 < header.count ? header.names[$0] : "" }), values: row.fields).json
                    raw = raw.setting("record", to: .int(row.number)).setting("byte", to: .int(row.offset))
                    return .malformed(raw: raw, diagnostic)
                }
                return .record(Record(file: name, line: row.line, fieldNames: header, values: row.fields))
            case .malformed(let problem):
                let fieldName = problem.field.flatMap { index in header.flatMap { index < $0.count ? $0.names[index] : nil } }
                let diagnostic = Diagnostic.error(
                    problem.code, "\(problem.message) (record \(problem.record), byte \(problem.offset))",
                    at: SourceLocation(file: name, line: problem.line, record: problem.record, field: fieldName))
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
                    JSONMember("file", .string(name)), JSONMember("line", .int(problem.line)),
                    JSONMember("record", .int(problem.record)), JSONMember("byte", .int(problem.offset)),
                    JSONMember("layout", .null), JSONMember("fields", fields),
                ]
                if let bytes = problem.raw {
                    raw.append(JSONMember("text", .string(TextDecoder.decodeLossy(bytes, as: reader.encoding))))
                    if problem.rawTruncated { raw.append(JSONMember("text_truncated", .bool(true))) }
                }
                return .malformed(raw: .object(raw), diagnostic)
            }
        }
        return nil
    }
}

