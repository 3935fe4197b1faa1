
#if canImport(Glibc)
import Glibc
import SOVCore
import SOVFrontEnd
#endif

/// Names of unit files: `00000042-spectrum-1-24-1017-own100-3f2a9c01de.json`. The zero-padded
/// sequence first (so `ls` order is apply order), a readable slug of the origin id, and a hash of
/// the whole origin id (so ids that the slug makes alike, `24/1017` and `24:1017`, or that differ
/// only in case, never share a name). ASCII, lower case, at most `maximumBytes`.
public enum UnitName {
    public static let maximumBytes = 120
    static let slugBytes = 60

    /// Made as bytes in one buffer: a batch names every unit, on its main thread.
    public static func make(seq: Int64, originId: String, fileExtension: String) -> String {
        var name: [UInt8] = []
        name.reserveCapacity(maximumBytes)
        let number = Array(String(seq).utf8)
        name.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: max(0, 8 - number.count)))
        name.append(contentsOf: number)
        name.append(UInt8(ascii: "-"))
        if appendSlug(of: originId, maximumBytes: slugBytes, to: &name) { name.append(UInt8(ascii: "-")) }
        let digits = Array("0123456789abcdef".utf8)
        for byte in SHA256.hash(originId.utf8).prefix(5) {
            name.append(digits[Int(byte >> 4)])
            name.append(digits[Int(byte & 0xF)])
        }
        name.append(UInt8(ascii: "."))
        name.append(contentsOf: fileExtension.utf8)
        precondition(name.count <= maximumBytes, "unit name over \(maximumBytes) bytes")
        return String(decoding: name, as: UTF8.self)
    }

    /// Appends the slug of `text` (its letters and digits in lower case, any run of other
    /// characters as one `-`, at most `maximumBytes`) to `bytes`; false when it is empty.
    private static func appendSlug(of text: String, maximumBytes: Int, to bytes: inout [UInt8]) -> Bool {
        let start = bytes.count
        var pendingDash = false
        for byte in text.utf8 {
            let lower: UInt8
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): lower = byte
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): lower = byte + 32
            default:
                pendingDash = bytes.count > start
                continue
            }
            if bytes.count - start + (pendingDash ? 2 : 1) > maximumBytes { break }
            if pendingDash { bytes.append(UInt8(ascii: "-")) }
            pendingDash = false
            bytes.append(lower)
        }
        return bytes.count > start
    }
}

/// Names made from an input's name (`NAME.rejects.jsonl`, `NAME.error.txt`, a claimed file):
/// kept as they are while short, otherwise cut at a character boundary with a hash of the whole
/// name added, so that no name an input can have makes a derived name too long for the disk.
public enum DerivedName {
    /// Well under the 255 bytes a name may have, leaving room for `.2` counters and suffixes.
    public static let maximumBytes = 150

    /// The extension (`.json`, at most 10 bytes) stays, so the shortened name still says what it is.
    public static func bounded(_ name: String, suffix: String = "") -> String {
        let whole = name + suffix
        if whole.utf8.count <= maximumBytes { return whole }
        var stem = Substring(name)
        var ext = ""
        if let dot = name.lastIndex(of: "."), dot != name.startIndex, name.utf8.distance(from: dot.samePosition(in: name.utf8)!, to: name.utf8.endIndex) <= 10 {
            stem = name[..<dot]
            ext = String(name[dot...])
        }
        let hash = "~" + String(SHA256.hex(name.utf8).prefix(10))
        let room = maximumBytes - hash.utf8.count - ext.utf8.count - suffix.utf8.count
        var cut = ""
        for character in stem where cut.utf8.count + character.utf8.count <= room { cut.append(character) }
        return cut + hash + ext + suffix
    }
}

/// The outbox folder (`--out DIR`, or a drop folder's `outbox`): the seam between exporting and
/// delivering. A unit reaches it in three steps, so that whatever the kill point and whatever a
/// consumer takes meanwhile, every unit appears in it exactly once:
///
/// 1. `stage`: the unit is written to `DIR/.staging/`, which consumers do not look at (for a
///    batch, by `UnitStager` on a thread of its own);
/// 2. `makeDurable`, then the ledger commits the unit as `pending`;
/// 3. `publish`: renamed from `.staging/` into `DIR`, atomically.
///
/// `recover` (under the ledger's write lock, at the start of every run) finishes step 3 for a
/// staged unit the ledger knows and removes one it does not know (its run died before the
/// commit, so the next run exports that document again). A superseded unit's file moves to
/// `DIR/superseded/`, never deleted; a file is never overwritten by any of these steps.
public struct Outbox: Sendable {
    public let folder: String

    public init(_ folder: String) {
        self.folder = folder.count > 1 && folder.hasSuffix("/") ? String(folder.dropLast()) : folder
    }

    public var staging: String { folder + "/.staging" }
    public var superseded: String { folder + "/superseded" }
    /// Where `sov-push` (for a drop folder) moves the units it delivered.
    public var delivered: String { folder + "/delivered" }

    /// Where a unit's file is.
    public enum Place: Sendable, Hashable {
        case outbox
        case staging
        case superseded
        case delivered
        /// Not in any of them: a consumer took it.
        case gone
    }

    public func place(of name: String) -> Place {
        if FileSystem.exists(folder + "/" + name) { return .outbox }
        if FileSystem.exists(staging + "/" + name) { return .staging }
        if FileSystem.exists(superseded + "/" + name) { return .superseded }
        if FileSystem.exists(delivered + "/" + name) { return .delivered }
        return .gone
    }

    public func create() throws(IOFailure) {
        try AtomicFile.makeFolder(folder)
        try AtomicFile.makeFolder(staging)
    }

    /// Step 1: the unit's bytes in `.staging/NAME`, created new (never over another file).
    /// Not synced yet: `makeDurable` syncs a whole batch at once. Written in place: a file cut
    /// short by a crash is one the ledger never committed, and recovery removes it.
    public func stage(_ bytes: [UInt8], name: String) throws(IOFailure) {
        try AtomicFile.createNew(bytes, at: staging + "/" + name)
    }

    /// Step 2's durability, for a batch: the staged files' data and the staging folder on disk.
    /// A large batch takes one `syncfs` (one flush instead of one per file); a small one, such
    /// as a drop folder's file, an `fsync` per unit, since `syncfs` also waits for whatever else
    /// is being written on the disk.
    public func makeDurable(_ names: [String]) throws(IOFailure) {
        guard !names.isEmpty else { return }
        if names.count <= Outbox.fsyncEachUpTo || !FileDurability.syncFileSystem(of: staging) {
            for name in names { try FileDurability.sync(staging + "/" + name) }
        }
        AtomicFile.syncFolder(staging)
    }

    /// Up to this many units a batch syncs each file; above, the whole file system at once.
    static let fsyncEachUpTo = 64

    /// Step 3: into the outbox. Nothing to do when another run's recovery published it first.
    public func publish(_ name: String) throws {
        try publish([name])
    }

    /// Step 3 for a batch, `each` told after each unit. Both folders are opened once.
    public func publish(_ names: some Sequence<String>, each: (String) throws -> Void = { _ in }) throws {
        let from = try OpenFolder(staging)
        let to = try OpenFolder(folder)
        for name in names {
            // The unit's name is unique by its sequence: a file already there is not ours to replace.
            if try from.move(name, to: to) == .taken {
                throw IOFailure(path: folder + "/" + name, message: "a file of this unit's name is already in the outbox; not replaced", status: .cannotCreate)
            }
            try each(name)
        }
    }

    /// Moves a pending unit's file out of the outbox for good; false when a consumer took it
    /// first (then it counts as delivered, and what replaces it must be an update).
    public func supersede(_ name: String) throws(IOFailure) -> Bool {
        switch place(of: name) {
        case .superseded: return true
        case .outbox, .staging:
            try AtomicFile.makeFolder(superseded)
            let from = FileSystem.exists(folder + "/" + name) ? folder + "/" + name : staging + "/" + name
            if rename(from, superseded + "/" + name) != 0 {
                if errno == ENOENT { return false }
                throw FileSystem.failure(from, "cannot move to \(superseded)", reading: false)
            }
            AtomicFile.syncFolder(superseded)
            return true
        case .delivered, .gone: return false
        }
    }

    /// Takes back `supersede`: the file moved to superseded/ goes back where it was (an input of
    /// the run turned out unusable after its document had replaced the pending unit).
    public func restore(_ name: String, toStaging: Bool) throws(IOFailure) {
        let from = superseded + "/" + name
        guard FileSystem.exists(from) else { return }
        try FileSystem.move(from, to: (toStaging ? staging : folder) + "/" + name)
    }

    /// What recovery did.
    public struct Recovery: Sendable, Equatable {
        public var published: [String] = []
        public var removed: [String] = []
        public var restored: [String] = []
    }

    /// Brings the folder in line with the ledger after a crash; call it inside the ledger's write
    /// transaction, so that no other run is between staging and committing meanwhile.
    public func recover(_ ledger: Ledger) throws -> Recovery {
        var recovery = Recovery()
        if FileSystem.exists(staging) {
            for name in try FileSystem.names(in: staging) {
                let unit = try ledger.unit(fileName: name)
                if let unit, unit.state == .pending || unit.state == .failed {
                    try publish(name)
                    recovery.published.append(name)
                } else {
                    FileSystem.remove(staging + "/" + name)
                    recovery.removed.append(name)
                }
            }
        }
        // A move to superseded/ whose run died before its commit: the unit is still pending.
        if FileSystem.exists(superseded) {
            for name in try FileSystem.names(in: superseded) {
                guard let unit = try ledger.unit(fileName: name), unit.state == .pending || unit.state == .failed,
                    !FileSystem.exists(folder + "/" + name)
                else { continue }
                try FileSystem.move(superseded + "/" + name, to: folder + "/" + name)
                recovery.restored.append(name)
            }
        }
        // Temporary files of a writer that was killed (AtomicFile's `.NAME.PID.tmp`).
        for name in try FileSystem.names(in: folder) where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            FileSystem.remove(folder + "/" + name)
        }
        if !(recovery.published.isEmpty && recovery.restored.isEmpty && recovery.removed.isEmpty) {
            AtomicFile.syncFolder(folder)
            AtomicFile.syncFolder(staging)
        }
        return recovery
    }
}

/// fsync and syncfs, with errors as IOFailure.
enum FileDurability {
    private typealias SyncFS = @convention(c) (Int32) -> Int32

    /// glibc declares syncfs only for _GNU_SOURCE, which Swift's Glibc module does not set: it is
    /// looked up once at run time instead.
    private static let syncfsFunction: SyncFS? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: SyncFS.self)
    }()

    /// Flushes the whole file system holding `folder`; false when that cannot be done here.
    static func syncFileSystem(of folder: String) -> Bool {
        guard let syncfs = syncfsFunction else { return false }
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return syncfs(descriptor) == 0
    }

    static func sync(_ path: String) throws(IOFailure) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 { throw FileSystem.failure(path, "cannot open to sync", reading: false) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw FileSystem.failure(path, "fsync failed", reading: false) }
    }
}
