/// A task cell: the future itself plus everything above.
@usableFromInline
final class TaskCell<F: Future>: JoinableTask<F.Output>, @unchecked Sendable {
    // @unchecked Sendable: `future` is touched only by the loop thread (poll, cancel), the
    // one thread that sets `running` in the state word.
    @exclusivity(unchecked) @usableFromInline var future: F?

    @inlinable
    init(core: Core, future: F) {
        self.future = future
        super.init(core: core)
        // Inlined into `Runtime.spawn` at the caller's concrete type: this closure is
        // specialized code, unlike `pollTask` (generic metadata look-ups on every poll;
        // docs/PERFORMANCE.md has the numbers).
        pollThunk = { TaskCell<F>.pollBody(unsafeDowncast($0, to: TaskCell<F>.self)) }
    }

    @inlinable
    static func pollBody(_ task: TaskCell<F>) -> Bool {
        var cx = Context(target: task, executor: task.executor)
        guard task.future != nil else { return true }
        switch task.future!.poll(&cx) {
        case .ready(let value):
            task.future = nil
            task.complete(.success(value))
            return true
        case .pending:
            return false
        }
    }

    override func pollTask() -> Bool { TaskCell.pollBody(self) }

    override func cancelTask() {
        future = nil
        complete(.failure(.cancelled))
    }
}
