import CEddySys
import Glibc

/// What `Runtime.shutdown()` had to clean up.
public struct ShutdownReport: Sendable, Equatable {
    /// Tasks that had not finished and were dropped.
    public var tasksDropped: Int
    /// Descriptors still registered that were closed.
    public var descriptorsClosed: Int
}

/// A current-thread Eddy runtime: a driver (epoll or io_uring readiness, and timers) and an executor,
/// driven by whichever thread calls `blockOn`/`run`.
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
        /// The kernel interface (replace in tests to inject faults; the io_uring driver
        /// waits through its ring, not through `epollWait`).
        public var sys: SysCalls = .system
        /// The driver: `.epoll` or `.ioUring`; nil (the default) reads the environment
        /// variable `EDDY_DRIVER` (`epoll` or `io_uring`; epoll when unset, EINVAL for any
        /// other value). A runtime asked for io_uring where the kernel or its policy
        /// refuses it runs on epoll: see `Runtime.driver` and `Runtime.driverFallback`.
        public var driver: DriverKind? = nil
        /// The defaults listed on each property.
        public init() {}
    }

    @usableFromInline let core: Core

    /// Creates a runtime (an epoll instance and an eventfd). A count of `configuration`
    /// out of its range throws `EddyError.invalidArgument` (EINVAL).
    public init(_ configuration: Configuration = .init()) throws(EddyError) {
        guard (1...1024).contains(configuration.eventBatch), configuration.taskBudget >= 1,
              configuration.operationBudget >= 1 else { throw .invalidArgument }
        let sys = Sys(calls: configuration.sys)
        core = Core(config: configuration, sys: sys, driver: try PlatformDriver(config: configuration, sys: sys))
        core.runtime = self
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
        // Jobs that run during shutdown must not reach this half-destroyed object.
        core.runtime = nil
        _ = core.shutdown()
    }

    /// The runtime driving the calling thread (inside `blockOn`/`run`), if any.
    public static var current: Runtime? { Core.current?.runtime }

    /// Spawns a poll-style future as a task. Any thread; the task runs on the loop thread.
    /// Dropping the returned handle detaches the task.
    @discardableResult @inlinable
    public func spawn<F: Future>(_ future: F) -> JoinHandle<F.Output> {
        let cell = TaskCell(core: core, future: future)
        core.spawnTask(cell)
        return JoinHandle(cell)
    }

    /// Runs the loop until `future` completes and returns its output.
    public func blockOn<F: Future>(_ future: F) throws(EddyError) -> F.Output {
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

    /// Runs until no spawned task remains.
    public func run() throws(EddyError) {
        try core.runUntil { core.liveTasks == 0 && core.local.isEmpty && !core.hasRemoteWork && core.jobs.isEmpty }
    }

    /// Number of tasks spawned and not finished (loop's view).
    public var liveTasks: Int { core.liveTasks }

    /// `true` while a thread drives this runtime.
    public var isRunning: Bool { core.isRunning }

    /// Drops every task and closes every descriptor this runtime owns; idempotent.
    /// Refused (`EBUSY`) from inside the runtime's own loop.
    @discardableResult
    public func shutdown() throws(EddyError) -> ShutdownReport {
        if core.isRunning { throw .errno(EBUSY) }
        return core.shutdown()
    }

    /// `true` once shut down.
    public var isShutdown: Bool { core.isShutdown }
}
