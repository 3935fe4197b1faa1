import CLibXML2
import SOVCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What libxml2's callbacks of one reader report back: the input they read and the first problem.
private final class XMLReaderContext {
    let input: InputFile
    var ioFailure: IOFailure?
    var errorMessage: String?
    var errorLine = 0
    var errorIsEncoding = false

    init(input: InputFile) {
        self.input = input
    }
}

/// Streams records out of an XML document with libxml2's `xmlTextReader`, in constant memory.
///
/// A record is an element whose children are all simple text elements (SPEC §2.1); a field's
/// name is the child's local name (namespaces ignored), its value the child's text exactly as
/// written (entities decoded, nothing trimmed). Attributes, comments and processing
/// instructions are ignored. This reads Data Exchange SOAP responses, Data Exchange import
/// files and SQL `FOR XML` row exports alike.
///
/// Safety (DESIGN.md): only `XML_PARSE_NONET | XML_PARSE_BIG_LINES`; never NOENT, RECOVER,
/// DTDLOAD or HUGE. A DOCTYPE rejects the document: it must precede the root element, so it is
/// seen before any record. Every libxml2 error goes to this reader's structured handler and
/// makes the whole input unusable, with its file and line.
public final class XMLRecordReader: RecordReader {
    /// A record with more fields than this is not an export row; refusing it bounds memory.
    public static let maximumFieldsPerRecord = 10_000

    private struct Frame {
        var nameID: Int32
        var line: Int
        /// Where this element's own fields start in `fieldIDs` / `fieldValues`.
        var fieldStart: Int
        var hasChildElements = false
        /// Has a child that itself has children, or text between its child elements.
        var complex = false
    }

    public let name: String
    private let reader: xmlTextReaderPtr
    private let context: XMLReaderContext
    private var finished = false

    private var frames: [Frame] = []
    private var fieldIDs: [Int32] = []
    private var fieldValues: [String] = []
    /// Text of the innermost open element, once it has more than white space.
    private var text = ""
    /// White space of the innermost open element, kept as bytes (no String) until it turns out
    /// to be a value: between the children of a container it is dropped.
    private var blank: [UInt8] = []

    /// Element names, interned by the address libxml2 gives them (its dictionary keeps one copy
    /// of each name for the reader's lifetime), so each distinct name becomes a String once.
    private var nameIDs: [UnsafeRawPointer: Int32] = [:]
    private var names: [String] = []
    /// Shapes seen (sequences of name ids), so records of one shape share their `FieldNames`.
    private var shapes: [[Int32]: FieldNames] = [:]
    private var lastShape: [Int32] = []
    private var lastFieldNames: FieldNames?

    private static let element = Int32(XML_READER_TYPE_ELEMENT.rawValue)
    private static let endElement = Int32(XML_READER_TYPE_END_ELEMENT.rawValue)
    private static let textNode = Int32(XML_READER_TYPE_TEXT.rawValue)
    private static let cdata = Int32(XML_READER_TYPE_CDATA.rawValue)
    private static let whitespace = Int32(XML_READER_TYPE_WHITESPACE.rawValue)
    private static let significantWhitespace = Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue)
    private static let documentType = Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue)
    private static let entityReference = Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue)

    public init(_ input: InputFile) throws {
        xmlInitParser()
        // Errors that libxml2 raises outside any parser context would otherwise go to stderr.
        xmlSetStructuredErrorFunc(nil) { _, _ in }
        name = input.name
        context = XMLReaderContext(input: input)
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_BIG_LINES.rawValue)
        let opaque = Unmanaged.passUnretained(context).toOpaque()
        guard let reader = xmlReaderForIO(
            { opaque, buffer, length -> Int32 in
                guard let opaque, let buffer, length > 0 else { return 0 }
                let context = Unmanaged<XMLReaderContext>.fromOpaque(opaque).takeUnretainedValue()
                do {
                    return Int32(try context.input.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: Int(length))))
                } catch let failure as IOFailure {
                    context.ioFailure = failure
                    return -1
                } catch {
                    return -1
                }
            }, nil, opaque, nil, nil, options)
        else {
            throw IOFailure(path: input.name, message: "cannot start the XML reader", status: .software)
        }
        self.reader = reader
        xmlTextReaderSetStructuredErrorHandler(reader, { opaque, error in
            guard let opaque, let error else { return }
            let context = Unmanaged<XMLReaderContext>.fromOpaque(opaque).takeUnretainedValue()
            // Warnings (level 1) do not make a document unusable; errors and fatal errors do.
            guard error.pointee.level.rawValue >= XML_ERR_ERROR.rawValue, context.errorMessage == nil else { return }
            var message = error.pointee.message.map { String(cString: $0) } ?? "malformed XML"
            while message.last == "\n" || message.last == " " { message.removeLast() }
            context.errorMessage = message
            context.errorLine = Int(error.pointee.line)
            let code = error.pointee.code
            context.errorIsEncoding = error.pointee.domain == Int32(XML_FROM_I18N.rawValue)
                || code == Int32(XML_ERR_INVALID_CHAR.rawValue) || code == Int32(XML_ERR_INVALID_ENCODING.rawValue)
                || code == Int32(XML_ERR_UNKNOWN_ENCODING.rawValue) || code == Int32(XML_ERR_UNSUPPORTED_ENCODING.rawValue)
        }, opaque)
    }

    deinit {
        xmlFreeTextReader(reader)
    }

    private func unusable(_ message: String, line: Int?, code: DiagnosticCode = .FMT007) -> InputUnusable {
        InputUnusable(.error(code, message, at: SourceLocation(file: name, line: line)))
    }

    /// Throws what the last read reported: an I/O failure, or a libxml2 error.
    private func check(_ status: Int32) throws {
        if let failure = context.ioFailure { throw failure }
        if let message = context.errorMessage {
            let line = context.errorLine > 0 ? context.errorLine : Int(xmlTextReaderGetParserLineNumber(reader))
            throw unusable("malformed XML: \(message)", line: line, code: context.errorIsEncoding ? .FMT008 : .FMT007)
        }
        if status < 0 {
            throw unusable("malformed XML", line: Int(xmlTextReaderGetParserLineNumber(reader)))
        }
    }

    public func next() throws -> RecordItem? {
        while !finished {
            let status = xmlTextReaderRead(reader)
            try check(status)
            if status == 0 {
                finished = true
                return nil
            }
            switch xmlTextReaderNodeType(reader) {
            case Self.element:
                try startElement()
                if xmlTextReaderIsEmptyElement(reader) == 1, let record = try endElement() {
                    return .record(record)
                }
            case Self.endElement:
                if let record = try endElement() { return .record(record) }
            case Self.textNode, Self.cdata:
                guard let value = xmlTextReaderConstValue(reader) else { continue }
                if !blank.isEmpty {
                    text += String(decoding: blank, as: UTF8.self)
                    blank.removeAll(keepingCapacity: true)
                }
                if text.isEmpty {
                    text = String(cString: value)
                } else {
                    text += String(cString: value)
                }
            case Self.whitespace, Self.significantWhitespace:
                guard let value = xmlTextReaderConstValue(reader) else { continue }
                if text.isEmpty {
                    blank.append(contentsOf: UnsafeBufferPointer(start: value, count: strlen(value)))
                } else {
                    text += String(cString: value)
                }
            case Self.documentType:
                // The reader parses ahead, so the parser's line is at or just past the DOCTYPE.
                throw unusable("the document has a DOCTYPE (seen by this line); Spectrum exports have none, and a DTD can declare entities that read files or expand without bound, so it is rejected", line: Int(xmlTextReaderGetParserLineNumber(reader)))
            case Self.entityReference:
                throw unusable("entity reference left unexpanded", line: Int(xmlTextReaderGetParserLineNumber(reader)))
            default:
                continue  // comments, processing instructions, the XML declaration
            }
        }
        return nil
    }

    private func intern(_ pointer: UnsafePointer<xmlChar>) -> Int32 {
        let key = UnsafeRawPointer(pointer)
        if let id = nameIDs[key] { return id }
        let id = Int32(names.count)
        names.append(String(cString: pointer))
        nameIDs[key] = id
        return id
    }

    private func startElement() throws {
        guard let localName = xmlTextReaderConstLocalName(reader) else {
            throw unusable("element without a name", line: Int(xmlTextReaderGetParserLineNumber(reader)))
        }
        let id = intern(localName)
        if !frames.isEmpty {
            frames[frames.count - 1].hasChildElements = true
            if !text.isEmpty { frames[frames.count - 1].complex = true }  // text mixed with elements
        }
        text = ""
        blank.removeAll(keepingCapacity: true)
        let line = xmlGetLineNo(xmlTextReaderCurrentNode(reader))
        frames.append(Frame(nameID: id, line: line > 0 ? Int(line) : Int(xmlTextReaderGetParserLineNumber(reader)), fieldStart: fieldIDs.count))
    }

    /// Closes the innermost element; returns the record it completes, if it is one.
    private func endElement() throws -> Record? {
        guard let frame = frames.popLast() else { return nil }
        defer {
            text = ""
            blank.removeAll(keepingCapacity: true)
        }
        if !frame.hasChildElements {
            // A simple text element: a field of its parent.
            guard !frames.isEmpty else { return nil }
            if fieldIDs.count - frames[frames.count - 1].fieldStart >= Self.maximumFieldsPerRecord {
                throw unusable("element '\(names[Int(frames[frames.count - 1].nameID)])' has more than \(Self.maximumFieldsPerRecord) fields; that is not an export row", line: frames[frames.count - 1].line)
            }
            fieldIDs.append(frame.nameID)
            fieldValues.append(text.isEmpty ? (blank.isEmpty ? "" : String(decoding: blank, as: UTF8.self)) : text)
            return nil
        }
        var record: Record?
        if !frame.complex && text.isEmpty {
            record = makeRecord(frame)
        }
        fieldIDs.removeSubrange(frame.fieldStart...)
        fieldValues.removeSubrange(frame.fieldStart...)
        if !frames.isEmpty { frames[frames.count - 1].complex = true }
        return record
    }

    private func makeRecord(_ frame: Frame) -> Record {
        let ids = fieldIDs[frame.fieldStart...]
        let fieldNames: FieldNames
        if let lastFieldNames, lastShape.elementsEqual(ids) {
            fieldNames = lastFieldNames
        } else {
            let shape = Array(ids)
            if let known = shapes[shape] {
                fieldNames = known
            } else {
                fieldNames = FieldNames(shape.map { names[Int($0)] })
                if shapes.count >= 1024 { shapes.removeAll(keepingCapacity: true) }
                shapes[shape] = fieldNames
            }
            lastShape = shape
            lastFieldNames = fieldNames
        }
        return Record(file: name, line: frame.line, fieldNames: fieldNames, values: Array(fieldValues[frame.fieldStart...]))
    }
}
