#if canImport(Glibc)
import Glibc
#endif
import SOVCore

/// Step 1 of the outbox (`Outbox.stage`) for a batch, on a thread of its own: the kernel's
/// work of creating and filling each unit's file runs beside the main thread's next document
/// (docs/ARCHITECTURE.md, "The outbox"). At most `depth` units wait (`stage` waits for room),
/// so memory stays flat.
///
/// A staged file is on disk only after `finish`: whoever looks at the staging folder, syncs it
/// or removes from it calls `finish` first. A file that cannot be written fails the batch: the
/// failure is thrown by the next `stage` or by `finish`, and nothing queued after it is written.
///
/// Owned by one thread (the batch's); `deinit` stops the staging thread and waits for it.
final class UnitStager {
    private let queue: UnitStageQueue
    private let thread: pthread_t?
    private let folder: OpenFolder

    /// - Parameter writesOnlyWhenAsked: for tests: nothing is written until `finish` (or a full
    ///   queue) asks, the latest any schedule could; a look at the staging folder without
    ///   `finish` first then misses the unit every time, not once in a while.
    init(_ outbox: Outbox, depth: Int = 8, writesOnlyWhenAsked: Bool = false) throws(IOFailure) {
        folder = try OpenFolder(outbox.staging)
        let queue = UnitStageQueue(folder: folder, depth: depth, writesOnlyWhenAsked: writesOnlyWhenAsked)
        self.queue = queue
        // Without a thread, each unit is written by `stage` itself.
        thread = BackgroundThread.start({ queue.writeUntilStopped() })
    }

    deinit {
        queue.stop()
        if let thread { pthread_join(thread, nil) }
    }

    func stage(_ bytes: [UInt8], name: String) throws(IOFailure) {
        if thread == nil { return try folder.createNew(bytes, named: name) }
        try queue.add(UnitStageQueue.Unit(name: name, bytes: bytes))
    }

    /// Waits until every unit handed over is on disk (written, not yet synced).
    func finish() throws(IOFailure) {
        try queue.waitUntilWritten()
    }
}

/// What the batch's thread and the staging thread share (a `ThreadMonitor` guards every field).
final class UnitStageQueue: @unchecked Sendable {
    struct Unit: Sendable {
        var name: String
        var bytes: [UInt8]
    }

    private let monitor = ThreadMonitor()
    private let folder: OpenFolder
    private let depth: Int
    private var waiting: [Unit] = []
    /// Whether the staging thread is writing a unit it took from `waiting`.
    private var writing = false
    private var failure: IOFailure?
    private var stopped = false
    private let writesOnlyWhenAsked: Bool
    /// How many `waitUntilWritten` are waiting (with `writesOnlyWhenAsked`, what lets units go).
    private var asked = 0

    init(folder: OpenFolder, depth: Int, writesOnlyWhenAsked: Bool) {
        self.folder = folder
        self.depth = depth
        self.writesOnlyWhenAsked = writesOnlyWhenAsked
    }

    /// With the monitor locked: whether the staging thread has a unit to write now.
    private var mayWrite: Bool {
        !waiting.isEmpty && (!writesOnlyWhenAsked || asked > 0 || waiting.count >= depth)
    }

    func add(_ unit: Unit) throws(IOFailure) {
        monitor.lock()
        defer { monitor.unlock() }
        while failure == nil && waiting.count + (writing ? 1 : 0) >= depth { monitor.wait() }
        if let failure { throw failure }
        waiting.append(unit)
        monitor.broadcast()
    }

    func waitUntilWritten() throws(IOFailure) {
        monitor.lock()
        defer { monitor.unlock() }
        asked += 1
        monitor.broadcast()
        while failure == nil && (!waiting.isEmpty || writing) { monitor.wait() }
        asked -= 1
        if let failure { throw failure }
    }

    func stop() {
        monitor.lock()
        stopped = true
        monitor.broadcast()
        monitor.unlock()
    }

    /// The staging thread: writes units in order until stopped. After a failure it writes
    /// nothing more (the batch fails; the next run's recovery removes what was staged).
    func writeUntilStopped() {
        monitor.lock()
        while true {
            while !mayWrite && !stopped { monitor.wait() }
            if stopped { break }
            let unit = waiting.removeFirst()
            if failure != nil { continue }
            writing = true
            monitor.unlock()
            var failed: IOFailure?
            do { try folder.createNew(unit.bytes, named: unit.name) } catch { failed = error }
            monitor.lock()
            writing = false
            if let failed { failure = failed }
            monitor.broadcast()
        }
        monitor.unlock()
    }
}
