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
    /// Owned (+1) until the task finishes or is cancelled; held unmanaged so each poll
    /// calls into it without a retain/release pair.
    @exclusivity(unchecked) var body: Unmanaged<PollTask>?

    init(core: Core, body: PollTask) {
        self.body = Unmanaged.passRetained(body)
        super.init(core: core)
    }

    deinit { body?.release() }

    override func pollTask() -> Bool {
        guard let b = body else { return true }
        var cx = Context(target: self, core: core)
        guard let status = b._withUnsafeGuaranteedRef({ $0.poll(&cx) }) else { return false }
        body = nil
        b.release()
        complete(.success(status))
        return true
    }

    override func cancelTask() {
        guard let b = body else {
            complete(.failure(.cancelled))
            return
        }
        body = nil
        b._withUnsafeGuaranteedRef { $0.cancel() }
        b.release()
        complete(.failure(.cancelled))
    }
}

extension Runtime {
    /// Spawns a class-based task (see `PollTask`). Any thread.
    @discardableResult
    public func spawn(_ task: PollTask) -> JoinHandle<Int32> {
        let cell = PollTaskCell(core: core, body: task)
        core.spawnTask(cell)
        return JoinHandle(cell)
    }
}
