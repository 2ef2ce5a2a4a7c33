/// A future that completes at a deadline. Arms a timer on its first poll (with the
/// polling runtime); dropping it disarms the timer (O(log n)).
public final class Sleep: Future, @unchecked Sendable {
    // @unchecked Sendable: `key`/`core` are touched only by `poll` and deinit, i.e. by the
    // one task that owns the future (a future is polled by one task at a time). A poll from
    // another runtime is detected (`cx.isPolledBy`) and re-arms there; the timer is released
    // through `Core.releaseTimer`, which queues the release when called off the loop thread.
    /// When the sleep completes.
    public let deadline: Instant
    private var key: TimerKey?
    /// The runtime whose heap holds the timer (kept alive until the timer is released).
    private var core: Core?

    /// Completes `duration` from now (a negative duration: at once, like a deadline
    /// that has passed; huge ones saturate to "never"). "Now" is the clock of the runtime
    /// driving the calling thread (`clockNow()`: it may be paused).
    public convenience init(for duration: Duration) { self.init(until: Core.clockNow().advanced(by: duration)) }

    /// Completes at `deadline` (at once if it has passed).
    public init(until deadline: Instant) { self.deadline = deadline }

    deinit { disarm() }

    /// Ready once the deadline has passed; otherwise arms (or keeps) the timer with
    /// `cx.waker`.
    public func poll(_ cx: inout Context) -> Poll<Void> {
        if cx.core.timers.now() >= deadline.nanoseconds {
            disarm()
            return .ready(())
        }
        if let key, let c = core, cx.isPolledBy(c), c.timers.isArmed(key) {
            c.timers.update(key, waker: &cx)
            return .pending
        }
        disarm()
        guard let k = cx.core.timers.arm(deadline: deadline.nanoseconds, waker: cx.waker) else {
            return .pending  // slab exhausted (16 M timers): stays pending, as an unarmed sleep would
        }
        key = k
        core = cx.core
        return .pending
    }

    /// Releases the timer, if armed.
    private func disarm() {
        if let key, let c = core { c.releaseTimer(key) }
        key = nil
        core = nil
    }
}

/// Runs `future` with a deadline: `.success(output)` or `.failure(.timedOut)`.
public struct Timeout<F: Future>: Future {
    @usableFromInline var future: F
    @usableFromInline let sleep: Sleep

    /// Fails with `EddyError.timedOut` unless `future` finishes within `duration`.
    public init(_ future: F, after duration: Duration) {
        self.future = future
        sleep = Sleep(for: duration)
    }

    /// Fails with `EddyError.timedOut` unless `future` finishes by `deadline`.
    public init(_ future: F, deadline: Instant) {
        self.future = future
        sleep = Sleep(until: deadline)
    }

    /// Polls the inner future first, then the deadline.
    public mutating func poll(_ cx: inout Context) -> Poll<Result<F.Output, EddyError>> {
        if case .ready(let v) = future.poll(&cx) { return .ready(.success(v)) }
        if case .ready = sleep.poll(&cx) { return .ready(.failure(.timedOut)) }
        return .pending
    }
}

