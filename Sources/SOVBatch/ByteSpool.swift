
#if canImport(Glibc)
import Glibc
import SOVCore
import SOVFrontEnd
#endif

/// Bytes appended in order and read back later: in memory up to `memoryLimit`, then in an
/// unlinked temporary file, so a run's rejects (or what an input writes before it is known to
/// be whole) never take memory in proportion to the input. It can be cut back to an earlier
/// length (`truncate`), which is how an input found unusable halfway takes back what it wrote.
final class ByteSpool {
    let memoryLimit: Int
    /// Bytes not yet in the file; they follow the file's `fileCount` bytes.
    private var buffer: [UInt8] = []
    private var descriptor: Int32 = -1
    private var fileCount = 0

    init(memoryLimit: Int = 4 << 20) {
        self.memoryLimit = memoryLimit
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    var count: Int { fileCount + buffer.count }
    var isEmpty: Bool { count == 0 }

    func append(_ bytes: some Collection<UInt8>) throws(IOFailure) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= memoryLimit { try spill() }
    }

    func append(_ text: String) throws(IOFailure) { try append(text.utf8) }

    /// Back to the first `length` bytes.
    func truncate(to length: Int) throws(IOFailure) {
        guard length < count else { return }
        if length >= fileCount {
            buffer.removeSubrange((length - fileCount)...)
            return
        }
        buffer.removeAll(keepingCapacity: true)
        if ftruncate(descriptor, off_t(length)) != 0 { throw failure("cannot cut the temporary file back") }
        fileCount = length
    }

    func removeAll() throws(IOFailure) { try truncate(to: 0) }

    /// `length` bytes from `offset`.
    func bytes(at offset: Int, count length: Int) throws(IOFailure) -> [UInt8] {
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
    func forEachChunk(_ body: (ArraySlice<UInt8>) throws -> Void) throws {
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

/// JSON lines kept in a `ByteSpool`, each with a sort key, and written out in key order (ties in
/// the order they came): a run's rejects file, whose lines are decided out of the order the
/// file lists them (a change order held until the end of the batch is listed where it was read).
final class KeyedLines {
    struct Key: Comparable {
        var phase: Int
        var index: Int
        static func < (a: Key, b: Key) -> Bool { (a.phase, a.index) < (b.phase, b.index) }
    }

    private let spool = ByteSpool()
    private var entries: [(key: Key, offset: Int, length: Int)] = []

    var isEmpty: Bool { entries.isEmpty }

    struct Mark {
        let entries: Int
        let bytes: Int
    }

    var mark: Mark { Mark(entries: entries.count, bytes: spool.count) }

    /// A reject's line, a canonical document in it written straight as bytes.
    func append(_ reject: Reject, key: Key) throws(IOFailure) {
        var bytes: [UInt8] = []
        reject.writeJSON(into: &bytes)
        bytes.append(0x0A)
        entries.append((key, spool.count, bytes.count))
        try spool.append(bytes)
    }

    func append(_ line: JSONValue, key: Key) throws(IOFailure) {
        var bytes: [UInt8] = []
        JSONWriter.write(line, into: &bytes)
        bytes.append(0x0A)
        entries.append((key, spool.count, bytes.count))
        try spool.append(bytes)
    }

    func truncate(to mark: Mark) throws(IOFailure) {
        if entries.count > mark.entries { entries.removeSubrange(mark.entries...) }
        try spool.truncate(to: mark.bytes)
    }

    /// The lines in key order, to `descriptor`.
    func write(to descriptor: Int32, path: String) throws(IOFailure) {
        let ordered = entries.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }
        var pending: [UInt8] = []
        func flush() throws(IOFailure) {
            var done = 0
            while done < pending.count {
                let written = pending.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + done, $0.count - done) }
                if written < 0 && errno == EINTR { continue }
                if written < 0 { throw FileSystem.failure(path, "cannot write", reading: false) }
                done += written
            }
            pending.removeAll(keepingCapacity: true)
        }
        for (_, entry) in ordered {
            pending += try spool.bytes(at: entry.offset, count: entry.length)
            if pending.count >= 1 << 20 { try flush() }
        }
        try flush()
    }

    /// Written whole at `path` (a temporary file beside it, synced, renamed over it), or, with
    /// `replacing` false, only where no file is (EEXIST otherwise).
    func writeFile(_ path: String, replacing: Bool) throws(IOFailure) {
        let temporary = AtomicFile.parentFolder(of: path) + "/.\(AtomicFile.baseName(of: path).prefix(64)).\(getpid()).rejects.tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if descriptor < 0 { throw FileSystem.failure(temporary, "cannot create", reading: false) }
        do throws(IOFailure) {
            try write(to: descriptor, path: temporary)
            if fsync(descriptor) != 0 { throw FileSystem.failure(temporary, "fsync failed", reading: false) }
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        let placed = replacing ? rename(temporary, path) : link(temporary, path)
        if placed != 0 {
            let failure = errno == EEXIST
                ? IOFailure(path: path, message: "already exists", status: .cannotCreate)
                : FileSystem.failure(path, "cannot write", reading: false)
            unlink(temporary)
            throw failure
        }
        if !replacing { unlink(temporary) }
        AtomicFile.syncFolder(AtomicFile.parentFolder(of: path))
    }
}
