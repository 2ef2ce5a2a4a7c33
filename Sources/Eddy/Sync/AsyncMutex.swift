/// An async mutual-exclusion lock (tokio's `Mutex`, asyncio's `Lock`): FIFO, not
/// reentrant, held across `await`s. A one-permit `Semaphore`: uncontended lock and
/// unlock are one CAS each, no lock of its own. A waiter cancelled after the lock
/// was handed to it hands it on. `unlock()` of a mutex nobody holds throws
/// `SyncError.notHeld` (never a crash, never a second holder).
///
/// Guards `value`, reached through `withLock`. Any thread, any runtime.
public final class AsyncMutex<Value>: @unchecked Sendable {
    // @unchecked Sendable: `value` is reached only while holding the lock (`withLock`,
    // or between `lock()` and `unlock()` through `withLockedValue`'s contract).
    let permits = Semaphore(permits: 1)
    var value: Value

    /// A mutex guarding `value`.
    public init(_ value: Value) { self.value = value }

    /// Whether someone holds the lock (racy: diagnostics).
    public var isLocked: Bool { permits.availablePermits == 0 }

    /// Takes the lock if it is free and nobody waits.
    public func tryLock() -> Bool { permits.tryAcquire() == .acquired }

    /// Waits for the lock (FIFO). Throws `CancellationError`.
    nonisolated(nonsending) public func lock() async throws { try await permits.acquire() }

    /// Poll style (see `Semaphore.pollAcquire`): `.ready(())` with the lock.
    public func pollLock(_ node: WaitNode, _ waker: Waker) -> Poll<Void> {
        permits.pollAcquire(node, waker).isReady ? .ready(()) : .pending
    }

    /// Withdraws a poll-style wait (a lock handed to it goes to the next waiter).
    public func cancel(_ node: WaitNode) { permits.cancel(node) }

    /// Releases the lock: to the oldest waiter if any. Throws `SyncError.notHeld`
    /// when the mutex is not locked.
    public func unlock() throws(SyncError) {
        guard permits.release(bound: 1) else { throw .notHeld }
    }

    /// Runs `body` with the guarded value while holding the lock.
    nonisolated(nonsending) public func withLock<R>(_ body: (inout Value) async throws -> R) async throws -> R {
        try await lock()
        defer { try? unlock() }
        return try await body(&value)
    }
}

extension AsyncMutex where Value == Void {
    /// A mutex guarding nothing (a plain lock).
    public convenience init() { self.init(()) }
}
