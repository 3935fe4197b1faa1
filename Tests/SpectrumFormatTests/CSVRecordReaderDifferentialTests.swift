import SOVCore
import SOVTestSupport
import Testing
@testable import SpectrumFormat

/// Packed CSV records (values handed over as bytes) against the reader that made Strings of every
/// field (`StringCSVRecordReader`): the same records, values, malformed rows, diagnostics,
/// failures and blank rows, on random exports with quotes, CRLF, Windows-1252, a BOM, blank and
/// ragged rows, in batches of every size.
@Suite("CSVRecordReader against the String reader")
struct CSVRecordReaderDifferentialTests {
    private static func describe(_ item: RecordItem) -> String {
        switch item {
        case .record(let record): "record \(record.file):\(record.line) \(record.names) \(record.values) \(record.json.text)"
        case .malformed(let raw, let diagnostic): "malformed \(raw.text) \(diagnostic.humanLine) \(diagnostic)"
        }
    }

    private static let check: @Sendable ([String], Int) -> Diagnostic? = { names, line in
        names.contains("bad") ? .error(.FMT007, "a column named bad", at: SourceLocation(file: "x", line: line)) : nil
    }

    private static func read(_ reader: some RecordReader, blankRows: () -> [Int]) -> [String] {
        var result: [String] = []
        do {
            while let item = try reader.next() { result.append(describe(item)) }
            result.append("end")
        } catch {
            result.append("failure \(error)")
        }
        result.append("blank rows \(blankRows())")
        return result
    }

    private static func packed(_ reader: CSVRecordReader, batch: Int, bytes: Int) -> [String] {
        var result: [String] = []
        do {
            while let records = try reader.nextPacked(maximumRecords: batch, maximumBytes: bytes) {
                #expect(records.count <= batch)
                result += records.records().map(describe)
            }
            result.append("end")
        } catch {
            result.append("failure \(error)")
        }
        result.append("blank rows \(reader.blankRows)")
        return result
    }

    private static let pieces: [[UInt8]] = [
        Array("a".utf8), Array("Job".utf8), Array("12.50".utf8), Array(",".utf8), Array(",".utf8), Array(",".utf8),
        Array("\"".utf8), Array("\"\"".utf8), Array("\"q, \"\"x\"\"\"".utf8), Array("\n".utf8), Array("\n".utf8), Array("\r\n".utf8),
        Array(" ".utf8), Array(" ".utf8), Array("\t".utf8), Array("é".utf8), [0xE9], [0x81], Array("\n\n".utf8), Array(",,\n".utf8),
        Array("bad".utf8), Array("\r".utf8), [0],
    ]

    @Test("random exports read the same, record by record and packed in batches", arguments: 0..<6)
    func randomExports(_ seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &* 104_729 &+ 3)
        for round in 0..<50 {
            var bytes: [UInt8] = round % 4 == 0 ? [0xEF, 0xBB, 0xBF] : []
            bytes += Array("Company_Code,Job_Number,Billing_Item\r\n".utf8)
            if round % 7 == 0 { bytes = Array("x\n".utf8) }
            for _ in 0..<Int.random(in: 0...100, using: &random) {
                bytes += Self.pieces[Int.random(in: 0..<Self.pieces.count, using: &random)]
            }
            let encoding: TextEncoding = Bool.random(using: &random) ? .utf8 : .windows1252
            let checks = Bool.random(using: &random)
            let folder = TemporaryFolder("sov-csv-records")
            defer { withExtendedLifetime(folder) {} }
            let path = folder.write("input.csv", bytes)
            let oracle = StringCSVRecordReader(try InputFile(path: path), encoding: encoding, headerCheck: checks ? Self.check : nil)
            let expected = Self.read(oracle) { oracle.blankRows }
            let single = CSVRecordReader(try InputFile(path: path), encoding: encoding, headerCheck: checks ? Self.check : nil)
            #expect(Self.read(single) { single.blankRows } == expected, "seed \(seed) round \(round), input \(bytes)")
            let batch = [1, 2, 3, 256][Int.random(in: 0..<4, using: &random)]
            let limit = [1, 10, 1 << 20][Int.random(in: 0..<3, using: &random)]
            let packed = CSVRecordReader(try InputFile(path: path), encoding: encoding, headerCheck: checks ? Self.check : nil)
            #expect(Self.packed(packed, batch: batch, bytes: limit) == expected, "seed \(seed) round \(round), batch \(batch)/\(limit), input \(bytes)")
        }
    }
}
