/// A broadcast channel (tokio's `broadcast`): every value sent reaches every receiver
/// subscribed at the time. It keeps the last `capacity` values; a receiver that falls
/// further behind is told how many it missed (`BroadcastReceive.lagged(n)`) and goes on
/// from the oldest value still kept. The sender never waits.
///
/// Any thread, any runtime. A lock per send and per receive (values are copied to each
/// receiver): meant for fan-out of events, not for a per-byte path.
public final class BroadcastSender<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: all state is inside the shared `BroadcastState`'s lock.
    let state: BroadcastState<T>
    init(_ state: BroadcastState<T>) {
        self.state = state
        state.lock.withLock { $0.senders += 1 }
    }
    deinit {
        state.lock.withLock { st in
            st.senders -= 1
            if st.senders == 0 { st.wakeAll() }
        }
    }

    /// Another sender of the same channel.
    public func clone() -> BroadcastSender<T> { BroadcastSender(state) }

    /// A new receiver that sees the values sent from now on.
    public func subscribe() -> BroadcastReceiver<T> { BroadcastReceiver(state) }

    /// Sends `value` to every current receiver; returns how many there are (0: nobody
    /// listens; the value is kept all the same and reaches receivers cloned by
    /// `resubscribe` from an older position).
    @discardableResult
    public func send(_ value: T) -> Int {
        // The superseded value is released after the lock: its deinit may run foreign code
        // (the C front door's drop function).
        let (n, old) = state.lock.withLock { st -> (Int, T?) in
            let i = st.sent % st.buffer.count
            let old = st.buffer[i]
            st.buffer[i] = value
            st.sent += 1
            st.wakeAll()
            return (st.receivers, old)
        }
        withExtendedLifetime(old) {}
        return n
    }
}

/// What a broadcast receive got.
public enum BroadcastReceive<T: Sendable>: Sendable {
    /// The next value.
    case value(T)
    /// This receiver fell behind and missed this many values; receiving again gives
    /// the oldest value still kept.
    case lagged(Int)
    /// Every sender is gone and this receiver has seen everything.
    case closed
}

extension BroadcastReceive: Equatable where T: Equatable {}

/// The receiving side of a broadcast channel: each one has its own position.
public final class BroadcastReceiver<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `next` and `node` are only touched under the state's lock.
    let state: BroadcastState<T>
    var next: Int
    let node = WaitNode()

    init(_ state: BroadcastState<T>) {
        self.state = state
        next = state.lock.withLock { st in
            st.receivers += 1
            return st.sent
        }
    }
    deinit {
        state.lock.withLock { st in
            st.waiters.remove(node)
            st.receivers -= 1
        }
    }

    /// Another receiver at the same position.
    public func resubscribe() -> BroadcastReceiver<T> {
        let r = BroadcastReceiver(state)
        state.lock.withLock { _ in r.next = next }
        return r
    }

    /// Receives now: `nil` when nothing new has been sent yet.
    public func tryReceive() -> BroadcastReceive<T>? {
        state.lock.withLock { st in take(&st) }
    }

    /// Under the lock.
    func take(_ st: inout BroadcastState<T>.Shared) -> BroadcastReceive<T>? {
        let oldest = max(0, st.sent - st.buffer.count)
        if next < oldest {
            let missed = oldest - next
            next = oldest
            return .lagged(missed)
        }
        if next < st.sent {
            let v = st.buffer[next % st.buffer.count]!
            next += 1
            return .value(v)
        }
        return st.senders == 0 ? .closed : nil
    }

    /// Poll style: `.ready(...)` or `.pending` after queueing `waker`.
    public func pollReceive(_ waker: Waker) -> Poll<BroadcastReceive<T>> {
        state.lock.withLock { st -> Poll<BroadcastReceive<T>> in
            if let r = take(&st) {
                st.waiters.remove(node)
                return .ready(r)
            }
            node.waker = waker
            if !node.linked { st.waiters.pushBack(node) }
            return .pending
        }
    }

    /// Waits for the next value (or `.lagged`, `.closed`). Throws `CancellationError`.
    nonisolated(nonsending) public func receive() async throws -> BroadcastReceive<T> {
        let w = ContinuationWaiter()
        let waker = Waker(w)
        while true {
            if case .ready(let r) = pollReceive(waker) { return r }
            if await parkCancellable(w) {
                state.lock.withLock { st in _ = st.waiters.remove(node) }
                throw CancellationError()
            }
        }
    }
}

/// The shared state of a broadcast channel.
final class BroadcastState<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: everything is inside `lock`.
    struct Shared {
        var buffer: [T?]
        var sent = 0
        var senders = 0
        var receivers = 0
        var waiters = WaiterList()

        mutating func wakeAll() {
            while let n = waiters.popFront() { n.waker?.wake() }
        }
    }
    let lock: PosixMutex<Shared>
    init(capacity: Int) { lock = PosixMutex(Shared(buffer: Array(repeating: nil, count: capacity))) }
}

/// A broadcast channel keeping the last `capacity` (>= 1) values, and its first receiver.
public func broadcast<T: Sendable>(of type: T.Type = T.self, capacity: Int) -> (BroadcastSender<T>, BroadcastReceiver<T>) {
    precondition(capacity >= 1 && capacity <= 1 << 24, "broadcast capacity must be 1 ... 2^24")
    let st = BroadcastState<T>(capacity: capacity)
    let tx = BroadcastSender(st)
    return (tx, tx.subscribe())
}
