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
/// half. Memory stays bounded: past `memoryLimit` bytes the JSON lines go to an unlinked
/// temporary file.
public final class DocumentSpool {
    public let memoryLimit: Int
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
        document.writeJSON(into: &buffer)
        buffer.append(0x0A)
        count += 1
        warnings.append(contentsOf: document.diagnostics.filter { !$0.isError })
        if buffer.count >= memoryLimit { try spill() }
    }

    private func spill() throws(IOFailure) {
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
        try sink.write(bytes: buffer)
        discard()
    }

    /// Forgets every held document.
    public func discard() {
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
