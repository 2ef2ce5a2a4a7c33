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
    /// Set by the C ABI's task (before spawning): the cell then calls this function
    /// directly each poll, the context published in `ceddy_tls_cx`, and `cFinish` once
    /// it returns anything but `cPending` (one frame less than a virtual `poll`).
    package final var cPoll: CPollFunction?
    package final var cState: UnsafeMutableRawPointer?
    /// Maps the final value of `cPoll` to the task's status; called once.
    package final var cFinish: ((Int32) -> Int32)?
    /// What `cPoll` returns while pending (the C ABI's EDDY_PENDING).
    package static var cPending: Int32 { 1 }

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
    /// The body's `cPoll` / `cState`, copied at spawn (one load less per poll).
    let cPoll: CPollFunction?
    let cState: UnsafeMutableRawPointer?
    /// The Context a C poll function gets the address of: built once, at spawn, in
    /// memory of its own (a stack copy per poll would cost its stores and a stack
    /// protector check, since its address escapes to C).
    @exclusivity(unchecked) var cContext: UnsafeMutablePointer<Context>?

    init(core: Core, body: PollTask) {
        self.body = Unmanaged.passRetained(body)
        cPoll = body.cPoll
        cState = body.cState
        super.init(core: core)
        if cPoll != nil {
            let p = UnsafeMutablePointer<Context>.allocate(capacity: 1)
            p.initialize(to: Context(target: self, core: core))
            cContext = p
        }
    }

    deinit {
        body?.release()
        cContext?.deallocate()
    }

    override func pollTask() -> Bool {
        if body == nil { return true }  // finished or cancelled: never poll the body again
        if let f = cPoll {
            // Only the pending path inline: it then needs few registers around the call.
            let p = cContext.unsafelyUnwrapped
            // Saved and restored: a nested poll (block_on of another runtime inside a
            // C task) must leave the outer context valid.
            let previous = ceddy_tls_cx_get()
            ceddy_tls_cx_set(p)
            let r = f(cState, OpaquePointer(p))
            ceddy_tls_cx_set(previous)
            if r == PollTask.cPending { return false }
            return finishC(r)
        }
        guard let b = body else { return true }
        var cx = Context(target: self, core: core)
        guard let status = b._withUnsafeGuaranteedRef({ $0.poll(&cx) }) else { return false }
        finish(status)
        return true
    }

    /// A C poll function returned its final value.
    @inline(never)
    private func finishC(_ r: Int32) -> Bool {
        guard let b = body else { return true }
        finish(b._withUnsafeGuaranteedRef { $0.cFinish?(r) ?? r })
        return true
    }

    private func finish(_ status: Int32) {
        let b = body
        body = nil
        b?.release()
        complete(.success(status))
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
