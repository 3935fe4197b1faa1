import SOVCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a record reader on a thread of its own, handing records over in batches through a
/// bounded queue, so that parsing (libxml2 or the CSV scanner) overlaps the caller's mapping and
/// JSON writing. Order is kept; a reader's error arrives after the records read before it, as it
/// would without the thread. Memory stays bounded: at most `depth` batches wait. A reader that
/// can pack its records (`PackedRecordReader`) hands them over as bytes, several to a buffer,
/// so that no String is made of a value no document keeps, and none on the reading thread.
///
/// The wrapped reader belongs to the thread from `init` until the thread ends; `deinit` stops
/// the thread (after the batch it is reading) and waits for it.
public final class RecordPrefetcher: RecordReader {
    private let channel: RecordChannel
    private var thread: pthread_t?
    /// The batch being handed out, last item first: each is moved out with `popLast`, not copied.
    /// `current` and `packed` are reached for every record, only from `next` (never reentered):
    /// unchecked, as each dynamic exclusivity check cost about 150 instructions.
    @exclusivity(unchecked) private var current: [RecordItem] = []
    /// A packed batch being handed out, record by record.
    @exclusivity(unchecked) private var packed: PackedRecords.Cursor?
    private var finished = false
    /// Used directly when no thread could be started.
    private var direct: (any RecordReader)?

    /// `prepare` runs on the reading thread on each record of a packing reader, before it is
    /// handed over: work taken off the consumer's thread (the thread owns what it captures).
    public init(_ reader: any RecordReader, batchSize: Int = 256, depth: Int = 4, prepare: ((inout Record) -> Void)? = nil) {
        channel = RecordChannel(depth: depth)
        let work = ThreadWork(reader: reader, channel: channel, batchSize: batchSize, prepare: prepare)
        if let thread = BackgroundThread.start({ work.run() }) {
            self.thread = thread
        } else {
            direct = reader
        }
    }

    deinit {
        channel.cancel()
        if let thread { pthread_join(thread, nil) }
    }

    public func next() throws -> RecordItem? {
        if let direct { return try direct.next() }
        while true {
            if let item = current.popLast() { return item }
            if packed != nil {
                if let item = packed!.next() { return item }
                packed = nil
            }
            if finished { return nil }
            switch channel.take() {
            case .items(let items):
                current = items
                current.reverse()
            case .lastFirst(let items):
                current = items
            case .packed(let records):
                packed = PackedRecords.Cursor(records)
            case .end:
                finished = true
                current = []
                return nil
            case .failure(let error):
                finished = true
                current = []
                throw error
            }
        }
    }
}

/// What the reading thread does; owns the reader while it runs.
private final class ThreadWork: @unchecked Sendable {
    // The reader is not Sendable; it is handed over whole and only this thread touches it.
    private let reader: any RecordReader
    private let channel: RecordChannel
    private let batchSize: Int
    private let prepare: ((inout Record) -> Void)?

    init(reader: any RecordReader, channel: RecordChannel, batchSize: Int, prepare: ((inout Record) -> Void)?) {
        self.reader = reader
        self.channel = channel
        self.batchSize = batchSize
        self.prepare = prepare
    }

    func run() {
        if let packing = reader as? any PackedRecordReader { return runPacked(packing) }
        var batch: [RecordItem] = []
        batch.reserveCapacity(batchSize)
        do {
            while let item = try reader.next() {
                batch.append(item)
                if batch.count == batchSize {
                    guard channel.put(.items(batch)) else { return }
                    batch = []
                    batch.reserveCapacity(batchSize)
                }
            }
            if !batch.isEmpty { guard channel.put(.items(batch)) else { return } }
            _ = channel.put(.end)
        } catch {
            if !batch.isEmpty { guard channel.put(.items(batch)) else { return } }
            _ = channel.put(.failure(error))
        }
    }
}

extension ThreadWork {
    /// Values a packed batch holds at most (beside `batchSize` records), so that batches of long
    /// records stay small too.
    static let maximumBatchBytes = 1 << 20

    private func runPacked(_ reader: any PackedRecordReader) {
        do {
            while let records = try reader.nextPacked(maximumRecords: batchSize, maximumBytes: Self.maximumBatchBytes) {
                guard let prepare else {
                    guard channel.put(.packed(records)) else { return }
                    continue
                }
                // Last item first, as the consumer takes them (`popLast`, a move): reversing
                // an array of items there copied each one twice over.
                var cursor = PackedRecords.Cursor(records, ownCopies: true)
                let items = [RecordItem](unsafeUninitializedCapacity: records.count) { buffer, initialized in
                    var slot = records.count
                    while slot > 0, let item = cursor.next(preparing: prepare) {
                        slot -= 1
                        (buffer.baseAddress! + slot).initialize(to: item)
                    }
                    precondition(slot == 0, "a packed batch gives as many items as it counts")
                    initialized = records.count
                }
                guard channel.put(.lastFirst(items)) else { return }
            }
            _ = channel.put(.end)
        } catch {
            _ = channel.put(.failure(error))
        }
    }
}

/// A bounded single-producer, single-consumer queue of record batches (a `ThreadMonitor`).
final class RecordChannel: @unchecked Sendable {
    enum Batch: Sendable {
        case items([RecordItem])
        /// Items in reverse order (the last first).
        case lastFirst([RecordItem])
        case packed(PackedRecords)
        case end
        case failure(any Error)
    }

    private let monitor = ThreadMonitor()
    private var batches: [Batch] = []
    private var head = 0
    private var cancelled = false
    private let depth: Int

    init(depth: Int) {
        self.depth = depth
    }

    /// Waits for room; false when the consumer has gone.
    func put(_ batch: Batch) -> Bool {
        monitor.lock()
        defer { monitor.unlock() }
        while batches.count - head >= depth && !cancelled { monitor.wait() }
        if cancelled { return false }
        batches.append(batch)
        monitor.broadcast()
        return true
    }

    func take() -> Batch {
        monitor.lock()
        defer { monitor.unlock() }
        while batches.count == head { monitor.wait() }
        let batch = batches[head]
        // Let go of the batch now: when the reader stays ahead, `head` never catches up with
        // the end and the array is never emptied, so taken batches must not stay in it.
        batches[head] = .end
        head += 1
        if head == batches.count {
            batches.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4 * depth {
            batches.removeFirst(head)
            head = 0
        }
        monitor.broadcast()
        return batch
    }

    /// Batches the queue still holds, taken or not (what its memory follows).
    var storedBatches: Int {
        monitor.lock()
        defer { monitor.unlock() }
        return batches.count
    }

    func cancel() {
        monitor.lock()
        cancelled = true
        batches.removeAll()
        head = 0
        monitor.broadcast()
        monitor.unlock()
    }
}
