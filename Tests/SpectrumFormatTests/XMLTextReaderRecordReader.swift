import CLibXML2
import SOVCore
@testable import SpectrumFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What libxml2's callbacks of one reader report back: the input they read and the first
/// problem. Kept behind a pointer, so the per-node check of `failed` costs a load, not a
/// dynamic exclusivity check as a class property would.
private struct XMLReaderContext {
    let input: InputFile
    /// libxml2 asks for 4 KB at a time; reading 256 KB per system call is much cheaper.
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
    var start = 0
    var end = 0
    var failed = false
    var ioFailure: IOFailure?
    var errorMessage: String?
    var errorLine = 0
    var errorIsEncoding = false
    /// Bytes handed to libxml2 since its reader last returned a node. libxml2 parses on until an
    /// element starts or ends, holding what it read, so text, comments or a DTD without end
    /// would take memory without bound; past `maximumBytesBetweenNodes` the read fails instead.
    var bytesSinceNode = 0
    var tooLongWithoutNode = false
    static let maximumBytesBetweenNodes = 4 * Record.maximumBytes
    /// libxml2 parses a start tag whole, checking each attribute against the others, before the
    /// reader sees the element: 200,000 attributes on one element took a minute. The bytes are
    /// scanned as they are handed over, and the read fails past the bound.
    var attributes = AttributeCounter()
    var tooManyAttributes = false

    init(input: InputFile) {
        self.input = input
    }

    /// Fills `target` from the buffer, refilling it from the input when empty; 0 at the end.
    mutating func read(into target: UnsafeMutableRawBufferPointer) throws(IOFailure) -> Int {
        if start == end {
            start = 0
            end = try input.read(into: buffer)
            if end == 0 { return 0 }
            attributes.scan(UnsafeRawBufferPointer(rebasing: buffer[0..<end]))
            if attributes.exceeded {
                tooManyAttributes = true
                failed = true
                return 0
            }
        }
        let count = min(target.count, end - start)
        target.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: count)
        start += count
        bytesSinceNode += count
        return count
    }
}

/// The XML reader as it was before `XMLRecordReader` moved to libxml2's SAX2 interface: kept only as
/// the oracle of the differential tests (Tests/SpectrumFormatTests/XMLReaderDifferentialTests.swift);
/// nothing shipped uses it.
///
/// Streams records out of an XML document with libxml2's `xmlTextReader`, in constant memory.
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
final class XMLTextReaderRecordReader: PackedRecordReader {
    /// A record with more fields than this is not an export row; refusing it bounds memory.
    static let maximumFieldsPerRecord = 10_000

    fileprivate struct Frame {
        var nameID: Int32
        /// Start line; 0 for an element taken for a field of a known shape (looked up only if it
        /// turns out to be a record, which is rare).
        var line: Int
        /// Where this element's own fields start in `fields`.
        var fieldStart: Int
        var hasChildElements = false
        /// Has a child that itself has children, or text between its child elements.
        var complex = false
        /// The address libxml2 gives the element's name (see `nameIDs`).
        var address: UnsafeRawPointer
    }

    /// A field on the field stack: its name id, the address of its name, and where its value
    /// ends in `State.bytes`.
    fileprivate struct Field {
        var id: Int32
        var address: UnsafeRawPointer
        var end: Int
    }

    /// Everything the node loop changes. `nextPacked` moves it into a local for the loop's
    /// duration: a local is checked for exclusive access at compile time, a class property on
    /// every access.
    fileprivate struct State {
        var finished = false
        var frames: [Frame] = []
        var fields: [Field] = []
        /// The values of the fields on the stack, one after another, then the text of the
        /// innermost open element. Kept as bytes: Strings are made on the consumer's side
        /// (`PackedRecords`), and text between the children of a container is simply dropped.
        /// Bounded by `Record.maximumBytes` for the values and as much again for the text.
        var bytes: [UInt8] = []
        /// A text or CDATA node came and the text is not empty. White space alone is no text
        /// (it is dropped between the children of a container), nor is an empty CDATA section.
        var hasText = false
        /// Element names, interned by the address libxml2 gives them (its dictionary keeps one
        /// copy of each name for the reader's lifetime), so each distinct name becomes a String once.
        var nameIDs: [UnsafeRawPointer: Int32] = [:]
        var names: [String] = []
        /// Shapes seen (sequences of name ids), so records of one shape share their `FieldNames`.
        var shapes: [[Int32]: FieldNames] = [:]
        var lastShape: [Int32] = []
        var lastFieldNames: FieldNames?
        /// The name addresses of the last record's fields, in order: the next record's children
        /// usually repeat them, so a child's id is found by one comparison instead of a hash.
        var lastShapeAddresses: [UnsafeRawPointer] = []
    }

    let name: String
    private let reader: xmlTextReaderPtr
    private let context: UnsafeMutablePointer<XMLReaderContext>
    private var state = State()
    /// What made reading fail; thrown by every call after the records read before it.
    private var deferredFailure: (any Error)?
    /// The document libxml2 built, taken over (and freed in `deinit`) to look at its DTD after
    /// a failure.
    private var heldDocument: xmlDocPtr?
    /// libxml2's generic error, which some failures raise instead of a structured one.
    private let genericError: UnsafeMutablePointer<sov_xml_generic_error>

    private static let element = Int32(XML_READER_TYPE_ELEMENT.rawValue)
    private static let endElement = Int32(XML_READER_TYPE_END_ELEMENT.rawValue)
    private static let textNode = Int32(XML_READER_TYPE_TEXT.rawValue)
    private static let cdata = Int32(XML_READER_TYPE_CDATA.rawValue)
    private static let whitespace = Int32(XML_READER_TYPE_WHITESPACE.rawValue)
    private static let significantWhitespace = Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue)
    private static let documentType = Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue)
    private static let entityReference = Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue)

    /// libxml2 loads external entities and DTDs through one process-wide loader. Ours refuses
    /// every one, so that no option, default or libxml2 version can make a document read a local
    /// file or the network; with no DTD loading or entity substitution it is never asked anyway.

    init(_ input: InputFile) throws {
        XMLRecordReader.externalEntitiesRefused
        name = input.name
        genericError = UnsafeMutablePointer<sov_xml_generic_error>.allocate(capacity: 1)
        genericError.initialize(to: sov_xml_generic_error())
        context = UnsafeMutablePointer<XMLReaderContext>.allocate(capacity: 1)
        context.initialize(to: XMLReaderContext(input: input))
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_BIG_LINES.rawValue)
        guard let reader = xmlReaderForIO(
            { opaque, buffer, length -> Int32 in
                guard let opaque, let buffer, length > 0 else { return 0 }
                let context = opaque.assumingMemoryBound(to: XMLReaderContext.self)
                if context.pointee.bytesSinceNode > XMLReaderContext.maximumBytesBetweenNodes {
                    context.pointee.tooLongWithoutNode = true
                    context.pointee.failed = true
                    return -1
                }
                do {
                    let count = try context.pointee.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: Int(length)))
                    return context.pointee.tooManyAttributes ? -1 : Int32(count)
                } catch let failure as IOFailure {
                    context.pointee.ioFailure = failure
                    context.pointee.failed = true
                    return -1
                } catch {
                    context.pointee.failed = true
                    return -1
                }
            }, nil, UnsafeMutableRawPointer(context), nil, nil, options)
        else {
            context.pointee.buffer.deallocate()
            context.deinitialize(count: 1)
            context.deallocate()
            genericError.deallocate()
            throw IOFailure(path: input.name, message: "cannot start the XML reader", status: .software)
        }
        self.reader = reader
        xmlTextReaderSetStructuredErrorHandler(reader, { opaque, error in
            guard let opaque, let error else { return }
            let context = opaque.assumingMemoryBound(to: XMLReaderContext.self)
            // Warnings (level 1) do not make a document unusable; errors and fatal errors do.
            guard error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue, context.pointee.errorMessage == nil else { return }
            var message = error.pointee.message.map { String(cString: $0) } ?? "malformed XML"
            while message.last == "\n" || message.last == " " { message.removeLast() }
            // One diagnostic, one line ("Input is not proper UTF-8, indicate encoding !\nBytes: ...").
            context.pointee.errorMessage = message.split(separator: "\n").joined(separator: "; ")
            context.pointee.errorLine = Int(error.pointee.line)
            let code = error.pointee.code
            context.pointee.errorIsEncoding = error.pointee.domain == Int32(XML_FROM_I18N.rawValue)
                || code == Int32(XML_ERR_INVALID_CHAR.rawValue) || code == Int32(XML_ERR_INVALID_ENCODING.rawValue)
                || code == Int32(XML_ERR_UNKNOWN_ENCODING.rawValue) || code == Int32(XML_ERR_UNSUPPORTED_ENCODING.rawValue)
            context.pointee.failed = true
        }, UnsafeMutableRawPointer(context))
    }

    deinit {
        xmlFreeTextReader(reader)
        if let heldDocument { xmlFreeDoc(heldDocument) }
        genericError.deallocate()
        context.pointee.buffer.deallocate()
        context.deinitialize(count: 1)
        context.deallocate()
    }

    fileprivate static func unusable(_ file: String, _ message: String, line: Int?, code: DiagnosticCode = .FMT007) -> InputFailure {
        InputFailure(unusable: .error(code, message, at: SourceLocation(file: file, line: line)))
    }

    static func doctypeRefusal(_ file: String, line: Int) -> InputFailure {
        unusable(file, "the document has a DOCTYPE (by this line); Spectrum exports have none, and a DTD can declare entities that read files or expand without bound, so it is rejected", line: line)
    }

    /// The line to name for a document that has a DTD, or nil when it has none. libxml2 can fail
    /// inside a DTD (an entity bomb, an entity it will not load) before the reader reaches the
    /// DOCTYPE node; the refusal is then still for the DOCTYPE, which is the cause.
    private func doctypeLine() -> Int? {
        if heldDocument == nil { heldDocument = xmlTextReaderCurrentDoc(reader) }
        guard let document = heldDocument, let dtd = document.pointee.intSubset ?? document.pointee.extSubset else { return nil }
        // A DTD node has no line of its own: the node after it (the root element) has.
        if let following = dtd.pointee.next {
            let line = xmlGetLineNo(following)
            if line > 0 { return Int(line) }
        }
        return Int(xmlTextReaderGetParserLineNumber(reader))
    }

    /// What made the last read fail: an I/O failure, or a libxml2 error.
    private func failure() -> any Error {
        if let failure = context.pointee.ioFailure { return failure }
        if let line = doctypeLine() { return Self.doctypeRefusal(name, line: line) }
        if context.pointee.tooManyAttributes {
            return Self.unusable(name, "an element has more than \(AttributeCounter.maximum) attributes; that is not an export", line: Int(xmlTextReaderGetParserLineNumber(reader)))
        }
        if context.pointee.tooLongWithoutNode {
            return Self.unusable(name, "more than \(XMLReaderContext.maximumBytesBetweenNodes) bytes without an element starting or ending (text, comments or processing instructions that long are no export)", line: Int(xmlTextReaderGetParserLineNumber(reader)))
        }
        if let message = context.pointee.errorMessage {
            let line = context.pointee.errorLine > 0 ? context.pointee.errorLine : Int(xmlTextReaderGetParserLineNumber(reader))
            return Self.unusable(name, "malformed XML: \(message)", line: line, code: context.pointee.errorIsEncoding ? .FMT008 : .FMT007)
        }
        if genericError.pointee.set != 0 {
            var message = withUnsafeBytes(of: genericError.pointee.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            while message.last == "\n" || message.last == " " { message.removeLast() }
            let line = Int(xmlTextReaderGetParserLineNumber(reader))
            if message.hasSuffix("encoder error") {
                return Self.unusable(name, "malformed XML: bytes that the document's declared encoding cannot decode (libxml2: \(message))", line: line, code: .FMT008)
            }
            return Self.unusable(name, "malformed XML: \(message)", line: line)
        }
        return Self.unusable(name, "malformed XML", line: Int(xmlTextReaderGetParserLineNumber(reader)))
    }

    func next() throws -> RecordItem? {
        try nextPacked(maximumRecords: 1, maximumBytes: .max)?.records().first
    }

    func nextPacked(maximumRecords: Int, maximumBytes: Int) throws -> PackedRecords? {
        precondition(maximumRecords > 0 && maximumBytes > 0, "a batch holds at least one record")
        if let deferredFailure { throw deferredFailure }
        // Errors libxml2 raises outside any parser context would go to stderr; the setting is
        // per thread, and the reader may run on a prefetching thread.
        xmlSetStructuredErrorFunc(nil) { _, _ in }
        sov_xml_capture_generic_errors(genericError)
        defer { sov_xml_capture_generic_errors(nil) }
        var local = State()
        swap(&local, &state)
        defer { swap(&local, &state) }
        var batch = PackedRecords(file: name)
        let reader = self.reader
        let context = self.context
        do {
            while !local.finished && batch.count < maximumRecords && batch.byteCount < maximumBytes {
                let status = xmlTextReaderRead(reader)
                if status < 0 || context.pointee.failed { throw failure() }
                context.pointee.bytesSinceNode = 0
                if status == 0 {
                    local.finished = true
                    break
                }
                switch xmlTextReaderNodeType(reader) {
                case Self.element:
                    try local.startElement(reader, file: name)
                    if xmlTextReaderIsEmptyElement(reader) == 1 { try local.endElement(reader, file: name, into: &batch) }
                case Self.endElement:
                    try local.endElement(reader, file: name, into: &batch)
                case Self.textNode, Self.cdata:
                    guard let value = xmlTextReaderConstValue(reader) else { continue }
                    try local.addText(value, significant: true, reader, file: name)
                case Self.whitespace, Self.significantWhitespace:
                    guard let value = xmlTextReaderConstValue(reader) else { continue }
                    try local.addText(value, significant: false, reader, file: name)
                case Self.documentType:
                    // A DTD node has no line of its own; the node after it (usually the root element)
                    // has, else the parser's line, which is at or past the DOCTYPE as it reads ahead.
                    var line = Int(xmlTextReaderGetParserLineNumber(reader))
                    if let following = xmlTextReaderCurrentNode(reader)?.pointee.next {
                        let next = xmlGetLineNo(following)
                        if next > 0 { line = Int(next) }
                    }
                    throw Self.doctypeRefusal(name, line: line)
                case Self.entityReference:
                    throw Self.unusable(name, "entity reference left unexpanded", line: Int(xmlTextReaderGetParserLineNumber(reader)))
                default:
                    continue  // comments, processing instructions, the XML declaration
                }
            }
        } catch {
            // The records read before the failure go first, as they would one at a time; the
            // failure is the answer to every call after them (the state is half updated).
            deferredFailure = error
            if batch.isEmpty { throw error }
        }
        return batch.isEmpty ? nil : batch
    }
}

extension XMLTextReaderRecordReader.State {
    /// Where the innermost open element's text starts in `bytes`: where the last value ends.
    var textStart: Int { fields.last?.end ?? 0 }

    /// Adds a text or white-space node to the innermost open element's text. Text of one element
    /// is bounded like a record's (comments or CDATA sections can split an endless text into
    /// nodes that libxml2 accepts one by one).
    mutating func addText(_ value: UnsafePointer<xmlChar>, significant: Bool, _ reader: xmlTextReaderPtr, file: String) throws {
        let length = strlen(value)
        if bytes.count - textStart + length > Record.maximumBytes {
            let element = frames.last.map { " in element '\(names[Int($0.nameID)])'" } ?? ""
            throw XMLTextReaderRecordReader.unusable(file, "text longer than \(Record.maximumBytes) bytes\(element); that is not an export value", line: Self.nodeLine(reader))
        }
        bytes.append(contentsOf: UnsafeBufferPointer(start: value, count: length))
        if significant && bytes.count > textStart { hasText = true }
    }

    /// Drops the innermost open element's text.
    mutating func dropText() {
        if bytes.count > textStart { bytes.removeSubrange(textStart...) }
        hasText = false
    }

    /// The line of the node the reader is on (where the text or element starts); libxml2's parser
    /// line is further on, where it has read ahead to.
    static func nodeLine(_ reader: xmlTextReaderPtr) -> Int {
        let line = xmlGetLineNo(xmlTextReaderCurrentNode(reader))
        return line > 0 ? line : Int(xmlTextReaderGetParserLineNumber(reader))
    }

    mutating func intern(_ pointer: UnsafePointer<xmlChar>) -> Int32 {
        let key = UnsafeRawPointer(pointer)
        if let id = nameIDs[key] { return id }
        let id = Int32(names.count)
        names.append(String(cString: pointer))
        nameIDs[key] = id
        return id
    }

    mutating func startElement(_ reader: xmlTextReaderPtr, file: String) throws {
        guard let localName = xmlTextReaderConstLocalName(reader) else {
            throw XMLTextReaderRecordReader.unusable(file, "element without a name", line: Int(xmlTextReaderGetParserLineNumber(reader)))
        }
        let address = UnsafeRawPointer(localName)
        let id: Int32
        var line = 0
        let position = fields.count - (frames.last?.fieldStart ?? 0)
        if position < lastShapeAddresses.count, lastShapeAddresses[position] == address {
            id = lastShape[position]
        } else {
            id = intern(localName)
            line = xmlGetLineNo(xmlTextReaderCurrentNode(reader))
            if line <= 0 { line = Int(xmlTextReaderGetParserLineNumber(reader)) }
        }
        if !frames.isEmpty {
            frames[frames.count - 1].hasChildElements = true
            if hasText { frames[frames.count - 1].complex = true }  // text mixed with elements
        }
        dropText()
        frames.append(XMLTextReaderRecordReader.Frame(nameID: id, line: line, fieldStart: fields.count, address: address))
    }

    /// Closes the innermost element; adds the record it completes, if it is one, to `batch`.
    mutating func endElement(_ reader: xmlTextReaderPtr, file: String, into batch: inout PackedRecords) throws {
        guard let frame = frames.popLast() else { return }
        if !frame.hasChildElements {
            // A simple text element: a field of its parent, its text the value.
            guard let parent = frames.last else { return dropText() }
            if fields.count - parent.fieldStart >= XMLTextReaderRecordReader.maximumFieldsPerRecord {
                throw XMLTextReaderRecordReader.unusable(file, "element '\(names[Int(parent.nameID)])' has more than \(XMLTextReaderRecordReader.maximumFieldsPerRecord) fields; that is not an export row", line: Int(xmlTextReaderGetParserLineNumber(reader)))
            }
            if bytes.count > Record.maximumBytes {
                throw XMLTextReaderRecordReader.unusable(file, "element '\(names[Int(parent.nameID)])' holds more than \(Record.maximumBytes) bytes of text; that is not an export row", line: Self.nodeLine(reader))
            }
            fields.append(XMLTextReaderRecordReader.Field(id: frame.nameID, address: frame.address, end: bytes.count))
            hasText = false
            return
        }
        let isRecord = !frame.complex && !hasText
        dropText()
        if isRecord {
            var line = frame.line
            if line == 0 {
                // At an end tag the current node is the element itself (exact up to line 65535).
                line = xmlGetLineNo(xmlTextReaderCurrentNode(reader))
                if line <= 0 { line = Int(xmlTextReaderGetParserLineNumber(reader)) }
            }
            addRecord(frame, line: line, into: &batch)
        } else {
            removeFields(from: frame.fieldStart)
        }
        if !frames.isEmpty { frames[frames.count - 1].complex = true }
    }

    /// Takes the fields from `start` on, and their values, off the stacks (keeping capacity).
    mutating func removeFields(from start: Int) {
        fields.removeSubrange(start...)
        bytes.removeSubrange(textStart...)
    }

    /// Adds the record of `frame`'s fields to `batch` and takes them off the stacks.
    mutating func addRecord(_ frame: XMLTextReaderRecordReader.Frame, line: Int, into batch: inout PackedRecords) {
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
        bytes.withUnsafeBufferPointer { bytes in
            batch.append(
                line: line, fieldNames: fieldNames, values: UnsafeBufferPointer(rebasing: bytes[byteStart..<textStart]),
                ends: fields[start...].lazy.map { $0.end - byteStart })
        }
        removeFields(from: start)
    }
}
