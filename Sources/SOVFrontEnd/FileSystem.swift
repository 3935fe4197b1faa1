import SOVCore

#if canImport(Glibc)
import Glibc
#endif

/// The few POSIX file operations the runner and the drop folder need, with errors as IOFailure.
public enum FileSystem {
    public enum Kind: Sendable {
        case file
        case folder
        case other
    }

    public struct Info: Sendable {
        public var kind: Kind
        public var size: Int
        /// Last modification, seconds since 1970.
        public var modified: Int
        /// The same, in nanoseconds, and the inode: what settling compares between two scans.
        public var modifiedNanoseconds: Int = 0
        public var inode: UInt64 = 0
        /// A symbolic link (only when links are not followed).
        public var isLink = false

        public init(kind: Kind, size: Int, modified: Int) {
            self.kind = kind
            self.size = size
            self.modified = modified
        }

        init(_ status: stat) {
            switch status.st_mode & S_IFMT {
            case S_IFREG: kind = .file
            case S_IFDIR: kind = .folder
            default: kind = .other
            }
            size = Int(status.st_size)
            modified = Int(status.st_mtim.tv_sec)
            modifiedNanoseconds = Int(status.st_mtim.tv_sec) * 1_000_000_000 + Int(status.st_mtim.tv_nsec)
            inode = UInt64(status.st_ino)
            isLink = status.st_mode & S_IFMT == S_IFLNK
        }
    }

    /// What is at `path`, nil when nothing is. Links are followed only when asked: the drop
    /// folder takes only plain files, `sov-run` takes what the user names.
    public static func info(_ path: String, followingLinks: Bool = false) -> Info? {
        var status = stat()
        guard (followingLinks ? stat(path, &status) : lstat(path, &status)) == 0 else { return nil }
        return Info(status)
    }

    public static func exists(_ path: String) -> Bool { info(path) != nil }

    /// The absolute path without links, `.` or `..`; the path as given when it cannot be resolved.
    public static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Names a producer is still writing, or that are not for us: hidden files (`.name`, which
    /// is also how AtomicFile names its temporary files) and partial downloads.
    public static func isPartialOrHidden(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix(".tmp") || name.hasSuffix(".part")
    }

    /// Names in a folder, sorted, without `.` and `..`.
    public static func names(in folder: String) throws(IOFailure) -> [String] {
        guard let directory = opendir(folder) else { throw FileSystem.failure(folder, "cannot list folder", reading: true) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// One name in a folder as the file system holds it: bytes, which need not be UTF-8.
    public struct Entry: Sendable, Hashable {
        /// The bytes of the name, without a terminator.
        public var raw: [UInt8]
        /// The name as text: the name itself when it is UTF-8, else `displayName(raw)`.
        public var name: String
        public var isUTF8: Bool

        public init(raw: [UInt8]) {
            self.raw = raw
            if let text = String(validating: raw, as: UTF8.self) {
                name = text
                isUTF8 = true
            } else {
                name = FileSystem.displayName(raw)
                isUTF8 = false
            }
        }
    }

    /// What an inbox name is to the watcher, by its name alone.
    public enum InboxRole: Sendable, Equatable {
        /// Hidden or partial (`.x`, `x.tmp`, `x.part`): never taken.
        case ignored
        /// `x.csv.done` with `--ready-suffix .done`: says `x.csv` is complete; never an input.
        case marker(of: [UInt8])
        /// An input, taken once settled (or once `marker` exists, with a ready suffix).
        case candidate(marker: [UInt8]?)
    }

    /// The role of the inbox name `entry` given the ready suffix (nil or empty: none).
    public static func inboxRole(_ entry: Entry, readySuffix: String?) -> InboxRole {
        if isPartialOrHidden(entry.name) { return .ignored }
        guard let suffix = readySuffix, !suffix.isEmpty else { return .candidate(marker: nil) }
        let tail = Array(suffix.utf8)
        if entry.raw.count > tail.count, entry.raw.suffix(tail.count).elementsEqual(tail) {
            return .marker(of: Array(entry.raw.dropLast(tail.count)))
        }
        if entry.raw.count == tail.count, entry.raw == tail { return .ignored }
        return .candidate(marker: entry.raw + tail)
    }

    /// The entries of a folder, sorted by their bytes, without `.` and `..`.
    public static func entries(in folder: String) throws(IOFailure) -> [Entry] {
        guard let directory = opendir(folder) else { throw FileSystem.failure(folder, "cannot list folder", reading: true) }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let entry = readdir(directory) {
            let raw = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if raw != [0x2E] && raw != [0x2E, 0x2E] { entries.append(Entry(raw: raw)) }
        }
        return entries.sorted { $0.raw.lexicographicallyPrecedes($1.raw) }
    }

    /// A name that is not UTF-8 made printable and unambiguous: its valid parts as they are, each
    /// byte of an invalid sequence as `%XX` (and `%` itself as `%25`, so no two names meet).
    public static func displayName(_ raw: [UInt8]) -> String {
        var text = ""
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            let length: Int
            switch byte {
            case 0x00..<0x80: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: length = 0
            }
            if length == 1 {
                text += byte == UInt8(ascii: "%") ? "%25" : String(UnicodeScalar(byte))
                index += 1
                continue
            }
            if length > 1, index + length <= raw.count, let scalar = String(validating: raw[index..<(index + length)], as: UTF8.self) {
                text += scalar
                index += length
                continue
            }
            text += "%" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            index += 1
        }
        return text
    }

    /// `folder/raw` as a C path, for the calls that must reach a name that is not UTF-8.
    public static func rawPath(_ folder: String, _ raw: [UInt8]) -> [CChar] {
        (Array(folder.utf8) + [UInt8(ascii: "/")] + raw + [0]).map { CChar(bitPattern: $0) }
    }

    /// Renames a name given as bytes (`from` in `folder`) to a path; false with errno set.
    public static func renameRaw(_ raw: [UInt8], in folder: String, to path: String) -> Bool {
        let source = rawPath(folder, raw)
        return source.withUnsafeBufferPointer { Glibc.rename($0.baseAddress!, path) } == 0
    }

    /// What is at a name given as bytes, links not followed.
    public static func info(raw: [UInt8], in folder: String) -> Info? {
        var status = stat()
        let path = rawPath(folder, raw)
        guard path.withUnsafeBufferPointer({ lstat($0.baseAddress!, &status) }) == 0 else { return nil }
        return Info(status)
    }

    /// Renames atomically (same file system); the caller makes sure `to` is free.
    public static func move(_ from: String, to: String) throws(IOFailure) {
        if rename(from, to) != 0 { throw FileSystem.failure(from, "cannot move to \(to)", reading: false) }
    }

    public static func remove(_ path: String) {
        unlink(path)
    }

    /// A name in `folder` based on `name` that nothing uses yet: `name`, else `stem.2.ext`, ...
    public static func freeName(for name: String, in folder: String, alsoFree suffixes: [String] = []) -> String {
        freeName(for: name) { candidate in
            !exists(folder + "/" + candidate) && suffixes.allSatisfy { !exists(folder + "/" + candidate + $0) }
        }
    }

    /// `name`, else `stem.2.ext`, `stem.3.ext`... : the first that `isFree` accepts.
    public static func freeName(for name: String, isFree: (String) -> Bool) -> String {
        if isFree(name) { return name }
        let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex ? nil : $0 }
        let stem = dot.map { String(name[..<$0]) } ?? name
        let ext = dot.map { String(name[$0...]) } ?? ""
        var counter = 2
        while !isFree("\(stem).\(counter)\(ext)") { counter += 1 }
        return "\(stem).\(counter)\(ext)"
    }

    /// Seconds since 1970, now.
    public static func now() -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int(spec.tv_sec)
    }

    /// Seconds on a clock that never jumps, for progress timing.
    public static func monotonicSeconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    public static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) != 0 }

    /// The current errno as an IOFailure with its exit status (docs/FORMATS.md, "Exit codes"; 66/73 for what is missing or
    /// forbidden, 74 for the rest).
    public static func failure(_ path: String, _ action: String, reading: Bool) -> IOFailure {
        let code = errno
        let missing = code == ENOENT || code == EACCES || code == ENOTDIR || code == EISDIR || code == EROFS || code == EPERM
        let status: ExitStatus = missing ? (reading ? .noInput : .cannotCreate) : .ioError
        return IOFailure(path: path, message: "\(action): \(String(cString: strerror(code)))", status: status)
    }
}

/// An exclusive advisory lock (flock) on a file, held until released or the process ends (a
/// SIGKILL releases it too, so a crashed watcher never blocks the next one).
public final class FolderLock {
    public let path: String
    private var descriptor: Int32

    public struct Held: Error, Sendable, CustomStringConvertible {
        public var path: String
        /// The process that holds it, as it wrote in the lock file.
        public var holder: String?
        public var description: String {
            "\(path) is locked by another sov-watch" + (holder.map { " (pid \($0))" } ?? "")
        }
    }

    /// The drop folder's own descriptor, locked as well: deleting the lock file (which a
    /// second watcher would then create afresh and lock) cannot let it in, since the folder it
    /// locks is the same inode whatever its files.
    private var folderDescriptor: Int32 = -1

    /// Locks the folder `folder` itself (flock on its descriptor), then the file `path` in it,
    /// which says who holds it (and keeps out a watcher of an earlier release, which locks only
    /// the file). Throws `Held` at once when another process holds either (never waits).
    public convenience init(folder: String, path: String) throws {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 { throw FileSystem.failure(folder, "cannot open the drop folder to lock it", reading: true) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK {
                throw Held(path: folder, holder: FolderLock.holder(path))
            }
            throw IOFailure(path: folder, message: "cannot lock: \(String(cString: strerror(code)))", status: .ioError)
        }
        do {
            try self.init(path: path)
        } catch {
            close(descriptor)
            throw error
        }
        folderDescriptor = descriptor
    }

    /// The pid written in a lock file, if it says one.
    public static func holder(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 32, 0) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingSpaces.filter { $0 != "\n" }
        return text.isEmpty ? nil : text
    }

    /// Takes the lock or throws `Held` at once (never waits).
    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        if descriptor < 0 { throw FileSystem.failure(path, "cannot create the lock file", reading: false) }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 32, 0) }
            close(descriptor)
            descriptor = -1
            if code == EWOULDBLOCK {
                let text = count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self).trimmingSpaces.filter { $0 != "\n" } : ""
                throw Held(path: path, holder: text.isEmpty ? nil : text)
            }
            throw IOFailure(path: path, message: "cannot lock: \(String(cString: strerror(code)))", status: .ioError)
        }
        let pid = Array("\(getpid())\n".utf8)
        ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    public func release() {
        if descriptor >= 0 {
            flock(descriptor, LOCK_UN)
            close(descriptor)
            descriptor = -1
        }
        if folderDescriptor >= 0 {
            flock(folderDescriptor, LOCK_UN)
            close(folderDescriptor)
            folderDescriptor = -1
        }
    }

    deinit {
        release()
    }
}
