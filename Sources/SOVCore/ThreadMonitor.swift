#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with its condition variables: what the bounded queues between a batch's
/// threads (the CSV reader's, the front end's, the ledger's packing thread) lock and wait on.
/// Allocated once and never moved, as pthread objects must not be. Conditions are numbered from
/// 0; a queue with one condition uses the defaults.
public final class ThreadMonitor: @unchecked Sendable {
    // @unchecked: the pthread objects are the synchronisation; nothing else is stored mutably.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let conditions: UnsafeMutablePointer<pthread_cond_t>
    private let conditionCount: Int

    public init(conditions count: Int = 1) {
        precondition(count >= 1, "a monitor has at least one condition")
        conditionCount = count
        conditions = .allocate(capacity: count)
        pthread_mutex_init(mutex, nil)
        for index in 0..<count { pthread_cond_init(conditions + index, nil) }
    }

    deinit {
        for index in 0..<conditionCount { pthread_cond_destroy(conditions + index) }
        pthread_mutex_destroy(mutex)
        conditions.deallocate()
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }
    public func unlock() { pthread_mutex_unlock(mutex) }

    /// With the mutex held: waits until `condition` is signalled (the mutex released meanwhile).
    public func wait(_ condition: Int = 0) { pthread_cond_wait(conditions + condition, mutex) }
    public func signal(_ condition: Int = 0) { pthread_cond_signal(conditions + condition) }
    public func broadcast(_ condition: Int = 0) { pthread_cond_broadcast(conditions + condition) }
}

/// The threads a batch starts of its own (the CSV reader's, the front end's, the ledger's
/// packing thread), each running one body and joined by its owner.
public enum BackgroundThread {
    /// Starts a thread running `body`; nil when none could be started (`body` is then let go
    /// unrun, and the caller does the work itself). `stackSize` in bytes, or the default.
    public static func start(stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) -> pthread_t? {
        let opaque = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
        var thread = pthread_t()
        let started = pthread_create(&thread, &attributes, { opaque in
            Unmanaged<ThreadBody>.fromOpaque(opaque!).takeRetainedValue().run()
            return nil
        }, opaque)
        guard started == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(opaque).release()
            return nil
        }
        return thread
    }
}

/// What `BackgroundThread.start` hands the new thread, retained until it has run.
private final class ThreadBody {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) {
        self.run = run
    }
}
