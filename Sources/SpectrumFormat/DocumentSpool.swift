import SOVCore

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

    public init(memoryLimit: Int = 8 << 20) {
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
        if descriptor < 0 {
            let folder = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
            var template = Array("\(folder)/sov-parse.XXXXXX".utf8CString)
            let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd < 0 {
                throw IOFailure(path: folder, message: "cannot create a temporary file to hold documents: \(String(cString: strerror(errno)))", status: .cannotCreate)
            }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            descriptor = fd
        }
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
        if spilled {
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
                try sink.write(bytes: chunk[0..<count])
            }
        }
        encodeHeld()
        try sink.write(bytes: buffer)
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
        if spilled {
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
                try lines(chunk[0..<count])
            }
        }
        try lines(buffer[...])
        for document in held { try each(document) }
        discard()
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
