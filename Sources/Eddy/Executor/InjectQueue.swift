import Synchronization

/// A multi-thread runtime's global inject queue (tokio's `Inject`): tasks spawned from a
/// thread that is not one of the runtime's workers, waiting for whichever worker is idle
/// first. FIFO, one lock, one pending counter (so a worker skips the lock when it is
/// empty). A queued task is retained by the queue (it is on no live list yet) and has
/// never been polled: the worker that takes it makes it its own (`SpawnedTask.rehome`).
/// After `close` pushes are refused and the caller places the task itself.
struct InjectQueue: ~Copyable {
    private struct Locked {
        var tasks = TaskQueue()
        var closed = false
    }
    private let locked = PosixMutex<Locked>(Locked())
    /// Tasks waiting (sequentially consistent: the parking protocol's re-check pairs
    /// with the worker's store of its parked flag, as the inbox's counter does).
    private let pending = Atomic<Int>(0)

    init() {}

    /// Appends `task` (retained). `false` once closed: nothing was queued.
    func push(_ task: TaskHeader) -> Bool {
        let accepted = locked.withLock { l -> Bool in
            if l.closed { return false }
            l.tasks.pushRetained(task)
            return true
        }
        if accepted { pending.add(1, ordering: .sequentiallyConsistent) }
        return accepted
    }

    /// Work is waiting (the parking protocol's check, before a worker sleeps).
    var hasWork: Bool { pending.load(ordering: .sequentiallyConsistent) > 0 }

    /// Cheap check on a worker's loop (the lock in `take` orders the rest).
    @inline(__always)
    var mayHaveWork: Bool { pending.load(ordering: .relaxed) > 0 }

    /// Tasks waiting now (any thread; metrics).
    var count: Int { pending.load(ordering: .relaxed) }

    /// Up to `max` tasks from the front, each still retained (the taker takes the
    /// reference over), and how many.
    func take(max: Int) -> (TaskQueue, Int) {
        var out = TaskQueue()
        var n = 0
        locked.withLock { l in
            while n < max, let t = l.tasks.pop() {
                out.pushNode(t)
                n += 1
            }
        }
        if n > 0 { pending.subtract(n, ordering: .sequentiallyConsistent) }
        return (out, n)
    }

    /// Refuses further pushes and returns what is left (still retained).
    func close() -> TaskQueue {
        var out = TaskQueue()
        locked.withLock { l in
            l.closed = true
            swap(&out, &l.tasks)
        }
        pending.store(0, ordering: .sequentiallyConsistent)
        return out
    }
}
