/// A task body written as a class: one virtual call per poll and no generic machinery
/// on the hot path (a generic class's methods are never specialized). Swift code usually
/// spawns a `Future` instead; a `PollTask` suits a long-lived state machine that other
/// code drives by waking it.
open class PollTask: @unchecked Sendable {
    // @unchecked Sendable: a PollTask is handed to the runtime at spawn and from then on
    // touched only by the loop thread (poll, cancel); the subclass keeps any state it
    // shares with other threads behind its own synchronization.

    /// Creates the task body; spawn it with `Runtime.spawn(_:)`.
    public init() {}

    /// Polls once on the loop thread: `.ready` to finish, `.pending` to stay pending
    /// (after arranging for `cx.waker` to be woken).
    open func poll(_ cx: inout Context) -> Poll<Void> { .ready(()) }

    /// The task was dropped before it finished (abort or runtime shutdown); called
    /// once, on the loop thread (or the thread shutting the runtime down).
    open func cancel() {}
}

/// The cell for a `PollTask`: concrete (non-generic) overrides, so the loop's virtual
/// call lands in specialized code.
final class PollTaskCell: JoinableTask<JoinSlot<Void>>, @unchecked Sendable {
    // @unchecked Sendable: `body` is touched only by the loop thread (poll, cancel).
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
        var cx = Context(target: self, executor: executor)
        guard case .ready = b._withUnsafeGuaranteedRef({ $0.poll(&cx) }) else { return false }
        body = nil
        b.release()
        complete(.success(()))
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
    public func spawn(_ task: PollTask) -> JoinHandle<Void> {
        let cell = PollTaskCell(core: core, body: task)
        core.spawnTask(cell)
        return JoinHandle(cell)
    }
}
