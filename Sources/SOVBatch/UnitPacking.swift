#if canImport(Glibc)
import Glibc
#endif
import CZstd
import SOVCore

/// zstd frames (RFC 8878), in which the SQLite ledger stores each unit's document and body as
/// one (`stored_as = 'zstd2'`; docs/ARCHITECTURE.md, "Ledger backends"). Level 1, with the
/// frame's checksum of its content, so that damage is found and never read back as data. It
/// takes a third fewer instructions than libdeflate's level 1, which wrote `zlib2` (20,000 rows:
/// 173 M -> 111 M), for a result a quarter smaller. One context is kept: making one costs more than
/// packing a unit.
final class ZstdPacker {
    static let storedAs = "zstd2"
    private let context: OpaquePointer
    /// Input of `pack(document:body:)`, kept so a unit costs no allocation but its output.
    private var unitScratch: [UInt8] = []

    init() {
        // Fails only for want of memory, which a Swift allocation would not survive either.
        guard let context = ZSTD_createCCtx() else { preconditionFailure("zstd: cannot allocate a compression context") }
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 1)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        self.context = context
    }

    deinit {
        ZSTD_freeCCtx(context)
    }

    /// `bytes` as one zstd frame.
    func pack(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        return [UInt8](unsafeUninitializedCapacity: bound) { out, count in
            let written = ZSTD_compress2(context, out.baseAddress, bound, bytes.baseAddress, bytes.count)
            // With the bound's room it cannot fail: a failure is a bug, not bad data.
            precondition(ZSTD_isError(written) == 0, "zstd: \(String(cString: ZSTD_getErrorName(written)))")
            count = written
        }
    }

    func pack(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { pack($0) } }

    /// A unit's document and body as one frame: the document's UTF-8 length as 4 bytes
    /// little-endian, the document, then the body (`UnitLayout`, as `zlib2` had them). One frame,
    /// not two: a body repeats much of its document.
    func pack(document: String, body: [UInt8]) -> [UInt8] {
        UnitLayout.join(document: document, body: body, into: &unitScratch)
        return unitScratch.withUnsafeBytes { pack($0) }
    }

    /// What `pack(document:body:)` was given; nil unless `bytes` is one intact frame whose
    /// length prefix fits it.
    static func unpackUnit(_ bytes: [UInt8]) -> (document: ArraySlice<UInt8>, body: ArraySlice<UInt8>)? {
        unpack(bytes).flatMap(UnitLayout.split)
    }

    /// What `pack` was given; nil unless `bytes` is exactly one whole zstd frame, with its
    /// content size, whose checksum holds (a damaged value is never returned as if it were the
    /// data).
    static func unpack(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBytes { raw -> [UInt8]? in
            guard let base = raw.baseAddress else { return nil }
            let frame = ZSTD_findFrameCompressedSize(base, raw.count)
            guard ZSTD_isError(frame) == 0, frame == raw.count else { return nil }
            // The size the header gives, no larger than its blocks can hold: a damaged header
            // makes no allocation of whatever size it says.
            let size = ZSTD_getFrameContentSize(base, raw.count)
            guard size < UInt64.max - 1, size <= ZSTD_decompressBound(base, raw.count), size <= UInt64(Int.max) else { return nil }
            var intact = false
            let content = [UInt8](unsafeUninitializedCapacity: Int(size)) { out, count in
                let got = ZSTD_decompress(out.baseAddress, Int(size), base, raw.count)
                intact = ZSTD_isError(got) == 0 && got == Int(size)
                count = intact ? got : 0
            }
            return intact ? content : nil
        }
    }
}

/// How a unit's document and body are laid out in one packed value (`zlib2`, `zstd2`): the
/// document's UTF-8 length as 4 bytes little-endian, the document, the body.
enum UnitLayout {
    static func join(document: String, body: [UInt8], into bytes: inout [UInt8]) {
        var document = document
        document.withUTF8 { text in
            precondition(text.count <= Int(UInt32.max), "a unit's document over 4 GB")
            bytes.removeAll(keepingCapacity: true)
            withUnsafeBytes(of: UInt32(text.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: text)
            bytes.append(contentsOf: body)
        }
    }

    static func join(document: String, body: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        join(document: document, body: body, into: &bytes)
        return bytes
    }

    /// The document and the body; nil when the length prefix is missing or longer than what follows.
    static func split(_ whole: [UInt8]) -> (document: ArraySlice<UInt8>, body: ArraySlice<UInt8>)? {
        guard whole.count >= 4 else { return nil }
        let length = whole[0..<4].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard length <= whole.count - 4 else { return nil }
        return (whole[4..<(4 + length)], whole[(4 + length)...])
    }
}

/// Packs units (`ZstdPacker.pack(document:body:)`) on a thread of its own, so that a batch's
/// main thread goes on with the next document meanwhile (docs/ARCHITECTURE.md, "Ledger
/// backends"). Units are handed over in order and come back packed in the same order; at most
/// `depth` wait or are being packed (`add` waits for room), so memory stays flat. The caller
/// writes what comes back; `Ledger` says when it must have everything (`all`).
///
/// Owned by one thread (the ledger's); `deinit` stops the packing thread and waits for it.
final class UnitPacker {
    typealias Packed = UnitPackQueue.Packed

    private let queue: UnitPackQueue
    private let thread: pthread_t

    /// nil when no thread can be started (the caller then packs on its own thread).
    init?(depth: Int = 4) {
        let queue = UnitPackQueue(depth: depth)
        guard let thread = BackgroundThread.start({ queue.packUntilStopped() }) else { return nil }
        self.queue = queue
        self.thread = thread
    }

    deinit {
        queue.stop()
        pthread_join(thread, nil)
    }

    /// Hands a unit over (waiting while `depth` are ahead of it); returns the units packed
    /// meanwhile, in the order they were handed over.
    func add(seq: Int64, document: String, body: [UInt8]) -> [Packed] {
        queue.add(UnitPackQueue.Unit(seq: seq, document: document, body: body))
    }

    /// Every unit handed over and not yet returned, packed (waits for the last).
    func all() -> [Packed] { queue.takeAll() }
}

/// What the ledger's thread and the packing thread share: units to pack, units packed (a
/// `ThreadMonitor` guards every field).
final class UnitPackQueue: @unchecked Sendable {
    struct Unit: Sendable {
        var seq: Int64
        var document: String
        var body: [UInt8]
    }

    struct Packed: Sendable {
        var seq: Int64
        var bytes: [UInt8]
    }

    private let monitor = ThreadMonitor()
    private var waiting: [Unit] = []
    /// Whether the packing thread holds a unit it took from `waiting`.
    private var packing = false
    private var packed: [Packed] = []
    private var stopped = false
    private let depth: Int

    init(depth: Int) {
        self.depth = depth
    }

    func add(_ unit: Unit) -> [Packed] {
        monitor.lock()
        defer { monitor.unlock() }
        while waiting.count + (packing ? 1 : 0) >= depth { monitor.wait() }
        waiting.append(unit)
        monitor.broadcast()
        return takePacked()
    }

    func takeAll() -> [Packed] {
        monitor.lock()
        defer { monitor.unlock() }
        while !waiting.isEmpty || packing { monitor.wait() }
        return takePacked()
    }

    /// With the monitor locked.
    private func takePacked() -> [Packed] {
        guard !packed.isEmpty else { return [] }
        defer { packed = [] }
        return packed
    }

    func stop() {
        monitor.lock()
        stopped = true
        monitor.broadcast()
        monitor.unlock()
    }

    /// The packing thread: takes units in order until stopped (units still waiting then are
    /// dropped: only a ledger going away stops it, with nothing left to write).
    func packUntilStopped() {
        let packer = ZstdPacker()
        monitor.lock()
        while true {
            while waiting.isEmpty && !stopped { monitor.wait() }
            if stopped { break }
            let unit = waiting.removeFirst()
            packing = true
            monitor.unlock()
            let bytes = packer.pack(document: unit.document, body: unit.body)
            monitor.lock()
            packed.append(Packed(seq: unit.seq, bytes: bytes))
            packing = false
            monitor.broadcast()
        }
        monitor.unlock()
    }
}
