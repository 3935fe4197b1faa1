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
    }

    /// What is at `path`, nil when nothing is. Links are followed only when asked: the drop
    /// folder takes only plain files, `sov-run` takes what the user names.
    public static func info(_ path: String, followingLinks: Bool = false) -> Info? {
        var status = stat()
        guard (followingLinks ? stat(path, &status) : lstat(path, &status)) == 0 else { return nil }
        let kind: Kind
        switch status.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .folder
        default: kind = .other
        }
        return Info(kind: kind, size: Int(status.st_size), modified: Int(status.st_mtim.tv_sec))
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

    /// Renames atomically (same file system); the caller makes sure `to` is free.
    public static func move(_ from: String, to: String) throws(IOFailure) {
        if rename(from, to) != 0 { throw FileSystem.failure(from, "cannot move to \(to)", reading: false) }
    }

    public static func remove(_ path: String) {
        unlink(path)
    }

    /// A name in `folder` based on `name` that nothing uses yet: `name`, else `stem.2.ext`, ...
    public static func freeName(for name: String, in folder: String, alsoFree suffixes: [String] = []) -> String {
        func free(_ candidate: String) -> Bool {
            !exists(folder + "/" + candidate) && suffixes.allSatisfy { !exists(folder + "/" + candidate + $0) }
        }
        if free(name) { return name }
        let dot = name.lastIndex(of: ".").flatMap { $0 == name.startIndex ? nil : $0 }
        let stem = dot.map { String(name[..<$0]) } ?? name
        let ext = dot.map { String(name[$0...]) } ?? ""
        var counter = 2
        while !free("\(stem).\(counter)\(ext)") { counter += 1 }
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

    /// The current errno as an IOFailure with SPEC §8's status (66/73 for what is missing or
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

    /// Takes the lock or throws `Held` at once (never waits).
    public init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
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
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit {
        release()
    }
}
