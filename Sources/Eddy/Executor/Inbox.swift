import Synchronization

/// What other threads hand the loop: tasks they woke or spawned, Swift jobs they
/// enqueued, timers and registrations they dropped. Taken by the loop in one batch.
struct InboxItems {
    /// Each task retained by the inbox (`pushRetained`).
    var tasks = TaskQueue()
    var jobs: [UnownedJob] = []
    var timerReleases: [TimerKey] = []
    var ioCloses: [IoKey] = []
    /// `Runtime.shutdown(timeout:)` from another thread.
    var shutdownRequests: [ShutdownRequest] = []
    /// Multi-thread runtime: look at the global inject queue (`WorkerGroup.notifyWorker`).
    var injectHints = 0

    var count: Int {
        tasks.count + jobs.count + timerReleases.count + ioCloses.count + shutdownRequests.count + injectHints
    }
}

/// The executor's cross-thread inbox: one lock, one pending counter, one push path.
///
/// A push that lands while the loop is parked unparks the driver (under the lock, so
/// it cannot race with the driver's close at shutdown); after `close` pushes are refused.
struct Inbox: ~Copyable {
    private struct Locked {
        var items = InboxItems()
        var closed = false
    }
    private let locked = PosixMutex<Locked>(Locked())
    /// Items waiting (lets the loop skip the lock when there are none).
    private let pending = Atomic<Int>(0)

    init() {}

    /// The one push path (any thread): `add` puts exactly one item into the inbox.
    /// `false` when the inbox is closed (the runtime shut down); nothing was added then.
    @discardableResult
    func push(unparking driver: PlatformDriver, _ add: (inout InboxItems) -> Void) -> Bool {
        let accepted = locked.withLock { l -> Bool in
            if l.closed { return false }
            add(&l.items)
            return true
        }
        guard accepted else { return false }
        pending.add(1, ordering: .sequentiallyConsistent)
        if driver.takeParked() {
            locked.withLock { l in
                if !l.closed { driver.unpark() }
            }
        }
        return true
    }

    /// Tells the loop to look at the inject queue: `push` of a hint, except that with
    /// `parkedTaken` the caller already took the driver's parked flag (it chose this
    /// loop because it was parked), so the driver is unparked unconditionally.
    @discardableResult
    func pushInjectHint(unparking driver: PlatformDriver, parkedTaken: Bool) -> Bool {
        if !parkedTaken { return push(unparking: driver) { $0.injectHints += 1 } }
        let accepted = locked.withLock { l -> Bool in
            if l.closed { return false }
            l.items.injectHints += 1
            return true
        }
        guard accepted else { return false }
        pending.add(1, ordering: .sequentiallyConsistent)
        locked.withLock { l in
            if !l.closed { driver.unpark() }
        }
        return true
    }

    /// Work is waiting (sequentially consistent: the parking protocol's re-check).
    var hasWork: Bool { pending.load(ordering: .sequentiallyConsistent) > 0 }

    /// Cheap check on the loop's fast path. Relaxed is enough to notice work: the lock
    /// inside `takeAll` orders the rest, and the driver re-checks `hasWork` before parking.
    @inline(__always)
    var mayHaveWork: Bool { pending.load(ordering: .relaxed) > 0 }

    /// Items waiting now (any thread; metrics).
    var pendingCount: Int { pending.load(ordering: .relaxed) }

    /// Everything queued so far (loop thread).
    func takeAll() -> InboxItems {
        var out = InboxItems()
        locked.withLock { l in swap(&out, &l.items) }
        pending.subtract(out.count, ordering: .sequentiallyConsistent)
        return out
    }

    /// Refuses further pushes and returns what is left (shutdown).
    func close() -> InboxItems {
        var out = InboxItems()
        locked.withLock { l in
            l.closed = true
            swap(&out, &l.items)
        }
        return out
    }
}
