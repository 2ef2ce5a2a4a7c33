import Synchronization

/// A value a send could not deliver, handed back with the reason (`.full` from
/// `trySend`, `.closed` when the receiver has gone).
public struct SendError<T: Sendable>: Error {
    /// Why the value was not sent.
    public let reason: SyncError
    /// The value, back to the caller.
    public let value: T

    @usableFromInline init(reason: SyncError, value: T) {
        self.reason = reason
        self.value = value
    }
}

/// The sending half of a bounded channel (`channel(of:capacity:)`). Clone it for more
/// producers (`clone()`); the receiver sees the end once every sender is gone
/// (deinitialised). Any thread, any runtime, also a plain thread (`trySend`).
///
/// `send` waits for room (backpressure, FIFO among waiting senders); `trySend` never
/// waits. Poll style: `pollReserve` then `sendReserved` (one task at a time per
/// `Sender` object; clone one per polling task).
public final class Sender<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: the shared state is thread-safe (ChannelState); `node` is
    // guarded by the semaphore's lock; `reserved` is atomic.
    @usableFromInline let state: ChannelState<T>
    /// The waiter used by `pollReserve` (async sends use one of their own).
    @usableFromInline let node = WaitNode()
    /// A permit taken by `pollReserve` and not yet used by `sendReserved`.
    @usableFromInline let reserved = Atomic<Bool>(false)

    @inlinable init(_ state: ChannelState<T>) {
        self.state = state
        state.senders.wrappingAdd(1, ordering: .relaxed)
    }

    deinit {
        state.slots.cancel(node)
        if reserved.load(ordering: .acquiring) { state.slots.release(1) }
        state.senderGone()
    }

    /// Another sender of the same channel.
    @inlinable public func clone() -> Sender<T> { Sender(state) }

    /// The channel's capacity.
    public var capacity: Int { state.capacity }

    /// Whether the receiver has gone (or closed the channel): sends fail.
    public var isClosed: Bool { state.slots.isClosed }

    /// Hands `value` (meant for or taken from this channel, never delivered) to the
    /// channel's `dropUndelivered` hook: for front doors whose futures hold a value
    /// outside the channel and are dropped (C: eddy_channel_send / _recv futures).
    public func dropUndelivered(_ value: T) { state.dropUndelivered?(value) }

    /// Sends `value` if there is room now. Throws `SendError` with `.full` or `.closed`
    /// (and the value). Never waits, no lock when nobody waits: usable from a plain thread.
    @inlinable public func trySend(_ value: T) throws(SendError<T>) {
        switch state.slots.tryAcquire() {
        case .acquired:
            state.ring.push(value)
            state.receiverWaker.wake()
        case .noPermits: throw SendError(reason: .full, value: value)
        case .closed: throw SendError(reason: .closed, value: value)
        }
    }

    /// Sends `value`, waiting for room (FIFO among waiting senders). Throws `SendError`
    /// (`.closed`, with the value) when the receiver has gone, `CancellationError` when
    /// the task is cancelled while waiting (its place, or a slot it was handed, goes to
    /// the next sender). Any executor.
    nonisolated(nonsending) public func send(_ value: T) async throws {
        switch state.slots.tryAcquire() {
        case .acquired:
            state.ring.push(value)
            state.receiverWaker.wake()
            return
        case .closed: throw SendError(reason: .closed, value: value)
        case .noPermits: break
        }
        do { try await state.slots.acquireSlow() } catch SyncError.closed {
            throw SendError(reason: .closed, value: value)
        }
        state.ring.push(value)
        state.receiverWaker.wake()
    }

    /// Poll style: `.ready(true)` once a slot is reserved for this sender (then call
    /// `sendReserved`), `.ready(false)` when the channel is closed, `.pending` after
    /// queueing `cx`'s waker (FIFO).
    @inlinable public func pollReserve(_ cx: inout Context) -> Poll<Bool> {
        pollReserve(cx.waker)
    }

    /// `pollReserve` with an explicit waker (for front doors that poll outside a task).
    @inlinable public func pollReserve(_ waker: Waker) -> Poll<Bool> {
        if reserved.load(ordering: .acquiring) { return .ready(true) }
        switch state.slots.pollAcquire(node, waker) {
        case .ready(true):
            reserved.store(true, ordering: .releasing)
            return .ready(true)
        case .ready(false): return .ready(false)
        case .pending: return .pending
        }
    }

    /// Sends `value` into the slot `pollReserve` reserved. Throws `SendError`
    /// (`.closed`) when the receiver has gone meanwhile, or (`.full`) when no slot
    /// is reserved.
    @inlinable public func sendReserved(_ value: T) throws(SendError<T>) {
        guard reserved.exchange(false, ordering: .acquiringAndReleasing) else {
            throw SendError(reason: .full, value: value)
        }
        if state.slots.isClosed {
            state.slots.release(1)
            throw SendError(reason: .closed, value: value)
        }
        state.ring.push(value)
        state.receiverWaker.wake()
    }

    /// Gives up a wait started by `pollReserve` (or a reservation not used): the place
    /// or the slot goes to the next sender.
    public func cancelReserve() {
        state.slots.cancel(node)
        if reserved.exchange(false, ordering: .acquiringAndReleasing) { state.slots.release(1) }
    }
}

/// A bounded multi-producer, single-consumer channel holding at most `capacity` (>= 1)
/// values (tokio's `mpsc::channel`). `dropUndelivered` (optional) is called once for
/// each value the channel accepted but nobody received (the receiver dropped, or the
/// channel freed with values inside): where C values are freed.
@inlinable public func channel<T: Sendable>(of type: T.Type = T.self, capacity: Int,
                                 dropUndelivered: (@Sendable (T) -> Void)? = nil) -> (Sender<T>, Receiver<T>) {
    precondition(capacity >= 1 && capacity <= 1 << 30, "channel capacity must be 1 ... 2^30")
    let st = ChannelState<T>(capacity: capacity, dropUndelivered: dropUndelivered)
    return (Sender(st), Receiver(st))
}
