import Synchronization

/// The receiving half of a bounded channel. Receives in send order; sees the end
/// (`nil`) once every sender is gone and nothing is left. Dropping it closes the
/// channel: senders then fail with `.closed`, and values still queued are released
/// (`dropUndelivered`). Meant for one consumer at a time (concurrent receives are
/// safe, but the waker slot is single: one of them may wait until the next send).
public final class Receiver<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: all state is the thread-safe ChannelState.
    @usableFromInline let state: ChannelState<T>

    @inlinable init(_ state: ChannelState<T>) { self.state = state }

    deinit {
        state.slots.close()
        state.drain()
    }

    /// Values queued now (racy).
    public var count: Int { state.ring.count }

    /// The channel's capacity.
    public var capacity: Int { state.capacity }

    /// Closes the channel for senders (they fail with `.closed` from now on, waiting
    /// ones are woken); values already queued can still be received.
    public func close() { state.slots.close() }

    /// Hands `value` (meant for or taken from this channel, never delivered) to the
    /// channel's `dropUndelivered` hook: for front doors whose futures hold a value
    /// outside the channel and are dropped (C: eddy_channel_send / _recv futures).
    public func dropUndelivered(_ value: T) { state.dropUndelivered?(value) }

    /// Takes a value now. Throws `SyncError.empty` (senders remain) or `.closed`
    /// (every sender gone and nothing left). No lock.
    @inlinable public func tryReceive() throws(SyncError) -> T {
        if let v = take() { return v }
        if state.senders.load(ordering: .acquiring) == 0 || state.slots.isClosed {
            if let v = take() { return v }
            throw .closed
        }
        throw .empty
    }

    @inlinable @inline(__always) func take() -> T? {
        guard let v = state.ring.pop() else { return nil }
        state.slots.release(1)
        return v
    }

    /// Poll style: `.ready(value)`, `.ready(nil)` at the end, or `.pending` after
    /// storing `cx`'s waker (woken by the next send or the last sender's drop).
    @inlinable public func pollReceive(_ cx: inout Context) -> Poll<T?> { pollReceive(cx.waker) }

    /// `pollReceive` with an explicit waker.
    @inlinable public func pollReceive(_ waker: Waker) -> Poll<T?> {
        if let v = take() { return .ready(v) }
        if let end = endOrValue() { return end }
        state.receiverWaker.register(waker)
        if let v = take() { return .ready(v) }
        if let end = endOrValue() { return end }
        return .pending
    }

    /// When no sender remains (or the channel is closed and empty): the end, or a
    /// value published just before the last sender left.
    @inlinable @inline(__always) func endOrValue() -> Poll<T?>? {
        let noSenders = state.senders.load(ordering: .acquiring) == 0
        guard noSenders || state.slots.isClosed else { return nil }
        if let v = take() { return .ready(v) }
        // Closed by the receiver but senders remain: a sender holding a reserved slot
        // may still deliver; the end is reported once nothing can arrive.
        return noSenders || state.slots.availablePermits == state.capacity ? .ready(nil) : nil
    }

    /// Receives the next value, waiting for one; `nil` once every sender is gone and
    /// nothing is left. Throws `CancellationError` if the task is cancelled while
    /// waiting (nothing is lost: a value stays queued). Any executor.
    nonisolated(nonsending) public func receive() async throws -> T? {
        if let v = take() { return v }
        let w = ContinuationWaiter()
        let waker = Waker(w)
        while true {
            if case .ready(let v) = pollReceive(waker) { return v }
            if await parkCancellable(w) { throw CancellationError() }
        }
    }
}

extension Receiver: AsyncSequence {
    /// Iterates the values until the end of the channel (a cancelled task ends early).
    public struct AsyncIterator: AsyncIteratorProtocol {
        let receiver: Receiver<T>
        /// The next value, or nil at the end (or on cancellation).
        public mutating func next() async -> T? { try? await receiver.receive() }
    }
    /// `for await value in receiver`.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(receiver: self) }
}
