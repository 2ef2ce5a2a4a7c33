/// A watch channel (tokio's `watch`): one current value, replaced by the sender;
/// receivers read the latest (`value`) and wait for the next change (`changed()`).
/// Intermediate values a receiver did not look at are skipped, by design.
/// Any thread, any runtime; a lock per send and per read.
public final class WatchSender<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: all state is inside the shared lock.
    let state: WatchState<T>
    init(_ state: WatchState<T>) { self.state = state }
    deinit {
        state.lock.withLock { st in
            st.senderGone = true
            st.wakeAll()
        }
    }

    /// Replaces the value and wakes every receiver waiting in `changed()`.
    public func send(_ value: T) {
        // The superseded value is released after the lock (its deinit may run foreign code).
        let old = state.lock.withLock { st -> T in
            let old = st.value
            st.value = value
            st.version += 1
            st.wakeAll()
            return old
        }
        withExtendedLifetime(old) {}
    }

    /// A new receiver (it has seen the current value).
    public func subscribe() -> WatchReceiver<T> { WatchReceiver(state) }

    /// The current value.
    public var value: T { state.lock.withLock { $0.value } }
}

/// A receiver of a watch channel.
public final class WatchReceiver<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `seen` and `node` are only touched under the state's lock.
    let state: WatchState<T>
    var seen: Int
    let node = WaitNode()

    init(_ state: WatchState<T>) {
        self.state = state
        seen = state.lock.withLock { $0.version }
    }
    deinit { state.lock.withLock { st in _ = st.waiters.remove(node) } }

    /// The latest value, marked as seen.
    public var value: T {
        state.lock.withLock { st in
            seen = st.version
            return st.value
        }
    }

    /// Whether a value was sent since this receiver last read one.
    public var hasChanged: Bool { state.lock.withLock { st in st.version != seen } }

    /// Poll style: `.ready(true)` when changed since the last read, `.ready(false)` when
    /// the sender is gone (no change will come), `.pending` after queueing `waker`.
    public func pollChanged(_ waker: Waker) -> Poll<Bool> {
        state.lock.withLock { st -> Poll<Bool> in
            if st.version != seen {
                st.waiters.remove(node)
                return .ready(true)
            }
            if st.senderGone { return .ready(false) }
            node.waker = waker
            if !node.linked { st.waiters.pushBack(node) }
            return .pending
        }
    }

    /// Waits until the value changes (read it with `value`). Throws `SyncError.closed`
    /// once the sender is gone, `CancellationError`.
    nonisolated(nonsending) public func changed() async throws {
        let w = ContinuationWaiter()
        let waker = Waker(w)
        while true {
            if case .ready(let changed) = pollChanged(waker) {
                if changed { return }
                throw SyncError.closed
            }
            if await parkCancellable(w) {
                state.lock.withLock { st in _ = st.waiters.remove(node) }
                throw CancellationError()
            }
        }
    }
}

/// The shared state of a watch channel.
final class WatchState<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: everything is inside `lock`.
    struct Shared {
        var value: T
        var version = 0
        var senderGone = false
        var waiters = WaiterList()
        mutating func wakeAll() {
            while let n = waiters.popFront() { n.waker?.wake() }
        }
    }
    let lock: PosixMutex<Shared>
    init(_ value: T) { lock = PosixMutex(Shared(value: value)) }
}

/// A watch channel holding `initial`, and its first receiver.
public func watch<T: Sendable>(_ initial: T) -> (WatchSender<T>, WatchReceiver<T>) {
    let st = WatchState(initial)
    let tx = WatchSender(st)
    return (tx, tx.subscribe())
}
