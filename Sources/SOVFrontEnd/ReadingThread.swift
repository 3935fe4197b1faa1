import SOVCore
import SpectrumFormat

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - The reading thread (streaming mode)
//
// In streaming mode (sov-run, sov-watch) the input loop (open, sniff, parse, assemble) runs on a
// thread of its own, so that it overlaps the caller's judging and exporting. It hands what it
// would tell the sink over a bounded queue; the calling thread takes the events off in order and
// tells the real sink, so the sink sees the same calls in the same order, on the calling thread.
// What the sink throws stops the reading thread at its next event, and is rethrown once that
// thread has ended; what the reading throws comes out after the events before it, as without the
// thread. The thread always ends before `read` returns or throws.

/// One call the front end makes on its sink, as the reading thread hands it over.
enum SinkEvent: Sendable {
    case begin(String)
    case document(CanonicalDocument)
    case reject(Reject)
    case warn(Diagnostic)
    case end(String)
    case fail(InputFailure, dropped: Int)
    /// The loop returned: nothing follows.
    case finished
    /// The loop threw (not the sink): rethrown on the calling thread, nothing follows.
    case error(any Error)
}

/// The reading thread's error when the calling thread stopped taking events: it unwinds the
/// loop (the parser abandons its file) and is never seen by the caller.
struct ReadingStopped: Error {}

/// A bounded single-producer, single-consumer queue of sink events (a `ThreadMonitor` with two conditions).
/// The consumer takes everything queued at once, so that the two threads meet once per batch of
/// events rather than once per event while the reading thread is ahead; a side is woken only when
/// it waits. The consumer hands each batch it is done with back, and the producer destroys it:
/// freeing a document is work the reading thread has time for and the sink's thread has not.
final class SinkEventQueue: @unchecked Sendable {
    private let monitor = ThreadMonitor(conditions: 2)
    /// The monitor's conditions.
    private static let notEmpty = 0
    private static let notFull = 1
    // Guarded by `monitor`.
    private var events: [SinkEvent] = []
    /// A batch the consumer is done with, for the producer to destroy (at most one).
    private var spent: [SinkEvent] = []
    private var cancelled = false
    private var producerWaits = false
    private var consumerWaits = false
    /// Events queued at most (documents among them): with the batch the consumer is working
    /// through, at most twice this many documents are in hand between the two threads.
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        events.reserveCapacity(capacity)
    }

    /// Waits for room; false when the consumer has stopped (the event is dropped). A batch the
    /// consumer handed back comes out in `spent` (which must be empty), for the caller to
    /// destroy outside the lock.
    func put(_ event: SinkEvent, spent collected: inout [SinkEvent]) -> Bool {
        monitor.lock()
        defer { monitor.unlock() }
        while events.count >= capacity && !cancelled {
            producerWaits = true
            monitor.wait(Self.notFull)
        }
        producerWaits = false
        if cancelled { return false }
        events.append(event)
        if consumerWaits { monitor.signal(Self.notEmpty) }
        if !spent.isEmpty { swap(&spent, &collected) }
        return true
    }

    /// `put`, a batch handed back destroyed at once (the last events).
    func put(_ event: SinkEvent) -> Bool {
        var spent: [SinkEvent] = []
        return put(event, spent: &spent)
    }

    /// Hands back `batch` (the events told, for the producer to destroy), waits for at least one
    /// event, then moves all queued into `batch`; the queue keeps the storage it had for the
    /// next ones.
    func take(into batch: inout [SinkEvent]) {
        monitor.lock()
        if spent.isEmpty { swap(&spent, &batch) }
        monitor.unlock()
        // The producer has not collected the last one yet: this one is destroyed here.
        batch.removeAll(keepingCapacity: true)
        monitor.lock()
        defer { monitor.unlock() }
        while events.isEmpty {
            consumerWaits = true
            monitor.wait(Self.notEmpty)
        }
        consumerWaits = false
        swap(&batch, &events)
        if producerWaits { monitor.signal(Self.notFull) }
    }

    /// The consumer stops: queued events are dropped and the producer's next `put` fails.
    func cancel() {
        monitor.lock()
        cancelled = true
        events.removeAll()
        spent.removeAll()
        monitor.signal(Self.notFull)
        monitor.unlock()
    }
}

/// The sink the reading thread's loop tells: each call queued as an event.
final class QueuedSink: InputSink {
    let queue: SinkEventQueue
    /// Events the consumer handed back, destroyed here.
    private var spent: [SinkEvent] = []

    init(_ queue: SinkEventQueue) {
        self.queue = queue
    }

    private func put(_ event: SinkEvent) throws {
        guard queue.put(event, spent: &spent) else { throw ReadingStopped() }
        if !spent.isEmpty { spent.removeAll(keepingCapacity: true) }
    }

    func begin(_ input: String) throws { try put(.begin(input)) }
    func document(_ document: CanonicalDocument) throws { try put(.document(document)) }
    func accept(_ documents: DocumentSpool) throws {
        // Streaming mode only: documents never come held through this sink.
        try documents.drain { try put(.document($0)) }
    }
    func reject(_ reject: Reject) throws { try put(.reject(reject)) }
    /// Not throwing: a stopped consumer is noticed at the next event that can throw.
    func warn(_ diagnostic: Diagnostic) { _ = try? put(.warn(diagnostic)) }
    func end(_ input: String) throws { try put(.end(input)) }
    func fail(_ failure: InputFailure, dropped: Int) throws { try put(.fail(failure, dropped: dropped)) }
}

/// What the reading thread runs: the input loop, into the queue.
private final class ReadingWork: @unchecked Sendable {
    // The reader is not Sendable: the calling thread hands it over here and does not touch it
    // until it has joined this thread, so one thread at a time uses it.
    private let reader: DocumentInputReader
    private let paths: [String]
    private let names: [String: String]
    private let followingLinks: Bool
    private let queue: SinkEventQueue

    init(reader: DocumentInputReader, paths: [String], names: [String: String], followingLinks: Bool, queue: SinkEventQueue) {
        self.reader = reader
        self.paths = paths
        self.names = names
        self.followingLinks = followingLinks
        self.queue = queue
    }

    func run() {
        do {
            try FrontEnd.readHere(
                paths, reader: reader, followingLinks: followingLinks, mode: .streaming,
                naming: { [names] in names[$0] ?? $0 }, into: QueuedSink(queue))
            _ = queue.put(.finished)
        } catch is ReadingStopped {
            // The consumer stopped; it rethrows its own error.
        } catch {
            _ = queue.put(.error(error))
        }
    }
}

extension FrontEnd {
    /// Events the reading thread may have queued ahead of the sink. With the batch being told
    /// and up to two told ones the reading thread has yet to free, at most four times this many
    /// documents are in hand between the threads (64; a document is freed, not kept, by then).
    static let readingQueueCapacity = 16

    /// Streaming mode's loop on a thread of its own (see the top of this file); false, having
    /// read nothing, when no thread could be started.
    static func readOnReadingThread(
        _ paths: [String], reader: DocumentInputReader, followingLinks: Bool,
        naming: (String) -> String, into sink: some InputSink
    ) throws -> Bool {
        // Named here, up front: `naming` is the caller's and stays on its thread.
        var names: [String: String] = [:]
        for path in paths where names[path] == nil { names[path] = naming(path) }
        let queue = SinkEventQueue(capacity: readingQueueCapacity)
        let work = ReadingWork(reader: reader, paths: paths, names: names, followingLinks: followingLinks, queue: queue)
        // As deep as the main thread's usual stack: the parsers recurse (nested JSON).
        guard let thread = BackgroundThread.start(stackSize: 8 << 20, { work.run() }) else { return false }
        // Whatever ends the taking (the end, the reading's error, the sink's), the thread is
        // stopped at its next event and joined before this returns or throws.
        defer {
            queue.cancel()
            pthread_join(thread, nil)
        }
        var batch: [SinkEvent] = []
        batch.reserveCapacity(readingQueueCapacity)
        while true {
            queue.take(into: &batch)
            for event in batch {
                switch event {
                case .begin(let input): try sink.begin(input)
                case .document(let document): try sink.document(document)
                case .reject(let reject): try sink.reject(reject)
                case .warn(let diagnostic): sink.warn(diagnostic)
                case .end(let input): try sink.end(input)
                case .fail(let failure, let dropped): try sink.fail(failure, dropped: dropped)
                case .finished: return true
                case .error(let error): throw error
                }
            }
        }
    }
}
