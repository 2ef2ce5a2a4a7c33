/// An intrusive FIFO of tasks linked through `queueNext`: no allocation per push.
///
/// The loop's local ready queue and the inbox's list of remotely woken tasks are both
/// this structure; they differ only in who owns the queued tasks:
/// - `push` links the task **unretained**: the local queue, where every task is on the
///   runtime's live-task list, which owns it until it completes — and a task completes
///   only after being popped. This saves a retain/release pair per schedule.
/// - `pushRetained` makes the queue own one reference: the inbox, whose tasks may not
///   be on the live list yet (spawned from another thread); the popper takes it over
///   (`takeRetainedValue`).
/// No stored count: the loop never needs one on its hot path, and it would cost an
/// update per push and per pop. Not thread-safe: the loop's own, or under the inbox lock.
@usableFromInline
struct TaskQueue {
    @usableFromInline var head: Unmanaged<TaskHeader>?
    @usableFromInline var tail: Unmanaged<TaskHeader>?

    @usableFromInline init() {}

    @inlinable var isEmpty: Bool { head == nil }

    /// Number of queued tasks, by walking the list (the inbox's drain, tests).
    var count: Int {
        var n = 0
        var node = head
        while let t = node {
            n += 1
            node = t._withUnsafeGuaranteedRef { $0.queueNext }
        }
        return n
    }

    /// Appends `task` without retaining it (see the type's comment).
    @inline(__always)
    mutating func push(_ task: TaskHeader) { link(Unmanaged.passUnretained(task)) }

    /// Appends `task`, the queue owning one reference to it.
    @inline(__always)
    mutating func pushRetained(_ task: TaskHeader) { link(Unmanaged.passRetained(task)) }

    /// Appends a node popped from another queue, with whatever reference it carried.
    @inline(__always)
    mutating func pushNode(_ node: Unmanaged<TaskHeader>) { link(node) }

    @inline(__always)
    private mutating func link(_ node: Unmanaged<TaskHeader>) {
        // `queueNext` is already nil: every pop clears it and a task is never queued twice.
        if let t = tail { t._withUnsafeGuaranteedRef { $0.queueNext = node } } else { head = node }
        tail = node
    }

    /// The first task, unlinked; retained or not as it was pushed.
    @inline(__always)
    mutating func pop() -> Unmanaged<TaskHeader>? {
        guard let h = head else { return nil }
        head = h._withUnsafeGuaranteedRef { t in
            let n = t.queueNext
            t.queueNext = nil
            return n
        }
        if head == nil { tail = nil }
        return h
    }

    /// Forgets every entry of an unretained queue (shutdown: the live list cancels them).
    mutating func removeAll() {
        while pop() != nil {}
    }
}
