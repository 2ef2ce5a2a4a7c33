import CEddySys

// The runtime's clock. Normally CLOCK_MONOTONIC; paused (tokio's `time::pause`), it
// stands still until advanced by hand, so timer-heavy tests run without real waiting.
// Everything that compares a deadline with "now" on behalf of a runtime (the drivers'
// wait and firing, `Sleep`, keyed timers, intervals, sleeps created from a front door)
// asks `now()` here. Loop thread only, like the heap.

extension TimerHeap {
    /// Now on this runtime's clock: the monotonic clock, or the paused time.
    @inline(__always)
    func now() -> UInt64 { paused ? pausedNow : ceddy_now_ns() }

    /// Stops the clock at the current time (no-op when already paused).
    func pause() {
        if paused { return }
        pausedNow = ceddy_now_ns()
        paused = true
    }

    /// Lets the clock run again from the real monotonic time. Deadlines set while paused
    /// keep their value on the paused time line; they fire when the real clock reaches them.
    func resume() { paused = false }

    /// Moves a paused clock forward by `nanos` and wakes, in deadline order, every timer
    /// due by then. Returns how many fired; 0 (and nothing moves) when not paused.
    func advance(by nanos: UInt64) -> Int {
        guard paused else { return 0 }
        let (t, o) = pausedNow.addingReportingOverflow(nanos)
        pausedNow = o ? .max : t
        return fire(now: pausedNow)
    }

    /// How long a driver that has no work may wait for the next timer: -1 (no timer),
    /// 0, or nanoseconds. With a paused clock it never waits for a timer: the clock jumps
    /// to the next deadline (auto-advance, as tokio's paused clock does when idle) and
    /// the wait is 0, so that timer fires in this turn.
    @inline(__always)
    func idleWaitNanos() -> Int64 {
        guard let d = nextDeadline else { return -1 }
        if paused {
            if d > pausedNow { pausedNow = d }
            return 0
        }
        let now = ceddy_now_ns()
        return d <= now ? 0 : Int64(clamping: d - now)
    }
}
