#if canImport(Glibc)
import Glibc
#endif

/// Bytes appended in order and read back later: in memory up to `memoryLimit`, then in an
/// unlinked temporary file, so a run's rejects (or what an input writes before it is known to
/// be whole) never take memory in proportion to the input. It can be cut back to an earlier
/// length (`truncate`), which is how an input found unusable halfway takes back what it wrote.
public final class ByteSpool {
    public let memoryLimit: Int
    /// Bytes not yet in the file; they follow the file's `fileCount` bytes.
    private var buffer: [UInt8] = []
    private var descriptor: Int32 = -1
    private var fileCount = 0

    public init(memoryLimit: Int = 4 << 20) {
        self.memoryLimit = memoryLimit
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    public var count: Int { fileCount + buffer.count }
    public var isEmpty: Bool { count == 0 }

    public func append(_ bytes: some Collection<UInt8>) throws(IOFailure) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= memoryLimit { try spill() }
    }

    public func append(_ text: String) throws(IOFailure) { try append(text.utf8) }

    /// Back to the first `length` bytes.
    public func truncate(to length: Int) throws(IOFailure) {
        guard length < count else { return }
        if length >= fileCount {
            buffer.removeSubrange((length - fileCount)...)
            return
        }
        buffer.removeAll(keepingCapacity: true)
        if ftruncate(descriptor, off_t(length)) != 0 { throw failure("cannot cut the temporary file back") }
        fileCount = length
    }

    public func removeAll() throws(IOFailure) { try truncate(to: 0) }

    /// `length` bytes from `offset`.
    public func bytes(at offset: Int, count length: Int) throws(IOFailure) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(length)
        var position = offset
        let end = offset + length
        if position < fileCount {
            var chunk = [UInt8](repeating: 0, count: min(end, fileCount) - position)
            var done = 0
            while done < chunk.count {
                let got = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, $0.count - done, off_t(position + done)) }
                if got < 0 && errno == EINTR { continue }
                if got <= 0 { throw failure("cannot read the temporary file") }
                done += got
            }
            result += chunk
            position += chunk.count
        }
        if position < end { result += buffer[(position - fileCount)..<(end - fileCount)] }
        return result
    }

    /// Every byte, in order, in chunks of up to 1 MB.
    public func forEachChunk(_ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var offset = 0
        while offset < fileCount {
            let length = min(1 << 20, fileCount - offset)
            try body(try bytes(at: offset, count: length)[...])
            offset += length
        }
        if !buffer.isEmpty { try body(buffer[...]) }
    }

    private func spill() throws(IOFailure) {
        if descriptor < 0 { descriptor = try unlinkedTemporaryFile("the run's lines") }
        var done = 0
        while done < buffer.count {
            let written = buffer.withUnsafeBytes { pwrite(descriptor, $0.baseAddress! + done, $0.count - done, off_t(fileCount + done)) }
            if written < 0 && errno == EINTR { continue }
            if written < 0 { throw failure("cannot write the temporary file") }
            done += written
        }
        fileCount += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    private func failure(_ message: String) -> IOFailure {
        IOFailure(path: "<spool>", message: "\(message): \(String(cString: strerror(errno)))", status: .ioError)
    }
}
