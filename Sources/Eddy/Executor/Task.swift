import Glibc
import Synchronization

/// The bits of a task's state word (`TaskHeader.state`).
///
/// - `scheduled`: in a ready queue (local or inject); never queued twice.
/// - `running`: being polled right now on the loop thread.
/// - `notified`: woken while running; requeued (at the back) when the poll returns.
/// - `complete`: output stored (or cancelled); never polled again.
/// - `cancelled`: abort requested; the loop drops the future instead of polling it.
///
/// The reference count is Swift's own object count: wakers, join handles, the queues
/// and the runtime's live-task list each hold one strong reference.
@usableFromInline
enum TaskState {
    @usableFromInline static let scheduled: UInt32 = 1 << 0
    @usableFromInline static let running: UInt32 = 1 << 1
    @usableFromInline static let notified: UInt32 = 1 << 2
    @usableFromInline static let complete: UInt32 = 1 << 3
    @usableFromInline static let cancelled: UInt32 = 1 << 4
}

/// The type-erased part of a task: state word, queue links, runtime.
@usableFromInline
class TaskHeader: WakeTarget, @unchecked Sendable {
    @usableFromInline let state = Atomic<UInt32>(TaskState.scheduled)
    @usableFromInline let core: Core
    /// Link in a ready queue (local or inject); owned by the queue.
    @exclusivity(unchecked) @usableFromInline var queueNext: Unmanaged<TaskHeader>?
    /// Links in the runtime's list of live tasks (for shutdown).
    @exclusivity(unchecked) var livePrev: Unmanaged<TaskHeader>?
    @exclusivity(unchecked) var liveNext: Unmanaged<TaskHeader>?
    @exclusivity(unchecked) var isLive = false
    /// Set by generic task cells from their inlinable initializer, so the loop calls
    /// code specialized for the concrete future (generic class methods never are).
    @exclusivity(unchecked) @usableFromInline var pollThunk: ((TaskHeader) -> Bool)?
    /// A C task's poll function, its state and the Context whose address it gets (set
    /// by `PollTaskCell`): the loop calls it itself, without a `pollTask` frame, and
    /// calls `finishC` with its final value. Cleared when the task finishes.
    @exclusivity(unchecked) var cPoll: CPollFunction?
    @exclusivity(unchecked) var cState: UnsafeMutableRawPointer?
    @exclusivity(unchecked) var cContext: UnsafeMutablePointer<Context>?

    @usableFromInline init(core: Core) { self.core = core }

    /// Sets `scheduled` (or `notified` when running); `true` when the caller must queue it.
    @inlinable @inline(__always)
    final func transitionToScheduled() -> Bool {
        var cur = state.load()
        while true {
            if cur & (TaskState.complete | TaskState.scheduled | TaskState.notified) != 0 { return false }
            let next = cur & TaskState.running != 0 ? cur | TaskState.notified : cur | TaskState.scheduled
            let r = state.compareExchange(expected: cur, desired: next, ordering: .acquiringAndReleasing)
            if r.exchanged { return next & TaskState.scheduled != 0 }
            cur = r.original
        }
    }

    @usableFromInline override final func wake() {
        if transitionToScheduled() { core.schedule(self) }
    }

    @usableFromInline override final func wakeOnLoop() {
        let cur = state.load()
        if cur & (TaskState.complete | TaskState.scheduled | TaskState.notified) != 0 { return }
        if cur & TaskState.running != 0 {
            // Woken by itself while polled: `notified`, requeued when the poll returns.
            if transitionToScheduled() { core.scheduleLocal(self) }
            return
        }
        // On the loop thread with the task not running: only this thread sets running,
        // notified (needs running) and complete, so other threads can at most set
        // `scheduled` (a remote wake) or `cancelled` meanwhile. One atomic OR instead of
        // a CAS loop; whoever set `scheduled` first queues the task.
        let old = state.bitwiseOr(TaskState.scheduled, ordering: .acquiringAndReleasing).oldValue
        if old & TaskState.scheduled == 0 { core.scheduleLocal(self) }
    }

    /// Requests cancellation; the loop thread drops the future. Any thread, any time.
    final func abort() {
        let old = state.bitwiseOr(TaskState.cancelled, ordering: .acquiringAndReleasing).oldValue
        if old & (TaskState.complete | TaskState.cancelled) == 0 { wake() }
    }

    var isComplete: Bool { state.load() & TaskState.complete != 0 }

    /// Polls the future once; `true` when the task completed. Loop thread only.
    func pollTask() -> Bool { true }
    /// `cPoll` returned `r`, not pending: finish the task (`true`). Loop thread only.
    func finishC(_ r: Int32) -> Bool { true }
    /// Drops the future and completes as cancelled. Loop thread only.
    func cancelTask() {}
}

/// Why a task has no output.
public enum JoinError: Error, Sendable, Equatable {
    /// The task was aborted (or its runtime shut down) before it finished.
    case cancelled
}

/// Join slot: the output and the waker of whoever awaits it. Touched at completion and
/// join time only, under a lock (a join may come from another thread or runtime).
@usableFromInline
struct JoinSlot<T> {
    var output: Result<T, JoinError>?
    var waker: Waker?
    init() {}
}

/// The part of a task that knows its output type (what a `JoinHandle` holds).
@usableFromInline
class JoinableTask<T>: TaskHeader, @unchecked Sendable {
    /// A one-word spin lock, inline in the task (no separate mutex allocation): it is
    /// held only for a few loads and stores, at completion and at join time.
    private let lockWord = Atomic<Bool>(false)
    @exclusivity(unchecked) private var slot = JoinSlot<T>()

    /// Runs `body` on the join slot under the task's lock.
    final func withJoin<R>(_ body: (inout JoinSlot<T>) -> R) -> R {
        while !lockWord.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            sched_yield()
        }
        defer { lockWord.store(false, ordering: .releasing) }
        return body(&slot)
    }

    @usableFromInline
    final func complete(_ result: Result<T, JoinError>) {
        let waker = withJoin { slot -> Waker? in
            slot.output = result
            return slot.waker.take()
        }
        waker?.wake()
    }
}

/// A task cell: the future itself plus everything above.
@usableFromInline
final class TaskCell<F: Future>: JoinableTask<F.Output>, @unchecked Sendable {
    @exclusivity(unchecked) @usableFromInline var future: F?

    @inlinable
    init(core: Core, future: F) {
        self.future = future
        super.init(core: core)
        // Inlined into `Runtime.spawn` at the caller's concrete type: this closure is
        // specialized code, unlike `pollTask` (measured ~1 100 instructions of generic
        // metadata look-ups per poll without it).
        pollThunk = { TaskCell<F>.pollBody(unsafeDowncast($0, to: TaskCell<F>.self)) }
    }

    @inlinable
    static func pollBody(_ task: TaskCell<F>) -> Bool {
        var cx = Context(target: task, core: task.core)
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
