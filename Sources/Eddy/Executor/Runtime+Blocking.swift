// Runtime+Blocking: the blocking pool as the Swift API sees it (spawnBlocking, counts)
// and as EddyC reaches it (package `blockingPool`).

extension Runtime {
    /// Runs `body` on a thread of this runtime's blocking pool and returns a handle to
    /// poll or await its value. For work that blocks (file I/O, `getaddrinfo`, a C call):
    /// the loop thread keeps serving the other tasks meanwhile. Any thread.
    ///
    /// The pool has `Configuration.blockingThreads` threads at most; further jobs queue
    /// (FIFO). Pool threads run with every signal blocked. See `BlockingHandle` for
    /// cancellation. After `shutdown` the handle completes at once with
    /// `JoinError.cancelled` and `body` never runs.
    public func spawnBlocking<T>(_ body: @escaping @Sendable () -> T) -> BlockingHandle<T> {
        let cell = BlockingCell(body)
        do { try core.blocking.submit(cell) } catch { cell.abandon() }
        return BlockingHandle(cell)
    }

    /// The blocking pool's counters now (threads, idle threads, queued and running
    /// jobs, jobs completed). Any thread; takes the pool's lock.
    public var blockingPoolCounts: BlockingPoolCounts { core.blocking.counts }

    /// The pool, for the front doors' own jobs (C function pointers, libffi calls).
    package var blockingPool: BlockingPool { core.blocking }
}
