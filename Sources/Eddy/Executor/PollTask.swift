/// A task body written as a class: one virtual call per poll and no generic machinery
/// on the hot path. The C ABI's tasks are `PollTask`s; Swift code usually spawns a
/// `Future` instead.
///
/// The output is a status code (`0` or a negative `EddyError.code`), which is what a
/// C task returns.
open class PollTask: @unchecked Sendable {
    public init() {}

    /// Polls once on the loop thread: a status to finish, nil to stay pending (after
    /// arranging for `cx.waker` to be woken).
    open func poll(_ cx: inout Context) -> Int32? { 0 }

    /// The task was dropped before it finished (abort or runtime shutdown); called
    /// once, on the loop thread (or the thread shutting the runtime down).
    open func cancel() {}
}

/// The cell for a `PollTask`: concrete (non-generic) overrides, so the loop's virtual
/// call lands in specialized code.
final class PollTaskCell: JoinableTask<Int32>, @unchecked Sendable {
    @exclusivity(unchecked) var body: PollTask?

    init(core: Core, body: PollTask) {
        self.body = body
        super.init(core: core)
    }

    override func pollTask() -> Bool {
        guard let b = body else { return true }
        var cx = Context(target: self, core: core)
        guard let status = b.poll(&cx) else { return false }
        body = nil
        complete(.success(status))
        return true
    }

    override func cancelTask() {
        let b = body
        body = nil
        b?.cancel()
        complete(.failure(.cancelled))
    }
}

extension Runtime {
    /// Spawns a class-based task (see `PollTask`). Any thread.
    @discardableResult
    public func spawn(_ task: PollTask) -> JoinHandle<Int32> {
        JoinHandle(core.spawnTask(PollTaskCell(core: core, body: task)))
    }
}
