#if canImport(Glibc)
import Glibc
import SOVCore
import SOVFrontEnd
#endif

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
