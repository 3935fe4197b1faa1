import SOVTestSupport
import Testing
@testable import SOVCore

/// How a reader is set up for one comparison.
private struct Setup: CustomStringConvertible {
    var delimiter = UInt8(ascii: ",")
    var encoding = TextEncoding.utf8
    var checksFieldCount = true
    var recordLimit = 64 << 20
    var fieldLimit = 10_000
    var chunkSize = 1 << 20

    var description: String { "delimiter \(delimiter), \(encoding), counts \(checksFieldCount), limits \(recordLimit)/\(fieldLimit), chunk \(chunkSize)" }

    /// A chunk size of `chunkSizes`, either delimiter (when `anyDelimiter`), either encoding,
    /// field counts checked or not, and one time in four limits from the ranges.
    static func random(
        using random: inout SplitMix64, chunkSizes: [Int], anyDelimiter: Bool, recordLimits: ClosedRange<Int>, fieldLimits: ClosedRange<Int>
    ) -> Setup {
        var setup = Setup()
        setup.chunkSize = chunkSizes[Int.random(in: 0..<chunkSizes.count, using: &random)]
        if anyDelimiter { setup.delimiter = Bool.random(using: &random) ? UInt8(ascii: ",") : UInt8(ascii: ";") }
        setup.encoding = Bool.random(using: &random) ? .utf8 : .windows1252
        setup.checksFieldCount = Bool.random(using: &random)
        if Int.random(in: 0..<4, using: &random) == 0 {
            setup.recordLimit = Int.random(in: recordLimits, using: &random)
            setup.fieldLimit = Int.random(in: fieldLimits, using: &random)
        }
        return setup
    }
}

/// One item as text, so that both readers' items compare whole (records and every field of a
/// problem, raw bytes and lossy fields included).
private func describe(_ record: CSVRecord?, _ error: CSVError?) -> String {
    var text = ""
    if let record { dump(record, to: &text) } else { dump(error, to: &text) }
    return text
}

/// `bytes` read by a `CSVReader` set up as `setup` says: what `body` makes of its items, then
/// the header and encoding it found.
private func reading(_ bytes: [UInt8], _ setup: Setup, _ body: (CSVReader) throws -> [String]) throws -> [String] {
    let folder = TemporaryFolder("sov-csv-diff")
    defer { withExtendedLifetime(folder) {} }
    let reader = CSVReader(
        try InputFile(path: folder.write("input.csv", bytes)), delimiter: setup.delimiter, encoding: setup.encoding,
        checksFieldCount: setup.checksFieldCount, maximumRecordBytes: setup.recordLimit, maximumFieldsPerRecord: setup.fieldLimit,
        chunkSize: setup.chunkSize)
    return try body(reader) + ["header \(String(describing: reader.header)), encoding \(reader.encoding)"]
}

private func items(new bytes: [UInt8], _ setup: Setup) throws -> [String] {
    try reading(bytes, setup) { reader in
        var result: [String] = []
        while let item = try reader.next() {
            switch item {
            case .record(let record): result.append(describe(record, nil))
            case .malformed(let error): result.append(describe(nil, error))
            }
        }
        return result
    }
}

/// The same through `nextRaw`: each record's values taken as bytes (`withValues`) and only then
/// made Strings, as a packing reader takes them.
private func items(raw bytes: [UInt8], _ setup: Setup) throws -> [String] {
    try reading(bytes, setup) { reader in
        var result: [String] = []
        while let item = try reader.nextRaw() {
            switch item {
            case .record(let number, let line, let offset):
                let fields = reader.withValues { bytes, ends in
                    var start = 0
                    return ends.map { end in
                        defer { start = end }
                        return String(validating: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) ?? "<not UTF-8>"
                    }
                }
                result.append(describe(CSVRecord(number: number, line: line, offset: offset, fields: fields), nil))
            case .malformed(let error): result.append(describe(nil, error))
            }
        }
        return result
    }
}

private func items(legacy bytes: [UInt8], _ setup: Setup) throws -> [String] {
    let folder = TemporaryFolder("sov-csv-diff")
    defer { withExtendedLifetime(folder) {} }
    let path = folder.write("input.csv", bytes)
    let reader = LegacyCSVReader(
        try InputFile(path: path), delimiter: setup.delimiter, encoding: setup.encoding, checksFieldCount: setup.checksFieldCount,
        maximumRecordBytes: setup.recordLimit, maximumFieldsPerRecord: setup.fieldLimit, chunkSize: setup.chunkSize)
    var result: [String] = []
    while let item = try reader.next() {
        switch item {
        case .record(let record): result.append(describe(record, nil))
        case .malformed(let error): result.append(describe(nil, error))
        }
    }
    result.append("header \(String(describing: reader.header)), encoding \(reader.encoding)")
    return result
}


/// Pieces CSV is made of, weighted towards the ones that make states change.
private let pieces: [[UInt8]] = [
    Array("a".utf8), Array("value".utf8), Array("12.50".utf8), Array(",".utf8), Array(",".utf8), Array(";".utf8),
    Array("\"".utf8), Array("\"\"".utf8), Array("\"q, \"\"x\"\"\"".utf8), Array("\n".utf8), Array("\n".utf8), Array("\r\n".utf8),
    Array("\r".utf8), [0], Array(" ".utf8), Array("é".utf8), [0xE9], [0x81], [0xEF, 0xBB, 0xBF], Array("\t".utf8),
]

@Suite("CSVReader against the reader it replaced")
struct CSVReaderDifferentialTests {
    /// The reader and its byte form read `bytes` as the reader it replaced did, item for item.
    private func expectSameItems(_ bytes: [UInt8], _ setup: Setup, _ label: String) throws {
        let expected = try items(legacy: bytes, setup)
        #expect(try items(new: bytes, setup) == expected, "\(label), \(setup), input \(bytes)")
        #expect(try items(raw: bytes, setup) == expected, "bytes: \(label), \(setup), input \(bytes)")
    }

    @Test("random inputs read the same with every chunk size, delimiter, encoding and limit", arguments: 0..<8)
    func randomInputs(_ batch: Int) throws {
        var random = SplitMix64(seed: UInt64(batch) &* 7919 &+ 17)
        for round in 0..<60 {
            var bytes: [UInt8] = round % 5 == 0 ? [0xEF, 0xBB, 0xBF] : []
            for _ in 0..<Int.random(in: 0...120, using: &random) {
                bytes += pieces[Int.random(in: 0..<pieces.count, using: &random)]
            }
            let setup = Setup.random(using: &random, chunkSizes: [1, 2, 3, 5, 16, 64, 1 << 20], anyDelimiter: true, recordLimits: 1...40, fieldLimits: 1...6)
            try expectSameItems(bytes, setup, "seed batch \(batch) round \(round)")
        }
    }

    @Test("a flat export whose lines repeat the contract's fields reads the same", arguments: [7, 64, 1 << 20])
    func repeatedFields(_ chunkSize: Int) throws {
        var text = "Company,Job,Description,Amount\r\n"
        for row in 0..<200 {
            let job = row / 7
            text += "1,20-\(job),\"Project \(job), \"\"phase\"\" one\",\(row).50\r\n"
            if row % 13 == 0 { text += "1,20-\(job),caf\u{E9},x\r\n" }
        }
        var setup = Setup()
        setup.chunkSize = chunkSize
        #expect(try items(new: Array(text.utf8), setup) == items(legacy: Array(text.utf8), setup))
        // An undecodable field is not remembered: the same bytes on the next line are an error again.
        let bad: [UInt8] = Array("a,b\n".utf8) + [0x78, 0xFF, 0x2C, 0x31, 0x0A, 0x78, 0xFF, 0x2C, 0x31, 0x0A]
        let both = try items(new: bad, setup)
        #expect(both == (try items(legacy: bad, setup)))
        #expect(both.filter { $0.contains("invalid UTF-8") }.count == 2)
    }

    @Test("a malformed record that runs past the skip bound ends the input the same way", arguments: [4096, 1 << 20])
    func runaway(_ chunkSize: Int) throws {
        let bytes = Array("a,b\n1,2\n\"x\"y".utf8) + [UInt8](repeating: 0x7A, count: CSVReader.maximumSkippedBytes + 10) + Array("\n3,4\n".utf8)
        var setup = Setup()
        setup.chunkSize = chunkSize
        let actual = try items(new: bytes, setup)
        #expect(actual == (try items(legacy: bytes, setup)))
        #expect(actual.contains { $0.contains("fatal: true") && $0.contains("rawTruncated: true") })
    }

    /// Rows of ordinary fields are read eight bytes at a time (`plainRecord`): fields of every
    /// length, so that delimiters and line ends fall at every place in a word, with now and then
    /// a byte that sends the row back to the transition table (a quote, a NUL, a lone CR, a CR
    /// before the line feed, a byte over 0x7F, valid or not).
    @Test("rows of plain fields read the same, whatever falls where", arguments: 0..<6)
    func plainRows(_ batch: Int) throws {
        var random = SplitMix64(seed: UInt64(batch) &* 104_729 &+ 3)
        let odd: [[UInt8]] = [Array("\"".utf8), [0], Array("\r".utf8), Array("\r\n".utf8), Array("é".utf8), [0xE9], [0xFF], Array(";".utf8)]
        for round in 0..<40 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &random) {
                for field in 0..<Int.random(in: 1...14, using: &random) {
                    if field > 0 { bytes.append(UInt8(ascii: ",")) }
                    for _ in 0..<Int.random(in: 0...19, using: &random) {
                        bytes.append(UInt8(ascii: "a") + UInt8(Int.random(in: 0..<26, using: &random)))
                    }
                    if Int.random(in: 0..<60, using: &random) == 0 { bytes += odd[Int.random(in: 0..<odd.count, using: &random)] }
                }
                bytes += Int.random(in: 0..<3, using: &random) == 0 ? Array("\r\n".utf8) : [0x0A]
            }
            if Bool.random(using: &random), !bytes.isEmpty { bytes.removeLast() }
            let setup = Setup.random(using: &random, chunkSizes: [7, 64, 100, 1 << 20], anyDelimiter: false, recordLimits: 1...200, fieldLimits: 1...16)
            try expectSameItems(bytes, setup, "seed batch \(batch) round \(round)")
        }
    }
}
