import CEddySys

/// A C task's poll function: `poll(state, cx)`, cx being the polled `Context`'s address.
package typealias CPollFunction = @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?) -> Int32

/// A task body written as a class: one virtual call per poll and no generic machinery
/// on the hot path. The C ABI's tasks are `PollTask`s; Swift code usually spawns a
/// `Future` instead.
///
/// The output is a status code (`0` or a negative `EddyError.code`), which is what a
/// C task returns.
open class PollTask: @unchecked Sendable {
    /// For a task spawned with a C poll function (`spawn(_:cPoll:cState:)`): maps the
    /// function's final value to the task's status; called once.
    package final var cFinish: ((Int32) -> Int32)?
    /// What `cPoll` returns while pending (the C ABI's EDDY_PENDING).
    package static var cPending: Int32 { 1 }

    /// Creates the task body; spawn it with `Runtime.spawn(_:)`.
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

    init(core: Core, body: PollTask, cPoll: CPollFunction? = nil, cState: UnsafeMutableRawPointer? = nil) {
        self.body = Unmanaged.passRetained(body)
        super.init(core: core)
        if let cPoll {
            // The loop calls it (see Core.run); the Context it gets the address of is
            // built once, in memory of its own (a stack copy per poll would cost its
            // stores and a stack-protector check, since the address escapes to C).
            let p = UnsafeMutablePointer<Context>.allocate(capacity: 1)
            p.initialize(to: Context(target: self, core: core))
            cContext = p
            self.cState = cState
            self.cPoll = cPoll
        }
    }

    deinit {
        body?.release()
        cContext?.deallocate()
    }

    override func pollTask() -> Bool {
        guard let b = body else { return true }
        var cx = Context(target: self, core: core)
        guard let status = b._withUnsafeGuaranteedRef({ $0.poll(&cx) }) else { return false }
        finish(status)
        return true
    }

    override func finishC(_ r: Int32) -> Bool {
        guard let b = body else { return true }
        finish(b._withUnsafeGuaranteedRef { $0.cFinish?(r) ?? r })
        return true
    }

    private func finish(_ status: Int32) {
        cPoll = nil  // never called again, whatever happens to the state word
        let b = body
        body = nil
        b?.release()
        complete(.success(status))
    }

    override func cancelTask() {
        cPoll = nil
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

    /// Spawns a task whose polls are `cPoll(cState, cx)`, called by the loop directly
    /// (the context published in `ceddy_tls_cx`; no virtual `poll`, no cell frame);
    /// once it returns anything but `PollTask.cPending`, `task.cFinish` maps the value
    /// to the status. `task` still receives `cancel()`. The C ABI's tasks.
    @discardableResult
    package func spawn(_ task: PollTask, cPoll: CPollFunction, cState: UnsafeMutableRawPointer?) -> JoinHandle<Int32> {
        let cell = PollTaskCell(core: core, body: task, cPoll: cPoll, cState: cState)
        core.spawnTask(cell)
        return JoinHandle(cell)
    }
}
