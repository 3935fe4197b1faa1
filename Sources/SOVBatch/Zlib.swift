import CLibDeflate
import CZlib
import SOVCore

/// zlib streams (RFC 1950: deflate with an Adler-32 check of the whole), in which the SQLite
/// ledger stores unit bodies and documents (ledger schema 3; docs/ARCHITECTURE.md, "Ledger
/// backends"). Level 1: a batch's 58 MB of bodies become about 3 MB in a tenth of a second, and
/// the pages not written save several times that.
///
/// Written by libdeflate (the whole buffer at once, which is all a unit needs): on 200 units at
/// level 1 it takes 35% less time than zlib's deflate (18% fewer instructions) for streams 1%
/// smaller, in the same format, read back with zlib's inflate as before (`unpack`). One
/// compressor is kept: allocating one costs more than packing a unit.
final class ZlibPacker {
    private let compressor: OpaquePointer

    init() {
        // Fails only for want of memory, which a Swift allocation would not survive either.
        guard let compressor = libdeflate_alloc_compressor(1) else { preconditionFailure("libdeflate: cannot allocate a compressor") }
        self.compressor = compressor
    }

    deinit {
        libdeflate_free_compressor(compressor)
    }

    /// `bytes` as one zlib stream.
    func pack(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let bound = libdeflate_zlib_compress_bound(compressor, bytes.count)
        return [UInt8](unsafeUninitializedCapacity: bound) { out, count in
            // With the bound's room it never runs out (0 would mean it did).
            count = libdeflate_zlib_compress(compressor, bytes.baseAddress, bytes.count, out.baseAddress, bound)
            precondition(count > 0, "libdeflate: the output outgrew its bound")
        }
    }

    func pack(_ bytes: [UInt8]) -> [UInt8] { bytes.withUnsafeBytes { pack($0) } }

    func pack(_ text: String) -> [UInt8] {
        var text = text
        return text.withUTF8 { pack(UnsafeRawBufferPointer($0)) }
    }

    /// Input of `pack(document:body:)`, kept so a unit costs no allocation but its output.
    private var unitScratch: [UInt8] = []

    /// A unit's document and body as one zlib stream (`stored_as = 'zlib2'`): the document's
    /// UTF-8 length as 4 bytes little-endian, the document, then the body. One stream, not two:
    /// a body repeats much of its document, so on 2,000 units this is 26% less deflate time and
    /// 12% fewer bytes, and one reset instead of two.
    func pack(document: String, body: [UInt8]) -> [UInt8] {
        var document = document
        return document.withUTF8 { text in
            precondition(text.count <= Int(UInt32.max), "zlib: a document over 4 GB")
            unitScratch.removeAll(keepingCapacity: true)
            withUnsafeBytes(of: UInt32(text.count).littleEndian) { unitScratch.append(contentsOf: $0) }
            unitScratch.append(contentsOf: text)
            unitScratch.append(contentsOf: body)
            return unitScratch.withUnsafeBytes { pack($0) }
        }
    }

    /// What `pack(document:body:)` was given; nil unless `bytes` is one intact stream whose
    /// length prefix fits it.
    static func unpackUnit(_ bytes: [UInt8]) -> (document: ArraySlice<UInt8>, body: ArraySlice<UInt8>)? {
        guard let whole = unpack(bytes), whole.count >= 4 else { return nil }
        let length = whole[0..<4].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard length <= whole.count - 4 else { return nil }
        return (whole[4..<(4 + length)], whole[(4 + length)...])
    }

    /// What `pack` was given; nil unless `bytes` is exactly one whole, intact zlib stream (a
    /// damaged value is never returned as if it were the data).
    static func unpack(_ bytes: [UInt8]) -> [UInt8]? {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer {
            stream.deinitialize(count: 1)
            stream.deallocate()
        }
        guard sov_inflate_init(stream) == Z_OK else { return nil }
        defer { inflateEnd(stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(4 * bytes.count, 16 << 10))
        return bytes.withUnsafeBytes { input -> [UInt8]? in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            while true {
                let (result, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.pointee.next_out = out.baseAddress
                    stream.pointee.avail_out = uInt(out.count)
                    let result = inflate(stream, Z_NO_FLUSH)
                    return (result, out.count - Int(stream.pointee.avail_out))
                }
                output.append(contentsOf: chunk[..<produced])
                switch result {
                case Z_STREAM_END:
                    // Anything after the stream's end is not ours either.
                    return stream.pointee.avail_in == 0 ? output : nil
                case Z_OK:
                    continue
                default:
                    // Z_BUF_ERROR with all input used: cut short; Z_DATA_ERROR: damaged.
                    return nil
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif

/// Packs units (`ZlibPacker.pack(document:body:)`) on a thread of its own, so that a batch's
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
        let packer = ZlibPacker()
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
