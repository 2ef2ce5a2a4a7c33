import Glibc
/// The core driving the calling thread, for async leaf operations (which must run on
/// an Eddy loop: inside `runtime.blockOn { }` or a task spawned there). Elsewhere (a
/// `Task.detached`, a plain thread) `wrongThread`; a runtime shut down, `shutdown`.
@inline(__always)
func loopCore() throws(EddyError) -> Core {
    guard let c = Core.current, c.isLoopThread else { throw .wrongThread }
    if c.isShutdown { throw .shutdown }
    return c
}

/// Suspends the calling task until `deadline` on the current Eddy runtime's timer heap.
/// A deadline already passed (or a negative duration in `sleep(for:)`) returns at
/// once, like tokio's and asyncio's sleeps. Throws `CancellationError` if the Swift
/// task is cancelled, `EddyError.wrongThread` off an Eddy loop thread,
/// `EddyError.shutdown` once the runtime shuts down.
nonisolated(nonsending) public func sleep(until deadline: Instant) async throws {
    let core = try loopCore()
    if Instant(nanoseconds: core.timers.now()) >= deadline { return }
    let waiter = ContinuationWaiter()
    guard let key = core.timers.arm(deadline: deadline.nanoseconds, waker: Waker(waiter)) else {
        throw EddyError.errno(ENOMEM)  // 16 M timers armed
    }
    defer { core.releaseTimer(key) }
    while Instant(nanoseconds: core.timers.now()) < deadline {
        try await waiter.suspendCancellable(core)
        if core.isShutdown { throw EddyError.shutdown }  // woken by the runtime winding down
    }
}

/// Suspends the calling task for `duration` (see `sleep(until:)`).
nonisolated(nonsending) public func sleep(for duration: Duration) async throws {
    try await sleep(until: Core.clockNow().advanced(by: duration))
}

/// Runs `body`, throwing `EddyError.timedOut` (and cancelling it) if it takes longer
/// than `duration`. Both sides run as child tasks on the current Eddy executor.
nonisolated(nonsending) public func timeout<T: Sendable>(_ duration: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    _ = try loopCore()
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await sleep(for: duration)
            throw EddyError.timedOut
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw EddyError.cancelled }
        return first
    }
}

/// Starts a Swift task on the current Eddy runtime's loop thread.
/// On a thread no Eddy runtime drives the returned task fails with `EddyError.wrongThread`.
@discardableResult
public func spawn<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Task<T, any Error> {
    guard let core = Core.current else {
        return Task { throw EddyError.wrongThread }
    }
    return Task(executorPreference: core.executor) { try await TaskCancelSlot.run(core, body) }
}

extension Runtime {
    /// Starts a Swift task on this runtime's loop thread (any thread may call this). On
    /// a multi-thread runtime: on the calling worker when called from one, else worker 0.
    @discardableResult
    public func spawn<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Task<T, any Error> {
        let core = group?.spawnTarget() ?? self.core
        return Task(executorPreference: core.executor) { try await TaskCancelSlot.run(core, body) }
    }

    /// Starts a Swift task on worker `worker` (0..<`workers`): its jobs run on that
    /// worker's thread, and the sockets and timers it makes there register with that
    /// worker's driver. Any thread. A worker out of range throws `EddyError.invalidArgument`.
    @discardableResult
    public func spawn<T: Sendable>(onWorker worker: Int,
                                   _ body: @escaping @Sendable () async throws -> T) throws(EddyError) -> Task<T, any Error> {
        guard worker >= 0 && worker < workers else { throw .invalidArgument }
        let core = group?.cores[worker] ?? self.core
        return Task(executorPreference: core.executor) { try await TaskCancelSlot.run(core, body) }
    }
}
