/// What a future's `poll` receives: the waker of the task being polled and its runtime.
///
/// Valid only for the duration of the `poll` call. Both references are held unretained
/// (the loop keeps the task and the runtime alive during the poll), so building a
/// context, registering its task in a reactor slot or checking its runtime costs no
/// reference counting.
public struct Context {
    @usableFromInline let targetRef: Unmanaged<WakeTarget>
    @usableFromInline let coreRef: Unmanaged<Core>

    @usableFromInline init(target: WakeTarget, core: Core) {
        targetRef = Unmanaged.passUnretained(target)
        coreRef = Unmanaged.passUnretained(core)
    }

    /// The waker of the task being polled (a copy: keep it as long as you need).
    @inlinable public var waker: Waker { Waker(targetRef.takeUnretainedValue()) }

    /// The runtime doing the poll.
    public var runtime: Runtime { coreRef._withUnsafeGuaranteedRef { $0.runtime } }

    @usableFromInline var core: Core { coreRef.takeUnretainedValue() }

    /// `true` when `core` is the runtime doing this poll (no reference counting).
    @inlinable @inline(__always)
    func isPolledBy(_ core: Core) -> Bool { coreRef.toOpaque() == Unmanaged.passUnretained(core).toOpaque() }

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
