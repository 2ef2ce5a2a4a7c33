/// A handle to a spawned task: poll it (it is a `Future`), await it, or abort the task.
///
/// Dropping a `JoinHandle` **detaches** the task (tokio's choice, not smol's): servers
/// spawn a task per connection and forget the handle, and a task silently cancelled
/// because a handle went out of scope is the harder bug to find. Use `abort()` to cancel.
public struct JoinHandle<T>: Future, @unchecked Sendable {
    // @unchecked Sendable: holds only the task, whose join slot is locked (`withJoin`) and
    // whose abort is an atomic state transition; `T` crosses threads only as the output
    // the task's own thread stored. (Not `T: Sendable`-conditional: the C ABI's `Int32` and
    // the README's `Eddy.spawn` closures capture handles of any output.)
    @usableFromInline let task: JoinableTask<JoinSlot<T>>

    @usableFromInline init(_ task: JoinableTask<JoinSlot<T>>) { self.task = task }

    /// Polls for the task's output; stores the caller's waker while it runs.
    @inlinable public mutating func poll(_ cx: inout Context) -> Poll<Result<T, JoinError>> {
        task.withJoin { slot -> Poll<Result<T, JoinError>> in
            if let out = slot.output { return .ready(out) }
            cx.register(&slot.waker)
            return .pending
        }
    }

    /// Requests cancellation. Any thread; safe before the first poll, while pending,
    /// after completion (no effect) and more than once. The future is dropped on the
    /// loop thread and the task completes with `JoinError.cancelled`.
    public func abort() { task.abort() }

    /// `true` once the task has completed or was cancelled.
    public var isFinished: Bool { task.isComplete }

    /// The output if finished (a copy; the handle keeps it), nil while running.
    public func tryResult() -> Result<T, JoinError>? { task.withJoin { $0.output } }

    /// Waits for the task from async code; throws `JoinError.cancelled` if it was aborted.
    public var value: T {
        get async throws {
            let waiter = ContinuationWaiter()
            while true {
                let out = task.withJoin { slot -> Result<T, JoinError>? in
                    if let o = slot.output { return o }
                    slot.waker = Waker(waiter)
                    return nil
                }
                if let out { return try out.get() }
                await waiter.suspend()
            }
        }
    }
}
