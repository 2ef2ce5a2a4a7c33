/// Something a `Waker` can wake: a task, or a suspended Swift continuation.
///
/// `wake()` may be called from any thread. `wakeOnLoop()` is the reactor's shortcut when
/// it is already on the runtime's loop thread.
@usableFromInline
class WakeTarget: @unchecked Sendable {
    // @unchecked Sendable: no state of its own; each subclass documents what `wake` touches
    // (an atomic state word in every case).
    @usableFromInline func wake() {}
    @usableFromInline func wakeOnLoop() { wake() }
}

/// A handle that wakes one task (or continuation). Copying it is one reference count.
///
/// Safe to wake from any thread; waking is idempotent until the task runs again
/// (a scheduled task is never queued twice).
public struct Waker: Sendable {
    @usableFromInline let target: WakeTarget

    @usableFromInline init(_ target: WakeTarget) { self.target = target }

    /// Schedules the task. Any thread.
    @inlinable public func wake() { target.wake() }

    /// `true` when both wake the same task, so storing the new one can be skipped.
    @inlinable public func willWake(_ other: Waker) -> Bool { target === other.target }
}
