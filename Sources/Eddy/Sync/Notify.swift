/// Wakes waiting tasks without passing data (tokio's `Notify`; asyncio's `Event`
/// is `notifyWaiters` plus a flag). `notifyOne` wakes the oldest waiter, or stores
/// one permit that the next `notified()` consumes at once; `notifyWaiters` wakes
/// every task waiting now and stores nothing. A waiter cancelled after it was
/// notified by `notifyOne` passes the notification on (nothing is lost).
///
/// Any thread; waiters of any runtime. A lock per notify (notification is not a
/// per-value hot path); waiting allocates one node.
public final class Notify: @unchecked Sendable {
    // @unchecked Sendable: all state is inside `lock`.
    struct State {
        var waiters = WaiterList()
        var permit = false
    }
    let lock = PosixMutex(State())

    /// A Notify with no stored permit.
    public init() {}

    /// Wakes the oldest waiter, or stores a permit if nobody waits.
    public func notifyOne() {
        lock.withLock { st in
            if let n = st.waiters.popFront() {
                n.granted = true
                n.waker?.wake()
            } else {
                st.permit = true
            }
        }
    }

    /// Wakes every task waiting now (no permit is stored).
    public func notifyWaiters() {
        lock.withLock { st in
            while let n = st.waiters.popFront() {
                n.granted = true
                n.waker?.wake()
            }
        }
    }

    /// Number of waiting tasks (diagnostics, tests).
    public var waiterCount: Int { lock.withLock { $0.waiters.count } }

    /// Poll style with a node the caller keeps: `.ready(())` once notified (or a
    /// stored permit was taken), `.pending` after queueing `node` with `waker`.
    public func pollNotified(_ node: WaitNode, _ waker: Waker) -> Poll<Void> {
        lock.withLock { st -> Poll<Void> in
            if node.granted {
                node.granted = false
                node.waiting.store(false, ordering: .relaxed)
                return .ready(())
            }
            if node.linked {
                if let w = node.waker, w.willWake(waker) {} else { node.waker = waker }
                return .pending
            }
            if st.permit {
                st.permit = false
                return .ready(())
            }
            node.waker = waker
            node.waiting.store(true, ordering: .relaxed)
            st.waiters.pushBack(node)
            return .pending
        }
    }

    /// Withdraws `node`; a notification it received but did not consume goes to the
    /// next waiter (or back as the permit).
    public func cancel(_ node: WaitNode) {
        let had = lock.withLock { st -> Bool in
            st.waiters.remove(node)
            node.waker = nil
            node.waiting.store(false, ordering: .relaxed)
            let g = node.granted
            node.granted = false
            return g
        }
        if had { notifyOne() }
    }

    /// Waits for a notification. Throws `CancellationError` (a notification that
    /// arrived meanwhile is passed on). Any executor.
    nonisolated(nonsending) public func notified() async throws {
        let w = ContinuationWaiter()
        let node = WaitNode()
        let waker = Waker(w)
        while true {
            if case .ready = pollNotified(node, waker) { return }
            if await parkCancellable(w) {
                cancel(node)
                throw CancellationError()
            }
        }
    }
}
