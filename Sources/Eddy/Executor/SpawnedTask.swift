import Glibc
import Synchronization

/// A task as this executor runs it: the header plus the `Core` a wake queues it on.
/// Not generic, so `core` sits at a fixed offset (a generic class reads its field
/// offsets from metadata on every access).
@usableFromInline
class SpawnedTask: TaskHeader, @unchecked Sendable {
    // @unchecked Sendable: adds only `core` to `TaskHeader`, changed (with `executor`)
    // only by `rehome`, whose rule says why no wake can read it meanwhile.
    @exclusivity(unchecked) @usableFromInline var core: Core

    @usableFromInline init(core: Core) {
        self.core = core
        super.init(executor: Unmanaged.passUnretained(core).toOpaque())
    }

    /// `core`, read from the header's `executor` (the line a wake already loads for
    /// `state`), not from this subclass's field further into the object.
    @inline(__always)
    var coreRef: Unmanaged<Core> { Unmanaged<Core>.fromOpaque(executor) }

    @usableFromInline override final func wake() {
        if state.transitionToNotified() { coreRef._withUnsafeGuaranteedRef { $0.schedule(self) } }
    }

    /// Moves a task that has never been polled to `target` (the worker that took it from
    /// the inject queue; that worker's thread, before the first poll). Sound because the
    /// task is `scheduled` and in no queue: a wake meanwhile finds `scheduled` set and
    /// does nothing, and every later wake reads `executor` after a state transition that
    /// follows the first poll's `transitionToRunning` (acquire/release on the one word).
    final func rehome(to target: Core) {
        guard target !== core else { return }
        core = target
        context = Context(target: self, executor: Unmanaged.passUnretained(target).toOpaque())
    }

    @usableFromInline override final func wakeOnLoop() {
        if state.transitionToNotifiedOnLoop() { coreRef._withUnsafeGuaranteedRef { $0.scheduleLocal(self) } }
    }
}

/// The part of a task that knows its output type (what a `JoinHandle` holds), through its
/// join slot type `J` (`JoinSlot<T>`; see `JoinSlotStorage`).
@usableFromInline
class JoinableTask<J: JoinSlotStorage>: SpawnedTask, @unchecked Sendable {
    // @unchecked Sendable: the join slot (output, joiner's waker) is read and written only
    // under `lockWord` (`withJoin`).
    /// A one-word spin lock, inline in the task (no separate mutex allocation): it is
    /// held only for a few loads and stores, at completion and at join time.
    @usableFromInline let lockWord = Atomic<Bool>(false)
    @exclusivity(unchecked) @usableFromInline var slot = J()

    /// Runs `body` on the join slot under the task's lock. Inlinable, as `complete`: a
    /// task's completion and its join then run specialised in the spawning module.
    @inlinable final func withJoin<R>(_ body: (inout J) -> R) -> R {
        while !lockWord.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            sched_yield()
        }
        defer { lockWord.store(false, ordering: .releasing) }
        return body(&slot)
    }

    @inlinable
    final func complete(_ result: Result<J.Output, JoinError>) {
        let waker = withJoin { slot -> Waker? in
            slot.output = result
            return slot.waker.take()
        }
        waker?.wake()
    }
}
