import Synchronization

/// What a oneshot's state stores its value in: `T?`, the only conformance. The state is
/// generic over this slot type rather than over `T`: its deinit (generic code, never
/// specialised) then destroys a field whose type is the class's own generic argument,
/// without asking the runtime for `Optional<T>`'s metadata on every channel (a hashed
/// look-up, ~325 instructions; docs/PERFORMANCE-LOG.md).
@usableFromInline
protocol OneshotValueSlot {
    associatedtype Wrapped
    static var none: Self { get }
    mutating func take() -> Wrapped?
}

extension Optional: OneshotValueSlot {}

/// The bits of a oneshot's state word (see `OneshotState`). Not members of the generic
/// class: the ends' deinits run unspecialised, and a static of `OneshotState<T?>` there
/// would make them look up that class's metadata.
@usableFromInline
enum OneshotBits {
    @usableFromInline static var sent: UInt32 { 1 }
    @usableFromInline static var senderGone: UInt32 { 2 }
    @usableFromInline static var receiverGone: UInt32 { 4 }
    @usableFromInline static var taken: UInt32 { 8 }
}

/// The state of a oneshot channel: one value cell, a state word, the receiver's waker.
///
/// State bits (one atomic word; whoever sets a bit second handles the value):
/// `sent` (the sender stored the value), `senderGone` (dropped without sending),
/// `receiverGone` (dropped or closed), `taken` (the receiver took the value).
///
/// The hot paths of both ends are `@inlinable`: callers (EddyC, user modules) then run them
/// specialised for their `T`, without generic metadata look-ups (docs/PERFORMANCE-LOG.md).
@usableFromInline
final class OneshotState<V: OneshotValueSlot>: AtomicWaker, @unchecked Sendable {
    // @unchecked Sendable: `value` is written by the sender before it sets `sent`
    // (release) and read by whoever wins the word afterwards (the receiver, `taken`; or
    // the dropping side); never both.
    @usableFromInline let word = Atomic<UInt32>(0)
    /// The value (`T?`).
    @exclusivity(unchecked) @usableFromInline var value: V
    /// The receiver's waker: this object itself (one allocation fewer per oneshot).
    @inlinable var receiverWaker: AtomicWaker { self }
    @usableFromInline let dropUndelivered: (@Sendable (V.Wrapped) -> Void)?

    @inlinable init(dropUndelivered: (@Sendable (V.Wrapped) -> Void)?) {
        self.dropUndelivered = dropUndelivered
        value = .none
        super.init()
    }

    /// Releases a value sent and never received. Out of line on purpose: the receiver's
    /// deinit runs `close` unspecialised, and there the `T?` metadata look-up (~325
    /// instructions) would be paid on every close, not only on this rare path.
    @usableFromInline @inline(never) func releaseUndelivered() {
        if let v = value.take() { dropUndelivered?(v) }
    }

    /// Sets `bits`; returns the previous word.
    @inlinable @inline(__always) func set(_ bits: UInt32) -> UInt32 {
        word.bitwiseOr(bits, ordering: .acquiringAndReleasing).oldValue
    }
}

/// The sending half of a oneshot channel (`oneshot(of:)`): sends one value, once.
/// Dropping it unsent ends the receiver's wait with "closed". Any thread.
public final class OneshotSender<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: state is the atomic word of OneshotState.
    @usableFromInline let state: OneshotState<T?>
    @inlinable init(_ state: OneshotState<T?>) { self.state = state }

    deinit {
        let old = state.set(OneshotBits.senderGone)
        if old & OneshotBits.sent == 0 { state.receiverWaker.wake() }
    }

    /// Whether the receiver has gone (a send would fail).
    public var isClosed: Bool { state.word.load(ordering: .acquiring) & OneshotBits.receiverGone != 0 }

    /// Hands `value` (meant for or taken from this channel, never delivered) to the
    /// channel's `dropUndelivered` hook: for front doors whose futures hold a value
    /// outside the channel and are dropped (C: eddy_channel_send / _recv futures).
    public func dropUndelivered(_ value: T) { state.dropUndelivered?(value) }

    /// Sends `value`. Throws `SendError` (`.closed`, with the value) when the receiver
    /// has gone or a value was already sent. Never waits.
    @inlinable public func send(_ value: T) throws(SendError<T>) {
        let w = state.word.load(ordering: .acquiring)
        if w & (OneshotBits.sent | OneshotBits.receiverGone) != 0 {
            throw SendError(reason: .closed, value: value)
        }
        // Claim the cell: a second concurrent send loses this CAS.
        guard state.word.compareExchange(expected: w, desired: w | OneshotBits.taken, ordering: .acquiringAndReleasing).exchanged else {
            throw SendError(reason: .closed, value: value)
        }
        state.value = value
        // Publish: clear the claim, set `sent`. If the receiver left meanwhile, take it back.
        let old = state.word.bitwiseXor(OneshotBits.taken | OneshotBits.sent, ordering: .acquiringAndReleasing).oldValue
        if old & OneshotBits.receiverGone != 0 {
            let v = state.value.take()!
            throw SendError(reason: .closed, value: v)
        }
        state.receiverWaker.wake()
    }
}

/// The receiving half of a oneshot channel. Receives the value once; a second receive
/// fails with `SyncError.alreadyReceived`; a sender dropped unsent gives `.closed`.
/// Dropping it releases a value sent but not received (`dropUndelivered`).
public final class OneshotReceiver<T: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: state is the atomic word of OneshotState.
    @usableFromInline let state: OneshotState<T?>
    @inlinable init(_ state: OneshotState<T?>) { self.state = state }

    deinit { close() }

    /// Refuses the value from now on (the sender's `send` fails); a value already
    /// sent and not received is released. Idempotent.
    @inlinable public func close() {
        let old = state.set(OneshotBits.receiverGone)
        if old & (OneshotBits.sent | OneshotBits.taken | OneshotBits.receiverGone) == OneshotBits.sent {
            // Sent, never taken: this side releases it (the sender finished with the cell).
            state.releaseUndelivered()
        }
    }

    /// Hands `value` (meant for or taken from this channel, never delivered) to the
    /// channel's `dropUndelivered` hook: for front doors whose futures hold a value
    /// outside the channel and are dropped (C: eddy_channel_send / _recv futures).
    public func dropUndelivered(_ value: T) { state.dropUndelivered?(value) }

    /// Takes the value now: `SyncError.empty` (not sent yet), `.closed` (sender gone
    /// unsent, or this receiver closed), `.alreadyReceived`.
    @inlinable public func tryReceive() throws(SyncError) -> T {
        let old = state.word.load(ordering: .acquiring)
        if old & OneshotBits.sent != 0 {
            if old & OneshotBits.receiverGone != 0 { throw .closed }
            let prev = state.set(OneshotBits.taken)
            if prev & OneshotBits.taken != 0 { throw .alreadyReceived }
            return state.value.take()!
        }
        if old & (OneshotBits.senderGone | OneshotBits.receiverGone) != 0 { throw .closed }
        throw .empty
    }

    /// Poll style: `.ready(.success(value))`, `.ready(.failure(...))` (`.closed`,
    /// `.alreadyReceived`), or `.pending` after storing the waker.
    @inlinable public func pollReceive(_ waker: Waker) -> Poll<Result<T, SyncError>> {
        do { return .ready(.success(try tryReceive())) } catch .empty {} catch { return .ready(.failure(error)) }
        state.receiverWaker.register(waker)
        do { return .ready(.success(try tryReceive())) } catch .empty {} catch { return .ready(.failure(error)) }
        return .pending
    }

    /// `pollReceive` with the polled task's waker.
    @inlinable public func pollReceive(_ cx: inout Context) -> Poll<Result<T, SyncError>> { pollReceive(cx.waker) }

    /// Waits for the value. Throws `SyncError.closed` (sender dropped unsent),
    /// `.alreadyReceived`, or `CancellationError`. Any executor.
    nonisolated(nonsending) public func receive() async throws -> T {
        let w = ContinuationWaiter()
        let waker = Waker(w)
        while true {
            if case .ready(let r) = pollReceive(waker) { return try r.get() }
            if await parkCancellable(w) { throw CancellationError() }
        }
    }
}

/// A oneshot channel: one value from one sender to one receiver (tokio's `oneshot`).
/// `dropUndelivered` is called once for a value sent but never received.
@inlinable public func oneshot<T: Sendable>(of type: T.Type = T.self,
                                 dropUndelivered: (@Sendable (T) -> Void)? = nil) -> (OneshotSender<T>, OneshotReceiver<T>) {
    let st = OneshotState<T?>(dropUndelivered: dropUndelivered)
    return (OneshotSender(st), OneshotReceiver(st))
}
