import Glibc
import Synchronization

/// The type-erased part of a task: state word, queue links, how the loop polls it.
/// Which executor runs it, and so where a wake queues it, is the Executor layer's
/// (`SpawnedTask`, which overrides `wake`/`wakeOnLoop`).
@usableFromInline
class TaskHeader: WakeTarget, @unchecked Sendable {
    // @unchecked Sendable: wakers and join handles reach a task from any thread, and all
    // they touch is the atomic `state` (`TaskStateCell`). Everything else (`queueNext`, the
    // live links, the poll entry points) belongs to the loop thread, which alone sets
    // `running`; the inbox lock hands a task to the loop across threads.
    // Field order is a measured choice (docs/PERFORMANCE-LOG.md, "Cost per round trip as
    // connections grow"): what a wake and a raw task's run touch comes first, within 48
    // bytes of the object header, so that one or two cache lines of the task are loaded per
    // round trip instead of three; the live-list links (spawn and completion only) go last.
    /// This task's poll `Context` (the task itself and its executor), the object's first
    /// stored property on purpose: its address is the object's stored-property base
    /// (`contextPointer`), so a raw task hands C a stable `cx` without allocating one per
    /// spawn. Written by `init`, and by `SpawnedTask.rehome` while the task is scheduled and
    /// in no ready queue (a multi-thread runtime's inject queue hands it to the worker that
    /// takes it): a wake reads it only after its state transition, which orders it after
    /// that change.
    @exclusivity(unchecked) @usableFromInline var context: Context
    /// The executor that queues this task on a wake, unretained and opaque here (this layer
    /// sits below the executor; `SpawnedTask` holds the strong reference and gives it its
    /// type): the context's second word, next to `state` so a wake reads one line of the task.
    @inlinable @inline(__always) var executor: UnsafeMutableRawPointer { context.executor }
    /// The state machine (see `TaskState`); changed only through its named transitions.
    @usableFromInline let state = TaskStateCell()
    /// Link in a ready queue (local or inject); owned by the queue.
    @exclusivity(unchecked) @usableFromInline var queueNext: Unmanaged<TaskHeader>?
    /// A raw task's poll hook and its data (set by `RawTaskCell`; the hook gets
    /// `contextPointer` as its cx): the loop calls the hook itself, without a `pollTask`
    /// frame, then `finishRaw` with its final value. Cleared when the task finishes.
    @exclusivity(unchecked) var rawPoll: RawTaskVTable.Poll?
    @exclusivity(unchecked) var rawData: UnsafeMutableRawPointer?
    /// Set by generic task cells from their inlinable initializer, so the loop calls
    /// code specialized for the concrete future (generic class methods never are).
    @exclusivity(unchecked) @usableFromInline var pollThunk: ((TaskHeader) -> Bool)?
    /// Links in the runtime's list of live tasks (for shutdown).
    @exclusivity(unchecked) var livePrev: Unmanaged<TaskHeader>?
    @exclusivity(unchecked) var liveNext: Unmanaged<TaskHeader>?
    @exclusivity(unchecked) var isLive = false

    @usableFromInline init(executor: UnsafeMutableRawPointer) {
        context = Context(placeholderWith: executor)
        super.init()
        context = Context(target: self, executor: executor)
    }

    /// The address of `context` inside this object (stable while the task lives): what a
    /// raw task's poll gets as its `cx`.
    @inline(__always)
    var contextPointer: UnsafeMutablePointer<Context> {
        _getUnsafePointerToStoredProperties(self).assumingMemoryBound(to: Context.self)
    }

    /// Requests cancellation; the loop thread drops the future. Any thread, any time.
    final func abort() {
        if state.requestCancel() { wake() }
    }

    var isComplete: Bool { state.isComplete }

    /// Polls the future once; `true` when the task completed. Loop thread only.
    func pollTask() -> Bool { true }
    /// `rawPoll` returned `value`, not pending: finish the task (`true`). Loop thread only.
    func finishRaw(_ value: Int32) -> Bool { true }
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
struct JoinSlot<T>: JoinSlotStorage {
    @usableFromInline var output: Result<T, JoinError>?
    @usableFromInline var waker: Waker?
    @inlinable init() {}
}

/// What a joinable task stores its join slot in: `JoinSlot<T>`, the only conformance. The
/// task class is generic over the slot type rather than over `T`: a task's deinit (generic
/// code, never specialised) then destroys a field whose type is the class's own generic
/// argument, without asking the runtime for `JoinSlot<T>`'s metadata on every task (a
/// hashed look-up, ~325 instructions; docs/PERFORMANCE-LOG.md).
@usableFromInline
protocol JoinSlotStorage {
    associatedtype Output
    init()
    var output: Result<Output, JoinError>? { get set }
    var waker: Waker? { get set }
}
