import Synchronization

/// A snapshot of one runtime's counters (`Runtime.metrics`, `eddy_runtime_metrics`).
///
/// Cheap enough to leave on: the loop is the only writer of its counters and updates
/// them once per tick with a relaxed load and store (no read-modify-write, no lock
/// prefix, no cache line shared with another writer), so any thread reads them
/// untorn. `localQueueDepth` and `liveTasks` are exact on the loop thread (or the owner
/// between runs); read from another thread while the loop runs, `liveTasks` is as of the
/// loop's last park and `localQueueDepth` is 0 (the loop parks only with nothing queued;
/// publishing it every tick would cost the hot path a shared write).
public struct RuntimeMetrics: Sendable, Equatable {
    /// Tasks polled plus Swift jobs run, since the runtime was created.
    public var polls: UInt64 = 0
    /// Loop ticks (one batch of polls, then a check of the reactor).
    public var ticks: UInt64 = 0
    /// Ticks that found nothing to run and let the driver sleep (until I/O, a timer
    /// or a wake from another thread).
    public var parks: UInt64 = 0
    /// Tasks and Swift jobs queued on the loop, waiting to run.
    public var localQueueDepth = 0
    /// Wakes, spawns and jobs from other threads not yet taken by the loop.
    public var remoteQueueDepth = 0
    /// Tasks spawned and not yet finished.
    public var liveTasks = 0
    /// Multi-thread runtime: tasks this worker took from the global inject queue (spawned
    /// from threads that are not workers) since creation; 0 on a current-thread runtime.
    public var injectedTaken: UInt64 = 0
    /// Multi-thread runtime: tasks waiting in the global inject queue now (the same for
    /// every worker); 0 on a current-thread runtime.
    public var globalQueueDepth = 0
    /// The blocking pool's counts.
    public var blocking = BlockingPoolCounts(threads: 0, idleThreads: 0, queuedJobs: 0, runningJobs: 0,
                                            completedJobs: 0, maxThreads: 0)
    /// All zero.
    public init() {}
}

/// The loop's counters: single writer (the loop thread), any-thread readers.
final class LoopCounters: Sendable {
    let polls = Atomic<UInt64>(0)
    let ticks = Atomic<UInt64>(0)
    let parks = Atomic<UInt64>(0)
    let injected = Atomic<UInt64>(0)
    /// Published at each park (for readers on other threads).
    let liveTasks = Atomic<Int>(0)

    /// One tick that ran `n` tasks/jobs (loop thread: a plain load and store).
    @inline(__always)
    func tick(polled n: Int) {
        ticks.store(ticks.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        polls.store(polls.load(ordering: .relaxed) &+ UInt64(truncatingIfNeeded: n), ordering: .relaxed)
    }

    /// Took `n` tasks from the inject queue (loop thread).
    func took(injected n: Int) {
        injected.store(injected.load(ordering: .relaxed) &+ UInt64(truncatingIfNeeded: n), ordering: .relaxed)
    }

    /// The loop is about to let the driver sleep (loop thread).
    func park(live: Int) {
        parks.store(parks.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        liveTasks.store(live, ordering: .relaxed)
    }
}

extension Runtime {
    /// The runtime's counters now (worker 0's on a multi-thread runtime: see
    /// `workerMetrics`). Any thread; takes the blocking pool's lock.
    public var metrics: RuntimeMetrics { core.metrics(readLoopState: core.mayTouchLoopState) }

    /// `metrics` for a front door with its own thread rule: `readLoopState` only when the
    /// caller may read loop state (C: the owning thread).
    package func metrics(readLoopState: Bool) -> RuntimeMetrics { core.metrics(readLoopState: readLoopState) }

    /// Each worker's counters now, worker 0 first (one entry on a current-thread runtime,
    /// equal to `metrics`). A worker's queue depth and live count are exact only for the
    /// worker the caller drives (see `RuntimeMetrics`); the blocking pool, shared, is
    /// reported by worker 0 only. Any thread.
    public var workerMetrics: [RuntimeMetrics] {
        guard let g = group else { return [metrics] }
        return g.cores.enumerated().map { i, c in
            var m = c.metrics(readLoopState: c.isLoopThread || (i == 0 && c.mayTouchLoopState))
            if i != 0 { m.blocking = BlockingPoolCounts(threads: 0, idleThreads: 0, queuedJobs: 0, runningJobs: 0,
                                                        completedJobs: 0, maxThreads: 0) }
            return m
        }
    }
}

extension Core {
    func metrics(readLoopState: Bool) -> RuntimeMetrics {
        var m = RuntimeMetrics()
        m.polls = counters.polls.load(ordering: .relaxed)
        m.ticks = counters.ticks.load(ordering: .relaxed)
        m.parks = counters.parks.load(ordering: .relaxed)
        m.injectedTaken = counters.injected.load(ordering: .relaxed)
        m.globalQueueDepth = group?.inject.count ?? 0
        if readLoopState {
            m.localQueueDepth = local.count + jobs.count
            m.liveTasks = live.count
        } else {
            m.liveTasks = counters.liveTasks.load(ordering: .relaxed)
        }
        m.remoteQueueDepth = inbox.pendingCount
        m.blocking = blocking.counts
        return m
    }
}
