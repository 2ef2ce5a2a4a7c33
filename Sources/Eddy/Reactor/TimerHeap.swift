/// A timer entry: deadline, the waker to call, and its position in the heap
/// (-1 when not armed), so cancelling is O(log n), never a scan. 32 bytes: with
/// its 16-byte heap node this is all a key-addressed timer (`reserve`) costs.
struct TimerEntry: SlabEntry {
    var deadline: UInt64 = 0
    var waker: Waker?
    var heapIndex: Int32 = -1
    var generation: UInt32 = 1
    var nextFree: Int32 = -1
    /// A `poll` found the deadline passed (key-addressed timers only).
    var completed = false
    init() {}
}

/// Identifies a timer entry; stale once released.
package struct TimerKey: Sendable, Equatable {
    /// Slab index, below 2^24 (the slab's size limit).
    package let index: Int32
    package let generation: UInt32

    package init(index: Int32, generation: UInt32) {
        self.index = index
        self.generation = generation
    }
}

/// One min-heap of deadlines per runtime. Arm and cancel are O(log n); the next
/// deadline (the reactor's wait time) is O(1). Loop thread only.
final class TimerHeap {
    private struct Node { var deadline: UInt64; var index: Int32 }
    private let entries = PagedSlab<TimerEntry>()
    @exclusivity(unchecked) private var heap: UnsafeMutablePointer<Node>
    @exclusivity(unchecked) private var heapCapacity = 64
    @exclusivity(unchecked) private(set) var count = 0
    /// The paused clock (TimerHeap+Clock.swift): `paused` and the time it shows.
    @exclusivity(unchecked) var paused = false
    @exclusivity(unchecked) var pausedNow: UInt64 = 0

    init() { heap = .allocate(capacity: heapCapacity) }
    deinit { heap.deallocate() }

    var nextDeadline: UInt64? { count > 0 ? heap[0].deadline : nil }

    /// Number of entries held (armed or fired but not yet released).
    var allocated: Int { entries.live }

    /// Arms a new timer.
    func arm(deadline: UInt64, waker: Waker) -> TimerKey? {
        guard let i = entries.allocate() else { return nil }
        let p = entries.pointer(i)
        p.pointee.deadline = deadline
        p.pointee.waker = waker
        p.pointee.completed = false
        push(Node(deadline: deadline, index: i))
        return TimerKey(index: i, generation: p.pointee.generation)
    }

    /// Takes an entry for `deadline` without arming it: the key alone then stands for
    /// the timer (no `Sleep` object), and `poll` arms it. Nil when the slab is full.
    func reserve(deadline: UInt64) -> TimerKey? {
        guard let i = entries.allocate() else { return nil }
        let p = entries.pointer(i)
        p.pointee.deadline = deadline
        p.pointee.completed = false
        return TimerKey(index: i, generation: p.pointee.generation)
    }

    /// Polls a reserved timer: `true` once `now` reached its deadline (disarmed, marked
    /// completed); otherwise it is armed, or its waker replaced, with `cx`'s waker.
    /// A stale key reads as completed: nothing could ever wake it.
    func poll(_ key: TimerKey, now: UInt64, _ cx: inout Context) -> Bool {
        guard let p = live(key) else { return true }
        if now >= p.pointee.deadline {
            if p.pointee.heapIndex >= 0 { remove(at: Int(p.pointee.heapIndex)) }
            p.pointee.waker = nil
            p.pointee.completed = true
            return true
        }
        cx.register(&p.pointee.waker)
        if p.pointee.heapIndex < 0 { push(Node(deadline: p.pointee.deadline, index: key.index)) }
        return false
    }

    /// `true` once a `poll` of the reserved timer returned ready (or the key is stale).
    func isCompleted(_ key: TimerKey) -> Bool { live(key)?.pointee.completed ?? true }

    /// Replaces the waker of a live timer (a re-poll from another task).
    func update(_ key: TimerKey, waker: inout Context) {
        guard let p = live(key) else { return }
        waker.register(&p.pointee.waker)
    }

    /// `true` while the timer is still in the heap (not fired, not released).
    func isArmed(_ key: TimerKey) -> Bool { live(key).map { $0.pointee.heapIndex >= 0 } ?? false }

    /// Disarms (if armed) and frees the entry. Stale keys are ignored.
    func release(_ key: TimerKey) {
        guard let p = live(key) else { return }
        if p.pointee.heapIndex >= 0 { remove(at: Int(p.pointee.heapIndex)) }
        p.pointee.waker = nil
        p.pointee.generation &+= 1
        if p.pointee.generation == 0 { p.pointee.generation = 1 }
        entries.free(key.index)
    }

    /// Wakes every timer whose deadline is at or before `now`.
    func fire(now: UInt64) -> Int {
        var fired = 0
        while count > 0, heap[0].deadline <= now {
            let i = heap[0].index
            remove(at: 0)
            let w = entries.pointer(i).pointee.waker.take()
            w?.target.wakeOnLoop()
            fired += 1
        }
        return fired
    }

    /// Disarms everything and hands back the wakers (shutdown).
    func clearAll() -> [Waker] {
        var wakers: [Waker] = []
        while count > 0 {
            let i = heap[0].index
            remove(at: 0)
            if let w = entries.pointer(i).pointee.waker.take() { wakers.append(w) }
        }
        return wakers
    }

    /// The entry index of heap position `i` (< count) and an entry's address (WaitIndex).
    func heapNodeIndex(_ i: Int) -> Int32 { heap[i].index }
    func entryPointer(_ index: Int32) -> UnsafeMutablePointer<TimerEntry> { entries.pointer(index) }

    private func live(_ key: TimerKey) -> UnsafeMutablePointer<TimerEntry>? {
        guard entries.contains(key.index) else { return nil }
        let p = entries.pointer(key.index)
        return p.pointee.generation == key.generation ? p : nil
    }

    // MARK: binary heap with back-pointers

    private func place(_ node: Node, at i: Int) {
        heap[i] = node
        entries.pointer(node.index).pointee.heapIndex = Int32(i)
    }

    private func push(_ node: Node) {
        if count == heapCapacity {
            let bigger = UnsafeMutablePointer<Node>.allocate(capacity: heapCapacity * 2)
            bigger.moveInitialize(from: heap, count: count)
            heap.deallocate()
            heap = bigger
            heapCapacity *= 2
        }
        count += 1
        siftUp(node, from: count - 1)
    }

    private func remove(at i: Int) {
        entries.pointer(heap[i].index).pointee.heapIndex = -1
        count -= 1
        guard i < count else { return }
        let last = heap[count]
        if i > 0, last.deadline < heap[(i - 1) / 2].deadline {
            siftUp(last, from: i)
        } else {
            siftDown(last, from: i)
        }
    }

    private func siftUp(_ node: Node, from start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            if heap[parent].deadline <= node.deadline { break }
            place(heap[parent], at: i)
            i = parent
        }
        place(node, at: i)
    }

    private func siftDown(_ node: Node, from start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1
            if l >= count { break }
            let r = l + 1
            let c = r < count && heap[r].deadline < heap[l].deadline ? r : l
            if heap[c].deadline >= node.deadline { break }
            place(heap[c], at: i)
            i = c
        }
        place(node, at: i)
    }
}
