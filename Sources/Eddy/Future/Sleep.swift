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
    /// that has passed; huge ones saturate to "never").
    public convenience init(for duration: Duration) { self.init(until: Instant.now().advanced(by: duration)) }

    /// Completes at `deadline` (at once if it has passed).
    public init(until deadline: Instant) { self.deadline = deadline }

    deinit { disarm() }

    /// Ready once the deadline has passed; otherwise arms (or keeps) the timer with
    /// `cx.waker`.
    public func poll(_ cx: inout Context) -> Poll<Void> {
        if Instant.now() >= deadline {
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

/// Ticks at a fixed period; a late tick does not shift later ones (missed ticks fire
/// at once, like tokio's `MissedTickBehavior::Burst`).
public final class Interval: @unchecked Sendable {
    // @unchecked Sendable: as `Sleep`: `next`/`sleep` are touched only by the one task that
    // owns and polls (or awaits) the interval.
    /// Time between ticks.
    public let period: Duration
    private var next: Instant
    private var sleep: Sleep

    /// First tick after one `period`. A period that is not positive throws
    /// `EddyError.invalidArgument` (EINVAL): it would tick without end.
    public init(every period: Duration) throws(EddyError) {
        if period <= .zero { throw .invalidArgument }
        self.period = period
        next = Instant.now().advanced(by: self.period)
        sleep = Sleep(until: next)
    }

    /// Poll-style tick: ready with the scheduled instant of the tick.
    public func pollTick(_ cx: inout Context) -> Poll<Instant> {
        guard case .ready = sleep.poll(&cx) else { return .pending }
        let fired = next
        next = next.advanced(by: period)
        sleep = Sleep(until: next)
        return .ready(fired)
    }

    /// Waits for the next tick.
    @discardableResult
    nonisolated(nonsending) public func tick() async throws -> Instant {
        let fired = next
        try await Eddy.sleep(until: next)
        next = next.advanced(by: period)
        sleep = Sleep(until: next)
        return fired
    }
}
