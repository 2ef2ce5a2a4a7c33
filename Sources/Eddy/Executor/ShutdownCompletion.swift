import Glibc

/// Where a thread that asked for a graceful shutdown from outside the loop waits for its
/// report (`Runtime.shutdown(timeout:)`, `eddy_runtime_shutdown`). Completed once, by the
/// thread that finished the shutdown. Cold path: a pthread mutex and condition variable.
final class ShutdownCompletion: @unchecked Sendable {
    // @unchecked Sendable: `report` is only touched under `mutex`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private var report: ShutdownReport?

    init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    /// Publishes the report and wakes the waiter (any thread; the first report wins).
    func complete(_ r: ShutdownReport) {
        pthread_mutex_lock(mutex)
        if report == nil { report = r }
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
    }

    /// The report, waiting for it until `deadline` (CLOCK_MONOTONIC ns); nil if not yet.
    func wait(untilNs deadline: UInt64) -> ShutdownReport? {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while report == nil {
            if pthread_cond_timedwait(cond, mutex, &ts) == ETIMEDOUT { break }
        }
        return report
    }
}
