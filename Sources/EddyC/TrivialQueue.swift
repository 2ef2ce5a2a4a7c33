// TrivialQueue: a growable FIFO of plain values for the host-task turn.
//
// Why not Array: the turn empties its event and repeat lists every call, and
// Array.removeAll(keepingCapacity:) / removeFirst(_:) go through the generic
// replaceSubrange and retain the buffer (measured in docs/PERFORMANCE-LOG.md).
// Here clearing is a store and taking from the front moves an index.

/// FIFO of bitwise-copyable values: `append`, indexing and `count` from the
/// head, `removeFirst(k)`. One thread at a time (no locking). Kept in this
/// module: the turn inlines it (a generic class in `Eddy` was not inlined here).
final class TrivialQueue<Element: BitwiseCopyable> {
    @exclusivity(unchecked) private var base: UnsafeMutablePointer<Element>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var head = 0
    @exclusivity(unchecked) private var tail = 0

    init(capacity: Int = 64) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    deinit { base.deallocate() }

    @inline(__always) var count: Int { tail &- head }
    @inline(__always) var isEmpty: Bool { tail == head }

    /// The i-th value from the head (i < count).
    @inline(__always) subscript(i: Int) -> Element { base[head &+ i] }

    @inline(__always) func append(_ e: Element) {
        if tail == capacity { makeRoom() }
        (base + tail).initialize(to: e)
        tail &+= 1
    }

    /// Drops the first k values (k <= count).
    @inline(__always) func removeFirst(_ k: Int) {
        head &+= k
        if head == tail { head = 0; tail = 0 }
    }

    @inline(__always) func removeAll() { head = 0; tail = 0 }

    /// Slides the live values to the front, or doubles the storage.
    private func makeRoom() {
        let n = count
        if head > 0 && n <= capacity / 2 {
            base.moveInitialize(from: base + head, count: n)  // (may overlap; trivial values)
        } else {
            let bigger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
            bigger.initialize(from: base + head, count: n)
            base.deallocate()
            base = bigger
            capacity *= 2
        }
        head = 0
        tail = n
    }
}
