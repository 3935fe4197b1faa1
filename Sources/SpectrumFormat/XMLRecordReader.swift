internal import CLibXML2
import SOVCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts the attributes of each start tag in XML bytes as they stream past (the `=` signs
/// outside quoted values), to refuse an element with more than `maximum` before libxml2 spends
/// time on them. Comments, CDATA and processing instructions are not told apart from tags: at
/// worst their text counts as one more tag, which no export comes near the bound with.
///
/// This runs over every byte of the input, so each state looks for the bytes that end it eight
/// at a time (a word holds one of them exactly when a bit trick leaves a high bit set, and the
/// lowest such bit is the first of them).
struct AttributeCounter {
    static let maximum = 1_000

    private enum State: UInt8 { case text, lessThan, startTag, quoted, otherTag }
    private var state = State.text
    private var quote: UInt8 = 0
    private var count = 0
    private let maximum: Int
    private(set) var exceeded = false

    init(maximum: Int = AttributeCounter.maximum) {
        self.maximum = maximum
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101

    /// High bits in the bytes of `word` that are zero (exact up to the first zero byte).
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        (word &- ones) & ~word & 0x8080_8080_8080_8080
    }

    /// Index of the first of `a`, `b`, `c`, `d` in `bytes[index..<end]`, or `end`.
    @inline(__always)
    private static func find(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ bytes: UnsafePointer<UInt8>, from index: Int, to end: Int) -> Int {
        var index = index
        let (wa, wb, wc, wd) = (ones &* UInt64(a), ones &* UInt64(b), ones &* UInt64(c), ones &* UInt64(d))
        while index + 8 <= end {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
            let found = zeroBytes(word ^ wa) | zeroBytes(word ^ wb) | zeroBytes(word ^ wc) | zeroBytes(word ^ wd)
            if found != 0 { return index + found.trailingZeroBitCount >> 3 }
            index += 8
        }
        while index < end {
            let byte = bytes[index]
            if byte == a || byte == b || byte == c || byte == d { return index }
            index += 1
        }
        return end
    }

    mutating func scan(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, !exceeded else { return }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        let end = buffer.count
        // An export past its first lines has no '=' and seldom a quote: a block without either
        // counts no attribute, and only its end state matters. After a '>' that does not follow
        // a '<' the state is text whatever it was (only a '<' read as text leads to the state that
        // takes a '>' as a name), so the block is read from its last such '>' on.
        if state != .quoted, memchr(base, 0x3D, end) == nil, memchr(base, 0x22, end) == nil, memchr(base, 0x27, end) == nil {
            var index = end - 1
            while index >= 1 && !(bytes[index] == 0x3E && bytes[index - 1] != 0x3C) { index -= 1 }
            if index >= 1 {
                state = .text
                return scan(bytes, from: index + 1, to: end)
            }
        }
        scan(bytes, from: 0, to: end)
    }

    private mutating func scan(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) {
        var index = start
        while index < end && !exceeded {
            switch state {
            case .text:
                // Most bytes are text or names, passed over up to the next '<'.
                index = Self.find(0x3C, 0x3C, 0x3C, 0x3C, bytes, from: index, to: end)
                if index < end {
                    state = .lessThan
                    index += 1
                }
            case .lessThan:
                let byte = bytes[index]
                if byte == 0x2F || byte == 0x21 || byte == 0x3F {  // '/', '!', '?'
                    state = .otherTag
                } else {
                    state = .startTag
                    count = 0
                }
                index += 1
            case .startTag:
                // Names and spaces are passed over; only '=', quotes and '>' change anything.
                index = Self.find(0x3D, 0x22, 0x27, 0x3E, bytes, from: index, to: end)
                guard index < end else { break }
                let byte = bytes[index]
                index += 1
                if byte == 0x3D {  // '='
                    count += 1
                    if count > maximum { exceeded = true }
                } else if byte == 0x22 || byte == 0x27 {
                    quote = byte
                    state = .quoted
                } else {  // '>'
                    state = .text
                }
            case .quoted:
                index = Self.find(quote, quote, quote, quote, bytes, from: index, to: end)
                if index < end {
                    state = .startTag
                    index += 1
                }
            case .otherTag:
                index = Self.find(0x3E, 0x3E, 0x3E, 0x3E, bytes, from: index, to: end)
                if index < end {
                    state = .text
                    index += 1
                }
            }
        }
    }
}

/// Streams records out of an XML document with libxml2's SAX2 push parser, in constant memory.
///
/// A record is an element whose children are all simple text elements (docs/FORMATS.md, "Record shapes"); a field's
/// name is the child's local name (namespaces ignored), its value the child's text exactly as
/// written (entities decoded, nothing trimmed). Attributes, comments and processing
/// instructions are ignored. This reads Data Exchange SOAP responses, Data Exchange import
/// files and SQL `FOR XML` row exports alike.
///
/// Safety (docs/ARCHITECTURE.md, "Conventions"): only `XML_PARSE_NONET | XML_PARSE_BIG_LINES`; never NOENT, RECOVER,
/// DTDLOAD or HUGE. A DOCTYPE rejects the document: it must precede the root element, so it is
/// seen before any record. Every libxml2 error goes to this reader's structured handler and
/// makes the whole input unusable, with its file and line.
///
/// The SAX2 callbacks build no tree: element starts and ends and text go straight into the
/// field and record stacks. What the reader answers (records, failures, their messages and
/// lines) is what libxml2's `xmlTextReader` gave (the differential tests hold it to that): the
/// input is pushed in the chunks that reader pushed (4 bytes, then 512 at a time), text is taken
/// in the nodes the tree would have had, and records completed in a chunk where libxml2 fails
/// are dropped, as that reader never returned them.
public final class XMLRecordReader: PackedRecordReader {
    /// A record with more fields than this is not an export row; refusing it bounds memory.
    public static let maximumFieldsPerRecord = 10_000
    /// libxml2 parses a comment, a processing instruction or a DTD whole before it reports it, and
    /// a text node is only complete at its end, so bytes without a node take memory without
    /// bound; past this many the read fails instead.
    static let maximumBytesBetweenNodes = 4 * Record.maximumBytes

    public let name: String
    private let context: UnsafeMutablePointer<SAXContext>
    private let parser: xmlParserCtxtPtr
    /// libxml2's generic error, which some failures raise instead of a structured one.
    private let genericError: UnsafeMutablePointer<sov_xml_generic_error>

    /// libxml2 loads external entities and DTDs through one process-wide loader. Ours refuses
    /// every one, so that no option, default or libxml2 version can make a document read a local
    /// file or the network; with no DTD loading or entity substitution it is never asked anyway.
    public static let externalEntitiesRefused: Void = {
        xmlInitParser()
        xmlSetExternalEntityLoader { _, _, _ in nil }
    }()

    /// The SAX2 handlers: libxml2's own for the document and a DTD's declarations (so that a
    /// DOCTYPE fails exactly as before it is refused), ours for everything else.
    nonisolated(unsafe) private static let handlers: UnsafeMutablePointer<xmlSAXHandler> = {
        let handler = UnsafeMutablePointer<xmlSAXHandler>.allocate(capacity: 1)
        handler.initialize(to: xmlSAXHandler())
        xmlSAXVersion(handler, 2)
        handler.pointee.startElementNs = { parser, localName, _, _, _, _, _, _, _ in
            SAXContext.of(parser).pointee.startElement(localName)
        }
        handler.pointee.endElementNs = { parser, _, _, _ in
            SAXContext.of(parser).pointee.endElement()
        }
        handler.pointee.startElement = nil
        handler.pointee.endElement = nil
        let characters: charactersSAXFunc = { parser, bytes, length in
            SAXContext.of(parser).pointee.characters(bytes, Int(length), cdata: false)
        }
        handler.pointee.characters = characters
        handler.pointee.ignorableWhitespace = characters
        handler.pointee.cdataBlock = { parser, bytes, length in
            SAXContext.of(parser).pointee.characters(bytes, Int(length), cdata: true)
        }
        handler.pointee.comment = { parser, _ in
            SAXContext.of(parser).pointee.otherNode()
        }
        handler.pointee.processingInstruction = { parser, _, _ in
            SAXContext.of(parser).pointee.otherNode()
        }
        handler.pointee.reference = { parser, _ in
            SAXContext.of(parser).pointee.entityReference()
        }
        handler.pointee.internalSubset = { parser, name, externalID, systemID in
            SAXContext.of(parser).pointee.sawDoctype = true
            xmlSAX2InternalSubset(parser, name, externalID, systemID)
        }
        handler.pointee.externalSubset = nil
        handler.pointee.warning = nil
        handler.pointee.error = nil
        handler.pointee.fatalError = nil
        handler.pointee.serror = { parser, error in
            // An error raised while the parser is being created (before it knows our context)
            // is not ours to keep; the parser is then not well formed, which reading finds.
            guard let parser, let error, parser.assumingMemoryBound(to: xmlParserCtxt.self).pointee._private != nil else { return }
            SAXContext.of(parser).pointee.libraryError(error.pointee)
        }
        return handler
    }()

    public init(_ input: InputFile) throws {
        Self.externalEntitiesRefused
        name = input.name
        genericError = UnsafeMutablePointer<sov_xml_generic_error>.allocate(capacity: 1)
        genericError.initialize(to: sov_xml_generic_error())
        context = UnsafeMutablePointer<SAXContext>.allocate(capacity: 1)
        context.initialize(to: SAXContext(input: input))
        // As xmlTextReader began: the first 4 bytes go to the parser as it is created, for it to
        // tell the encoding from (a failure is said when reading starts).
        let first = context.pointee.take(4)
        let parser: xmlParserCtxtPtr?
        if first == 4 {
            parser = xmlCreatePushParserCtxt(Self.handlers, nil, UnsafeRawPointer(context.pointee.taken.baseAddress!).assumingMemoryBound(to: CChar.self), 4, nil)
            context.pointee.pushedEnd = 4
        } else {
            parser = xmlCreatePushParserCtxt(Self.handlers, nil, nil, 0, nil)
            if first < 0 { context.pointee.failedEarly = true }
        }
        guard let parser else {
            context.pointee.block.deallocate()
            context.pointee.taken.deallocate()
            context.pointee.bytes.deallocate()
            context.deinitialize(count: 1)
            context.deallocate()
            genericError.deallocate()
            throw IOFailure(path: input.name, message: "cannot start the XML reader", status: .software)
        }
        self.parser = parser
        xmlCtxtUseOptions(parser, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_BIG_LINES.rawValue))
        parser.pointee._private = UnsafeMutableRawPointer(context)
        context.pointee.parser = parser
    }

    deinit {
        if let document = parser.pointee.myDoc {
            parser.pointee.myDoc = nil
            xmlFreeDoc(document)
        }
        xmlFreeParserCtxt(parser)
        genericError.deallocate()
        context.pointee.block.deallocate()
        context.pointee.taken.deallocate()
        context.pointee.bytes.deallocate()
        context.deinitialize(count: 1)
        context.deallocate()
    }

    static func unusable(_ file: String, _ message: String, line: Int?, code: DiagnosticCode = .FMT007) -> InputFailure {
        InputFailure(unusable: .error(code, message, at: SourceLocation(file: file, line: line)))
    }

    static func doctypeRefusal(_ file: String, line: Int) -> InputFailure {
        unusable(file, "the document has a DOCTYPE (by this line); Spectrum exports have none, and a DTD can declare entities that read files or expand without bound, so it is rejected", line: line)
    }

    public func next() throws -> RecordItem? {
        try nextPacked(maximumRecords: 1, maximumBytes: .max)?.records().first
    }

    public func nextPacked(maximumRecords: Int, maximumBytes: Int) throws -> PackedRecords? {
        precondition(maximumRecords > 0 && maximumBytes > 0, "a batch holds at least one record")
        let context = self.context
        if context.pointee.pending.isEmpty, let failure = context.pointee.failure { throw failure }
        // Errors libxml2 raises outside any parser context would go to stderr; the setting is
        // per thread, and the reader may run on a prefetching thread.
        xmlSetStructuredErrorFunc(nil) { _, _ in }
        sov_xml_capture_generic_errors(genericError)
        defer { sov_xml_capture_generic_errors(nil) }
        context.pointee.file = name
        while context.pointee.failure == nil && !context.pointee.finished
            && context.pointee.pending.count < maximumRecords && context.pointee.pending.byteCount < maximumBytes
        {
            pushChunk()
        }
        if context.pointee.pending.isEmpty, let failure = context.pointee.failure { throw failure }
        return context.pointee.takeRecords(maximumRecords: maximumRecords, maximumBytes: maximumBytes)
    }

    /// Pushes the next chunk to libxml2, and settles what it did.
    private func pushChunk() {
        let context = self.context
        let parser = self.parser
        context.pointee.recordsBeforeChunk = context.pointee.pending.count
        context.pointee.bytesBeforeChunk = context.pointee.pending.bytes.count
        let pushed = !context.pointee.failedEarly && context.pointee.pushChunk(parser)
        if !pushed || context.pointee.libraryFailed || parser.pointee.wellFormed == 0 {
            // libxml2 failed in this chunk: what it completed there was never returned.
            context.pointee.dropChunkRecords()
            context.pointee.failure = failure()
        } else if let own = context.pointee.ownFailure {
            context.pointee.failure = own
        }
    }

    /// What made reading fail: an I/O failure, or a libxml2 error.
    private func failure() -> any Error {
        let context = self.context.pointee
        let parserLine = Int(parser.pointee.input?.pointee.line ?? 0)
        if let failure = context.ioFailure { return failure }
        if context.sawDoctype { return Self.doctypeRefusal(name, line: context.rootLine ?? parserLine) }
        if context.tooManyAttributes {
            return Self.unusable(name, "an element has more than \(AttributeCounter.maximum) attributes; that is not an export", line: parserLine)
        }
        if context.tooLongWithoutNode {
            return Self.unusable(name, "more than \(Self.maximumBytesBetweenNodes) bytes without an element starting or ending (text, comments or processing instructions that long are no export)", line: parserLine)
        }
        if let message = context.errorMessage {
            let line = context.errorLine > 0 ? context.errorLine : parserLine
            return Self.unusable(name, "malformed XML: \(message)", line: line, code: context.errorIsEncoding ? .FMT008 : .FMT007)
        }
        if genericError.pointee.set != 0 {
            var message = withUnsafeBytes(of: genericError.pointee.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            while message.last == "\n" || message.last == " " { message.removeLast() }
            if message.hasSuffix("encoder error") {
                return Self.unusable(name, "malformed XML: bytes that the document's declared encoding cannot decode (libxml2: \(message))", line: parserLine, code: .FMT008)
            }
            return Self.unusable(name, "malformed XML: \(message)", line: parserLine)
        }
        return Self.unusable(name, "malformed XML", line: parserLine)
    }
}

/// Bytes on a stack: appended by copying, cut back by a count (no uniqueness check or generic
/// append on the way, as an Array would have). Freed by its owner with `deallocate`.
private struct ByteStack {
    private(set) var base = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
    private(set) var count = 0
    private var capacity = 4096

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if count + bytes.count > capacity {
            var grown = capacity
            while count + bytes.count > grown { grown *= 2 }
            let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            larger.update(from: base, count: count)
            base.deallocate()
            base = larger
            capacity = grown
        }
        (base + count).update(from: bytes.baseAddress!, count: bytes.count)
        count += bytes.count
    }

    @inline(__always)
    mutating func truncate(to newCount: Int) {
        if newCount < count { count = newCount }
    }

    func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    func deallocate() {
        base.deallocate()
    }
}

/// An element on the stack of open elements.
private struct Frame {
    var nameID: Int32
    /// The line of its start tag (where libxml2's parser is when it reports it).
    var line: Int
    /// Where this element's own fields start in `fields`.
    var fieldStart: Int
    var hasChildElements = false
    /// Has a child that itself has children, or text between its child elements.
    var complex = false
    /// The address libxml2 gives the element's name (see `nameIDs`).
    var address: UnsafeRawPointer
}

/// A field on the field stack: its name id, the address of its name, and where its value ends
/// in `bytes`.
private struct Field {
    var id: Int32
    var address: UnsafeRawPointer
    var end: Int
}

/// Everything one reader's SAX2 callbacks read and change, behind one pointer (a class's stored
/// properties would be checked for exclusive access on every touch).
private struct SAXContext {
    let input: InputFile
    var file = ""
    var parser: xmlParserCtxtPtr?

    // MARK: Input
    // The input goes to libxml2 as xmlTextReader took and pushed it, so that where libxml2
    // stands when something fails (the line it names) is where it stood: the input is read in
    // blocks of 256 KB (the attributes of each counted as it comes), taken 4 bytes and then 4096
    // at a time whenever fewer than a chunk's are left, and pushed 512 at a time.
    let block = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    var blockStart = 0
    var blockEnd = 0
    /// Bytes taken and not yet pushed: `taken[pushedEnd..<takenEnd]`.
    let taken = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 << 10, alignment: 16)
    var pushedEnd = 0
    var takenEnd = 0
    var inputEnded = false
    /// Bytes taken since an element last started or ended; bounded by `maximumBytesBetweenNodes`.
    var takenSinceNode = 0
    var attributes = AttributeCounter()
    static let chunkSize = 512

    // MARK: Outcome
    var finished = false
    /// Reading the first 4 bytes failed (a bound, an I/O error): said at the first read.
    var failedEarly = false
    var failure: (any Error)?
    /// A failure of ours (a bound, a DOCTYPE) found in a callback; the chunk is parsed to its end
    /// with the callbacks idle, since a libxml2 error later in the chunk took precedence.
    var ownFailure: (any Error)?
    var libraryFailed = false
    var ioFailure: IOFailure?
    var errorMessage: String?
    var errorLine = 0
    var errorIsEncoding = false
    var tooManyAttributes = false
    var tooLongWithoutNode = false
    var sawDoctype = false
    var rootLine: Int?

    // MARK: Records
    var pending: PackedRecords
    var recordsBeforeChunk = 0
    var bytesBeforeChunk = 0
    var frames: [Frame] = []
    var fields: [Field] = []
    /// The values of the fields on the stack, one after another, then the text of the innermost
    /// open element. Bounded by `Record.maximumBytes` for the values and as much again for the text.
    var bytes = ByteStack()
    /// A text or CDATA node came and the text is not empty. White space alone is no text (it is
    /// dropped between the children of a container), nor is an empty CDATA section.
    var hasText = false
    /// The text node being read (libxml2 hands text over in pieces; the tree made one node of a
    /// run of text, and one of a run of CDATA): its kind, where it starts in `bytes`, whether it
    /// is white space only, and its line.
    var run = RunKind.none
    var runAllBlank = true
    var runStart = 0
    var runLine = 0
    /// Element names, interned by the address libxml2 gives them (its dictionary keeps one copy
    /// of each name for the parser's lifetime), so each distinct name becomes a String once.
    var nameIDs: [UnsafeRawPointer: Int32] = [:]
    var names: [String] = []
    /// Shapes seen (sequences of name ids), so records of one shape share their `FieldNames`.
    var shapes: [[Int32]: FieldNames] = [:]
    var lastShape: [Int32] = []
    var lastFieldNames: FieldNames?
    /// The name addresses of the last record's fields, in order: the next record's children
    /// usually repeat them, so a child's id is found by one comparison instead of a hash.
    var lastShapeAddresses: [UnsafeRawPointer] = []

    enum RunKind { case none, text, cdata }

    init(input: InputFile) {
        self.input = input
        pending = PackedRecords(file: input.name)
    }

    @inline(__always)
    static func of(_ parser: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<SAXContext> {
        parser.unsafelyUnwrapped.assumingMemoryBound(to: xmlParserCtxt.self).pointee._private.unsafelyUnwrapped
            .assumingMemoryBound(to: SAXContext.self)
    }

    var parserLine: Int { Int(parser?.pointee.input?.pointee.line ?? 0) }

    // MARK: Input

    /// Takes up to `count` bytes from the input (xmlTextReader's read callback): 0 at the end,
    /// -1 when a bound is passed.
    mutating func take(_ count: Int) -> Int {
        if takenSinceNode > XMLRecordReader.maximumBytesBetweenNodes {
            tooLongWithoutNode = true
            return -1
        }
        if blockStart == blockEnd {
            blockStart = 0
            do {
                blockEnd = try input.read(into: block)
            } catch {
                ioFailure = error
                blockEnd = 0
                return -1
            }
            if blockEnd == 0 { return 0 }
            attributes.scan(UnsafeRawBufferPointer(rebasing: block[0..<blockEnd]))
            if attributes.exceeded {
                tooManyAttributes = true
                return -1
            }
        }
        if pushedEnd > 0 && takenEnd + count > taken.count {
            taken.baseAddress!.copyMemory(from: taken.baseAddress! + pushedEnd, byteCount: takenEnd - pushedEnd)
            takenEnd -= pushedEnd
            pushedEnd = 0
        }
        let got = min(count, blockEnd - blockStart, taken.count - takenEnd)
        (taken.baseAddress! + takenEnd).copyMemory(from: block.baseAddress! + blockStart, byteCount: got)
        blockStart += got
        takenEnd += got
        takenSinceNode += got
        return got
    }

    /// Pushes the next chunk to libxml2 as xmlTextReader did; false when reading failed.
    mutating func pushChunk(_ parser: xmlParserCtxtPtr) -> Bool {
        if !inputEnded && takenEnd - pushedEnd < Self.chunkSize {
            let got = take(4096)
            if got < 0 { return false }
            if got == 0 { inputEnded = true }
        }
        let count: Int
        if takenEnd - pushedEnd >= Self.chunkSize {
            count = Self.chunkSize
        } else if inputEnded {
            let status = xmlParseChunk(parser, (taken.baseAddress! + pushedEnd).assumingMemoryBound(to: CChar.self), Int32(takenEnd - pushedEnd), 1)
            pushedEnd = takenEnd
            finished = true
            return status == 0
        } else {
            count = takenEnd - pushedEnd
        }
        let status = xmlParseChunk(parser, (taken.baseAddress! + pushedEnd).assumingMemoryBound(to: CChar.self), Int32(count), 0)
        pushedEnd += count
        return status == 0
    }

    // MARK: Outcome

    mutating func libraryError(_ error: xmlError) {
        // Warnings (level 1) do not make a document unusable; errors and fatal errors do.
        guard error.level.rawValue >= XML_ERR_ERROR.rawValue, errorMessage == nil else { return }
        var message = error.message.map { String(cString: $0) } ?? "malformed XML"
        while message.last == "\n" || message.last == " " { message.removeLast() }
        // One diagnostic, one line ("Input is not proper UTF-8, indicate encoding !\nBytes: ...").
        errorMessage = message.split(separator: "\n").joined(separator: "; ")
        errorLine = Int(error.line)
        let code = error.code
        errorIsEncoding = error.domain == Int32(XML_FROM_I18N.rawValue)
            || code == Int32(XML_ERR_INVALID_CHAR.rawValue) || code == Int32(XML_ERR_INVALID_ENCODING.rawValue)
            || code == Int32(XML_ERR_UNKNOWN_ENCODING.rawValue) || code == Int32(XML_ERR_UNSUPPORTED_ENCODING.rawValue)
        libraryFailed = true
    }

    /// Forgets the records completed in the chunk that failed.
    mutating func dropChunkRecords() {
        if pending.count > recordsBeforeChunk { pending.removeLast(pending.count - recordsBeforeChunk, bytesFrom: bytesBeforeChunk) }
    }

    /// The records waiting, up to the limits (a chunk can complete more than a batch takes).
    mutating func takeRecords(maximumRecords: Int, maximumBytes: Int) -> PackedRecords? {
        pending.isEmpty ? nil : pending.removeFirst(maximumRecords: maximumRecords, maximumBytes: maximumBytes)
    }

    mutating func fail(_ error: any Error) {
        if ownFailure == nil { ownFailure = error }
    }

    // MARK: Nodes

    /// A node came that completes any text run.
    @inline(__always)
    mutating func nodeSeen() {
        if run != .none { endRun() }
    }

    mutating func otherNode() {
        guard ownFailure == nil else { return }
        nodeSeen()
    }

    mutating func entityReference() {
        guard ownFailure == nil else { return }
        nodeSeen()
        fail(XMLRecordReader.unusable(file, "entity reference left unexpanded", line: parserLine))
    }

    /// Where the innermost open element's text starts in `bytes`: where the last value ends.
    var textStart: Int { fields.last?.end ?? 0 }

    mutating func characters(_ pointer: UnsafePointer<xmlChar>?, _ length: Int, cdata: Bool) {
        guard ownFailure == nil else { return }
        let kind: RunKind = cdata ? .cdata : .text
        if run != kind {
            if run != .none { endRun() }
            run = kind
            runAllBlank = true
            runStart = bytes.count
        }
        guard let pointer, length > 0 else {
            if cdata { runLine = 0 }
            return
        }
        let piece = UnsafeBufferPointer(start: pointer, count: length)
        if runAllBlank && !cdata {
            for byte in piece where !(byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D) {
                runAllBlank = false
                break
            }
        }
        // A text node's line is where its first piece ends; a CDATA section has none.
        if bytes.count == runStart { runLine = cdata ? 0 : parserLine }
        bytes.append(piece)
    }

    /// The text node read is complete: it counts as text unless it is white space only.
    mutating func endRun() {
        let kind = run
        run = .none
        if bytes.count - textStart > Record.maximumBytes {
            let element = frames.last.map { " in element '\(names[Int($0.nameID)])'" } ?? ""
            let line = kind == .text && runLine > 0 ? runLine : parserLine
            fail(XMLRecordReader.unusable(file, "text longer than \(Record.maximumBytes) bytes\(element); that is not an export value", line: line))
            return
        }
        if (kind == .cdata || !runAllBlank) && bytes.count > textStart { hasText = true }
    }

    /// Drops the innermost open element's text.
    mutating func dropText() {
        bytes.truncate(to: textStart)
        hasText = false
    }

    mutating func intern(_ pointer: UnsafePointer<xmlChar>) -> Int32 {
        let key = UnsafeRawPointer(pointer)
        if let id = nameIDs[key] { return id }
        let id = Int32(names.count)
        names.append(String(cString: pointer))
        nameIDs[key] = id
        return id
    }

    mutating func startElement(_ localName: UnsafePointer<xmlChar>?) {
        guard ownFailure == nil else { return }
        // xmlTextReader took input until an element started or ended (text, comments and
        // processing instructions it built on), so that is what bounds the bytes between nodes.
        takenSinceNode = 0
        nodeSeen()
        guard ownFailure == nil else { return }
        let line = parserLine
        if sawDoctype {
            // The DOCTYPE is refused at the root element, by its line.
            if rootLine == nil { rootLine = line }
            return fail(XMLRecordReader.doctypeRefusal(file, line: line))
        }
        // libxml2's tree builder refused to nest elements deeper than this (xmlParserMaxDepth,
        // without XML_PARSE_HUGE), in these words; no tree is built here, so the bound is ours.
        if frames.count > 256 {
            errorMessage = "Excessive depth in document: 256 use XML_PARSE_HUGE option"
            errorLine = line
            libraryFailed = true
            xmlStopParser(parser)
            return
        }
        guard let localName else {
            return fail(XMLRecordReader.unusable(file, "element without a name", line: line))
        }
        let address = UnsafeRawPointer(localName)
        let id: Int32
        let position = fields.count - (frames.last?.fieldStart ?? 0)
        if position < lastShapeAddresses.count, lastShapeAddresses[position] == address {
            id = lastShape[position]
        } else {
            id = intern(localName)
        }
        if !frames.isEmpty {
            frames[frames.count - 1].hasChildElements = true
            if hasText { frames[frames.count - 1].complex = true }  // text mixed with elements
        }
        dropText()
        frames.append(Frame(nameID: id, line: line, fieldStart: fields.count, address: address))
    }

    /// Closes the innermost element; adds the record it completes, if it is one, to `pending`.
    mutating func endElement() {
        guard ownFailure == nil else { return }
        takenSinceNode = 0
        nodeSeen()
        guard ownFailure == nil, let frame = frames.popLast() else { return }
        if !frame.hasChildElements {
            // A simple text element: a field of its parent, its text the value.
            guard let parent = frames.last else { return dropText() }
            if fields.count - parent.fieldStart >= XMLRecordReader.maximumFieldsPerRecord {
                return fail(XMLRecordReader.unusable(file, "element '\(names[Int(parent.nameID)])' has more than \(XMLRecordReader.maximumFieldsPerRecord) fields; that is not an export row", line: parserLine))
            }
            if bytes.count > Record.maximumBytes {
                return fail(XMLRecordReader.unusable(file, "element '\(names[Int(parent.nameID)])' holds more than \(Record.maximumBytes) bytes of text; that is not an export row", line: frame.line))
            }
            fields.append(Field(id: frame.nameID, address: frame.address, end: bytes.count))
            hasText = false
            return
        }
        let isRecord = !frame.complex && !hasText
        dropText()
        if isRecord {
            addRecord(frame)
        } else {
            removeFields(from: frame.fieldStart)
        }
        if !frames.isEmpty { frames[frames.count - 1].complex = true }
    }

    /// Takes the fields from `start` on, and their values, off the stacks (keeping capacity).
    mutating func removeFields(from start: Int) {
        fields.removeSubrange(start...)
        bytes.truncate(to: textStart)
    }

    /// Adds the record of `frame`'s fields to `pending` and takes them off the stacks.
    mutating func addRecord(_ frame: Frame) {
        let start = frame.fieldStart
        let fieldNames: FieldNames
        if let lastFieldNames, lastShape.elementsEqual(fields[start...].lazy.map(\.id)) {
            fieldNames = lastFieldNames
        } else {
            let shape = fields[start...].map(\.id)
            if let known = shapes[shape] {
                fieldNames = known
            } else {
                fieldNames = FieldNames(shape.map { names[Int($0)] })
                if shapes.count >= 1024 { shapes.removeAll(keepingCapacity: true) }
                shapes[shape] = fieldNames
            }
            lastShape = shape
            lastShapeAddresses = fields[start...].map(\.address)
            lastFieldNames = fieldNames
        }
        let byteStart = start == 0 ? 0 : fields[start - 1].end
        let valueEnd = textStart
        pending.append(
            line: frame.line, fieldNames: fieldNames, values: bytes.slice(byteStart..<valueEnd),
            ends: fields[start...].lazy.map { $0.end - byteStart })
        removeFields(from: start)
    }
}
