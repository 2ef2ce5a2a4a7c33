/// What a future's `poll` receives: the waker of the task being polled and its runtime.
///
/// Valid only for the duration of the `poll` call. Both references are held unretained
/// (the loop keeps the task and the runtime alive during the poll), so building a
/// context, registering its task in a reactor slot or checking its runtime costs no
/// reference counting.
///
/// This layer (Task/) sits below the executor: it holds the executor doing the poll as an
/// opaque address; the Executor layer gives it its type (`Context.core`, `runtime`).
public struct Context {
    @usableFromInline let targetRef: Unmanaged<WakeTarget>
    /// The executor (`Core`) doing the poll, unretained.
    @usableFromInline let executor: UnsafeMutableRawPointer

    @usableFromInline init(target: WakeTarget, executor: UnsafeMutableRawPointer) {
        targetRef = Unmanaged.passUnretained(target)
        self.executor = executor
    }

    /// A context not yet usable, for `TaskHeader.init` before `self` exists: the target
    /// word holds `executor` until the header overwrites it (never dereferenced meanwhile).
    @usableFromInline init(placeholderWith executor: UnsafeMutableRawPointer) {
        targetRef = Unmanaged.fromOpaque(executor)
        self.executor = executor
    }

    /// The waker of the task being polled (a copy: keep it as long as you need).
    @inlinable public var waker: Waker { Waker(targetRef.takeUnretainedValue()) }

    /// Schedules the polled task again (it stays ready: used when its budget is spent).
    @inlinable @inline(__always)
    func wakeSelf() { targetRef._withUnsafeGuaranteedRef { $0.wakeOnLoop() } }

    /// Stores this poll's waker in `slot` unless it already wakes the same task
    /// (avoids reference-count traffic when a task re-registers every poll).
    @inlinable @inline(__always)
    func register(_ slot: inout Waker?) {
        if let w = slot, Unmanaged.passUnretained(w.target).toOpaque() == targetRef.toOpaque() { return }
        slot = Waker(targetRef.takeUnretainedValue())
    }
}
