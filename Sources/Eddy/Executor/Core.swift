import CEddySys
import Glibc
import Synchronization

/// The runtime's engine: ready queues, the live-task list, the run loop and shutdown.
/// The OS is reached only through `driver` (readiness, unpark, timers).
///
/// Shared by reference with tasks (for cross-thread wakes) and sockets (which
/// outlive nothing but may outlive the `Runtime` handle: after shutdown every
/// operation on them fails with `EddyError.shutdown`).
@usableFromInline
final class Core: @unchecked Sendable {
    // @unchecked Sendable: cross-thread entry points (`schedule`, `spawnTask`, `enqueueJob`,
    // `releaseTimer`, `closeIo`) test `isLoopThread`/`mayTouchLoopState` at run time and
    // go through the `Inbox` (lock + atomic counter) otherwise; the rest (queues, live list,
    // driver) is loop-thread state, which `runUntil` enters only after claiming the
    // runtime (`isRunning`: re-entry fails with EBUSY) and publishing `loopThread`.
    /// The user's handle; valid while the runtime is driven (only read during polls).
    unowned(unsafe) var runtime: Runtime!
    /// The multi-thread runtime this core is a worker of (nil: a current-thread runtime).
    /// Set once, before any thread but the creator sees the core; the group owns its cores.
    @usableFromInline unowned(unsafe) var group: WorkerGroup? = nil
    @usableFromInline let sys: Sys
    let config: Runtime.Configuration
    /// The OS side: readiness, the cross-thread unpark, timers (see Driver/).
    let driver: PlatformDriver
    /// The driver's registrations and timers, cached here for the futures (same objects).
    @usableFromInline let io: IoRegistry
    let timers: TimerHeap
    lazy var executor = EddyExecutor(core: self)
    /// The blocking pool (no thread until the first job; see `BlockingPool`).
    let blocking: BlockingPool

    // Loop-thread state.
    @exclusivity(unchecked) var local = TaskQueue()
    @exclusivity(unchecked) var jobs = JobRing()
    /// Cancellation slots of the Swift tasks this runtime started (loop thread).
    @exclusivity(unchecked) @usableFromInline var cancelSlots = TaskSlotTable()
    /// Tasks not yet complete (owns them; see `LiveTasks`).
    @exclusivity(unchecked) var live = LiveTasks()
    /// `Lifecycle`: running, draining (a graceful shutdown in progress), shut down.
    @exclusivity(unchecked) @usableFromInline var lifecycle = Lifecycle.running
    /// Shut down: every task dropped, every descriptor closed.
    @inlinable var isShutdown: Bool { lifecycle == Lifecycle.shutDown }
    /// The graceful shutdown in progress (loop thread; see Core+Shutdown.swift).
    @exclusivity(unchecked) var drain = DrainState()
    @exclusivity(unchecked) var isRunning = false
    /// Socket operations left to the task (or job) being run; see `operationBudget`.
    @exclusivity(unchecked) @usableFromInline var opBudget = 0

    // Cross-thread state.
    let inbox = Inbox()
    /// Thread currently running the loop (0 when not running).
    @usableFromInline let loopThread = Atomic<UInt>(0)
    /// Set once a shutdown (graceful or not) began, for threads other than the loop's:
    /// spawns are refused from then on.
    let shutdownFlag = Atomic<Bool>(false)
    /// Polls, ticks, parks (see `RuntimeMetrics`): written by the loop only.
    let counters = LoopCounters()
    /// The report of the finished shutdown, for any thread (`Runtime.shutdown(timeout:)`).
    let finalReport = PosixMutex<ShutdownReport?>(nil)

    /// `driver` is made first (`Runtime.init`): its creation can fail, and a Core that
    /// failed half-way would leak the buffers its queues allocate (no deinit runs).
    init(config: Runtime.Configuration, sys: Sys, driver: PlatformDriver) {
        self.config = config
        self.sys = sys
        ceddy_set_cancel_handler(ContinuationWaiter.cancelHandler)  // same value every time
        self.driver = driver
        io = driver.io
        timers = driver.timers
        blocking = BlockingPool(maxThreads: config.blockingThreads, idleTimeout: config.blockingIdleTimeout)
    }

    deinit {
        _ = shutdown(runJobs: false)  // also joins the blocking pool after a graceful shutdown
        cancelSlots.release()
    }

    // MARK: threads

    @inlinable @inline(__always)
    var isLoopThread: Bool { loopThread.load(ordering: .relaxed) == UInt(ceddy_thread_id()) }

    /// The caller may touch loop-thread state: it is the loop thread, or nobody runs the
    /// loop now (the owner between runs; concurrent callers are the caller's bug).
    @inline(__always)
    var mayTouchLoopState: Bool {
        let t = loopThread.load(ordering: .relaxed)
        return t == 0 || t == UInt(ceddy_thread_id())
    }

    /// Closes a registration now if allowed, else on the loop's next turn.
    func closeIo(_ key: IoKey) {
        if mayTouchLoopState && !isShutdown {
            io.close(key)
            return
        }
        inbox.push(unparking: driver) { $0.ioCloses.append(key) }
    }

    // MARK: scheduling

    /// Queues a task just marked scheduled; picks the local or the inject queue.
    @inline(__always)
    func schedule(_ task: TaskHeader) {
        if isLoopThread { local.push(task) } else { scheduleViaInbox(task) }
    }

    @inline(__always)
    func scheduleLocal(_ task: TaskHeader) { local.push(task) }

    private func scheduleViaInbox(_ task: TaskHeader) {
        inbox.push(unparking: driver) { $0.tasks.pushRetained(task) }
    }

    /// Swift concurrency job enqueue (any thread), no allocation on the loop thread.
    func enqueueJob(_ job: UnownedJob) {
        if isLoopThread {
            jobs.push(job)
            return
        }
        inbox.push(unparking: driver) { $0.jobs.append(job) }
    }

    /// Releases a timer from a thread other than the loop's (e.g. a Sleep dropped elsewhere).
    func releaseTimer(_ key: TimerKey) {
        if isShutdown { return }
        if mayTouchLoopState {
            timers.release(key)
            return
        }
        inbox.push(unparking: driver) { $0.timerReleases.append(key) }
    }

    /// Cross-thread work not yet moved to the loop's queues.
    var hasRemoteWork: Bool { inbox.hasWork }

    @inline(__always)
    private func drainInbox() {
        guard inbox.mayHaveWork else { return }
        drainInboxSlow()
    }

    @inline(never)
    private func drainInboxSlow() {
        var items = inbox.takeAll()
        while let t = items.tasks.pop() {
            let task = t.takeRetainedValue()
            if task.isComplete { continue }
            if !task.isLive {  // spawned from another thread
                if lifecycle != Lifecycle.running {  // ... after the shutdown began: refused
                    drain.refused += 1
                    task.state.transitionToCancelled()
                    task.cancelTask()
                    continue
                }
                live.insert(task)
            }
            local.push(task)
        }
        for r in items.shutdownRequests where lifecycle != Lifecycle.shutDown { acceptShutdownRequest(r) }
        if items.injectHints > 0, let g = group { takeInjected(g) }
        for j in items.jobs { jobs.push(j) }
        for k in items.timerReleases { timers.release(k) }
        for k in items.ioCloses { io.close(k) }
    }

    /// Takes this worker's share of the inject queue (multi-thread runtime; told by an
    /// inbox hint): the tasks become this worker's for life (`rehome`, before their first
    /// poll). If some are left, another worker is told (tokio's chained notify).
    private func takeInjected(_ g: WorkerGroup) {
        let share = (g.inject.count + g.count - 1) / g.count
        let (taken, n) = g.inject.take(max: min(max(1, share), max(1, config.taskBudget)))
        var q = taken
        while let t = q.pop() {
            let task = unsafeDowncast(t.takeRetainedValue(), to: SpawnedTask.self)
            task.rehome(to: self)
            if lifecycle != Lifecycle.running {  // a shutdown began meanwhile: refused
                drain.refused += 1
                task.state.transitionToCancelled()
                task.cancelTask()
                continue
            }
            live.insert(task)
            local.push(task)
        }
        counters.took(injected: n)
        if g.inject.mayHaveWork { g.notifyWorker() }
    }

    // MARK: tasks

    @inlinable func spawn<F: Future>(_ future: F) -> TaskCell<F?> {
        let cell = TaskCell<F?>(core: self, future: future)
        spawnTask(cell)
        return cell
    }

    /// Queues a new task cell (any thread); a shut-down runtime cancels it at once.
    @usableFromInline
    func spawnTask(_ task: TaskHeader) {
        if shutdownFlag.load(ordering: .acquiring) {
            // Refused. From another thread during a graceful shutdown the loop drops it
            // (a drop runs on the loop thread); once shut down, here.
            if !isLoopThread && inbox.push(unparking: driver, { $0.tasks.pushRetained(task) }) { return }
            task.state.transitionToCancelled()
            task.cancelTask()
            return
        }
        if isLoopThread {
            live.insert(task)
            local.push(task)
        } else {
            // Not on the loop: the loop adds it to the live list when it first runs it.
            scheduleViaInbox(task)
        }
        return
    }

    /// Runs one scheduled task (loop thread).
    @inline(__always)
    private func run(_ task: TaskHeader) {
        let before = task.state.transitionToRunning()
        let done: Bool
        if before.isCancelled {
            task.cancelTask()
            done = true
        } else {
            // The raw hook first: it sits on the task's first line with `state` (see
            // TaskHeader), `pollThunk` on the next.
            if let poll = task.rawPoll {
                // A raw task, called from here (no pollTask frame). Its context's address
                // is published for the supplier's checks, saved and restored: a nested
                // poll (a loop of another runtime run inside the task) must leave the
                // outer one valid.
                let cx = task.contextPointer
                let previous = ceddy_raw_context_get()
                ceddy_raw_context_set(cx)
                let r = poll(task.rawData, OpaquePointer(cx))
                ceddy_raw_context_set(previous)
                done = r == RawTaskVTable.pending ? false : task.finishRaw(r)
            } else if let thunk = task.pollThunk {
                done = thunk(task)
            } else {
                done = task.pollTask()
            }
        }
        if done {
            task.state.transitionToComplete()
            live.remove(task)  // last use: may free the task
            return
        }
        // Pending: a wake that came during the poll requeues it at the back.
        if task.state.transitionToIdle() { local.push(task) }
    }

    // MARK: run loop

    /// Drives the loop until `task` completes. The closure sees the task as a plain
    /// `TaskHeader`: a check formed in generic code (a `JoinableTask<T>`, a generic result
    /// box) would look up type metadata on every loop turn.
    @usableFromInline func runUntil(until task: TaskHeader) throws(EddyError) {
        try runUntil { task.isComplete }
    }

    /// Drives the loop until `done()` is true. Loop-thread re-entry is refused.
    /// With `tickingOnce`, the reactor is checked at least once even if `done()` already
    /// holds (then without blocking).
    func runUntil(tickingOnce: Bool = false, _ done: () -> Bool) throws(EddyError) {
        let me = UInt(ceddy_thread_id())
        // Claimed atomically: `Runtime.shutdown(timeout:)` may try from another thread, so
        // loop state (`lifecycle` included) is read only once the claim is ours (the acquire
        // pairs with the previous driver's release of `loopThread`).
        guard loopThread.compareExchange(expected: 0, desired: me, ordering: .acquiringAndReleasing).exchanged else {
            throw .errno(EBUSY)
        }
        if isShutdown {
            loopThread.store(0, ordering: .releasing)
            throw .shutdown
        }
        isRunning = true
        let previous = ceddy_tls_runtime_get()
        ceddy_tls_runtime_set(Unmanaged.passUnretained(self).toOpaque())
        defer {
            ceddy_tls_runtime_set(previous)
            loopThread.store(0, ordering: .releasing)
            isRunning = false
            // Worker 0 (the only worker whose loop ends): an inject hint it was given may
            // be left in its inbox; pass the work on to a worker that keeps running.
            if let g = group { g.forwardInjectWork() }
        }
        let budget = max(1, config.taskBudget)
        let taskExecutor = executor.asUnownedTaskExecutor()  // once: no executor retain per job
        var mustTick = tickingOnce
        // `lifecycle` is read once per tick where `isShutdown` was (same cost); a draining
        // loop keeps turning until the shutdown is finished, then returns if `done()`.
        while mustTick || !done() || lifecycle != Lifecycle.running {
            if lifecycle != Lifecycle.running, stopTick() { if done() { return } else { throw .shutdown } }
            drainInbox()
            var n = 0
            let ops = max(1, config.operationBudget)
            while n < budget, let t = local.pop() {
                opBudget = ops
                // The live list owns the task; `run` touches it last when it removes it.
                t._withUnsafeGuaranteedRef { run($0) }
                n += 1
            }
            while n < budget, let job = jobs.pop() {
                opBudget = ops
                job.runSynchronously(on: taskExecutor)
                n += 1
            }
            if lifecycle != Lifecycle.running, stopTick() { if done() { return } else { throw .shutdown } }
            counters.tick(polled: n)
            let finished = done()
            if finished && !mustTick && lifecycle == Lifecycle.running { break }
            let busy = finished || !local.isEmpty || !jobs.isEmpty
            if !busy { counters.park(live: live.count) }
            try driver.turn(mayBlock: !busy) { inbox.hasWork }
            mustTick = false
        }
    }

    /// Number of tasks not yet complete.
    var liveTasks: Int { live.count }

    // MARK: shutdown

    /// Drops every task, closes every descriptor, stops accepting cross-thread work.
    /// With `joinBlocking`, also waits for the running blocking jobs and joins the pool's
    /// threads (a graceful shutdown past its deadline does not: the runtime's end does).
    func shutdown(runJobs: Bool = true, joinBlocking: Bool = true) -> ShutdownReport {
        let report = stopNow(runJobs: runJobs, joinBlocking: joinBlocking)
        publish(report)
        return report
    }

    /// `shutdown` without publishing the report (a graceful shutdown adds to it first).
    func stopNow(runJobs: Bool, joinBlocking: Bool) -> ShutdownReport {
        if isShutdown {
            if joinBlocking { blocking.join() }
            return ShutdownReport(tasksDropped: 0, descriptorsClosed: 0)
        }
        lifecycle = Lifecycle.shutDown
        shutdownFlag.store(true, ordering: .releasing)
        // Refused from now on; timer releases and closes left in it are moot (all go below).
        var leftovers = inbox.close()
        // This thread stands in for the loop while the runtime winds down: futures are
        // dropped and Swift jobs run with a consistent runtime installed.
        let previous = ceddy_tls_runtime_get()
        ceddy_tls_runtime_set(Unmanaged.passUnretained(self).toOpaque())
        loopThread.store(UInt(ceddy_thread_id()), ordering: .releasing)
        defer {
            loopThread.store(0, ordering: .releasing)
            ceddy_tls_runtime_set(previous)
        }
        // Every task in the local queue is on the live list, cancelled below.
        local.removeAll()
        var dropped = 0
        while let t = leftovers.tasks.pop() {
            let task = t.takeRetainedValue()
            if !task.isComplete && !task.isLive {
                task.state.transitionToCancelled()
                task.cancelTask()
                dropped += 1
            }
        }
        drain.waiters += leftovers.shutdownRequests.map(\.waiter)
        while let head = live.head {
            let task = head.takeUnretainedValue()
            task.state.transitionToCancelled()
            task.cancelTask()
            live.remove(task)
            dropped += 1
        }
        var woken = timers.clearAll()
        let (closed, ioWakers) = io.closeAll()
        woken += ioWakers
        // Swift tasks cannot be dropped like futures: wake every suspended async operation
        // (now failing with EddyError.shutdown) and run the jobs until they have unwound, so
        // no task is left suspended forever. Bounded, in case user code keeps looping.
        for w in woken { w.wake() }
        woken.removeAll()
        for j in leftovers.jobs { jobs.push(j) }
        var steps = runJobs ? 0 : Int.max  // not from Core.deinit: nothing may retain us then
        while steps < 1_000_000, let job = jobs.pop() {
            opBudget = max(1, config.operationBudget)
            job.runSynchronously(on: executor.asUnownedTaskExecutor())
            steps += 1
        }
        jobs.release()
        // Queued blocking jobs complete as abandoned; running ones are waited for.
        let abandoned = blocking.stop()
        if joinBlocking { blocking.join() }
        driver.close()
        var report = ShutdownReport(tasksDropped: dropped, descriptorsClosed: closed)
        report.blockingJobsAbandoned = abandoned
        return report
    }

    /// The core driving the calling thread, if any.
    @inline(__always)
    static var current: Core? {
        guard let p = ceddy_tls_runtime_get() else { return nil }
        return Unmanaged<Core>.fromOpaque(p).takeUnretainedValue()
    }
}
