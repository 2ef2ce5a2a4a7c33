import CEddySys
import Glibc

/// The runtime's pool of threads for work that blocks (file I/O, name resolution, a C
/// library without a non-blocking API): one per runtime, shared by every front door
/// (Swift `spawnBlocking`, C `eddy_spawn_blocking`/`eddy_blocking_call`, Python
/// `to_thread`/`blocking_call`). Modelled on tokio's blocking pool and libuv's threadpool.
///
/// - Threads start on demand, at most `maxThreads`: a job arriving when the queued jobs
///   already outnumber the idle threads starts one. A thread idle for `idleTimeout` exits
///   (it is joined later: by the next thread start or by `join`), so an idle program
///   keeps no threads.
/// - Queue: FIFO, unbounded, under a pthread mutex + condition variable (cold path: a
///   job costs a lock, an allocation and a wake-up, which is why the loop never uses it).
/// - Signals: every thread starts with all signals blocked (the mask is set before
///   `pthread_create`, so there is no window), so a process-directed signal is never
///   delivered to a pool thread: it goes to a thread of the host that accepts it, usually
///   the one running the loop, whose wait it then interrupts (libuv does the same).
/// - Stop: `stop` refuses new jobs and abandons the queued ones; `wait(until:)` bounds
///   the wait for the running ones; `join` waits for all of them (a running job cannot
///   be interrupted) and joins every thread. The pool is the same for N loop threads:
///   nothing in it knows which thread submitted.
package final class BlockingPool: @unchecked Sendable {
    // @unchecked Sendable: every var below is touched only under `mutex`.

    let maxThreads: Int
    let idleTimeoutNs: UInt64
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    /// Signalled when a job is queued or the pool stops (workers wait on it).
    private let workCond: UnsafeMutablePointer<pthread_cond_t>
    /// Signalled when a job finishes or a thread exits (`wait(until:)` waits on it).
    private let doneCond: UnsafeMutablePointer<pthread_cond_t>
    private var queue: [any BlockingWork] = []
    private var queueHead = 0
    private var threads: [pthread_t] = []
    /// Threads that exited on their idle timeout and are not yet joined.
    private var exited: [pthread_t] = []
    private var idle = 0
    private var running = 0
    private var completed: UInt64 = 0
    private var stopping = false

    package init(maxThreads: Int, idleTimeout: Duration) {
        self.maxThreads = max(1, maxThreads)
        let (s, a) = idleTimeout.components
        idleTimeoutNs = s < 0 || a < 0 ? 0 : UInt64(s) &* 1_000_000_000 &+ UInt64(a / 1_000_000_000)
        mutex = .allocate(capacity: 1)
        workCond = .allocate(capacity: 1)
        doneCond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        // CLOCK_MONOTONIC: a change of the wall clock does not stretch the idle timeout.
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(workCond, &attr)
        pthread_cond_init(doneCond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(workCond)
        pthread_cond_destroy(doneCond)
        pthread_mutex_destroy(mutex)
        workCond.deallocate()
        doneCond.deallocate()
        mutex.deallocate()
    }

    private var queuedCount: Int { queue.count - queueHead }

    /// Queues `work` (any thread). Throws `EddyError.shutdown` once stopping, or the
    /// errno of `pthread_create` when no thread exists and none could be started.
    package func submit(_ work: any BlockingWork) throws(EddyError) {
        var reap: [pthread_t] = []
        defer { for t in reap { pthread_join(t, nil) } }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if stopping { throw .shutdown }
        if queuedCount >= idle && threads.count < maxThreads {
            swap(&reap, &exited)
            let rc = startThread()
            if rc != 0 && threads.isEmpty { throw .errno(rc) }
        }
        queue.append(work)
        pthread_cond_signal(workCond)
    }

    /// Under `mutex`. 0 or the errno of pthread_create.
    private func startThread() -> Int32 {
        var tid = pthread_t()
        let arg = Unmanaged.passRetained(self).toOpaque()
        // Every signal blocked from the thread's first instruction: the new thread
        // inherits this mask; the caller's own mask is restored right after.
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let rc = pthread_create(&tid, nil, { raw in
            let pool = Unmanaged<BlockingPool>.fromOpaque(raw.unsafelyUnwrapped).takeRetainedValue()
            pool.threadLoop()
            return nil
        }, arg)
        if rc != 0 {
            Unmanaged<BlockingPool>.fromOpaque(arg).release()
            return rc
        }
        threads.append(tid)
        return 0
    }

    private func takeJob() -> (any BlockingWork)? {
        guard queueHead < queue.count else { return nil }
        let job = queue[queueHead]
        queueHead += 1
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: queue.count <= 64)
            queueHead = 0
        }
        return job
    }

    private func threadLoop() {
        pthread_mutex_lock(mutex)
        while true {
            if let job = takeJob() {
                running += 1
                pthread_mutex_unlock(mutex)
                job.run()
                pthread_mutex_lock(mutex)
                running -= 1
                completed &+= 1
                pthread_cond_broadcast(doneCond)
                continue
            }
            if stopping { break }
            idle += 1
            let timedOut = waitForWork()
            idle -= 1
            if timedOut && queuedCount == 0 && !stopping {
                // Idle too long: leave, to be joined by whoever starts the next thread.
                let me = pthread_self()
                if let i = threads.firstIndex(where: { pthread_equal($0, me) != 0 }) {
                    threads.remove(at: i)
                    exited.append(me)
                }
                pthread_cond_broadcast(doneCond)
                break
            }
        }
        pthread_mutex_unlock(mutex)
    }

    /// Under `mutex`: waits for a job or the idle timeout; true when it timed out.
    private func waitForWork() -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let deadline = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec) + idleTimeoutNs
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while queuedCount == 0 && !stopping {
            if pthread_cond_timedwait(workCond, mutex, &ts) == ETIMEDOUT { return queuedCount == 0 }
        }
        return false
    }

    /// The counters now (any thread).
    package var counts: BlockingPoolCounts {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return BlockingPoolCounts(threads: threads.count, idleThreads: idle, queuedJobs: queuedCount, runningJobs: running,
                      completedJobs: completed, maxThreads: maxThreads)
    }

    /// Refuses new jobs and abandons the queued ones (each completes with "shut down"
    /// without running); returns how many were abandoned. Idempotent, any thread.
    @discardableResult
    package func stop() -> Int {
        pthread_mutex_lock(mutex)
        stopping = true
        var pending: [any BlockingWork] = []
        while let job = takeJob() { pending.append(job) }
        pthread_cond_broadcast(workCond)
        pthread_mutex_unlock(mutex)
        for job in pending { job.abandon() }
        return pending.count
    }

    /// Waits until no job runs or `deadline` (monotonic ns, `ceddy_now_ns`) passes;
    /// returns the jobs still running. Any thread except a pool thread.
    package func wait(untilNs deadline: UInt64) -> Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while running > 0 || (stopping && queuedCount > 0) {
            let now = ceddy_now_ns()
            if now >= deadline { break }
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let until = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec) + (deadline - now)
            ts = timespec(tv_sec: Int(until / 1_000_000_000), tv_nsec: Int(until % 1_000_000_000))
            _ = pthread_cond_timedwait(doneCond, mutex, &ts)
        }
        return running
    }

    /// Stops (see `stop`) and joins every thread, waiting for the running jobs. From a
    /// pool thread (a job dropping the last reference to its runtime) that thread is
    /// skipped: it exits once its job returns.
    package func join() {
        stop()
        pthread_mutex_lock(mutex)
        let all = threads + exited
        threads = []
        exited = []
        pthread_mutex_unlock(mutex)
        let me = pthread_self()
        for t in all {
            if pthread_equal(t, me) != 0 { pthread_detach(t) } else { pthread_join(t, nil) }
        }
    }
}

/// A snapshot of the pool's counters (any thread, under the lock).
public struct BlockingPoolCounts: Sendable, Equatable {
    /// Threads alive (idle or running a job).
    public var threads: Int
    /// Threads waiting for a job.
    public var idleThreads: Int
    /// Jobs waiting for a thread.
    public var queuedJobs: Int
    /// Jobs a thread is running now.
    public var runningJobs: Int
    /// Jobs run to completion since the pool was created.
    public var completedJobs: UInt64
    /// The thread limit.
    public var maxThreads: Int
}
