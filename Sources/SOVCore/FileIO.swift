#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure to read or write a file as a whole; data problems are Diagnostics instead.
public struct IOFailure: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var status: ExitStatus

    public init(path: String, message: String, status: ExitStatus) {
        self.path = path
        self.message = message
        self.status = status
    }

    public var description: String { "\(path): \(message)" }

    static func fromErrno(_ path: String, _ action: String, reading: Bool) -> IOFailure {
        from(errno: errno, path, action, reading: reading)
    }

    static func from(errno code: Int32, _ path: String, _ action: String, reading: Bool) -> IOFailure {
        let text = String(cString: strerror(code))
        let status: ExitStatus
        if reading {
            status = (code == ENOENT || code == EACCES || code == ENOTDIR || code == EISDIR) ? .noInput : .ioError
        } else {
            status = (code == ENOENT || code == EACCES || code == ENOTDIR || code == EROFS || code == EISDIR) ? .cannotCreate : .ioError
        }
        return IOFailure(path: path, message: "\(action): \(text)", status: status)
    }
}

/// An input opened for sequential reading: a file, or standard input for "-".
public final class InputFile {
    /// The name used in messages and documents: the path, "<stdin>", or the name it was opened
    /// under (the drop folder names an input as it will be archived).
    public let name: String
    /// What was opened ("-": standard input).
    public let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool

    /// Opens `path` ("-": standard input). Only a regular file is read: a FIFO would block the
    /// run until a writer comes and a device such as /dev/zero never ends, so either is refused
    /// (66) unless `specialFiles` (a configuration given as `<(command)`). With `followingLinks`
    /// false a symbolic link is refused as well (O_NOFOLLOW), which is how the drop folder opens
    /// what it was given: the check is on the descriptor opened, not on the name beforehand.
    public init(path: String, named displayName: String? = nil, specialFiles: Bool = false, followingLinks: Bool = true) throws(IOFailure) {
        self.path = path
        if path == "-" {
            name = displayName ?? "<stdin>"
            descriptor = STDIN_FILENO
            ownsDescriptor = false
            return
        }
        // O_NONBLOCK so that opening a FIFO never waits for its writer; cleared below.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (followingLinks ? 0 : O_NOFOLLOW))
        if fd < 0 {
            if errno == ELOOP && !followingLinks {
                throw IOFailure(path: path, message: "is a symbolic link; links are not followed here, only regular files are read", status: .noInput)
            }
            throw IOFailure.fromErrno(path, "cannot open", reading: true)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let failure = IOFailure.fromErrno(path, "cannot open", reading: true)
            close(fd)
            throw failure
        }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR {
            close(fd)
            throw IOFailure(path: path, message: "is a folder, not a file", status: .noInput)
        }
        if kind != S_IFREG && !specialFiles {
            close(fd)
            throw IOFailure(path: path, message: "is \(InputFile.kindName(kind)), not a regular file; only files are read (give - to read standard input)", status: .noInput)
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        name = displayName ?? path
        descriptor = fd
        ownsDescriptor = true
    }

    static func kindName(_ kind: mode_t) -> String {
        switch kind {
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "a special file"
        }
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    /// Bytes read ahead by `peek` and not yet consumed; `read` returns them first.
    private var readAhead: [UInt8] = []
    private var readAheadStart = 0

    /// Up to `count` bytes from the current position without consuming them (fewer at the end).
    /// Lets a reader sniff the format of standard input, which cannot seek back.
    public func peek(_ count: Int) throws(IOFailure) -> [UInt8] {
        if readAheadStart > 0 {
            readAhead.removeFirst(readAheadStart)
            readAheadStart = 0
        }
        var chunk = [UInt8](repeating: 0, count: max(0, count - readAhead.count))
        while readAhead.count < count {
            let wanted = count - readAhead.count
            let got = try chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(IOFailure) in try readDescriptor(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<wanted])) }
            }.get()
            if got == 0 { break }
            readAhead.append(contentsOf: chunk[0..<got])
        }
        return Array(readAhead.prefix(count))
    }

    /// Reads up to `buffer.count` bytes; 0 at the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(IOFailure) -> Int {
        if readAheadStart < readAhead.count {
            let count = min(buffer.count, readAhead.count - readAheadStart)
            readAhead.withUnsafeBytes { bytes in
                buffer.baseAddress!.copyMemory(from: bytes.baseAddress! + readAheadStart, byteCount: count)
            }
            readAheadStart += count
            if readAheadStart == readAhead.count {
                readAhead = []
                readAheadStart = 0
            }
            return count
        }
        return try readDescriptor(into: buffer)
    }

    private func readDescriptor(into buffer: UnsafeMutableRawBufferPointer) throws(IOFailure) -> Int {
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw IOFailure.fromErrno(name, "read failed", reading: true)
        }
    }

    /// The whole input. For formats that must be seen whole (Procore JSON, which is small).
    public func readAll(limit: Int = 1 << 30) throws(IOFailure) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { buffer in Result { () throws(IOFailure) in try read(into: buffer) } }.get()
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
            if result.count > limit {
                throw IOFailure(path: name, message: "larger than \(limit) bytes", status: .dataError)
            }
        }
    }
}

/// Reads an input line by line in constant memory (lines end in LF; a CR before it is dropped).
public final class LineReader {
    private let input: InputFile
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var finished = false
    public private(set) var lineNumber = 0
    /// Lines longer than this are an error, so one hostile line cannot take all memory.
    public let maximumLineLength: Int

    public init(_ input: InputFile, maximumLineLength: Int = 64 << 20) {
        self.input = input
        // Not zero-filled: only bytes read into it are ever looked at.
        self.buffer = [UInt8](unsafeUninitializedCapacity: 1 << 20) { _, count in count = 1 << 20 }
        self.maximumLineLength = maximumLineLength
    }

    public var name: String { input.name }

    /// The next line's bytes without its terminator, or nil at the end.
    public func next() throws(IOFailure) -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[start..<end].firstIndex(of: 0x0A) {
                var lineEnd = newline
                if lineEnd > start, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = buffer[start..<lineEnd]
                start = newline + 1
                lineNumber += 1
                return line
            }
            if finished {
                if start == end { return nil }
                var lineEnd = end
                if buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let line = buffer[start..<lineEnd]
                start = end
                lineNumber += 1
                return line
            }
            // Move the partial line to the front and read more, growing only for a long line.
            if start > 0 {
                let count = end - start
                if count > 0 {
                    buffer.withUnsafeMutableBytes { raw in
                        let base = raw.baseAddress!
                        memmove(base, base + start, count)
                    }
                }
                start = 0
                end = count
            }
            if end == buffer.count {
                if buffer.count >= maximumLineLength {
                    throw IOFailure(path: input.name, message: "line \(lineNumber + 1) is longer than \(maximumLineLength) bytes", status: .dataError)
                }
                buffer.append(contentsOf: repeatElement(0, count: buffer.count))
            }
            let filled = end
            let count = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(IOFailure) in try input.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...])) }
            }.get()
            if count == 0 { finished = true } else { end += count }
        }
    }
}

/// Thrown when the reader of our standard output went away (`sov-parse big.xml | head -1`).
public struct OutputClosed: Error, Sendable {}

/// Buffered writing to a file descriptor (standard output by default).
public final class OutputSink {
    private let descriptor: Int32
    private let name: String
    private var buffer: [UInt8] = []
    private let capacity = 1 << 16
    private let ownsDescriptor: Bool

    /// Writes to a descriptor someone else opened and closes (standard output by default).
    public init(descriptor: Int32 = STDOUT_FILENO, name: String = "<stdout>") {
        self.descriptor = descriptor
        self.name = name
        ownsDescriptor = false
        buffer.reserveCapacity(capacity)
    }

    /// Creates (or empties) the file at `path` and closes it when the sink goes away, so the
    /// descriptor cannot be closed while the sink still writes to its number.
    /// `what` names the file in the error (`cannot create the rejects file: Permission denied`).
    public init(creating path: String, what: String = "the file") throws(IOFailure) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw IOFailure.fromErrno(path, "cannot create \(what)", reading: false) }
        descriptor = fd
        name = path
        ownsDescriptor = true
        buffer.reserveCapacity(capacity)
    }

    deinit {
        // What was not flushed is lost on purpose: a write error here could not be reported.
        if ownsDescriptor { close(descriptor) }
    }

    public static func standardError() -> OutputSink { OutputSink(descriptor: STDERR_FILENO, name: "<stderr>") }

    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= capacity { try flush() }
    }

    public func write(bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    /// Writes `bytes`; a run of at least the buffer's size goes straight to the descriptor (after
    /// what is buffered), without being copied into the buffer first.
    public func write(raw bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count >= capacity else {
            buffer.append(contentsOf: bytes)
            if buffer.count >= capacity { try flush() }
            return
        }
        try flush()
        try writeAll(bytes)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { throw OutputClosed() }
                throw IOFailure.fromErrno(name, "write failed", reading: false)
            }
            offset += written
        }
    }

    /// Writes one JSON value and a newline.
    public func writeLine(_ value: JSONValue) throws {
        JSONWriter.write(value, into: &buffer)
        try endLine()
    }

    public func writeLine(_ document: CanonicalDocument) throws {
        document.writeJSON(into: &buffer)
        try endLine()
    }

    public func writeLine(_ reject: Reject) throws {
        reject.writeJSON(into: &buffer)
        try endLine()
    }

    private func endLine() throws {
        buffer.append(0x0A)
        if buffer.count >= capacity { try flush() }
    }

    public func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { buffer.removeAll(keepingCapacity: true); throw OutputClosed() }
                throw IOFailure.fromErrno(name, "write failed", reading: false)
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    // MARK: Taking back what was written

    /// How what was written since a `mark` can be taken back: cut off a regular file again, or
    /// nothing to take back from /dev/null. Nil for a pipe, a terminal or a socket (a reader may
    /// have it already), and for a file that is also standard error (cutting would take our
    /// messages too) or open for appending (another writer may append after us).
    public enum TakeBack: Sendable, Equatable {
        case truncate
        case discarded
    }

    public private(set) lazy var takeBack: TakeBack? = Self.takeBack(of: descriptor)

    static func takeBack(of descriptor: Int32) -> TakeBack? {
        var output = stat()
        guard fstat(descriptor, &output) == 0 else { return nil }
        switch output.st_mode & S_IFMT {
        case S_IFCHR:
            var null = stat()
            guard stat("/dev/null", &null) == 0, (null.st_mode & S_IFMT) == S_IFCHR, null.st_rdev == output.st_rdev else { return nil }
            return .discarded
        case S_IFREG:
            if fcntl(descriptor, F_GETFL) & O_APPEND != 0 { return nil }
            for other in [STDERR_FILENO, STDOUT_FILENO] where other != descriptor {
                var shared = stat()
                if fstat(other, &shared) == 0, shared.st_dev == output.st_dev, shared.st_ino == output.st_ino { return nil }
            }
            return lseek(descriptor, 0, SEEK_CUR) < 0 ? nil : .truncate
        default:
            return nil
        }
    }

    /// Where the output stands, everything buffered written: what `cut(to:)` goes back to.
    /// Only where `takeBack` is not nil.
    public func mark() throws -> Int64 {
        try flush()
        guard takeBack == .truncate else { return 0 }
        let offset = lseek(descriptor, 0, SEEK_CUR)
        if offset < 0 { throw IOFailure.fromErrno(name, "cannot tell where the output stands", reading: false) }
        return Int64(offset)
    }

    /// Takes back everything written since `mark` returned `offset`: the buffer dropped, the file
    /// cut to that length, the next write there.
    public func cut(to offset: Int64) throws {
        buffer.removeAll(keepingCapacity: true)
        guard takeBack == .truncate else { return }
        if ftruncate(descriptor, off_t(offset)) != 0 || lseek(descriptor, off_t(offset), SEEK_SET) < 0 {
            throw IOFailure.fromErrno(name, "cannot take back what was written", reading: false)
        }
    }
}

/// A file that appears whole or not at all: written to a temporary name in the same folder,
/// fsynced, renamed over the target, and the folder fsynced.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String) throws(IOFailure) {
        let folder = parentFolder(of: path)
        let temporary = try writeTemporary(bytes, beside: path, sync: true)
        if rename(temporary, path) != 0 {
            let failure = IOFailure.fromErrno(path, "rename failed", reading: false)
            unlink(temporary)
            throw failure
        }
        syncFolder(folder)
    }

    /// Like `write`, but never over an existing file: the file appears whole at `path`, or the
    /// call fails (EEXIST: "already exists") and nothing there changes.
    public static func writeNew(_ bytes: [UInt8], to path: String, sync: Bool = true) throws(IOFailure) {
        let folder = parentFolder(of: path)
        let temporary = try writeTemporary(bytes, beside: path, sync: sync)
        // link(2) fails when the name is taken, where rename(2) would replace the file.
        if link(temporary, path) != 0 {
            let failure = IOFailure.fromErrno(path, "cannot create", reading: false)
            unlink(temporary)
            throw failure
        }
        unlink(temporary)
        if sync { syncFolder(folder) }
    }

    /// Writes a file that must not exist yet, in place and without syncing: for a private folder
    /// (the outbox's staging) whose half-written files a recovery removes, and that is synced
    /// as a whole afterwards. Fails (EEXIST) rather than replace anything.
    public static func createNew(_ bytes: [UInt8], at path: String) throws(IOFailure) {
        try create(path, in: AT_FDCWD, flags: O_EXCL, bytes, sync: false)
    }

    /// Opens `name` in the folder `folder` (a descriptor, or AT_FDCWD for a path) for writing,
    /// with `flags` besides create, writes `bytes` whole, optionally fsyncs, and closes it; on
    /// any failure the file is removed and the failure thrown, naming `path`.
    static func create(_ name: String, in folder: Int32, path: String? = nil, flags: Int32, _ bytes: [UInt8], sync: Bool) throws(IOFailure) {
        let path = path ?? name
        let fd = openat(folder, name, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0o644)
        if fd < 0 { throw IOFailure.fromErrno(path, "cannot create", reading: false) }
        var offset = 0
        var failure: IOFailure?
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                failure = IOFailure.fromErrno(path, "write failed", reading: false)
                break
            }
            offset += written
        }
        if failure == nil, sync, fsync(fd) != 0 { failure = IOFailure.fromErrno(path, "fsync failed", reading: false) }
        close(fd)
        if let failure {
            unlinkat(folder, name, 0)
            throw failure
        }
    }

    /// The temporary file's name: hidden, bounded whatever the target's name (a long input
    /// name must not make it too long for the disk), and per process.
    static func temporaryName(beside path: String) -> String {
        var stem = ""
        for character in baseName(of: path) where stem.utf8.count + character.utf8.count <= 100 { stem.append(character) }
        return "\(parentFolder(of: path))/.\(stem).\(getpid()).tmp"
    }

    private static func writeTemporary(_ bytes: [UInt8], beside path: String, sync: Bool) throws(IOFailure) -> String {
        let temporary = temporaryName(beside: path)
        try create(temporary, in: AT_FDCWD, flags: O_TRUNC, bytes, sync: sync)
        return temporary
    }

    public static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    /// Creates `path` and its parents when missing.
    public static func makeFolder(_ path: String) throws(IOFailure) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw IOFailure.fromErrno(current, "cannot create folder", reading: false)
            }
        }
    }

    public static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// A file name made safe from an origin id (`spectrum:1:24-1017:OWN100` ->
    /// `spectrum_1_24-1017_OWN100`): only letters, digits, `-`, `_` and `.` survive.
    /// Made from the UTF-8 bytes in one pass: every scalar outside `a-z A-Z 0-9 - .` becomes one
    /// `_` (one for its leading byte, none for the bytes that continue it). Mapping Characters
    /// scalar by scalar cost 16,000 instructions a document.
    public static func safeFileName(_ id: String) -> String {
        var id = id
        return id.withUTF8 { bytes in
            String(unsafeUninitializedCapacity: bytes.count) { out in
                var count = 0
                for byte in bytes {
                    switch byte {
                    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                        UInt8(ascii: "-"), UInt8(ascii: "."):
                        out[count] = byte
                    case 0x80..<0xC0:
                        continue
                    default:
                        out[count] = UInt8(ascii: "_")
                    }
                    count += 1
                }
                return count
            }
        }
    }
}

/// A folder held open, so that a batch of files in it is created and renamed by name
/// (`openat`, `renameat2`) instead of by a path the kernel walks again for every file.
public final class OpenFolder: Sendable {
    public let path: String
    let descriptor: Int32

    public init(_ path: String) throws(IOFailure) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 { throw IOFailure.fromErrno(path, "cannot open folder", reading: false) }
    }

    deinit { close(descriptor) }

    /// `AtomicFile.createNew` for `name` in this folder: written in place, not synced, never
    /// over another file (EEXIST).
    public func createNew(_ bytes: [UInt8], named name: String) throws(IOFailure) {
        try AtomicFile.create(name, in: descriptor, path: path + "/" + name, flags: O_EXCL, bytes, sync: false)
    }

    public func contains(_ name: String) -> Bool {
        var status = stat()
        return fstatat(descriptor, name, &status, AT_SYMLINK_NOFOLLOW) == 0
    }

    public enum Move: Sendable, Equatable {
        case moved
        /// There was no such file here: someone moved it first.
        case missing
        /// `target` has a file of this name, which stays as it was.
        case taken
    }

    /// Renames `name` to the same name in `target`, never over a file already there.
    public func move(_ name: String, to target: OpenFolder) throws(IOFailure) -> Move {
        switch Self.renameWithoutReplacing(name, from: descriptor, to: target.descriptor) {
        case 0: return .moved
        case ENOENT where !contains(name): return .missing
        case EEXIST: return .taken
        case let code:
            throw IOFailure.from(errno: code, path + "/" + name, "cannot move to \(target.path)", reading: false)
        }
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
    /// glibc declares renameat2 only for _GNU_SOURCE, which Swift's Glibc module does not set.
    private static let renameat2Function: RenameAt2? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(symbol, to: RenameAt2.self)
    }()
    private static let renameNoReplace: UInt32 = 1

    /// 0, or the errno. One atomic step where the kernel and the file system can
    /// (RENAME_NOREPLACE); elsewhere a check, then a rename (a file another process creates
    /// between the two would be replaced: nothing of ours does).
    private static func renameWithoutReplacing(_ name: String, from: Int32, to: Int32) -> Int32 {
        if let renameat2 = renameat2Function {
            if renameat2(from, name, to, name, renameNoReplace) == 0 { return 0 }
            let code = errno
            if code != EINVAL && code != ENOSYS { return code }
        }
        var status = stat()
        if fstatat(to, name, &status, AT_SYMLINK_NOFOLLOW) == 0 { return EEXIST }
        return renameat(from, name, to, name) == 0 ? 0 : errno
    }
}

/// Creates an unlinked temporary file (it goes when its descriptor is closed, however the
/// process ends) in `TMPDIR`, or `/tmp`.
public func unlinkedTemporaryFile(_ purpose: String) throws(IOFailure) -> Int32 {
    let folder = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(folder)/sov-spool.XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    if fd < 0 {
        throw IOFailure(path: folder, message: "cannot create a temporary file to hold \(purpose): \(String(cString: strerror(errno)))", status: .cannotCreate)
    }
    template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
    return fd
}
