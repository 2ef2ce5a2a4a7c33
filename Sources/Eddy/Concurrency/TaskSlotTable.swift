/// Cancellation slots of the Swift tasks a runtime started, by task address.
///
/// Loop thread only (a task Eddy starts runs on its loop: the slot is added by the task's
/// first job and removed by its last). Open addressing with linear probing and
/// backward-shift deletion, so a lookup is a multiply, a mask and usually one compare —
/// the reason this exists instead of a `@TaskLocal` (whose generic getter and value
/// copies cost more than the cancellation record it replaces).
@usableFromInline
struct TaskSlotTable {
    @usableFromInline var keys: UnsafeMutablePointer<UInt>
    @usableFromInline var values: UnsafeMutablePointer<Unmanaged<TaskCancelSlot>?>
    @usableFromInline var mask: Int
    private var count = 0

    /// Tasks registered now.
    var entries: Int { count }

    init() {
        let capacity = 64
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        values = .allocate(capacity: capacity)
        values.initialize(repeating: nil, count: capacity)
        mask = capacity - 1
    }

    /// Frees the table; the slots themselves are owned by their tasks.
    func release() {
        keys.deallocate()
        values.deallocate()
    }

    @inlinable @inline(__always)
    func home(_ key: UInt) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 20) & mask
    }

    /// The slot of task `key`, unretained (its task keeps it alive).
    @inlinable @inline(__always)
    func find(_ key: UInt) -> Unmanaged<TaskCancelSlot>? {
        var i = home(key)
        while true {
            let k = keys[i]
            if k == key { return values[i] }
            if k == 0 { return nil }
            i = (i + 1) & mask
        }
    }

    mutating func insert(_ key: UInt, _ slot: TaskCancelSlot) {
        if (count + 1) * 2 > mask + 1 { grow() }
        var i = home(key)
        while keys[i] != 0 && keys[i] != key { i = (i + 1) & mask }
        if keys[i] == 0 { count += 1 }
        keys[i] = key
        values[i] = Unmanaged.passUnretained(slot)
    }

    mutating func remove(_ key: UInt) {
        var i = home(key)
        while keys[i] != key {
            if keys[i] == 0 { return }
            i = (i + 1) & mask
        }
        // Backward-shift: pull later entries of the probe run into the hole.
        var hole = i
        var j = (i + 1) & mask
        while keys[j] != 0 {
            let h = home(keys[j])
            // Move j into the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !stays {
                keys[hole] = keys[j]
                values[hole] = values[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        keys[hole] = 0
        values[hole] = nil
        count -= 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values, oldCapacity = mask + 1
        let capacity = oldCapacity * 2
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: 0, count: capacity)
        values = .allocate(capacity: capacity)
        values.initialize(repeating: nil, count: capacity)
        mask = capacity - 1
        count = 0
        for i in 0..<oldCapacity where oldKeys[i] != 0 {
            insert(oldKeys[i], oldValues[i]!.takeUnretainedValue())
        }
        oldKeys.deallocate()
        oldValues.deallocate()
    }
}
