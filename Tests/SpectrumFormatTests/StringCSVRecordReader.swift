import SOVCore
@testable import SpectrumFormat

/// The CSV record reader as it was before rows were packed: each row's fields made into Strings
/// by `CSVReader.next`, then judged as Strings. Kept as the oracle `CSVRecordReader` (which packs
/// rows as bytes) is compared with, on random exports (CSVRecordReaderDifferentialTests). Rows
/// that are rejected (a wrong field count, a problem the CSV reader reports) are judged by the
/// same functions as there: packing never changed them.
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
                    let reject = CSVRecordReader.fieldCountReject(row.fields, header: header, file: name, line: row.line, record: row.number, offset: row.offset)
                    return .malformed(raw: reject.raw, reject.diagnostic)
                }
                return .record(Record(file: name, line: row.line, fieldNames: header, values: row.fields))
            case .malformed(let problem):
                // Rows the reader cannot read are judged as the packing reader judges them.
                let reject = try CSVRecordReader.malformedReject(problem, header: header, file: name, encoding: reader.encoding)
                return .malformed(raw: reject.raw, reject.diagnostic)
            }
        }
        return nil
    }
}

