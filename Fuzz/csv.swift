import SOVCore
import SpectrumFormat

/// The CSV readers on arbitrary bytes. The first byte chooses the options (delimiter, encoding,
/// field count check); the rest is the file. Records are written back as quoted CSV and read
/// again: the reader must give the same fields (so a mis-split or mis-decoded field is a finding).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let options = data[0]
    let delimiters: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09, UInt8(ascii: "|")]
    let delimiter = delimiters[Int(options & 3)]
    let encoding: TextEncoding = options & 4 == 0 ? .utf8 : .windows1252
    let checksFieldCount = options & 8 != 0
    let path = FuzzFile.write(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let records = readCSV(path, delimiter: delimiter, encoding: encoding, checksFieldCount: checksFieldCount, file: UnsafeBufferPointer(start: data + 1, count: size - 1))
    roundTrip(records, delimiter: delimiter)
    readRecords(path, delimiter: delimiter, encoding: encoding)
    parseDocuments(path, delimiter: delimiter, encoding: encoding)
    return 0
}

private func readCSV(_ path: String, delimiter: UInt8, encoding: TextEncoding, checksFieldCount: Bool, file: UnsafeBufferPointer<UInt8>) -> [[String]] {
    let size = file.count
    var records: [[String]] = []
    do {
        let reader = CSVReader(try InputFile(path: path), delimiter: delimiter, encoding: encoding, checksFieldCount: checksFieldCount)
        var lastNumber = 0
        var lastLine = 0
        while let item = try reader.next() {
            switch item {
            case .record(let record):
                precondition(record.number == lastNumber + 1, "record numbers skip")
                precondition(record.line >= 1 && record.line >= lastLine, "record line goes back")
                precondition(record.offset >= 0 && record.offset <= size)
                precondition(!record.fields.isEmpty)
                lastNumber = record.number
                lastLine = record.line
                records.append(record.fields)
            case .malformed(let problem):
                precondition(problem.record == lastNumber + 1, "malformed record numbers skip")
                precondition(problem.line >= 1 && problem.offset >= 0 && problem.offset <= size, "\(problem)")
                // What a malformed record gives back is bytes of the file, in one piece.
                if let raw = problem.raw, !raw.isEmpty {
                    precondition(raw.count <= CSVReader.maximumRawBytes)
                    precondition(contains(file, raw), "a malformed record's bytes are not in the file: \(problem)")
                }
                lastNumber = problem.record
                lastLine = problem.line
            }
        }
    } catch {
        fatalError("CSVReader threw on a plain file: \(error)")
    }
    return records
}

private func quoted(_ field: String) -> [UInt8] {
    var bytes: [UInt8] = [UInt8(ascii: "\"")]
    for byte in field.utf8 {
        bytes.append(byte)
        if byte == UInt8(ascii: "\"") { bytes.append(byte) }
    }
    bytes.append(UInt8(ascii: "\""))
    return bytes
}

private func roundTrip(_ records: [[String]], delimiter: UInt8) {
    guard !records.isEmpty else { return }
    var text: [UInt8] = []
    for record in records {
        for (index, field) in record.enumerated() {
            if index > 0 { text.append(delimiter) }
            text += quoted(field)
        }
        text.append(0x0A)
    }
    let path = FuzzFile.write(text, slot: "roundtrip")
    var again: [[String]] = []
    do {
        let reader = CSVReader(try InputFile(path: path), delimiter: delimiter, encoding: .utf8, checksFieldCount: false)
        while let item = try reader.next() {
            switch item {
            case .record(let record): again.append(record.fields)
            case .malformed(let problem): fatalError("written CSV reads as malformed: \(problem)")
            }
        }
    } catch {
        fatalError("CSVReader threw: \(error)")
    }
    precondition(again == records, "CSV round trip changed the records:\n\(records)\n\(again)")
}

private func readRecords(_ path: String, delimiter: UInt8, encoding: TextEncoding) {
    do {
        let reader = CSVRecordReader(try InputFile(path: path), delimiter: delimiter, encoding: encoding)
        while let item = try reader.next() {
            switch item {
            case .record(let record):
                precondition(record.line >= 1 && record.count == record.fieldNames.count)
                _ = record.json.text
            case .malformed(let raw, let diagnostic):
                _ = raw.text
                CanonicalCheck.diagnostic(diagnostic)
            }
        }
    } catch let unusable as InputFailure {
        precondition(unusable.diagnostics.count == 1, "an unusable input says one finding")
        for diagnostic in unusable.diagnostics { CanonicalCheck.diagnostic(diagnostic) }
    } catch {
        fatalError("unexpected error: \(error)")
    }
}

private func parseDocuments(_ path: String, delimiter: UInt8, encoding: TextEncoding) {
    let parser = SpectrumParser(options: SpectrumReadOptions(profile: SpectrumProfile(money: .accounting), encoding: encoding, delimiter: delimiter))
    let emit: (ReadEvent) -> Void = { output in
        switch output {
        case .read(.accepted(let document)), .read(.held(let document)): CanonicalCheck.roundTrip(document)
        case .read(.rejected(let reject)): CanonicalCheck.reject(reject)
        case .warning(let diagnostic): CanonicalCheck.diagnostic(diagnostic)
        }
    }
    do {
        try parser.parse(try InputFile(path: path), format: .csv, emit: emit)
    } catch is InputFailure {
    } catch {
        fatalError("unexpected error: \(error)")
    }
    do {
        try parser.finish(emit: emit)
    } catch {
        fatalError("finish threw: \(error)")
    }
}

private func contains(_ haystack: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
        var index = 1
        while index < needle.count && haystack[start + index] == needle[index] { index += 1 }
        if index == needle.count { return true }
    }
    return false
}
