/// An intrusive FIFO of tasks linked through `queueNext`; no allocation per push.
/// The list owns one strong reference per queued task.
@usableFromInline
struct TaskList: @unchecked Sendable {
    @usableFromInline var head: Unmanaged<TaskHeader>?
    @usableFromInline var tail: Unmanaged<TaskHeader>?
    @usableFromInline var count = 0

    @usableFromInline init() {}

    @inlinable var isEmpty: Bool { head == nil }

    @inlinable @inline(__always)
    mutating func push(_ task: TaskHeader) {
        let node = Unmanaged.passRetained(task)
        task.queueNext = nil
        if let t = tail { t._withUnsafeGuaranteedRef { $0.queueNext = node } } else { head = node }
        tail = node
        count += 1
    }

    /// Returns a retained reference the caller must release (or take).
    @inlinable @inline(__always)
    mutating func pop() -> Unmanaged<TaskHeader>? {
        guard let h = head else { return nil }
        head = h._withUnsafeGuaranteedRef { t in
            let n = t.queueNext
            t.queueNext = nil
            return n
        }
        if head == nil { tail = nil }
        count -= 1
        return h
    }
}

/// The loop's local FIFO of scheduled tasks, linked through `queueNext` and holding
/// **no** reference: every task in it is on the runtime's live-task list, which owns
/// it until it completes — and a task completes only after being popped. This saves a
/// retain/release pair per schedule on the hot path. Loop thread only.
/// No stored count: the loop never needs one, and it would cost an update per push and
/// per pop.
@usableFromInline
struct ReadyQueue {
    @usableFromInline var head: Unmanaged<TaskHeader>?
    @usableFromInline var tail: Unmanaged<TaskHeader>?

    @usableFromInline init() {}

    @inlinable var isEmpty: Bool { head == nil }

    /// Number of queued tasks, by walking the list (tests, diagnostics).
    var count: Int {
        var n = 0
        var node = head
        while let t = node {
            n += 1
            node = t._withUnsafeGuaranteedRef { $0.queueNext }
        }
        return n
    }

    @inline(__always)
    mutating func push(_ task: TaskHeader) {
        // `queueNext` is already nil: every pop clears it and a task is never queued twice.
        let node = Unmanaged.passUnretained(task)
        if let t = tail { t._withUnsafeGuaranteedRef { $0.queueNext = node } } else { head = node }
        tail = node
    }

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

    /// Forgets every entry (shutdown: the live list cancels them).
    mutating func removeAll() {
        while pop() != nil {}
    }
}
