import Synchronization

/// The values of a bounded channel: Dmitry Vyukov's bounded MPMC array queue (a
/// sequence number per cell), lock-free on both sides and allocation-free after
/// creation. Its size is the channel's capacity rounded up to a power of two; the
/// channel's semaphore keeps at most `capacity` values in it, so a producer that holds
/// a permit always finds its cell free (`push` cannot fail).
@usableFromInline
final class ValueRing<T>: @unchecked Sendable {
    // @unchecked Sendable: a cell's value is written only by the producer that claimed
    // its ticket and read only by the consumer that won it (CAS on `head`); the cell's
    // sequence number (release/acquire) hands it over.
    @usableFromInline let mask: Int
    @usableFromInline let seqs: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let cells: UnsafeMutablePointer<T?>
    @usableFromInline let head = Atomic<Int>(0)
    @usableFromInline let tail = Atomic<Int>(0)

    @inlinable init(capacity: Int) {
        var size = 1
        while size < capacity { size <<= 1 }
        mask = size - 1
        seqs = .allocate(capacity: size)
        cells = .allocate(capacity: size)
        for i in 0..<size {
            (seqs + i).initialize(to: Atomic(i))
            (cells + i).initialize(to: nil)
        }
    }

    deinit {
        seqs.deinitialize(count: mask + 1)
        seqs.deallocate()
        cells.deinitialize(count: mask + 1)  // values never received are released here
        cells.deallocate()
    }

    /// Appends `value`. The caller holds a permit of the channel (room is guaranteed).
    @inlinable func push(_ value: consuming T) {
        let pos = tail.wrappingAdd(1, ordering: .relaxed).oldValue
        let i = pos & mask
        // The cell's previous value is taken before its permit came back: in practice
        // never spins (two receivers racing each other could make it wait an instant).
        while seqs[i].load(ordering: .acquiring) != pos {}
        cells[i] = consume value
        seqs[i].store(pos + 1, ordering: .releasing)
    }

    /// Takes the oldest value, or nil when none is published yet.
    @inlinable func pop() -> T? {
        var pos = head.load(ordering: .relaxed)
        while true {
            let i = pos & mask
            let seq = seqs[i].load(ordering: .acquiring)
            if seq != pos + 1 { return nil }  // empty (or its producer is mid-push)
            let (ok, now) = head.compareExchange(expected: pos, desired: pos + 1, ordering: .relaxed)
            if ok {
                let v = cells[i].take()
                seqs[i].store(pos + mask + 1, ordering: .releasing)
                return v
            }
            pos = now
        }
    }

    /// Values published and not taken (racy).
    var count: Int { max(0, tail.load(ordering: .acquiring) - head.load(ordering: .acquiring)) }
}
