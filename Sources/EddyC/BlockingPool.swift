// BlockingPool: worker threads for C calls that block (eddy_blocking_call,
// eddy_spawn_blocking), one pool per C runtime.
//
// Why our own pool rather than the core's spawnBlocking: the C ABI promises
// that eddy_runtime_free joins the workers (nothing of the runtime survives it,
// which matters to C programs that dlclose or check for leaks), and the jobs
// are raw C function pointers/libffi calls that need no Swift closure.
//
// - Created lazily by the first blocking job; threads are started on demand up
//   to `maxThreads` (a job arriving when no worker is idle starts one).
// - Queue: an intrusive FIFO under a pthread mutex + condition variable (Swift's
//   Mutex has no condition variable).
// - Completion: the worker publishes the result (release), then takes the
//   stored waker under the job's small lock and wakes it (Waker.wake is
//   thread-safe). The poller stores its waker under the same lock and then
//   re-checks, so a completion can never be missed.
// - Shutdown: stop flag, broadcast, join every worker; jobs still queued are
//   completed with EDDY_ESHUTDOWN without running. A job already running is
//   waited for (a C call cannot be interrupted).

import Eddy
import Glibc
import Synchronization

/// One unit of blocking work and its result; also the state of its future.
final class BlockingJob: @unchecked Sendable {
    enum Work {
        case ffi(FFICall)
        case raw(@convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
    }
    private static let queued: UInt8 = 0, done: UInt8 = 2

    let work: Work
    /// Set when the future was dropped before a worker picked the job up.
    let cancelled = Atomic<Bool>(false)
    private let state = Atomic<UInt8>(0)
    /// Written by the worker before `state` becomes `done` (release).
    private(set) var status: Int32 = 0
    private(set) var value: UInt64 = 0
    private let waker = Mutex<Waker?>(nil)
    /// Intrusive queue link, under the pool's mutex.
    var next: BlockingJob?

    init(_ work: Work) { self.work = work }

    var isDone: Bool { state.load(ordering: .acquiring) == BlockingJob.done }

    /// Runs on a worker thread.
    func run() {
        if cancelled.load(ordering: .relaxed) {
            complete(status: EddyCode.ecanceled, value: 0)
            return
        }
        switch work {
        case .ffi(let call): complete(status: 0, value: call.invoke())
        case .raw(let fn, let arg): complete(status: 0, value: UInt64(UInt(bitPattern: fn(arg))))
        }
    }

    /// Publishes the result and wakes the poller, from any thread.
    func complete(status: Int32, value: UInt64) {
        self.status = status
        self.value = value
        state.store(BlockingJob.done, ordering: .releasing)
        let w = waker.withLock { $0.take() }
        w?.wake()
    }

    /// READY (status in `status`), or PENDING with the waker stored.
    func poll(_ cx: inout Context) -> Bool {
        if isDone { return true }
        let current = cx.waker
        waker.withLock { slot in
            if let w = slot, w.willWake(current) { return }
            slot = current
        }
        return isDone
    }
}

final class BlockingPool: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private let maxThreads: Int
    // Everything below is under `mutex`.
    private var head: BlockingJob?
    private var tail: BlockingJob?
    private var threads: [pthread_t] = []
    private var idle = 0
    private var stopping = false

    init(maxThreads: Int) {
        self.maxThreads = max(1, maxThreads)
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    /// Queues a job; 0, or EDDY_ESHUTDOWN / -EAGAIN when no worker can run it.
    func submit(_ job: BlockingJob) -> Int32 {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if stopping { return EddyCode.shutdown }
        if idle == 0 && threads.count < maxThreads {
            let started = startWorker()
            if started != 0 && threads.isEmpty { return started }
        }
        if let t = tail { t.next = job } else { head = job }
        tail = job
        pthread_cond_signal(cond)
        return 0
    }

    /// Under `mutex`. 0 or -errno of pthread_create.
    private func startWorker() -> Int32 {
        var tid = pthread_t()
        let arg = Unmanaged.passRetained(self).toOpaque()
        // Workers start with every signal blocked (they inherit the creator's mask), so a
        // process signal lands on the loop thread and interrupts its epoll_wait, as libuv's
        // pool does; a worker never runs the host's signal handlers.
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let rc = pthread_create(&tid, nil, { raw in
            let pool = Unmanaged<BlockingPool>.fromOpaque(raw.unsafelyUnwrapped).takeRetainedValue()
            pool.workerLoop()
            return nil
        }, arg)
        if rc != 0 {
            Unmanaged<BlockingPool>.fromOpaque(arg).release()
            return -rc
        }
        threads.append(tid)
        return 0
    }

    private func workerLoop() {
        pthread_mutex_lock(mutex)
        while true {
            if let job = head {
                head = job.next
                if head == nil { tail = nil }
                job.next = nil
                pthread_mutex_unlock(mutex)
                job.run()
                pthread_mutex_lock(mutex)
                continue
            }
            if stopping { break }
            idle += 1
            pthread_cond_wait(cond, mutex)
            idle -= 1
        }
        pthread_mutex_unlock(mutex)
    }

    /// Stops and joins every worker; queued jobs complete with EDDY_ESHUTDOWN.
    /// Called on the runtime's owning thread by eddy_runtime_free.
    func shutdown() {
        pthread_mutex_lock(mutex)
        stopping = true
        var pending: [BlockingJob] = []
        while let job = head {
            head = job.next
            job.next = nil
            pending.append(job)
        }
        tail = nil
        let toJoin = threads
        threads = []
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        for job in pending { job.complete(status: EddyCode.shutdown, value: 0) }
        for t in toJoin { pthread_join(t, nil) }
    }
}
