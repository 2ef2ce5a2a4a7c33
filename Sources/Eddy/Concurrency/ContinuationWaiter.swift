import CEddySys
import Synchronization

/// Wakes a suspended Swift continuation; reused across suspensions of one operation.
///
/// State machine (lock-free, any thread may wake): `idle` → `waiting` when the owner
/// suspends; a wake in `waiting` resumes; a wake in `idle` leaves a permit (`notified`)
/// that the next suspension consumes without suspending.
@usableFromInline
final class ContinuationWaiter: WakeTarget, @unchecked Sendable {
    // @unchecked Sendable: `wake` (any thread) goes through the atomic `state`; `continuation`
    // is written by the suspending task before the CAS to `waiting` and taken by the waker
    // only after winning the CAS back to `idle`.
    @usableFromInline static let idle: UInt32 = 0, waiting: UInt32 = 1, notified: UInt32 = 2
    @usableFromInline let state = Atomic<UInt32>(0)
    @exclusivity(unchecked) @usableFromInline var continuation: UnsafeContinuation<Void, Never>?
    override init() {}

    /// Registered once (`Core.init`) as the handler of every waiter's cancellation record:
    /// the record's argument is the waiter, alive while the record exists.
    static let cancelHandler: @convention(c) (UnsafeMutableRawPointer?) -> Void = { arg in
        Unmanaged<ContinuationWaiter>.fromOpaque(arg!).takeUnretainedValue().wake()
    }

    @usableFromInline override func wake() {
        while true {
            let s = state.load()
            if s == Self.waiting {
                if state.compareExchange(expected: s, desired: Self.idle) {
                    let c = continuation.take()
                    c?.resume()
                    return
                }
            } else if s == Self.idle {
                if state.compareExchange(expected: s, desired: Self.notified) { return }
            } else {
                return
            }
        }
    }

    /// Suspends until woken (returns at once if a wake is already pending).
    nonisolated(nonsending) func suspend() async {
        if takePermit() { return }
        await Self.park(Unmanaged.passUnretained(self))
    }

    /// Consumes a pending wake, if there is one.
    @inlinable @inline(__always)
    func takePermit() -> Bool {
        state.load() == Self.notified && state.compareExchange(expected: Self.notified, desired: Self.idle)
    }

    /// Stores `c` to be resumed by the next wake, or resumes it at once if a wake came first.
    @inlinable @inline(__always)
    func arm(_ c: UnsafeContinuation<Void, Never>) {
        continuation = c
        if !state.compareExchange(expected: Self.idle, desired: Self.waiting) {
            // A wake arrived first (permit): consume it and continue at once.
            continuation = nil
            state.store(Self.idle)
            c.resume()
        }
    }

    /// Parks the continuation until the next wake.
    ///
    /// The executor-inheriting form: in a `nonisolated(nonsending)` function the task is
    /// already on the caller's executor, and `withUnsafeContinuation(isolation:)` would
    /// still hop there before suspending (one `swift_task_switch` per suspension, which
    /// for a task with an executor preference reads it under the task's status lock).
    /// The hop back after the resume remains.
    @inlinable @inline(__always)
    nonisolated(nonsending) static func park(_ w: Unmanaged<ContinuationWaiter>) async {
        await _unsafeInheritExecutor_withUnsafeContinuation { (c: UnsafeContinuation<Void, Never>) in
            w._withUnsafeGuaranteedRef { $0.arm(c) }
        }
    }

    /// Suspends with Swift task cancellation turned into a wake; throws `CancellationError`
    /// when the task was cancelled (also when it already was: the runtime runs the handler
    /// at once, the wake leaves a permit and the continuation returns without parking).
    nonisolated(nonsending) func suspendCancellable(_ core: Core) async throws {
        try await Self.suspendCancellable(Unmanaged.passUnretained(self), core)
    }

    /// `suspendCancellable` on a waiter the caller keeps alive (unretained: no reference
    /// counting around the suspension — the socket's waiters live as long as the socket,
    /// a task's slot as long as the task).
    @inlinable @inline(__always)
    nonisolated(nonsending) static func suspendCancellable(_ w: Unmanaged<ContinuationWaiter>, _ core: Core) async throws {
        if w._withUnsafeGuaranteedRef({ $0.takePermit() }) {
            if Task.isCancelled { throw CancellationError() }
            return
        }
        if let slot = TaskCancelSlot.forCurrentTask(on: core) {
            // A task Eddy started: its one cancellation record wakes what it parks here.
            guard slot._withUnsafeGuaranteedRef({ $0.park(w) }) else { throw CancellationError() }
            await park(w)
            if slot._withUnsafeGuaranteedRef({ $0.unpark() }) { throw CancellationError() }
            return
        }
        // Any other task: the runtime's record directly, not `withTaskCancellationHandler`,
        // whose awaits each end in an executor hop (for a task with an executor preference
        // every hop reads the preference under the task's status lock).
        let record = ceddy_task_add_cancel_handler(w.toOpaque())
        await park(w)
        ceddy_task_remove_cancel_handler(record)
        if Task.isCancelled { throw CancellationError() }
    }

}
