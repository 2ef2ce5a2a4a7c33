/// A growable ring of Swift concurrency jobs: enqueueing a job stores one pointer,
/// no closure or node is allocated per job (the ring grows geometrically, rarely).
struct JobRing {
    private var buffer: UnsafeMutablePointer<UnownedJob>
    private var capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = capacity
        buffer = .allocate(capacity: capacity)
    }

    var isEmpty: Bool { count == 0 }

    mutating func push(_ job: UnownedJob) {
        if capacity == 0 { return }  // released at shutdown
        if count == capacity { grow() }
        (buffer + ((head + count) & (capacity - 1))).initialize(to: job)
        count += 1
    }

    mutating func pop() -> UnownedJob? {
        guard count > 0, capacity > 0 else { return nil }
        let job = (buffer + head).move()
        head = (head + 1) & (capacity - 1)
        count -= 1
        return job
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<UnownedJob>.allocate(capacity: capacity * 2)
        for i in 0..<count { (bigger + i).initialize(to: (buffer + ((head + i) & (capacity - 1))).move()) }
        buffer.deallocate()
        buffer = bigger
        capacity *= 2
        head = 0
    }

    /// Frees the storage for good (shutdown). Jobs still queued are abandoned: their
    /// Swift tasks never resume. Later pushes are dropped the same way.
    mutating func release() {
        guard capacity > 0 else { return }
        buffer.deallocate()
        capacity = 0
        head = 0
        count = 0
    }
}
