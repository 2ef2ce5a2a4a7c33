import CEddySys
import Glibc
import Synchronization

/// An Eddy runtime: a driver (epoll or io_uring readiness, and timers) and an executor,
/// driven by whichever thread calls `blockOn`/`run`.
///
/// With `Configuration.workers` > 1 it is a multi-thread runtime: the thread inside
/// `blockOn`/`run` drives worker 0, and `workers - 1` threads started with the runtime
/// drive the others, each with its own driver. A task stays on the worker it was spawned
/// on (see `spawn(_:onWorker:)` and docs/ARCHITECTURE.md, "Multi-thread runtime").
///
/// Any thread may `spawn` into it or wake its tasks. Dropping the last reference
/// shuts it down: every task is dropped and every descriptor it owns is closed.
public final class Runtime: @unchecked Sendable {
    // @unchecked Sendable: holds only its `Core` (see there). Running it is refused while it
    // runs (`Core.runUntil`: EBUSY) and shutting it down while it runs too (`shutdown`).
    /// Tuning knobs.
    public struct Configuration: Sendable {
        /// Events fetched per `epoll_wait` (1...1024).
        public var eventBatch = 1024
        /// Tasks/jobs polled per tick before the reactor is checked again (at least 1).
        public var taskBudget = 128
        /// Socket operations one task may perform per poll (or one Swift job per run)
        /// before it must yield to the others even though its socket is still ready
        /// (tokio's cooperative budget): a connection whose peer always has data ready
        /// cannot monopolize the loop. At least 1.
        public var operationBudget = 128
        /// `run`/`blockOn` throw `EddyError.errno(EINTR)` when a signal interrupts the
        /// wait, so the host (e.g. Python) can run its signal handlers; the work stays
        /// queued and a later call continues it.
        public var returnOnSignal = false
        /// Threads of the blocking pool (`spawnBlocking`, the C and Python blocking
        /// calls), 1...1024; started on demand.
        public var blockingThreads = 4
        /// A pool thread idle this long exits (a later job starts a new one).
        public var blockingIdleTimeout: Duration = .seconds(10)
        /// The kernel interface (replace in tests to inject faults; the io_uring driver
        /// waits through its ring, not through `epollWait`).
        public var sys: SysCalls = .system
        /// The driver: `.epoll` or `.ioUring`; nil (the default) reads the environment
        /// variable `EDDY_DRIVER` (`epoll` or `io_uring`; epoll when unset, EINVAL for any
        /// other value). A runtime asked for io_uring where the kernel or its policy
        /// refuses it runs on epoll: see `Runtime.driver` and `Runtime.driverFallback`.
        public var driver: DriverKind? = nil
        /// Worker threads (1...1024). 1: the current-thread runtime (today's, unchanged).
        /// N > 1: the thread inside `blockOn`/`run` drives worker 0 and the runtime starts
        /// N - 1 threads (every signal blocked) for the others. 0 (the default) reads the
        /// environment variable `EDDY_WORKERS` (a decimal count; 1 when unset or empty,
        /// EINVAL for anything else), so a test suite can run once per flavour.
        public var workers = 0
        /// The defaults listed on each property.
        public init() {}
    }

    @usableFromInline let core: Core
    /// The other workers (nil: a current-thread runtime; see `WorkerGroup`).
    @usableFromInline let group: WorkerGroup?

    /// Creates a runtime (an epoll instance and an eventfd). A count of `configuration`
    /// out of its range throws `EddyError.invalidArgument` (EINVAL).
    public init(_ configuration: Configuration = .init()) throws(EddyError) {
        guard (1...1024).contains(configuration.eventBatch), configuration.taskBudget >= 1,
              configuration.operationBudget >= 1,
              (1...1024).contains(configuration.blockingThreads),
              configuration.blockingIdleTimeout >= .zero else { throw .invalidArgument }
        let workers = try Runtime.resolveWorkers(configuration.workers)
        let sys = Sys(calls: configuration.sys)
        core = Core(config: configuration, sys: sys, driver: try PlatformDriver(config: configuration, sys: sys))
        guard workers > 1 else {
            group = nil
            core.runtime = self
            return
        }
        // Worker cores: their own driver; never return on a signal (they block them all);
        // the blocking pool is worker 0's (theirs never gets a job: one thread at most).
        var wconf = configuration
        wconf.returnOnSignal = false
        wconf.blockingThreads = 1
        var cores = [core]
        for _ in 1..<workers {
            let c = Core(config: wconf, sys: sys, driver: try PlatformDriver(config: wconf, sys: sys))
            cores.append(c)
        }
        let g = WorkerGroup(cores: cores)
        group = g
        for c in cores {
            c.runtime = self
            c.group = g
        }
        let rc = g.start()
        if rc != 0 {
            _ = g.stopWorkers()
            throw .errno(rc)
        }
    }

    /// `Configuration.workers`, with 0 read from `EDDY_WORKERS`.
    static func resolveWorkers(_ n: Int) throws(EddyError) -> Int {
        var n = n
        if n == 0 {
            n = 1
            if let p = getenv("EDDY_WORKERS"), p.pointee != 0 {
                guard let v = Int(String(cString: p)) else { throw .invalidArgument }
                n = v
            }
        }
        guard (1...1024).contains(n) else { throw .invalidArgument }
        return n
    }

    /// Worker threads of this runtime (1: current-thread).
    public var workers: Int { group?.count ?? 1 }

    /// The calling thread drives one of this runtime's workers other than worker 0 (a
    /// front door's thread rule: such a thread may use the runtime like its owner).
    package var isOnOtherWorker: Bool {
        guard let g = group, let c = g.currentWorker() else { return false }
        return c !== core
    }

    /// Creates a runtime with `configuration` (the same as `init(_:)`).
    public convenience init(configuration: Configuration) throws(EddyError) {
        try self.init(configuration)
    }

    /// The driver this runtime waits with.
    public var driver: DriverKind { core.driver.kind }

    /// Why io_uring, asked for (configuration or `EDDY_DRIVER`), is not used: the error of
    /// its setup (ENOSYS: no io_uring in this kernel, or a seccomp filter; EPERM: the
    /// `kernel.io_uring_disabled` sysctl or a container policy; EOPNOTSUPP: older than
    /// Linux 5.13). nil when the runtime uses the driver it was asked for.
    public var driverFallback: EddyError? { core.driver.fallback }

    deinit {
        // The workers first: they stop on their own threads, which are then joined.
        if let g = group { _ = g.stopWorkers() }
        // Jobs that run during shutdown must not reach this half-destroyed object.
        core.runtime = nil
        _ = core.shutdown()
    }

    /// The runtime driving the calling thread (inside `blockOn`/`run`), if any.
    public static var current: Runtime? { Core.current?.runtime }

    /// Spawns a poll-style future as a task. Any thread; the task runs on the loop thread.
    /// Dropping the returned handle detaches the task. On a multi-thread runtime it runs
    /// on the calling worker when called from one; else on worker 0 while no thread
    /// drives worker 0 (its owner setting up), otherwise on the worker that takes it from
    /// the global inject queue (docs/ARCHITECTURE.md, "Multi-thread runtime").
    @discardableResult @inlinable
    public func spawn<F: Future>(_ future: F) -> JoinHandle<F.Output> {
        guard let g = group else {
            let cell = TaskCell<F?>(core: core, future: future)
            core.spawnTask(cell)
            return JoinHandle(cell)
        }
        let worker = g.currentWorker()
        let cell = TaskCell<F?>(core: worker ?? core, future: future)
        if let w = worker { w.spawnTask(cell) } else { g.submitFromOutside(cell) }
        return JoinHandle(cell)
    }

    /// Spawns a task on worker `worker` (0..<`workers`), where it runs for its whole life
    /// (its sockets and timers register with that worker's driver). Any thread. A worker
    /// out of range throws `EddyError.invalidArgument`.
    @discardableResult
    public func spawn<F: Future>(_ future: F, onWorker worker: Int) throws(EddyError) -> JoinHandle<F.Output> {
        guard worker >= 0 && worker < workers else { throw .invalidArgument }
        let target = group?.cores[worker] ?? core
        let cell = TaskCell<F?>(core: target, future: future)
        target.spawnTask(cell)
        return JoinHandle(cell)
    }

    /// Runs the loop until `future` completes and returns its output.
    /// (Inlinable: the root task then polls specialised, without metadata look-ups.)
    @inlinable public func blockOn<F: Future>(_ future: F) throws(EddyError) -> F.Output {
        let task = core.spawn(future)
        try core.runUntil(until: task)
        switch task.withJoin({ $0.output }) {
        case .success(let v)?: return v
        default: throw .shutdown
        }
    }

    /// Runs until `handle`'s task completes.
    public func runUntil<T>(_ handle: JoinHandle<T>) throws(EddyError) -> Result<T, JoinError> {
        try core.runUntil(until: handle.task)
        return handle.task.withJoin { $0.output } ?? .failure(.cancelled)
    }

    /// Runs the loop on this thread until `done()` holds (checked between loop ticks, on
    /// this thread). With `tickingOnce`, the reactor is checked at least once, without
    /// blocking when `done()` already holds: an embedder that drives its own tasks between
    /// calls gets fresh readiness every turn.
    public func run(tickingOnce: Bool = false, until done: () -> Bool) throws(EddyError) {
        try core.runUntil(tickingOnce: tickingOnce, done)
    }

    /// Runs until no spawned task remains (on a multi-thread runtime: no task of worker 0,
    /// the one this thread drives; the other workers run theirs on their own threads).
    public func run() throws(EddyError) {
        try core.runUntil { core.liveTasks == 0 && core.local.isEmpty && !core.hasRemoteWork && core.jobs.isEmpty }
    }

    /// Number of tasks spawned and not finished (loop's view; worker 0's on a
    /// multi-thread runtime, see `workerMetrics` for the others).
    public var liveTasks: Int { core.liveTasks }

    /// `true` while a thread drives this runtime.
    public var isRunning: Bool { core.isRunning }

    /// Drops every task and closes every descriptor this runtime owns; idempotent.
    /// Refused (`EBUSY`) from inside the runtime's own loop.
    @discardableResult
    public func shutdown() throws(EddyError) -> ShutdownReport {
        if core.isRunning { throw .errno(EBUSY) }
        guard let g = group, !core.isShutdown else { return core.shutdown() }
        if g.currentWorker() != nil { throw .errno(EBUSY) }  // it would join itself
        let workers = g.stopWorkers()
        var r = core.shutdown()
        r.add(workers)
        return r
    }

    /// Shuts the runtime down gracefully: spawns are refused from now on (`spawn` returns
    /// a handle already cancelled), the tasks keep running until they have all finished
    /// or `timeout` has passed, then what is left is dropped (aborted), every descriptor
    /// is closed and the blocking pool stops (queued jobs never run; running ones are
    /// waited for until the deadline, then left to finish).
    ///
    /// Any thread. From outside the runtime it returns the report once the shutdown is
    /// finished: when another thread is running the runtime, that thread finishes it
    /// (its `run`/`blockOn` then returns, or throws `EddyError.shutdown` if what it
    /// waited for was aborted); otherwise the calling thread drives the runtime until
    /// then. From inside one of the runtime's own tasks it only begins the shutdown and
    /// returns nil: the `run`/`blockOn` in progress finishes it. A later call returns the
    /// report of the finished shutdown. Throws only what driving the loop can throw
    /// (e.g. `EINTR` with `returnOnSignal`; the shutdown then goes on at the next call).
    ///
    /// On a multi-thread runtime every worker drains and the report sums them; from a
    /// task on any worker it begins the shutdown of all of them and returns nil.
    @discardableResult
    public func shutdown(timeout: Duration) throws(EddyError) -> ShutdownReport? {
        let deadline = Instant.now().advanced(by: max(timeout, .zero)).nanoseconds
        guard let g = group else { return try shutdownWorker0(deadline: deadline) }
        if let cur = g.currentWorker() {
            cur.beginDrain(deadlineNs: deadline)
            if cur !== core { _ = core.requestShutdown(deadlineNs: deadline) }
            _ = g.requestWorkerShutdown(deadlineNs: deadline, except: cur)
            return nil
        }
        _ = g.requestWorkerShutdown(deadlineNs: deadline)
        guard var r = try shutdownWorker0(deadline: deadline) else { return nil }
        g.join()
        r.add(g.workerReports())
        return r
    }

    /// `shutdown(timeout:)` of worker 0 (the whole current-thread runtime).
    private func shutdownWorker0(deadline: UInt64) throws(EddyError) -> ShutdownReport? {
        if core.isLoopThread {
            core.beginDrain(deadlineNs: deadline)
            return nil
        }
        if let r = worker0Report { return r }
        guard let w = core.requestShutdown(deadlineNs: deadline) else { return worker0Report }
        while true {
            if let r = w.wait(untilNs: 0) { return r }
            do {
                // Nobody runs the runtime: run it here until the shutdown is finished.
                try core.runUntil { false }
            } catch {
                if let r = w.wait(untilNs: 0) ?? worker0Report { return r }
                guard case .errno(EBUSY) = error else { throw error }
                // Another thread runs it and finishes the shutdown: wait for that (and
                // look again now and then, in case it stops running it first).
                if let r = w.wait(untilNs: Instant.now().nanoseconds + 20_000_000) { return r }
            }
        }
    }

    /// For a front door whose thread rules forbid driving the runtime from the calling
    /// thread (C: only the owner runs it): begins a graceful shutdown ending at
    /// `deadline` through the loop, and when a thread is running the runtime, waits for
    /// its report until `waitUntil` (monotonic ns). Nil: begun, not finished. Any thread.
    package func requestShutdown(deadline: Instant, waitUntil: Instant) -> ShutdownReport? {
        if let r = shutdownReport { return r }
        if let g = group, let cur = g.currentWorker() {
            // From a task on one of the workers (the C owning-thread rule extended): begin
            // it everywhere and return at once; waiting here would stall this worker's drain.
            cur.beginDrain(deadlineNs: deadline.nanoseconds)
            if cur !== core { _ = core.requestShutdown(deadlineNs: deadline.nanoseconds) }
            _ = g.requestWorkerShutdown(deadlineNs: deadline.nanoseconds, except: cur)
            return nil
        }
        _ = group?.requestWorkerShutdown(deadlineNs: deadline.nanoseconds)
        guard let w = core.requestShutdown(deadlineNs: deadline.nanoseconds) else { return shutdownReport }
        if core.loopThread.load(ordering: .acquiring) == 0 { return nil }  // nobody runs it now
        guard let r = w.wait(untilNs: waitUntil.nanoseconds) else { return nil }
        guard let g = group else { return r }
        // The other workers finish on their own threads: wait for them too (same bound).
        while !g.allWorkersReported && Instant.now().nanoseconds < waitUntil.nanoseconds { usleep(1_000) }
        return shutdownReport
    }

    /// The report of the finished shutdown (graceful or not), nil before. Any thread.
    /// On a multi-thread runtime, the sum over the workers once every worker is shut down.
    public var shutdownReport: ShutdownReport? {
        guard var r = worker0Report else { return nil }
        if let g = group {
            guard g.allWorkersReported else { return nil }
            r.add(g.workerReports())
        }
        return r
    }

    private var worker0Report: ShutdownReport? { core.finalReport.withLock { $0 } }

    /// `true` once a shutdown began (spawns are refused). Any thread.
    public var isStopping: Bool { core.shutdownFlag.load(ordering: .acquiring) }

    /// `true` once shut down.
    public var isShutdown: Bool { core.isShutdown }
}
