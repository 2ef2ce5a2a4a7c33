import CEddySys
import Synchronization

/// Turns a Swift task's cancellation into a wake of whatever Eddy waiter the task is
/// parked on, with one cancellation record per *task* instead of one per suspension.
///
/// Why: a cancellation record per suspension costs two status-record updates in the
/// Swift runtime, the removal under the task's status lock (a pthread mutex) — about a
/// sixth of a Swift echo round trip. Tasks Eddy starts (`spawn`, `Runtime.spawn`,
/// `blockOn`) install one record for their whole life and publish the parked waiter here
/// under a spin word; a suspension then costs two uncontended exchanges.
///
/// Other tasks (child tasks of groups, tasks a user starts with `Task(executorPreference:)`)
/// have no slot in the core's table and fall back to a per-suspension record.
@usableFromInline
final class TaskCancelSlot: @unchecked Sendable {
    // @unchecked Sendable: `cancelled` and `parked` are touched only under the `lock` word.
    @usableFromInline let lock = Atomic<UInt32>(0)
    /// Guarded by `lock`: set once the task is cancelled.
    @exclusivity(unchecked) @usableFromInline var cancelled = false
    /// Guarded by `lock`: the waiter the task is parked on, if any. Unretained: the task
    /// clears it (under the lock) before the suspension that set it returns, and the
    /// suspending frame keeps the waiter alive until then.
    @exclusivity(unchecked) @usableFromInline var parked: Unmanaged<ContinuationWaiter>?

    init() {}

    /// Runs `body` as the whole of a task Eddy started on `core`, with a slot of its own
    /// (registered in the core's table while the task runs on the loop thread).
    nonisolated(nonsending) static func run<T>(_ core: Core, _ body: () async throws -> T) async throws -> T {
        guard core.mayTouchLoopState, !core.isShutdown else { return try await body() }
        let key = UInt(bitPattern: ceddy_current_task())
        let slot = TaskCancelSlot()
        core.cancelSlots.insert(key, slot)
        defer { if core.mayTouchLoopState { core.cancelSlots.remove(key) } }
        return try await withTaskCancellationHandler(operation: body, onCancel: { slot.cancel() })
    }

    /// The slot of the calling task if Eddy started it on `core` (loop thread only).
    @inlinable @inline(__always)
    static func forCurrentTask(on core: Core) -> Unmanaged<TaskCancelSlot>? {
        core.cancelSlots.find(UInt(bitPattern: ceddy_current_task()))
    }

    @inlinable @inline(__always)
    func withLock<R>(_ body: () -> R) -> R {
        while !lock.compareExchange(expected: 0, desired: 1) {}
        defer { lock.store(0) }
        return body()
    }

    /// Publishes `waiter` as the one to wake on cancellation; false if already cancelled.
    @inlinable @inline(__always)
    func park(_ waiter: Unmanaged<ContinuationWaiter>) -> Bool {
        withLock {
            if cancelled { return false }
            parked = waiter
            return true
        }
    }

    /// Clears the parked waiter; true if the task was cancelled meanwhile.
    @inlinable @inline(__always)
    func unpark() -> Bool {
        withLock {
            parked = nil
            return cancelled
        }
    }

    /// The cancellation handler (any thread): wakes the parked waiter under the lock, so
    /// it cannot be unparked and freed in between (`wake` never blocks).
    private func cancel() {
        withLock {
            cancelled = true
            parked?._withUnsafeGuaranteedRef { $0.wake() }
        }
    }
}
