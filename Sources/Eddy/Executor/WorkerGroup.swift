// WorkerGroup: the multi-thread runtime (`Runtime.Configuration.workers` > 1).
//
// One `Core` per worker, each with its own driver, timers and registrations, so every
// line of loop-thread code stays single-threaded and the one-worker runtime is exactly
// today's (no `WorkerGroup` at all). Worker 0 is the runtime's own core, driven by the
// thread inside `blockOn`/`run` (as in the current-thread runtime); workers 1..<N are
// threads this group starts at creation, with every signal blocked, each driving its
// core until the runtime shuts down.
//
// Placement (docs/ARCHITECTURE.md, "Multi-thread runtime"): a task runs on one worker
// for its whole life, fixed before its first poll. A spawn from inside a worker stays on
// that worker (the spawner's sockets and timers are registered there); a spawn from a
// thread that may touch worker 0's loop state (its owner between runs, which is also
// where sockets made outside the workers register) goes to worker 0; a spawn from any
// other thread goes to the global inject queue (`inject`), and the first worker with
// nothing better to do takes it and makes it its own (`Core.takeInjected`), told
// through its inbox (`notifyWorker`: a parked worker first). `Runtime.spawn(_:onWorker:)`
// places a task explicitly. There is no stealing of tasks already placed (see the
// architecture notes for why and for the design that would add it).

import CEddySys
import Glibc
import Synchronization

@usableFromInline
final class WorkerGroup: @unchecked Sendable {
    // @unchecked Sendable: `cores` and `threads` are written once in `start` (before any
    // other thread sees the group) and read-only afterwards, except `threads`, which
    // `join` empties under `joinLock`.
    /// Every worker's core; `cores[0]` is the runtime's own.
    @usableFromInline let cores: [Core]
    private let joinLock = PosixMutex<[pthread_t]>([])
    /// Tasks spawned from threads that are not workers, for the first idle worker.
    let inject = InjectQueue()
    /// Round-robin position of `notifyWorker`'s hints when no worker is parked.
    private let nextHint = Atomic<Int>(0)

    init(cores: [Core]) { self.cores = cores }

    var count: Int { cores.count }

    /// Starts one thread per core but the first. The threads inherit a fully blocked
    /// signal mask (set around `pthread_create`, so there is no window). Returns the
    /// errno of a failed `pthread_create` (the threads started so far keep running
    /// until `stop`).
    func start() -> Int32 {
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_SETMASK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        for core in cores.dropFirst() {
            var tid = pthread_t()
            let arg = Unmanaged.passRetained(core).toOpaque()
            let rc = pthread_create(&tid, nil, { raw in
                let core = Unmanaged<Core>.fromOpaque(raw.unsafelyUnwrapped).takeRetainedValue()
                WorkerGroup.workerLoop(core)
                return nil
            }, arg)
            if rc != 0 {
                Unmanaged<Core>.fromOpaque(arg).release()
                return rc
            }
            joinLock.withLock { $0.append(tid) }
        }
        waitUntilRunning()
        return 0
    }

    /// Returns once every worker has polled a first task: a runtime is ready when its
    /// initializer returns, and a worker's one-time start-up (its first loop turn) is not
    /// left to happen later, in the middle of the caller's work (a test counting
    /// allocations, a benchmark's first measured second).
    private func waitUntilRunning() {
        let started = StartCount()
        for core in cores.dropFirst() {
            core.spawnTask(TaskCell<PollFn<Void>?>(core: core, future: PollFn<Void> { _ in
                started.value.add(1, ordering: .releasing)
                return .ready(())
            }))
        }
        while started.value.load(ordering: .acquiring) < cores.count - 1 { usleep(50) }
    }

    /// A worker thread's body: drive the core until it is shut down (a shutdown request
    /// through its inbox, see `stopWorkers`).
    private static func workerLoop(_ core: Core) {
        while !core.isShutdown {
            do { try core.runUntil { false } } catch { continue }
        }
    }

    /// The worker core the calling thread is driving, if it belongs to this group.
    @usableFromInline
    func currentWorker() -> Core? {
        guard let c = Core.current, c.group === self, c.isLoopThread else { return nil }
        return c
    }

    /// Where a Swift async spawn from the calling thread goes: the calling worker, else
    /// worker 0 (a Swift task's executor is fixed when it is created).
    @usableFromInline
    func spawnTarget() -> Core { currentWorker() ?? cores[0] }

    /// Queues a new task built for worker 0 by a thread that is no worker (see the
    /// file's comment): worker 0 itself while no thread drives it (or once the inject
    /// queue is closed: shutting down, so worker 0 refuses it the usual way), else the
    /// inject queue. Any thread.
    @usableFromInline
    func submitFromOutside(_ task: SpawnedTask) {
        let c0 = cores[0]
        if c0.mayTouchLoopState || !inject.push(task) {
            c0.spawnTask(task)
            return
        }
        notifyWorker()
    }

    /// Work arrived in the inject queue: tells one worker through its inbox, so a loop
    /// looks at the queue only when told (no per-tick check: a one-worker runtime's loop
    /// is unchanged). A parked worker is preferred (its parked flag is taken here, then
    /// it is unparked) among workers 1..<N, which run until shutdown; with none parked,
    /// round-robin over them. A worker parks only after re-checking its inbox counter
    /// (the inbox's parking protocol), so the hint is never lost: either the worker sees
    /// it, or the push finds it parked and unparks it. Worker 0 is never told (its loop
    /// ends with its `blockOn`).
    func notifyWorker() {
        // Never worker 0: its loop ends whenever its `blockOn` future is ready, and tasks it
        // had just taken would wait in its ready queue for the next `blockOn`/`run`.
        for c in cores.dropFirst() where c.driver.takeParked() {
            if c.inbox.pushInjectHint(unparking: c.driver, parkedTaken: true) { return }
        }
        notifyRunningWorker()
    }

    /// Tells one of workers 1..<N (round-robin) through its inbox.
    private func notifyRunningWorker() {
        let n = cores.count - 1
        for _ in 0..<n {
            let i = 1 + (nextHint.add(1, ordering: .relaxed).newValue % n)
            if cores[i].inbox.pushInjectHint(unparking: cores[i].driver, parkedTaken: false) { return }
        }
        // Every worker's inbox is closed: shutting down; `closeInject` hands the queue's
        // tasks to worker 0.
    }

    /// Worker 0's loop ended (its thread leaves `blockOn`/`run`): if tasks wait in the
    /// inject queue, a worker that keeps running is told, in case the hint for them went
    /// to worker 0. Sound because worker 0 cleared its parked flag (sequentially
    /// consistent) after the wait and before this check: a push that chose worker 0 took
    /// that flag before the clear, and incremented the queue's counter before that.
    func forwardInjectWork() {
        if inject.hasWork { notifyRunningWorker() }
    }

    /// Closes the inject queue (a shutdown began) and hands what is left to worker 0,
    /// which refuses or runs it as it does any spawn at that point.
    func closeInject() {
        var left = inject.close()
        while let t = left.pop() {
            cores[0].spawnTask(t.takeRetainedValue())  // never rehomed: built for worker 0
        }
    }

    /// Asks every worker but the first for a graceful shutdown ending at `deadlineNs`
    /// (0: at once); returns the completions to wait for (nil: already shut down).
    func requestWorkerShutdown(deadlineNs: UInt64, except skip: Core? = nil) -> [ShutdownCompletion?] {
        closeInject()
        return cores.dropFirst().map { $0 === skip ? nil : $0.requestShutdown(deadlineNs: deadlineNs) }
    }

    /// Stops every worker thread at once (their tasks dropped, their descriptors closed,
    /// on their own threads), joins them and returns the sum of their reports.
    func stopWorkers() -> ShutdownReport {
        _ = requestWorkerShutdown(deadlineNs: 0)
        join()
        return workerReports()
    }

    /// Joins the worker threads (each exits once its core is shut down). Not from a worker.
    func join() {
        let tids = joinLock.withLock { t -> [pthread_t] in
            let all = t
            t.removeAll()
            return all
        }
        for t in tids { pthread_join(t, nil) }
    }

    /// The sum of the workers' (1..<N) final reports so far.
    func workerReports() -> ShutdownReport {
        var sum = ShutdownReport(tasksDropped: 0, descriptorsClosed: 0)
        for c in cores.dropFirst() {
            if let r = c.finalReport.withLock({ $0 }) { sum.add(r) }
        }
        return sum
    }

    /// Every worker's final report is in (the group is shut down).
    var allWorkersReported: Bool {
        cores.dropFirst().allSatisfy { c in c.finalReport.withLock { $0 } != nil }
    }
}

/// Workers that polled their start-up probe (`WorkerGroup.waitUntilRunning`).
private final class StartCount: Sendable {
    let value = Atomic<Int>(0)
}

extension ShutdownReport {
    /// Adds another worker's counts.
    mutating func add(_ r: ShutdownReport) {
        tasksDropped += r.tasksDropped
        descriptorsClosed += r.descriptorsClosed
        tasksFinished += r.tasksFinished
        blockingJobsAbandoned += r.blockingJobsAbandoned
        blockingJobsRunning += r.blockingJobsRunning
    }
}
