/// What an `Interval` does with ticks it could not deliver on time (the task was busy,
/// or the clock jumped): tokio's `MissedTickBehavior`, same names and rules.
public enum MissedTickBehavior: Int, Sendable {
    /// Deliver every missed tick at once, back to back, then go on with the original
    /// schedule (start + k * period). The default, as in tokio.
    case burst = 0
    /// Deliver one tick now, then schedule the next one a full period after it: the
    /// schedule shifts by the delay.
    case delay = 1
    /// Deliver one tick now, then go on with the next tick of the original schedule
    /// that lies in the future (the missed ones are dropped).
    case skip = 2

    /// The deadline after a tick scheduled at `scheduled` was delivered at `now`.
    func next(scheduled: UInt64, now: UInt64, period: UInt64) -> UInt64 {
        switch self {
        case .burst:
            return scheduled.addingSaturating(period)
        case .delay:
            return now.addingSaturating(period)
        case .skip:
            // Next multiple of `period` after `now` on the original schedule.
            guard now >= scheduled else { return scheduled.addingSaturating(period) }
            let behind = (now - scheduled) % period
            return now.addingSaturating(period - behind)
        }
    }
}

extension UInt64 {
    @inline(__always)
    func addingSaturating(_ x: UInt64) -> UInt64 {
        let (r, o) = addingReportingOverflow(x)
        return o ? .max : r
    }
}

/// Ticks at a fixed period on the clock of the runtime that polls it (which may be
/// paused: `pauseClock()`). Late ticks follow `missedTickBehavior`.
public final class Interval: @unchecked Sendable {
    // @unchecked Sendable: as `Sleep`: `next`/`sleep` are touched only by the one task that
    // owns and polls (or awaits) the interval.
    /// Time between ticks.
    public let period: Duration
    /// What happens to late ticks.
    public let missedTickBehavior: MissedTickBehavior
    private let periodNanos: UInt64
    private var next: Instant
    private var sleep: Sleep

    /// First tick at `start` (an absolute deadline, e.g. `clockNow()` for an immediate
    /// one; default: one `period` from now), then every `period`. A period that is not
    /// positive throws `EddyError.invalidArgument` (EINVAL): it would tick without end.
    public init(every period: Duration, startingAt start: Instant? = nil,
                missedTickBehavior: MissedTickBehavior = .burst) throws(EddyError) {
        let ns = period.nanosecondsClamped
        if ns <= 0 { throw .invalidArgument }
        self.period = period
        periodNanos = UInt64(ns)
        self.missedTickBehavior = missedTickBehavior
        next = start ?? Core.clockNow().advanced(by: period)
        sleep = Sleep(until: next)
    }

    /// The scheduled instant of the next tick.
    public var nextTick: Instant { next }

    /// Poll-style tick: ready with the scheduled instant of the tick.
    public func pollTick(_ cx: inout Context) -> Poll<Instant> {
        guard case .ready = sleep.poll(&cx) else { return .pending }
        return .ready(advance(now: cx.core.timers.now()))
    }

    /// Waits for the next tick; returns its scheduled instant.
    @discardableResult
    nonisolated(nonsending) public func tick() async throws -> Instant {
        try await Eddy.sleep(until: next)
        return advance(now: Core.clockNow().nanoseconds)
    }

    /// The tick due at `next` was delivered at `now`: schedules the following one.
    private func advance(now: UInt64) -> Instant {
        let fired = next
        next = Instant(nanoseconds: missedTickBehavior.next(scheduled: fired.nanoseconds, now: now, period: periodNanos))
        sleep = Sleep(until: next)
        return fired
    }
}
