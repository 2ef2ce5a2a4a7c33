import Synchronization

/// The one waker of a single waiting party (a channel's receiver), registered and
/// woken from any thread without a mutex: a spin word guards the slot for a few
/// instructions, and `wake` with nobody registered is one atomic load.
///
/// Used where the waiting side is unique (one receiver), so a FIFO list is not needed.
/// Not final: a oneshot's state inherits it, so the waker costs no allocation of its own.
@usableFromInline
class AtomicWaker: @unchecked Sendable {
    // @unchecked Sendable: `waker` is touched only while holding the `lock` spin word;
    // `hasWaker` mirrors it so that `wake` can skip the lock when the slot is empty.
    @usableFromInline let lock = Atomic<UInt32>(0)
    @usableFromInline let hasWaker = Atomic<Bool>(false)
    @exclusivity(unchecked) @usableFromInline var waker: Waker?

    @usableFromInline init() {}

    @inlinable @inline(__always)
    final func withLock<R>(_ body: () -> R) -> R {
        while !lock.compareExchange(expected: 0, desired: 1) {}
        defer { lock.store(0) }
        return body()
    }

    /// Stores `cx`'s waker (replacing the previous one). The caller re-checks its
    /// condition afterwards (a wake between its check and this store would be lost
    /// otherwise).
    @inlinable final func register(_ w: Waker) {
        withLock {
            if let old = waker, old.willWake(w) { return }
            waker = w
            hasWaker.store(true, ordering: .sequentiallyConsistent)
        }
    }

    /// Wakes and clears the registered waker, if any. Any thread.
    @inlinable @inline(__always) final func wake() {
        // Orders the caller's publication (a value, a flag) before the check, against
        // `register`'s store followed by the waiter's re-check (store-load on both sides).
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard hasWaker.load(ordering: .sequentiallyConsistent) else { return }
        let w: Waker? = withLock {
            hasWaker.store(false, ordering: .relaxed)
            return waker.take()
        }
        w?.wake()
    }
}
