import Synchronization

/// What a bounded channel's senders and receiver share: the values (`ValueRing`), the
/// free slots as permits (`Semaphore`: backpressure, FIFO waiting senders, "closed"
/// once the receiver has gone), the receiver's waker and the sender count.
///
/// Hot path (one sender, one receiver, no waiting): a send is a CAS on the semaphore
/// word, a ticket, a cell store and a fence; a receive a sequence load, a CAS, a cell
/// load and a CAS to give the permit back. No lock, no allocation. Those paths are
/// `@inlinable`, so callers in other modules run them specialised for their `T`.
@usableFromInline
final class ChannelState<T>: @unchecked Sendable {
    // @unchecked Sendable: every member is itself thread-safe (atomics, the lock-free
    // ring, the semaphore, the atomic waker); `dropUndelivered` is immutable.
    @usableFromInline let ring: ValueRing<T>
    @usableFromInline let slots: Semaphore
    @usableFromInline let receiverWaker = AtomicWaker()
    @usableFromInline let senders = Atomic<Int>(0)
    @usableFromInline let capacity: Int
    /// Called once for each value accepted but never received (C values' drop functions).
    @usableFromInline let dropUndelivered: (@Sendable (T) -> Void)?

    @inlinable init(capacity: Int, dropUndelivered: (@Sendable (T) -> Void)?) {
        ring = ValueRing(capacity: capacity)
        slots = Semaphore(permits: capacity)
        self.capacity = capacity
        self.dropUndelivered = dropUndelivered
    }

    /// Takes every value still queued and hands it to `dropUndelivered` (or lets it go).
    func drain() {
        while let v = ring.pop() {
            dropUndelivered?(v)
        }
    }

    deinit {
        // Values sent by a sender that held a permit when the receiver went away.
        drain()
    }

    /// A sender is gone; the last one wakes the receiver (it will see the end).
    func senderGone() {
        if senders.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            receiverWaker.wake()
        }
    }
}
