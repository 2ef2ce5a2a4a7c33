import CEddySys

// The paused clock of a runtime (TimerHeap+Clock.swift), for tests: tokio's
// `time::pause` / `advance`. The front doors (EddyC's eddy_runtime_clock_*, Python's
// eddy.pause_clock ...) call these; Swift code inside a task uses the free functions
// below.

extension Runtime {
    /// `clockNow()` for front doors that already checked the thread (EddyC's owning-thread
    /// calls): no check, no throw.
    package var clockNanos: UInt64 { core.timers.now() }

    /// Now on this runtime's clock (the paused time while paused). Loop thread, or the
    /// owning thread while the runtime is not running; elsewhere `wrongThread`.
    public func clockNow() throws(EddyError) -> Instant {
        guard core.mayTouchLoopState else { throw .wrongThread }
        return Instant(nanoseconds: core.timers.now())
    }

    /// Stops this runtime's clock: sleeps, timeouts and intervals then only move when
    /// `advanceClock(by:)` moves the clock, or when the runtime has nothing else to do:
    /// a paused runtime that would block waiting for its next timer jumps to that
    /// timer's deadline instead (auto-advance, as tokio's paused clock). Same threads as
    /// `clockNow()`.
    public func pauseClock() throws(EddyError) {
        guard core.mayTouchLoopState else { throw .wrongThread }
        core.pauseClock()
    }

    /// Lets the clock run again (from the real monotonic time). Same threads as `clockNow()`.
    public func resumeClock() throws(EddyError) {
        guard core.mayTouchLoopState else { throw .wrongThread }
        core.timers.resume()
    }

    /// Moves the paused clock forward by `duration`; every timer due by then is woken,
    /// in deadline order (their tasks run at the loop's next turn). Returns how many
    /// fired. `invalidArgument` for a negative duration or a clock that is not paused.
    @discardableResult
    public func advanceClock(by duration: Duration) throws(EddyError) -> Int {
        guard core.mayTouchLoopState else { throw .wrongThread }
        let ns = duration.nanosecondsClamped
        guard ns >= 0, core.timers.paused else { throw .invalidArgument }
        return core.timers.advance(by: UInt64(ns))
    }
}

extension Core {
    /// Pauses the clock unless a shutdown began: a drain's deadline is on the real clock
    /// (the caller's timeout), and a paused runtime would never reach it.
    func pauseClock() {
        if lifecycle == Lifecycle.running { timers.pause() }
    }

    /// Now on the clock of the runtime driving the calling thread; the monotonic clock
    /// elsewhere.
    @inline(__always)
    static func clockNow() -> Instant {
        if let c = Core.current, c.isLoopThread { return Instant(nanoseconds: c.timers.now()) }
        return Instant.now()
    }
}

/// Now on the clock of the Eddy runtime driving the calling thread (its paused time while
/// paused); `Instant.now()` off a loop thread.
public func clockNow() -> Instant { Core.clockNow() }

/// Pauses the clock of the runtime driving the calling task (see `Runtime.pauseClock()`).
/// `EddyError.wrongThread` off an Eddy loop thread.
public func pauseClock() throws(EddyError) { try loopCore().pauseClock() }

/// Resumes the clock of the runtime driving the calling task.
public func resumeClock() throws(EddyError) { try loopCore().timers.resume() }

/// Moves the paused clock of the current runtime forward by `duration`, wakes the timers
/// due by then in deadline order, and yields once so the woken tasks run before this one
/// continues. `EddyError.invalidArgument` when the duration is negative or the clock is
/// not paused.
nonisolated(nonsending) public func advanceClock(by duration: Duration) async throws {
    let core = try loopCore()
    let ns = duration.nanosecondsClamped
    guard ns >= 0, core.timers.paused else { throw EddyError.invalidArgument }
    _ = core.timers.advance(by: UInt64(ns))
    await Task.yield()
}
