import SOVCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Holds the documents of one input until the input has been read to its end, so that an input
/// found unusable halfway (a truncated export, malformed XML at the end) emits nothing, never
/// half. Memory stays bounded: documents are kept as they are up to about `memoryLimit` bytes,
/// and past that go as JSON lines to an unlinked temporary file, read back when committed.
public final class DocumentSpool {
    public let memoryLimit: Int
    /// The latest documents, not yet spilled, and roughly how many bytes they take.
    private var held: [CanonicalDocument] = []
    private var heldBytes = 0
    private var buffer: [UInt8] = []
    private var descriptor: Int32 = -1
    private var spilled = false
    /// The documents held, in order, with their warnings (printed when they are committed).
    public private(set) var count = 0
    public private(set) var warnings: [Diagnostic] = []

    /// The limit of a spool made without one. A program sets it once, before it reads (sov-parse
    /// keeps it small: it only writes the documents out, so spilling costs it little).
    public static let defaultMemoryLimit = Atomic<Int>(8 << 20)

    public init(memoryLimit: Int = DocumentSpool.defaultMemoryLimit.load(ordering: .relaxed)) {
        self.memoryLimit = memoryLimit
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    public func append(_ document: CanonicalDocument) throws(IOFailure) {
        held.append(document)
        heldBytes += Self.estimatedSize(document)
        count += 1
        warnings.append(contentsOf: document.diagnostics.filter { !$0.isError })
        if heldBytes >= memoryLimit { try spill() }
    }

    /// About what a document takes in memory; only decides when to spill.
    private static func estimatedSize(_ document: CanonicalDocument) -> Int {
        switch document {
        case .primeContract(let contract): 512 + 256 * contract.lines.count
        case .changeOrder(let order): 768 + 384 * order.lines.count
        }
    }

    /// The held documents as JSON lines at the end of `buffer`.
    private func encodeHeld() {
        for document in held {
            document.writeJSON(into: &buffer)
            buffer.append(0x0A)
        }
        held.removeAll(keepingCapacity: true)
        heldBytes = 0
    }

    private func spill() throws(IOFailure) {
        encodeHeld()
        if descriptor < 0 { descriptor = try unlinkedTemporaryFile("documents") }
        try writeAll(buffer)
        spilled = true
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: [UInt8]) throws(IOFailure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw IOFailure(path: "<spool>", message: "cannot write the temporary file: \(String(cString: strerror(errno)))", status: .ioError)
            }
            offset += written
        }
    }

    /// Writes every held document to `sink`, in order, and empties the spool.
    public func commit(to sink: OutputSink) throws {
        // Spilled runs go to the output as they are read, without a copy into the sink's buffer.
        try readSpilled { run in try run.withUnsafeBytes { try sink.write(raw: $0) } }
        encodeHeld()
        try buffer.withUnsafeBytes { try sink.write(raw: $0) }
        discard()
    }

    /// Hands every held document to `each`, in order, read back one line at a time (so memory
    /// stays bounded however many were spilled), and empties the spool.
    public func drain(_ each: (CanonicalDocument) throws -> Void) throws {
        var pending: [UInt8] = []
        func lines(_ bytes: ArraySlice<UInt8>) throws {
            var start = bytes.startIndex
            while let end = bytes[start...].firstIndex(of: 0x0A) {
                pending.append(contentsOf: bytes[start..<end])
                // Written by `append` from a document a moment ago: it reads back, or the bug is ours.
                try each(try CanonicalDocument(json: JSONParser.parse(pending)))
                pending.removeAll(keepingCapacity: true)
                start = end + 1
            }
            pending.append(contentsOf: bytes[start...])
        }
        try readSpilled(lines)
        try lines(buffer[...])
        for document in held { try each(document) }
        discard()
    }

    /// The spilled JSON lines, from the start, a chunk at a time.
    private func readSpilled(_ each: (ArraySlice<UInt8>) throws -> Void) throws {
        guard spilled else { return }
        if lseek(descriptor, 0, SEEK_SET) < 0 {
            throw IOFailure(path: "<spool>", message: "cannot rewind the temporary file", status: .ioError)
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw IOFailure(path: "<spool>", message: "cannot read the temporary file", status: .ioError)
            }
            if count == 0 { break }
            try each(chunk[0..<count])
        }
    }

    /// Forgets every held document.
    public func discard() {
        held.removeAll()
        heldBytes = 0
        buffer.removeAll(keepingCapacity: buffer.capacity <= memoryLimit * 2)
        if spilled {
            _ = ftruncate(descriptor, 0)
            _ = lseek(descriptor, 0, SEEK_SET)
            spilled = false
        }
        count = 0
        warnings.removeAll()
    }
}

/// SOV line records waiting for their job header (SpectrumAssembler's join), written to an
/// unlinked temporary file and read back by offset. A record is stored as the index of its
/// shape (file, field names and binding, kept in memory once per input header), its line and
/// its values; warnings are not stored (records with warnings stay in memory).
final class JoinSpill {
    private struct ShapeKey: Hashable {
        var names: ObjectIdentifier
        var file: String
    }

    private struct Shape {
        var file: String
        var names: FieldNames
        var binding: LayoutBinding
        var layout: SpectrumLayout?
    }

    private var shapes: [Shape] = []
    private var shapeIndex: [ShapeKey: UInt32] = [:]
    private var descriptor: Int32 = -1
    /// Bytes not written to the file yet.
    private var buffer: [UInt8] = []
    private var written: Int64 = 0
    /// What was last read from the file, and from where: lines of one contract are read in a row.
    private var window: [UInt8] = []
    private var windowStart: Int64 = 0
    private static let chunk = 256 << 10

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Where the next record goes.
    var end: Int64 { written + Int64(buffer.count) }

    func append(_ staged: StagedRecord) throws(IOFailure) -> Int64 {
        let offset = end
        let record = staged.record
        let key = ShapeKey(names: ObjectIdentifier(record.fieldNames), file: record.file)
        let shape: UInt32
        if let known = shapeIndex[key] {
            shape = known
        } else {
            shape = UInt32(shapes.count)
            shapes.append(Shape(file: record.file, names: record.fieldNames, binding: staged.binding, layout: record.layout))
            shapeIndex[key] = shape
        }
        put(UInt64(shape))
        put(UInt64(bitPattern: Int64(record.line)))
        put(UInt64(record.values.count))
        for value in record.values {
            put(UInt64(value.utf8.count))
            buffer.append(contentsOf: value.utf8)
        }
        if buffer.count >= JoinSpill.chunk { try flush() }
        return offset
    }

    func read(at offset: Int64) throws(IOFailure) -> StagedRecord {
        var position = offset
        let shape = shapes[Int(try number(&position))]
        let line = Int(Int64(bitPattern: try number(&position)))
        let count = Int(try number(&position))
        var values: [String] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            let length = Int(try number(&position))
            let start = try ensure(position, length)
            values.append(String(decoding: window[start..<start + length], as: UTF8.self))
            position += Int64(length)
        }
        let record = Record(file: shape.file, line: line, fieldNames: shape.names, values: values, layout: shape.layout)
        return StagedRecord(record: record, binding: shape.binding)
    }

    /// Forgets every record from `offset` on (an input that turned out unusable).
    func truncate(to offset: Int64) {
        guard offset < end else { return }
        if offset >= written {
            buffer.removeSubrange(Int(offset - written)...)
        } else {
            buffer.removeAll()
            written = offset
            if descriptor >= 0 { _ = ftruncate(descriptor, off_t(offset)) }
        }
        window.removeAll()
    }

    private func put(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }

    private func number(_ position: inout Int64) throws(IOFailure) -> UInt64 {
        let start = try ensure(position, 8)
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(window[start + index]) << (8 * UInt64(index)) }
        position += 8
        return value
    }

    /// Makes `count` bytes from `offset` readable in `window`; returns where they start in it.
    private func ensure(_ offset: Int64, _ count: Int) throws(IOFailure) -> Int {
        if offset >= windowStart, offset + Int64(count) <= windowStart + Int64(window.count) { return Int(offset - windowStart) }
        if !buffer.isEmpty { try flush() }
        let size = max(count, JoinSpill.chunk)
        window = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let got = window.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + filled, size - filled, off_t(offset) + off_t(filled)) }
            if got < 0 {
                if errno == EINTR { continue }
                throw IOFailure(path: "<spool>", message: "cannot read the temporary file: \(String(cString: strerror(errno)))", status: .ioError)
            }
            if got == 0 { break }
            filled += got
        }
        window.removeSubrange(filled...)
        windowStart = offset
        guard filled >= count else {
            throw IOFailure(path: "<spool>", message: "the temporary file is shorter than what was written to it", status: .ioError)
        }
        return 0
    }

    private func flush() throws(IOFailure) {
        if descriptor < 0 { descriptor = try unlinkedTemporaryFile("SOV lines") }
        var offset = 0
        while offset < buffer.count {
            let count = buffer.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + offset, $0.count - offset, off_t(written) + off_t(offset)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw IOFailure(path: "<spool>", message: "cannot write the temporary file: \(String(cString: strerror(errno)))", status: .ioError)
            }
            offset += count
        }
        written += Int64(buffer.count)
        buffer.removeAll(keepingCapacity: true)
    }
}
