/// A condition variable for `AsyncMutex` (asyncio's `Condition`): `wait(_:)`
/// atomically queues the task and releases the mutex, waits for `notify`, and
/// re-acquires the mutex before returning, also when cancelled (then it throws
/// `CancellationError` holding the mutex, and a notification it received goes to
/// the next waiter). FIFO. Any thread, any runtime.
public final class Condition: @unchecked Sendable {
    // @unchecked Sendable: the waiter list is inside `lock`.
    let lock = PosixMutex(WaiterList())

    /// A condition with no waiters.
    public init() {}

    /// Waiting tasks (diagnostics, tests).
    public var waiterCount: Int { lock.withLock { $0.count } }

    /// Wakes the `n` oldest waiters.
    public func notify(_ n: Int = 1) {
        lock.withLock { list in
            var left = n
            while left > 0, let node = list.popFront() {
                node.granted = true
                node.waker?.wake()
                left -= 1
            }
        }
    }

    /// Wakes every waiter.
    public func notifyAll() { notify(Int.max) }

    // Poll style (the C front door's condition): enqueue, release the mutex yourself,
    // poll until notified, re-acquire the mutex yourself.

    /// Queues `node` (unlinked) with `waker`, before the caller releases its mutex.
    public func enqueue(_ node: WaitNode, _ waker: Waker) {
        lock.withLock { list in
            node.granted = false
            node.waker = waker
            list.pushBack(node)
        }
    }

    /// `.ready(())` once `node` was notified (consumed), else `.pending` with `waker` stored.
    public func pollNotified(_ node: WaitNode, _ waker: Waker) -> Poll<Void> {
        lock.withLock { _ -> Poll<Void> in
            if node.granted {
                node.granted = false
                return .ready(())
            }
            if let w = node.waker, w.willWake(waker) {} else { node.waker = waker }
            return .pending
        }
    }

    /// Withdraws `node`; a notification it received and did not consume goes to the next waiter.
    public func cancel(_ node: WaitNode) {
        let had = lock.withLock { list -> Bool in
            list.remove(node)
            node.waker = nil
            let g = node.granted
            node.granted = false
            return g
        }
        if had { notify(1) }
    }

    /// Releases `mutex` (which the caller must hold: `SyncError.notHeld` otherwise),
    /// waits for a notification, re-acquires `mutex`.
    nonisolated(nonsending) public func wait<V>(_ mutex: AsyncMutex<V>) async throws {
        let w = ContinuationWaiter()
        let node = WaitNode()
        node.waker = Waker(w)
        lock.withLock { $0.pushBack(node) }  // queued before the unlock: no lost notify
        do {
            try mutex.unlock()
        } catch {
            lock.withLock { _ = $0.remove(node) }
            throw error
        }
        var cancelled = false
        while !lock.withLock({ _ in node.granted }) {
            if await parkCancellable(w) {
                cancelled = true
                let had = lock.withLock { list -> Bool in
                    list.remove(node)
                    return node.granted
                }
                if had { notify(1) }  // pass the notification on
                break
            }
        }
        // Re-acquire whatever happened (a cancelled task too), as asyncio does.
        while true {
            do {
                try await mutex.lock()
                break
            } catch {
                cancelled = true
                // Cancelled again: wait uncancellably for the lock.
                let n2 = WaitNode()
                let w2 = ContinuationWaiter()
                while case .pending = mutex.pollLock(n2, Waker(w2)) { await w2.suspend() }
                break
            }
        }
        if cancelled { throw CancellationError() }
    }
}
