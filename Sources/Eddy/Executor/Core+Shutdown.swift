// Core+Shutdown: the graceful shutdown (`Runtime.shutdown(timeout:)`,
// `eddy_runtime_shutdown`). Begun on the loop thread (from a task, or from the inbox
// for a request of another thread); from then on spawns are refused, the tasks keep
// running until they all finished or the deadline passed, and then `stopNow` drops
// what is left and closes every descriptor (the immediate shutdown). Nothing here is
// on the hot path: the loop reads `lifecycle` once per tick, where it read
// `isShutdown` before.

import CEddySys

/// The runtime's phases (`Core.lifecycle`).
@usableFromInline
enum Lifecycle {
    @usableFromInline static let running: UInt8 = 0
    /// A graceful shutdown is in progress: spawns refused, tasks finishing.
    @usableFromInline static let draining: UInt8 = 1
    /// Every task dropped, every descriptor closed.
    @usableFromInline static let shutDown: UInt8 = 2
}

/// A graceful shutdown asked for from outside the loop (through the inbox).
struct ShutdownRequest {
    let deadline: UInt64
    let waiter: ShutdownCompletion
}

/// The loop's record of a graceful shutdown in progress.
struct DrainState {
    /// Monotonic ns (`ceddy_now_ns`) after which what is left is aborted.
    var deadline: UInt64 = 0
    /// Live tasks when it began (those that finish count as `tasksFinished`).
    var liveAtStart = 0
    /// Tasks spawned from other threads that arrived after it began (refused).
    var refused = 0
    /// Threads waiting for the report.
    var waiters: [ShutdownCompletion] = []
}

extension Core {
    /// Begins a graceful shutdown ending at `deadline` at the latest (loop thread, or the
    /// owner between runs). A second call can only bring the deadline closer.
    func beginDrain(deadlineNs deadline: UInt64) {
        switch lifecycle {
        case Lifecycle.running:
            lifecycle = Lifecycle.draining
            shutdownFlag.store(true, ordering: .releasing)  // spawns refused from now on
            drain.deadline = deadline
            drain.liveAtStart = live.count
        case Lifecycle.draining:
            drain.deadline = min(drain.deadline, deadline)
        default:
            return
        }
        // The deadline is the caller's real timeout: a paused clock (tests) would never
        // reach it, so a shutdown runs on the real clock (pauseClock is refused from now).
        timers.resume()
        armDrainTimer(at: drain.deadline)
    }

    /// A timer with no task behind it: the driver's wait ends at `at` even when nothing
    /// else happens (the heap's entries all go at the shutdown's end).
    private func armDrainTimer(at: UInt64) {
        _ = timers.arm(deadline: at, waker: Waker(WakeTarget()))
    }

    /// A request of another thread, taken from the inbox (loop thread).
    func acceptShutdownRequest(_ r: ShutdownRequest) {
        drain.waiters.append(r.waiter)
        beginDrain(deadlineNs: r.deadline)
        // Already past its deadline (a zero timeout): no task may be polled again.
        if lifecycle == Lifecycle.draining && ceddy_now_ns() >= drain.deadline { finishDrain() }
    }

    /// Asks the loop for a graceful shutdown (any thread); nil once shut down (the inbox
    /// refuses it; `finalReport` holds the report then).
    func requestShutdown(deadlineNs deadline: UInt64) -> ShutdownCompletion? {
        let w = ShutdownCompletion()
        let accepted = inbox.push(unparking: driver) {
            $0.shutdownRequests.append(ShutdownRequest(deadline: deadline, waiter: w))
        }
        return accepted ? w : nil
    }

    /// Called by the loop when `lifecycle` is not `running`: true once shut down (the
    /// loop then ends); while draining, finishes the shutdown when nothing is left or
    /// the deadline passed.
    func stopTick() -> Bool {
        if lifecycle == Lifecycle.shutDown { return true }
        let now = ceddy_now_ns()
        if now < drain.deadline {
            if live.count != 0 || !local.isEmpty || !jobs.isEmpty || inbox.hasWork { return false }
            let pool = blocking.counts
            if pool.runningJobs + pool.queuedJobs > 0 {
                // Only blocking jobs left: nothing wakes the loop when they end; look again soon.
                armDrainTimer(at: min(drain.deadline, now + 5_000_000))
                return false
            }
        }
        finishDrain()
        return true
    }

    /// Aborts what is left, closes every descriptor, publishes the report (loop thread).
    func finishDrain() {
        let abandoned = blocking.stop()
        let stillRunning = blocking.wait(untilNs: drain.deadline)
        var r = stopNow(runJobs: true, joinBlocking: false)
        r.tasksFinished = max(0, drain.liveAtStart - r.tasksDropped)
        r.tasksDropped += drain.refused
        r.blockingJobsAbandoned += abandoned
        r.blockingJobsRunning = stillRunning
        publish(r)
    }

    /// Records the report of the finished shutdown and hands it to every waiter.
    func publish(_ r: ShutdownReport) {
        let final = finalReport.withLock { slot -> ShutdownReport in
            if slot == nil { slot = r }
            return slot!
        }
        let ws = drain.waiters
        drain.waiters = []
        for w in ws { w.complete(final) }
    }
}
