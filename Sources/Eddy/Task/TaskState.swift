import Synchronization

/// A snapshot of a task's state word: five bits, read once and examined at leisure.
///
/// The bits (read as a spec: when set, by whom, on which thread, what excludes it):
///
/// - `scheduled`: the task sits in a ready queue (the loop's local queue or the
///   cross-thread inbox). Set by a wake from any thread when the task is idle, and by
///   spawn (the initial state). Cleared only by the loop thread, when it takes the task
///   out of the queue to poll it (`transitionToRunning`). Never set together with
///   `running`, `notified` or `complete`; a task is therefore never queued twice.
/// - `running`: the loop thread is polling the task right now. Set and cleared by the
///   loop thread only (`transitionToRunning`, `transitionToIdle`, `transitionToComplete`).
///   Excludes `scheduled` and `complete`.
/// - `notified`: the task was woken while `running`. Set by a wake from any thread; only
///   possible while `running`. When the poll returns pending, the loop turns it into
///   `scheduled` and requeues the task at the back (`transitionToIdle`). Excludes
///   `scheduled` and `complete`.
/// - `complete`: the output is stored (or the task was cancelled); the task is never
///   polled again and every wake is ignored. Set by the loop thread (or the thread
///   shutting the runtime down). Final: nothing clears it; excludes every bit but
///   `cancelled`.
/// - `cancelled`: cancellation was requested (`JoinHandle.abort`, any thread, any time)
///   or the task was dropped at shutdown. The loop drops the future instead of polling
///   it. Set once; may coexist with any other bit.
///
/// There is no reference count in the word (tokio and async-task keep one there): a
/// task's references are Swift's own object count (wakers, join handles, the inbox and
/// the runtime's live-task list each hold one strong reference), so there is no
/// ref-inc/ref-dec transition here.
@usableFromInline
struct TaskState: Equatable, Sendable, CustomDebugStringConvertible {
    @usableFromInline let bits: UInt32

    @usableFromInline static let scheduled: UInt32 = 1 << 0
    @usableFromInline static let running: UInt32 = 1 << 1
    @usableFromInline static let notified: UInt32 = 1 << 2
    @usableFromInline static let complete: UInt32 = 1 << 3
    @usableFromInline static let cancelled: UInt32 = 1 << 4

    /// A spawned task starts queued: spawn pushes it on a ready queue at once.
    @usableFromInline static let initial = TaskState(bits: scheduled)
    /// A task dropped without running (or at shutdown): final, cancelled.
    @usableFromInline static let dropped = TaskState(bits: complete | cancelled)

    @inlinable init(bits: UInt32) { self.bits = bits }

    @inlinable var isScheduled: Bool { bits & Self.scheduled != 0 }
    @inlinable var isRunning: Bool { bits & Self.running != 0 }
    @inlinable var isNotified: Bool { bits & Self.notified != 0 }
    @inlinable var isComplete: Bool { bits & Self.complete != 0 }
    @inlinable var isCancelled: Bool { bits & Self.cancelled != 0 }

    /// The invariants above, checked in debug builds after every transition.
    var isValid: Bool {
        if isComplete { return bits & (Self.scheduled | Self.running | Self.notified) == 0 }
        if isScheduled && (isRunning || isNotified) { return false }
        return !isNotified || isRunning
    }

    @usableFromInline var debugDescription: String {
        let names = [(Self.scheduled, "scheduled"), (Self.running, "running"), (Self.notified, "notified"),
                     (Self.complete, "complete"), (Self.cancelled, "cancelled")]
        let set = names.filter { bits & $0.0 != 0 }.map(\.1)
        return "TaskState(\(set.isEmpty ? "idle" : set.joined(separator: "|")))"
    }
}

/// The state word itself, inline in the task header. Every change to a task's state is
/// one of the named transitions below; the arithmetic tricks stay inside them.
@usableFromInline
struct TaskStateCell: ~Copyable {
    @usableFromInline let word = Atomic<UInt32>(TaskState.initial.bits)

    @usableFromInline init() {}

    /// The current state (acquiring: what the setter published is visible).
    @inlinable @inline(__always)
    func load() -> TaskState { TaskState(bits: word.load(ordering: .acquiring)) }

    @inlinable @inline(__always)
    var isComplete: Bool { word.load(ordering: .sequentiallyConsistent) & TaskState.complete != 0 }

    /// A wake from any thread: idle → `scheduled`, running → `notified`, otherwise
    /// nothing. `true` when the caller must queue the task.
    @inlinable @inline(__always)
    func transitionToNotified() -> Bool {
        var cur = word.load()
        while true {
            if cur & (TaskState.complete | TaskState.scheduled | TaskState.notified) != 0 { return false }
            let next = cur & TaskState.running != 0 ? cur | TaskState.notified : cur | TaskState.scheduled
            let r = word.compareExchange(expected: cur, desired: next, ordering: .acquiringAndReleasing)
            if r.exchanged { return next & TaskState.scheduled != 0 }
            cur = r.original
        }
    }

    /// A wake on the loop thread: same outcome as `transitionToNotified`, cheaper.
    /// `true` when the caller must queue the task (on the local queue).
    @inlinable @inline(__always)
    func transitionToNotifiedOnLoop() -> Bool {
        let cur = word.load()
        if cur & (TaskState.complete | TaskState.scheduled | TaskState.notified) != 0 { return false }
        // Woken by itself while polled: `notified`, requeued when the poll returns.
        if cur & TaskState.running != 0 { return transitionToNotified() }
        // Not running, on the loop thread: only this thread sets running, notified (needs
        // running) and complete, so other threads can at most set `scheduled` (a remote
        // wake) or `cancelled` meanwhile. One atomic OR instead of a CAS loop; whoever set
        // `scheduled` first queues the task.
        let old = word.bitwiseOr(TaskState.scheduled, ordering: .acquiringAndReleasing).oldValue
        return old & TaskState.scheduled == 0
    }

    /// The loop took the task off a ready queue: `scheduled` → `running`. Returns the
    /// state before (the caller checks `isCancelled`). Loop thread only.
    @inlinable @inline(__always)
    func transitionToRunning() -> TaskState {
        // One atomic add instead of a CAS loop: a queued task has `scheduled` (1) set and
        // `running` (2) clear, so +1 carries bit 0 into bit 1 and leaves the bits other
        // threads may set (notified, cancelled) untouched.
        let old = word.wrappingAdd(TaskState.running &- TaskState.scheduled, ordering: .acquiringAndReleasing).oldValue
        assert(old & (TaskState.scheduled | TaskState.running | TaskState.complete) == TaskState.scheduled,
               "transitionToRunning from \(TaskState(bits: old))")
        return TaskState(bits: old)
    }

    /// The poll returned pending: clear `running`. A wake that came meanwhile left
    /// `notified` (wakers skip a notified task, so nothing else): it becomes `scheduled`.
    /// `true` when the caller must requeue the task. Loop thread only.
    @inlinable @inline(__always)
    func transitionToIdle() -> Bool {
        let old = word.wrappingSubtract(TaskState.running, ordering: .acquiringAndReleasing).oldValue
        assert(old & TaskState.running != 0 && old & (TaskState.scheduled | TaskState.complete) == 0,
               "transitionToIdle from \(TaskState(bits: old))")
        guard old & TaskState.notified != 0 else { return false }
        // notified → scheduled as one add: bit 2 set, bit 0 clear.
        word.wrappingAdd(TaskState.scheduled &- TaskState.notified, ordering: .acquiringAndReleasing)
        return true
    }

    /// The poll finished the task (or dropped it): `running` → `complete`. Loop thread only.
    @inlinable @inline(__always)
    func transitionToComplete() {
        // Set `complete` first, then clear the rest: a concurrent waker sees `complete`
        // (and gives up) before it could see the task idle.
        word.bitwiseOr(TaskState.complete, ordering: .acquiringAndReleasing)
        let old = word.bitwiseAnd(~(TaskState.running | TaskState.notified | TaskState.scheduled),
                                  ordering: .acquiringAndReleasing).oldValue
        assert(old & TaskState.running != 0, "transitionToComplete from \(TaskState(bits: old))")
    }

    /// The task is dropped without being polled (spawned on a shut-down runtime, or
    /// dropped by shutdown): straight to `complete | cancelled`. The loop's thread (or
    /// the one shutting down), with no poll in progress.
    @inlinable @inline(__always)
    func transitionToCancelled() {
        word.store(TaskState.dropped.bits, ordering: .sequentiallyConsistent)
    }

    /// Cancellation requested (any thread, any time). `true` when this was the first
    /// request on a task not yet complete: the caller must wake the task so the loop
    /// drops it.
    @inlinable @inline(__always)
    func requestCancel() -> Bool {
        let old = word.bitwiseOr(TaskState.cancelled, ordering: .acquiringAndReleasing).oldValue
        return old & (TaskState.complete | TaskState.cancelled) == 0
    }
}
