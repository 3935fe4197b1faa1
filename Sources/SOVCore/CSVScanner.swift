#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The state of one `CSVReader`, and the scanning itself. A struct reached through one `inout`
/// access per record: its properties are checked for exclusive access when compiled, where a
/// class's are checked at run time on every touch (a quarter of the instructions once).
///
/// Each byte is looked up in a 256-entry class table, the (state, class) pair in the transition
/// table (`CSVTransitions`); runs of ordinary bytes are found with a stop table and copied with
/// one `memcpy`; a malformed record's line end is found with `memchr`. Fields go back to back
/// into `bytes`, and `endField` is the one place a field ends.
///
/// A record that starts in the buffer and ends in it with no quote, NUL or lone CR (nearly
/// every row of an export) is taken in one go (`plainRecord`): its line end by `memchr`, its
/// delimiters eight bytes at a time, its fields copied eight bytes at a time.
struct CSVScanner {
    let delimiter: UInt8
    private(set) var encoding: TextEncoding
    let checksFieldCount: Bool
    let recordLimit: Int
    let fieldLimit: Int

    /// `table[state * classCount + class]`.
    private let table: UnsafeMutablePointer<CSVTransitions.Entry>
    /// The class of each byte value (a `CSVByteClass` raw value).
    private let classes: UnsafeMutablePointer<UInt8>
    /// Bit 1: the byte ends a run of an unquoted field (delimiter, quote, CR, LF, NUL); bit 2:
    /// is looked at in a quoted one (quote and NUL end it; LF is counted).
    private let stops: UnsafeMutablePointer<UInt8>
    private static let unquotedStop: UInt8 = 1
    private static let quotedStop: UInt8 = 2

    /// The bytes read; the allocation runs `wordSlack` bytes past it, so that a word read at
    /// any byte of it stays inside.
    private let chunk: UnsafeMutableRawBufferPointer
    private static let wordSlack = 8
    /// Whether `plainRecord` can be used: not when the delimiter is itself a byte it looks for.
    private let readsPlainRecords: Bool
    /// Where the next quote, CR and NUL are in the buffer, at or after where they were last
    /// looked for (the buffer's end when there is none); -1 when not looked for since the last
    /// refill. One `memchr` each serves every record up to the byte found.
    private var nextQuote = -1
    private var nextCR = -1
    private var nextNUL = -1
    /// Set by `plainRecord` for a record it found all ASCII, so that it is not looked at again.
    private var knownASCII = false
    private var chunkStart = 0
    private var chunkEnd = 0
    /// Absolute offset of chunk[0].
    private var chunkBase = 0
    private var atEnd = false
    private var startedFile = false

    private var state = CSVState.fieldStart
    /// All fields of the record, back to back, and where each ends.
    private var bytes: RawBuffer<UInt8>
    private var ends: RawBuffer<Int>
    /// File offset of each field's first content byte, and where `""` escapes (two bytes in the
    /// file, one in the value) fell, so a decoding error can name its byte in the file.
    private var starts: RawBuffer<Int>
    private var fieldStart = 0
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
    private(set) var header: [String]?

    /// The last record's values as UTF-8 (`withValues`): the scanned bytes themselves when they
    /// needed no decoding (every ASCII record), else decoded into `decoded`. The scanned bytes
    /// stay in `bytes` after the record is reset, until the next record is scanned over them.
    private var decoded: RawBuffer<UInt8>
    private var decodedEnds: RawBuffer<Int>
    private var valuesDecoded = false
    private var valueByteCount = 0
    private var valueCount = 0

    init(delimiter: UInt8, encoding: TextEncoding, checksFieldCount: Bool, recordLimit: Int, fieldLimit: Int, chunkSize: Int) {
        self.delimiter = delimiter
        self.encoding = encoding
        self.checksFieldCount = checksFieldCount
        self.recordLimit = recordLimit
        self.fieldLimit = fieldLimit
        chunk = UnsafeMutableRawBufferPointer(
            start: .allocate(byteCount: max(chunkSize, 1) + Self.wordSlack, alignment: 16), count: max(chunkSize, 1))
        readsPlainRecords = ![0x0A, 0x0D, UInt8(ascii: "\""), 0].contains(delimiter)
        bytes = RawBuffer(capacity: 4096)
        decoded = RawBuffer(capacity: 4096)
        ends = RawBuffer(capacity: 64)
        decodedEnds = RawBuffer(capacity: 64)
        starts = RawBuffer(capacity: 64)
        classes = .allocate(capacity: 256)
        stops = .allocate(capacity: 256)
        for value in 0..<256 {
            let byte = UInt8(value)
            let byteClass: CSVByteClass
            switch byte {
            case delimiter: byteClass = .delimiter
            case UInt8(ascii: "\""): byteClass = .quote
            case 0x0A: byteClass = .lineFeed
            case 0x0D: byteClass = .carriageReturn
            case 0: byteClass = .nul
            default: byteClass = .other
            }
            classes[value] = byteClass.rawValue
            let quotedStops = byteClass == .quote || byteClass == .nul || byteClass == .lineFeed
            stops[value] = (byteClass == .other ? 0 : Self.unquotedStop) | (quotedStops ? Self.quotedStop : 0)
        }
        let states: [CSVState] = [.fieldStart, .unquoted, .quoted, .quoteInQuoted, .afterCR, .skipping]
        let byteClasses: [CSVByteClass] = [.other, .delimiter, .quote, .lineFeed, .carriageReturn, .nul]
        table = .allocate(capacity: states.count * CSVTransitions.classCount)
        for state in states {
            for byteClass in byteClasses {
                table[Int(state.rawValue) * CSVTransitions.classCount + Int(byteClass.rawValue)] = CSVTransitions.entry(state, byteClass)
            }
        }
    }

    /// Frees the buffers; called once, by the owning reader's `deinit`.
    func deallocate() {
        chunk.deallocate()
        bytes.deallocate()
        decoded.deallocate()
        ends.deallocate()
        decodedEnds.deallocate()
        starts.deallocate()
        classes.deallocate()
        stops.deallocate()
        table.deallocate()
    }

    mutating func next(_ input: InputFile) throws(IOFailure) -> CSVReader.RawItem? {
        while true {
            if chunkStart == chunkEnd {
                if atEnd { return finishAtEnd() }
                try refill(input)
                if chunkStart == chunkEnd { atEnd = true; continue }
            }
            if let item = scan() { return item }
        }
    }

    private mutating func refill(_ input: InputFile) throws(IOFailure) {
        if state != .skipping {
            // The record under way continues in the next buffer: keep what this one held of it.
            let from = max(recordOffset - chunkBase, 0)
            if from < chunkEnd {
                Self.keep(chunkBytes + from, count: chunkEnd - from, in: &recordCarry, truncated: &recordCarryTruncated)
            }
        }
        chunkBase += chunkEnd
        chunkStart = 0
        chunkEnd = 0
        nextQuote = -1
        nextCR = -1
        nextNUL = -1
        let count = try input.read(into: chunk)
        chunkEnd = count
        if !startedFile {
            startedFile = true
            let head = chunkBytes
            if count >= 3, head[0] == 0xEF, head[1] == 0xBB, head[2] == 0xBF {
                chunkStart = 3
                recordOffset = 3
                encoding = .utf8
            }
        }
    }

    private var chunkBytes: UnsafeMutablePointer<UInt8> { chunk.baseAddress!.assumingMemoryBound(to: UInt8.self) }

    /// Runs the transition table over the buffered bytes until a record completes or the buffer
    /// ends.
    private mutating func scan() -> CSVReader.RawItem? {
        let buffer = UnsafePointer(chunkBytes)
        let end = chunkEnd
        var position = chunkStart
        while position < end {
            // At a record's first byte (none of it in an earlier buffer).
            if state == .fieldStart && ends.count == 0 && readsPlainRecords && recordCarry.isEmpty,
                let next = plainRecord(buffer, from: position, end: end)
            {
                line += 1
                chunkStart = next
                return endRecord(nextOffset: chunkBase + next)
            }
            if state == .skipping {
                let item = skip(buffer, &position, end: end)
                if let item { return item }
                continue
            }
            let byte = buffer[position]
            let entry = table[Int(state.rawValue) &* CSVTransitions.classCount &+ Int(classes[Int(byte)])]
            let offset = chunkBase + position
            position += 1
            state = entry.next
            switch entry.action {
            case .none:
                break
            case .copyFirst, .copy, .copyQuoted:
                if entry.action == .copyFirst { fieldStart = offset }
                let quoted = entry.action == .copyQuoted
                if quoted && byte == 0x0A { line += 1 }
                position = copyRun(buffer, from: position - 1, end: end, stop: quoted ? Self.quotedStop : Self.unquotedStop)
                if bytes.count > recordLimit {
                    fail("record longer than \(recordLimit) bytes", at: recordOffset, line: recordLine, buffer, upTo: position)
                }
            case .openQuote:
                quoteLine = line
                fieldStart = offset + 1
            case .escapeQuote:
                escapes.append((ends.count, bytes.count - (ends.last ?? 0)))
                bytes.append(UInt8(ascii: "\""))
            case .endField:
                endField()
                if ends.count >= fieldLimit {
                    fail("more than \(fieldLimit) fields in one record", at: offset, line: line, buffer, upTo: position)
                }
            case .endRecord:
                endField()
                line += 1
                chunkStart = position
                return endRecord(nextOffset: offset + 1)
            case .quoteInUnquoted:
                fail("a quote inside an unquoted field", at: offset, line: line, buffer, upTo: position)
            case .nul:
                fail("NUL byte in a field", at: offset, line: line, code: .FMT008, buffer, upTo: position)
            case .textAfterQuote:
                fail("text after a closing quote", at: offset, line: line, buffer, upTo: position)
            case .loneCR:
                fail("a carriage return not followed by a line feed outside quotes", at: offset - 1, line: line, buffer, upTo: position)
            }
        }
        chunkStart = position
        return nil
    }

    /// Reads the record starting at `start` when it ends in the buffer and holds no quote, NUL
    /// or CR but the one before its line feed: its fields go into `bytes` and `ends`, as the
    /// transition table would put them, and the position after its line feed is returned. Nil,
    /// with nothing kept, for any other record (and one over a limit), left to the table.
    private mutating func plainRecord(_ buffer: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int? {
        guard let found = memchr(buffer + start, 0x0A, end - start) else { return nil }
        let lineEnd = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - buffer
        var contentEnd = lineEnd
        if nextCR < start { nextCR = Self.find(0x0D, buffer, from: start, end: end) }
        if nextCR < lineEnd {
            guard nextCR == lineEnd - 1 else { return nil }
            contentEnd = nextCR
        }
        if nextQuote < start { nextQuote = Self.find(UInt8(ascii: "\""), buffer, from: start, end: end) }
        if nextNUL < start { nextNUL = Self.find(0, buffer, from: start, end: end) }
        guard nextQuote >= contentEnd, nextNUL >= contentEnd, contentEnd - start <= recordLimit else { return nil }

        // Written through locals, with the counts set once at the end: stores through a
        // pointer could be stores to `self` for all the compiler knows, which made it reload
        // every property after each one.
        let maximumFields = min(contentEnd - start + 1, fieldLimit)
        bytes.reserve(contentEnd - start + Self.wordSlack)
        ends.reserve(maximumFields)
        let valueBase = bytes.base + bytes.count
        let endBase = ends.base + ends.count
        var fieldCount = 0
        var valueCount = 0
        let source = UnsafeRawPointer(buffer)
        let delimiters = UInt64(delimiter) &* Self.everyByte
        var fieldFirst = start
        var high: UInt64 = 0
        var index = start
        var word: UInt64 = 0
        var matches: UInt64 = 0
        while true {
            if index + 8 <= contentEnd {
                word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                matches = Self.zeroBytes(word ^ delimiters)
            } else if index < contentEnd {
                // The last bytes: those past the record's end are not looked at.
                let kept: UInt64 = (1 &<< ((contentEnd - index) &* 8)) &- 1
                word = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index, as: UInt64.self)) & kept
                matches = Self.zeroBytes(word ^ delimiters) & kept
            } else {
                break
            }
            high |= word
            while matches != 0 {
                let at = index &+ matches.trailingZeroBitCount &>> 3
                Self.copyWords(buffer + fieldFirst, count: at &- fieldFirst, to: valueBase + valueCount)
                valueCount &+= at &- fieldFirst
                endBase[fieldCount] = valueCount
                fieldCount &+= 1
                // The table's limit, checked where it checks it: at each delimiter.
                if fieldCount >= maximumFields { return nil }
                fieldFirst = at &+ 1
                matches &= matches &- 1
            }
            index &+= 8
        }
        Self.copyWords(buffer + fieldFirst, count: contentEnd &- fieldFirst, to: valueBase + valueCount)
        valueCount &+= contentEnd &- fieldFirst
        endBase[fieldCount] = valueCount
        bytes.added(valueCount)
        ends.added(fieldCount + 1)
        if high & (0x80 &* Self.everyByte) == 0 {
            knownASCII = true
        } else {
            // Where each field starts in the file, for a decoding error to name its byte.
            starts.append(chunkBase + start)
            for index in start..<contentEnd where buffer[index] == delimiter { starts.append(chunkBase + index + 1) }
        }
        return lineEnd + 1
    }

    private static let everyByte: UInt64 = 0x0101_0101_0101_0101

    /// 0x80 in each byte of `word` that is zero, 0 in the others (exact: no carry crosses bytes).
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        let low: UInt64 = 0x7F &* everyByte
        return ~(((word & low) &+ low) | word | low)
    }

    /// Copies `count` bytes eight at a time, reading and writing up to seven bytes past them
    /// (the caller has room and readable bytes there).
    @inline(__always)
    private static func copyWords(_ source: UnsafePointer<UInt8>, count: Int, to target: UnsafeMutablePointer<UInt8>) {
        let from = UnsafeRawPointer(source)
        let to = UnsafeMutableRawPointer(target)
        var offset = 0
        while offset < count {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
            offset &+= 8
        }
    }

    /// The first `byte` from `start` on, or `end`.
    private static func find(_ byte: UInt8, _ buffer: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
        guard let found = memchr(buffer + start, Int32(byte), end - start) else { return end }
        return UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - buffer
    }

    /// Copies the run of bytes from `start` up to the next byte with a `stop` bit (or `end`);
    /// returns where it ended. A quoted run goes on over line ends, counting them: the record
    /// length is checked once per run, so a run must end where the reader it replaced ended it.
    @inline(__always)
    private mutating func copyRun(_ buffer: UnsafePointer<UInt8>, from start: Int, end: Int, stop: UInt8) -> Int {
        var runEnd = start + 1
        while runEnd < end {
            let byte = buffer[runEnd]
            if stops[Int(byte)] & stop != 0 {
                guard stop == Self.quotedStop && byte == 0x0A else { break }
                line += 1
            }
            runEnd += 1
        }
        bytes.append(buffer + start, count: runEnd - start)
        return runEnd
    }

    /// The one place a field ends: its end in `bytes` and its first byte in the file.
    private mutating func endField() {
        starts.append(fieldStart)
        ends.append(bytes.count)
    }

    /// The current record is malformed: the problem is kept, with the record's bytes up to
    /// `position`, and the rest of its line is skipped.
    private mutating func fail(_ message: String, at offset: Int, line: Int, code: DiagnosticCode = .FMT007, _ buffer: UnsafePointer<UInt8>, upTo position: Int) {
        pendingError = CSVError(message: message, record: recordNumber + 1, line: line, offset: offset, code: code, fatal: false, field: ends.count)
        skippedBytes = 0
        pendingRaw.removeAll(keepingCapacity: true)
        pendingRaw.append(contentsOf: recordCarry)
        pendingRawTruncated = recordCarryTruncated
        let from = max(recordOffset - chunkBase, 0)
        if from < position {
            Self.keep(buffer + from, count: position - from, in: &pendingRaw, truncated: &pendingRawTruncated)
        }
        state = .skipping
    }

    /// Passes over a malformed record up to its line end (`memchr`), keeping what fits of it.
    private mutating func skip(_ buffer: UnsafePointer<UInt8>, _ position: inout Int, end: Int) -> CSVReader.RawItem? {
        if buffer[position] == 0x0A {
            position += 1
            line += 1
            chunkStart = position
            return skipDone()
        }
        let skipStart = position
        if let found = memchr(buffer + position, 0x0A, end - position) {
            position = UnsafePointer(found.assumingMemoryBound(to: UInt8.self)) - buffer
        } else {
            position = end
        }
        Self.keep(buffer + skipStart, count: position - skipStart, in: &pendingRaw, truncated: &pendingRawTruncated)
        skippedBytes += position - skipStart
        guard skippedBytes > CSVReader.maximumSkippedBytes else { return nil }
        // No line end within the bound: a runaway (/dev/zero, a binary file) would be scanned
        // forever. The input fails as a whole.
        chunkStart = position
        let item = runaway()
        position = chunkStart
        return item
    }

    /// Appends what fits of `count` bytes under `maximumRawBytes`; `truncated` once some did not.
    private static func keep(_ start: UnsafePointer<UInt8>, count: Int, in kept: inout [UInt8], truncated: inout Bool) {
        let room = CSVReader.maximumRawBytes - kept.count
        if count > room { truncated = true }
        guard room > 0, count > 0 else { return }
        kept.append(contentsOf: UnsafeBufferPointer(start: start, count: min(count, room)))
    }

    /// A malformed record with no line end within `maximumSkippedBytes`: reported as fatal with
    /// what was kept of it, and the reader stops (the rest is never scanned).
    private mutating func runaway() -> CSVReader.RawItem? {
        guard var problem = pendingError else { return nil }
        problem.message += "; no line end follows within \(CSVReader.maximumSkippedBytes >> 10) KB, so the file is not read further"
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

    private mutating func skipDone() -> CSVReader.RawItem? {
        var problem = pendingError
        if pendingRaw.last == 0x0D { pendingRaw.removeLast() }
        problem?.raw = pendingRaw
        problem?.rawTruncated = pendingRawTruncated
        resetRecord(nextOffset: chunkBase + chunkStart)
        recordNumber += 1
        return problem.map(CSVReader.RawItem.malformed)
    }

    private mutating func finishAtEnd() -> CSVReader.RawItem? {
        switch state {
        case .skipping:
            state = .fieldStart
            if pendingError != nil { return skipDone() }
            return nil
        case .quoted:
            let problem = CSVError(message: "unterminated quoted field (the quote opened on line \(quoteLine))", record: recordNumber + 1, line: line, offset: chunkBase + chunkEnd, code: .FMT007, fatal: true)
            state = .fieldStart
            resetRecord(nextOffset: chunkBase + chunkEnd)
            recordNumber += 1
            return .malformed(problem)
        case .fieldStart where ends.count == 0:
            return nil  // the file ended with a record end, as it should
        case .fieldStart, .unquoted, .quoteInQuoted, .afterCR:
            endField()
            return endRecord(nextOffset: chunkBase + chunkEnd)
        }
    }

    private mutating func resetRecord(nextOffset: Int) {
        bytes.removeAll()
        ends.removeAll()
        starts.removeAll()
        if !escapes.isEmpty { escapes.removeAll(keepingCapacity: true) }
        pendingError = nil
        knownASCII = false
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
}

extension CSVScanner {
    private mutating func endRecord(nextOffset: Int) -> CSVReader.RawItem {
        recordNumber += 1
        let number = recordNumber
        let startLine = recordLine
        let startOffset = recordOffset
        defer { resetRecord(nextOffset: nextOffset) }
        if let problem = decodeValues(number: number, startLine: startLine) { return .malformed(problem) }
        if checksFieldCount {
            if let header {
                if valueCount != header.count {
                    return .malformed(CSVError(message: "record has \(valueCount) field\(valueCount == 1 ? "" : "s"), the header has \(header.count)", record: number, line: startLine, offset: startOffset, code: .FMT007, fatal: false))
                }
            } else {
                header = valueStrings()
            }
        }
        return .record(number: number, line: startLine, offset: startOffset)
    }

    /// Makes the record's values UTF-8: bytes that need no decoding (ASCII, nearly every record)
    /// stay where they were scanned; a field with other bytes is decoded by `TextDecoder`, as a
    /// String of it would be. The first undecodable byte makes the record malformed, with every
    /// field shown lossily (each undecodable byte as U+FFFD).
    private mutating func decodeValues(number: Int, startLine: Int) -> CSVError? {
        valueCount = ends.count
        valueByteCount = bytes.count
        valuesDecoded = false
        guard !knownASCII, Self.hasNonASCII(bytes.buffer(0..<bytes.count)) else { return nil }
        decoded.removeAll()
        decodedEnds.removeAll()
        var start = 0
        for fieldIndex in 0..<ends.count {
            let end = ends[fieldIndex]
            let slice = bytes.buffer(start..<end)
            if !Self.hasNonASCII(slice) {
                if let base = slice.baseAddress, slice.count > 0 { decoded.append(base, count: slice.count) }
            } else {
                do throws(TextDecodingError) {
                    var text = try TextDecoder.decode(slice, as: encoding)
                    text.withUTF8 { decoded.append($0.baseAddress!, count: $0.count) }
                } catch {
                    var problem = decodingProblem(error, field: fieldIndex, at: start, number: number, startLine: startLine)
                    problem.lossyFields = (0..<ends.count).map { index in
                        TextDecoder.decodeLossy(bytes.buffer((index == 0 ? 0 : ends[index - 1])..<ends[index]), as: encoding)
                    }
                    return problem
                }
            }
            decodedEnds.append(decoded.count)
            start = end
        }
        valuesDecoded = true
        return nil
    }

    /// Whether any byte is 0x80 or above, eight at a time.
    private static func hasNonASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let count = bytes.count
        var index = 0
        var high: UInt64 = 0
        while index + 8 <= count {
            high |= UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            index += 8
        }
        while index < count {
            high |= UInt64(base[index])
            index += 1
        }
        return high & 0x8080_8080_8080_8080 != 0
    }

    /// The last record's values, UTF-8, back to back, and where each ends; valid until the next
    /// record is read.
    /// Mutating only so that the reader reaches it in place: called on a class's stored struct,
    /// a non-mutating method is handed a copy of the whole scanner.
    mutating func withValues<Result>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<Int>) throws -> Result) rethrows -> Result {
        if valuesDecoded {
            return try body(decoded.buffer(0..<decoded.count), decodedEnds.buffer(0..<decodedEnds.count))
        }
        return try body(bytes.buffer(0..<valueByteCount), ends.buffer(0..<valueCount))
    }

    /// The last record's values as Strings.
    mutating func valueStrings() -> [String] {
        withValues { bytes, ends in
            var start = 0
            return ends.map { end in
                defer { start = end }
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            }
        }
    }

    /// Names the undecodable byte by its line and offset in the file.
    private func decodingProblem(_ error: TextDecodingError, field fieldIndex: Int, at start: Int, number: Int, startLine: Int) -> CSVError {
        let bad = start + error.offset
        let newlines = bytes.buffer(0..<bad).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        let escapesBefore = escapes.reduce(0) { $0 + ($1.field == fieldIndex && $1.index < error.offset ? 1 : 0) }
        let fileOffset = starts[fieldIndex] + error.offset + escapesBefore
        let message: String
        switch error {
        case .invalidUTF8:
            message = "invalid UTF-8 (byte 0x\(String(bytes[bad], radix: 16, uppercase: true))); if the file comes from Spectrum on Windows, try --encoding windows-1252"
        case .undefinedWindows1252(_, let byte):
            message = "byte 0x\(String(byte, radix: 16, uppercase: true)) is not defined in Windows-1252"
        }
        return CSVError(message: message, record: number, line: startLine + newlines, offset: fileOffset, code: .FMT008, fatal: false, field: fieldIndex)
    }
}
