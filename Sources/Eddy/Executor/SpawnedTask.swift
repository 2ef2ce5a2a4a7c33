import Glibc
import Synchronization

/// A task as this executor runs it: the header plus the `Core` a wake queues it on.
/// Not generic, so `core` sits at a fixed offset (a generic class reads its field
/// offsets from metadata on every access).
@usableFromInline
class SpawnedTask: TaskHeader, @unchecked Sendable {
    // @unchecked Sendable: adds only an immutable `core` to `TaskHeader`.
    @usableFromInline let core: Core

    @usableFromInline init(core: Core) {
        self.core = core
        super.init(executor: Unmanaged.passUnretained(core).toOpaque())
    }

    /// `core`, read from the header's `executor` (the line a wake already loads for
    /// `state`), not from this subclass's field further into the object.
    @inline(__always)
    var coreRef: Unmanaged<Core> { Unmanaged<Core>.fromOpaque(executor) }

    @usableFromInline override final func wake() {
        if state.transitionToNotified() { core.schedule(self) }
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
