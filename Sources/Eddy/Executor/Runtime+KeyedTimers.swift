// Keyed timers: a timer that is only a `TimerKey` into its runtime's timer heap, with
// no object of its own. `Sleep` is the object form; a front door that keeps timers in
// its own storage uses these calls instead of `Sleep`'s methods (EddyC's sleep handles
// store the key in the handle slot: CTimer.swift says why).
//
// All of them run on the loop thread, or on the owning thread while the runtime is
// not running (the caller guarantees it, as for any loop-state call). On a
// multi-thread runtime, on the worker whose heap holds the timer: the caller's.

extension Runtime {
    /// The core whose heap the calling thread's keyed timers live in.
    @inline(__always)
    private var timerCore: Core { group?.currentWorker() ?? core }

    /// Reserves a timer completing at `deadline`, armed by its first `pollTimer`.
    /// Nil when the runtime already holds 16 M timers.
    package func reserveTimer(until deadline: Instant) -> TimerKey? {
        timerCore.timers.reserve(deadline: deadline.nanoseconds)
    }

    /// `Sleep.poll` for a reserved timer: `true` once its deadline has passed; otherwise
    /// the timer is armed with `cx`'s waker. `cx` must be a poll of this runtime.
    package func pollTimer(_ key: TimerKey, _ cx: inout Context) -> Bool {
        timerCore.timers.poll(key, now: timerCore.timers.now(), &cx)
    }

    /// `true` once `pollTimer` has returned `true` for `key`.
    package func isTimerCompleted(_ key: TimerKey) -> Bool { timerCore.timers.isCompleted(key) }

    /// Disarms and frees a reserved timer; stale keys are ignored.
    package func releaseTimer(_ key: TimerKey) { timerCore.releaseTimer(key) }
}

extension Context {
    /// `true` when `runtime` is the runtime doing this poll.
    package func isPolled(by runtime: Runtime) -> Bool { isPolledBy(runtime.group?.currentWorker() ?? runtime.core) }
}
