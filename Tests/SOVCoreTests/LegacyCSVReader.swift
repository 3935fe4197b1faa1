@testable import SOVCore

/// The CSV reader as it was before the table-driven scanner (commit 03a0af5), kept verbatim
/// but for its name and a chunk size for tests, as the reference the differential test
/// compares the new scanner with.
/// A strict, streaming RFC 4180 reader working on bytes: quoted fields with `""` escapes and
/// embedded newlines (kept as they are), LF or CRLF record ends, a chosen delimiter, UTF-8 or
/// Windows-1252 (a UTF-8 BOM wins and is dropped). Nothing is repaired: a malformed record is
/// reported and skipped up to the end of its line, and reading goes on.
final class LegacyCSVReader {
    enum Item {
        case record(CSVRecord)
        case malformed(CSVError)
    }

    private enum State {
        case fieldStart, unquoted, quoted, quoteInQuoted, afterCR, skipping
    }

    private let input: InputFile
    private let delimiter: UInt8
    private(set) var encoding: TextEncoding
    private let checksFieldCount: Bool
    let maximumRecordBytes: Int
    /// Fields cost memory even when empty (a line of ten million commas), so their number is
    /// bounded too.
    let maximumFieldsPerRecord: Int

    private var chunk: [UInt8]
    private var chunkStart = 0
    private var chunkEnd = 0
    /// Absolute offset of chunk[0].
    private var chunkBase = 0
    private var atEnd = false
    private var startedFile = false

    private var state = State.fieldStart
    private var fieldBytes: [UInt8] = []  // all fields of the record, back to back
    private var fieldEnds: [Int] = []
    /// File offset of each field's first content byte, and where `""` escapes (two bytes in the
    /// file, one in the value) fell, so a decoding error can name its byte in the file.
    private var fieldStarts: [Int] = []
    private var currentFieldStart = 0
    private var escapes: [(field: Int, index: Int)] = []
    private var line = 1
    private var recordLine = 1
    private var recordOffset = 0
    private var quoteLine = 1
    private var recordNumber = 0
    private var pendingError: CSVError?
    /// The current record's bytes from earlier buffers (a record can span a refill), so that a
    /// malformed one can be given back whole; and the bytes of a malformed record being skipped.
    private var recordCarry: [UInt8] = []
    private var recordCarryTruncated = false
    private var pendingRaw: [UInt8] = []
    private var pendingRawTruncated = false
    /// Bytes passed over since the current malformed record's fault, looking for its line end.
    private var skippedBytes = 0
    /// How much of one malformed record is kept for the rejects stream: far more than any real
    /// export row, far less than a runaway line.
    static let maximumRawBytes = 64 << 10
    /// How far past a malformed record's fault its line end is looked for: as far as what is
    /// kept of it (64 KB). /dev/zero has no line end and was scanned for ever; no real export
    /// row runs on this long, so past the bound the input fails as a whole (65).
    static let maximumSkippedBytes = maximumRawBytes
    /// The header's field count, once read, when field counts are checked.
    private(set) var header: [String]?

    init(_ input: InputFile, delimiter: UInt8 = UInt8(ascii: ","), encoding: TextEncoding = .utf8, checksFieldCount: Bool = true, maximumRecordBytes: Int = 64 << 20, maximumFieldsPerRecord: Int = 10_000, chunkSize: Int = 1 << 20) {
        self.input = input
        self.delimiter = delimiter
        self.encoding = encoding
        self.checksFieldCount = checksFieldCount
        self.maximumRecordBytes = maximumRecordBytes
        self.maximumFieldsPerRecord = maximumFieldsPerRecord
        // Not zero-filled: only bytes read into it are ever looked at, and a megabyte of zeros per
        // reader is most of the cost of a small file.
        self.chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { _, count in count = chunkSize }
    }

    var name: String { input.name }

    private func error(_ message: String, at offset: Int, line: Int, code: DiagnosticCode = .FMT007, fatal: Bool = false, field: Int? = nil) -> CSVError {
        CSVError(message: message, record: recordNumber + 1, line: line, offset: offset, code: code, fatal: fatal, field: field)
    }

    /// Starts keeping a malformed record's bytes: what earlier buffers held of it, then
    /// `buffer` from the record's start up to `end` (the offending byte included).
    private func keepMalformed(_ buffer: UnsafeBufferPointer<UInt8>, base: Int, upTo end: Int) {
        skippedBytes = 0
        pendingRaw.removeAll(keepingCapacity: true)
        pendingRaw.append(contentsOf: recordCarry)
        pendingRawTruncated = recordCarryTruncated
        keepSkipped(buffer, from: max(recordOffset - base, 0), to: end)
    }

    private func keepSkipped(_ buffer: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
        guard start < end else { return }
        LegacyCSVReader.keep(UnsafeBufferPointer(rebasing: buffer[start..<end]), in: &pendingRaw, truncated: &pendingRawTruncated)
    }

    /// Appends what fits of `bytes` under `maximumRawBytes`; `truncated` once some did not.
    private static func keep(_ bytes: UnsafeBufferPointer<UInt8>, in kept: inout [UInt8], truncated: inout Bool) {
        let room = maximumRawBytes - kept.count
        if bytes.count > room { truncated = true }
        guard room > 0 else { return }
        kept.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[..<min(bytes.count, room)]))
    }

    /// The next record or malformed record; nil at the end of the input.
    func next() throws(IOFailure) -> Item? {
        while true {
            if chunkStart == chunkEnd {
                if atEnd { return finishAtEnd() }
                try refill()
                if chunkStart == chunkEnd { atEnd = true; continue }
            }
            if let item = scan() { return item }
        }
    }

    private func refill() throws(IOFailure) {
        if state != .skipping {
            // The record under way continues in the next buffer: keep what this one held of it.
            let from = max(recordOffset - chunkBase, 0)
            if from < chunkEnd {
                chunk.withUnsafeBufferPointer { buffer in
                    LegacyCSVReader.keep(UnsafeBufferPointer(rebasing: buffer[from..<chunkEnd]), in: &recordCarry, truncated: &recordCarryTruncated)
                }
            }
        }
        chunkBase += chunkEnd
        chunkStart = 0
        chunkEnd = 0
        let count = try chunk.withUnsafeMutableBytes { raw in
            Result { () throws(IOFailure) in try input.read(into: raw) }
        }.get()
        chunkEnd = count
        if !startedFile {
            startedFile = true
            if count >= 3, chunk[0] == 0xEF, chunk[1] == 0xBB, chunk[2] == 0xBF {
                chunkStart = 3
                recordOffset = 3
                encoding = .utf8
            }
        }
    }

    /// Runs the state machine over the buffered bytes until a record completes or the buffer ends.
    /// The hot state lives in locals while the loop runs (each access to a class property pays a
    /// dynamic exclusivity check) and goes back into the properties before any helper that reads
    /// it; runs of ordinary bytes are copied in one go rather than byte by byte.
    private func scan() -> Item? {
        let quote = UInt8(ascii: "\"")
        let delimiter = self.delimiter
        let limit = maximumRecordBytes
        let fieldLimit = maximumFieldsPerRecord
        let end = chunkEnd
        let base = chunkBase
        var state = self.state
        var line = self.line
        var position = chunkStart
        var fieldStart = currentFieldStart
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var starts: [Int] = []
        swap(&bytes, &fieldBytes)
        swap(&ends, &fieldEnds)
        swap(&starts, &fieldStarts)
        /// Puts the locals back, for the helpers and the next call.
        func store() {
            self.state = state
            self.line = line
            chunkStart = position
            currentFieldStart = fieldStart
            swap(&bytes, &fieldBytes)
            swap(&ends, &fieldEnds)
            swap(&starts, &fieldStarts)
        }
        return chunk.withUnsafeBufferPointer { buffer -> Item? in
            while position < end {
                let byte = buffer[position]
                let offset = base + position
                position += 1
                switch state {
                case .skipping:
                    if byte == 0x0A {
                        line += 1
                        store()
                        return skipDone()
                    }
                    let skipStart = position - 1
                    while position < end && buffer[position] != 0x0A { position += 1 }
                    keepSkipped(buffer, from: skipStart, to: position)
                    skippedBytes += position - skipStart
                    if skippedBytes > LegacyCSVReader.maximumSkippedBytes {
                        // No line end within the bound: a runaway (/dev/zero, a binary file)
                        // would be scanned forever. The input fails as a whole.
                        store()
                        return runaway()
                    }
                case .fieldStart, .unquoted:
                    if byte == delimiter {
                        starts.append(fieldStart)
                        ends.append(bytes.count)
                        state = .fieldStart
                        if ends.count >= fieldLimit {
                            pendingError = error("more than \(fieldLimit) fields in one record", at: offset, line: line, field: ends.count)
                            keepMalformed(buffer, base: base, upTo: position)
                            state = .skipping
                        }
                    } else if byte == 0x0A {
                        starts.append(fieldStart)
                        ends.append(bytes.count)
                        line += 1
                        store()
                        return endRecord(nextOffset: offset + 1)
                    } else if byte == 0x0D {
                        state = .afterCR
                    } else if byte == quote {
                        if state == .fieldStart {
                            state = .quoted
                            quoteLine = line
                            fieldStart = offset + 1
                        } else {
                            pendingError = error("a quote inside an unquoted field", at: offset, line: line, field: ends.count)
                            keepMalformed(buffer, base: base, upTo: position)
                            state = .skipping
                        }
                    } else if byte == 0 {
                        pendingError = error("NUL byte in a field", at: offset, line: line, code: .FMT008, field: ends.count)
                        keepMalformed(buffer, base: base, upTo: position)
                        state = .skipping
                    } else {
                        if state == .fieldStart { fieldStart = offset }
                        var runEnd = position
                        while runEnd < end {
                            let next = buffer[runEnd]
                            if next == delimiter || next == quote || next == 0x0A || next == 0x0D || next == 0 { break }
                            runEnd += 1
                        }
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[(position - 1)..<runEnd]))
                        position = runEnd
                        state = .unquoted
                        if bytes.count > limit {
                            pendingError = error("record longer than \(limit) bytes", at: recordOffset, line: recordLine, field: ends.count)
                            keepMalformed(buffer, base: base, upTo: position)
                            state = .skipping
                        }
                    }
                case .quoted:
                    if byte == quote {
                        state = .quoteInQuoted
                    } else if byte == 0 {
                        pendingError = error("NUL byte in a field", at: offset, line: line, code: .FMT008, field: ends.count)
                        keepMalformed(buffer, base: base, upTo: position)
                        state = .skipping
                    } else {
                        var runEnd = position - 1
                        while runEnd < end {
                            let next = buffer[runEnd]
                            if next == quote || next == 0 { break }
                            if next == 0x0A { line += 1 }
                            runEnd += 1
                        }
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[(position - 1)..<runEnd]))
                        position = runEnd
                        if bytes.count > limit {
                            pendingError = error("record longer than \(limit) bytes", at: recordOffset, line: recordLine, field: ends.count)
                            keepMalformed(buffer, base: base, upTo: position)
                            state = .skipping
                        }
                    }
                case .quoteInQuoted:
                    if byte == quote {
                        escapes.append((ends.count, bytes.count - (ends.last ?? 0)))
                        bytes.append(quote)
                        state = .quoted
                    } else if byte == delimiter {
                        starts.append(fieldStart)
                        ends.append(bytes.count)
                        state = .fieldStart
                        if ends.count >= fieldLimit {
                            pendingError = error("more than \(fieldLimit) fields in one record", at: offset, line: line, field: ends.count)
                            keepMalformed(buffer, base: base, upTo: position)
                            state = .skipping
                        }
                    } else if byte == 0x0A {
                        starts.append(fieldStart)
                        ends.append(bytes.count)
                        line += 1
                        store()
                        return endRecord(nextOffset: offset + 1)
                    } else if byte == 0x0D {
                        state = .afterCR
                    } else {
                        pendingError = error("text after a closing quote", at: offset, line: line, field: ends.count)
                        keepMalformed(buffer, base: base, upTo: position)
                        state = .skipping
                    }
                case .afterCR:
                    if byte == 0x0A {
                        starts.append(fieldStart)
                        ends.append(bytes.count)
                        line += 1
                        store()
                        return endRecord(nextOffset: offset + 1)
                    }
                    pendingError = error("a carriage return not followed by a line feed outside quotes", at: offset - 1, line: line, field: ends.count)
                    keepMalformed(buffer, base: base, upTo: position)
                    state = .skipping
                }
            }
            store()
            return nil
        }
    }

    /// A malformed record with no line end within `maximumSkippedBytes`: reported as fatal with
    /// what was kept of it, and the reader stops (the rest is never scanned).
    private func runaway() -> Item? {
        guard var problem = pendingError else { return nil }
        problem.message += "; no line end follows within \(LegacyCSVReader.maximumSkippedBytes >> 10) KB, so the file is not read further"
        problem.fatal = true
        problem.raw = pendingRaw
        problem.rawTruncated = true
        resetRecord(nextOffset: chunkBase + chunkStart)
        recordNumber += 1
        // Nothing more comes out of this input.
        atEnd = true
        chunkStart = chunkEnd
        return .malformed(problem)
    }

    private func skipDone() -> Item? {
        var problem = pendingError
        if pendingRaw.last == 0x0D { pendingRaw.removeLast() }
        problem?.raw = pendingRaw
        problem?.rawTruncated = pendingRawTruncated
        resetRecord(nextOffset: chunkBase + chunkStart)
        recordNumber += 1
        return problem.map(Item.malformed)
    }

    private func finishAtEnd() -> Item? {
        switch state {
        case .skipping:
            state = .fieldStart
            if pendingError != nil { return skipDone() }
            return nil
        case .quoted:
            let problem = error("unterminated quoted field (the quote opened on line \(quoteLine))", at: chunkBase + chunkEnd, line: line, fatal: true)
            state = .fieldStart
            resetRecord(nextOffset: chunkBase + chunkEnd)
            recordNumber += 1
            return .malformed(problem)
        case .fieldStart where fieldEnds.isEmpty:
            return nil  // the file ended with a record end, as it should
        case .fieldStart, .unquoted, .quoteInQuoted, .afterCR:
            endField()
            return endRecord(nextOffset: chunkBase + chunkEnd)
        }
    }

    private func endField() {
        fieldStarts.append(currentFieldStart)
        fieldEnds.append(fieldBytes.count)
    }

    private func resetRecord(nextOffset: Int) {
        fieldBytes.removeAll(keepingCapacity: true)
        fieldEnds.removeAll(keepingCapacity: true)
        fieldStarts.removeAll(keepingCapacity: true)
        escapes.removeAll(keepingCapacity: true)
        pendingError = nil
        if !recordCarry.isEmpty || recordCarryTruncated {
            recordCarry.removeAll(keepingCapacity: true)
            recordCarryTruncated = false
        }
        if !pendingRaw.isEmpty || pendingRawTruncated {
            pendingRaw.removeAll(keepingCapacity: true)
            pendingRawTruncated = false
        }
        state = .fieldStart
        recordLine = line
        recordOffset = nextOffset
    }

    private func endRecord(nextOffset: Int) -> Item {
        recordNumber += 1
        let number = recordNumber
        let startLine = recordLine
        let startOffset = recordOffset
        defer { resetRecord(nextOffset: nextOffset) }
        var fields: [String] = []
        fields.reserveCapacity(fieldEnds.count)
        var problem: CSVError?
        fieldBytes.withUnsafeBufferPointer { all in
            var start = 0
            for (fieldIndex, end) in fieldEnds.enumerated() {
                let slice = UnsafeBufferPointer(rebasing: all[start..<end])
                do throws(TextDecodingError) {
                    fields.append(try TextDecoder.decode(slice, as: encoding))
                } catch {
                    if problem == nil {
                        let bad = start + error.offset
                        let newlines = all[..<bad].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                        let escapesBefore = escapes.reduce(0) { $0 + ($1.field == fieldIndex && $1.index < error.offset ? 1 : 0) }
                        let fileOffset = fieldStarts[fieldIndex] + error.offset + escapesBefore
                        let message: String
                        switch error {
                        case .invalidUTF8:
                            message = "invalid UTF-8 (byte 0x\(String(all[bad], radix: 16, uppercase: true))); if the file comes from Spectrum on Windows, try --encoding windows-1252"
                        case .undefinedWindows1252(_, let byte):
                            message = "byte 0x\(String(byte, radix: 16, uppercase: true)) is not defined in Windows-1252"
                        }
                        problem = CSVError(message: message, record: number, line: startLine + newlines, offset: fileOffset, code: .FMT008, fatal: false, field: fieldIndex)
                    }
                    fields.append(TextDecoder.decodeLossy(slice, as: encoding))
                }
                start = end
            }
        }
        if var problem {
            problem.lossyFields = fields
            return .malformed(problem)
        }
        if checksFieldCount {
            if let header {
                if fields.count != header.count {
                    return .malformed(CSVError(message: "record has \(fields.count) field\(fields.count == 1 ? "" : "s"), the header has \(header.count)", record: number, line: startLine, offset: startOffset, code: .FMT007, fatal: false))
                }
            } else {
                header = fields
            }
        }
        return .record(CSVRecord(number: number, line: startLine, offset: startOffset, fields: fields))
    }
}
