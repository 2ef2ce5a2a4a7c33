// HandleTable: the one process-wide table behind every C handle.
//
// Why a table and not pointers: C (and Python through ctypes) may pass any
// 64-bit value back to us — a freed handle, a handle of the wrong kind, random
// bits. A generational id is checked against the slot's current tag, so every
// such value is answered with EDDY_EBADHANDLE instead of a crash.
//
// id layout: slot index (bits 0..31) | kind (bits 32..39) | generation (40..63).
// Kinds start at 1 and generations at 1, so id 0 is never issued.
//
// Concurrency design:
// - Slots live in fixed-size pages that never move nor get freed, reachable
//   through a static directory (ceddy_handle_pages); so a slot address is stable
//   and can be read without a lock.
// - Allocation and free happen under one Mutex (rare compared to lookups).
// - Lookups are lock-free. Two flavours:
//   * `lookupLocal` (hot path: tcp/future/task/runtime on the loop thread):
//     a seqlock-style read of (tag, object, thread). Objects of these kinds are
//     only ever freed by their runtime's owning thread, so once we have checked
//     that the caller *is* that thread, nobody can free the object under us.
//     Zero read-modify-write atomics, no ARC traffic.
//   * `retainShared` (any-thread functions: waker wake/free, task abort, spawn):
//     a per-slot pin count. The reader pins, checks the tag, retains the
//     object, unpins; `remove` marks the tag dead then waits for pins to drain
//     before the table's reference is released (Dekker with seq_cst).

import CEddySys
import CEddyABI
import Glibc
import Synchronization

/// The kinds of handle the C ABI hands out; stored in bits 32..39 of an id.
enum HandleKind: UInt8 {
    case runtime = 1
    case task = 2
    case future = 3
    case tcp = 4
    case waker = 5
    case fd = 6
}

/// One table entry. `~Copyable` because it holds atomics; it only ever lives
/// in a page allocated by the table.
struct HandleSlot: ~Copyable {
    /// The live id, or 0 when the slot is free. Published last (release).
    let tag = Atomic<UInt64>(0)
    /// Unmanaged object bits (+1 retained by the table). Bit 0 is a sub-kind
    /// flag the owner of the kind may use (tcp: 1 = listener).
    let object = Atomic<UInt>(0)
    /// Thread id (ceddy_thread_id) of the owning runtime's thread.
    let thread = Atomic<UInt>(0)
    /// Full id of the owning runtime (a runtime owns itself). Written under the
    /// lock before the tag is published; immutable while the entry lives, so
    /// the owning thread may read it after a successful `lookupLocal`.
    var owner: UInt64 = 0
    // The 4-byte fields last: 48 bytes per slot instead of 56 (a slot per handle,
    // and a C program may hold a million sleep handles).
    /// Readers currently inside `retainShared` for this slot.
    let pins = Atomic<UInt32>(0)
    /// Next free slot index + 1, 0 = end of list (under the table lock).
    var nextFree: UInt32 = 0
    /// Last generation issued in this slot (under the table lock).
    var generation: UInt32 = 0
    /// Kind of the live entry (under the table lock).
    var kind: UInt8 = 0
}

/// Result of a hot-path lookup: `bits` is valid when `error == 0`.
struct HandleLookup {
    var bits: UInt
    var error: Int32
}

/// A live entry detached from the table by `removeAll`.
struct DetachedHandle {
    var kind: HandleKind
    var bits: UInt
}

final class HandleTable: @unchecked Sendable {
    static let pageShift = 10
    static let pageSize = 1 << pageShift          // 1024 slots per page
    static let maxPages = 4096                    // 4 M handles at most
    static let generationMask: UInt32 = 0xFF_FFFF

    /// Free list head (index + 1), number of slots ever used, live count: under `lock`.
    private struct State {
        var freeHead: UInt32 = 0
        var used: UInt32 = 0
        var live: Int = 0
    }
    private let lock = Mutex(State())

    init() {
        assert(HandleTable.maxPages * HandleTable.pageSize == 1 << Int(HandleTable.kindAndRangeShift))  // lookupLocal
        assert(HandleTable.maxPages == Int(CEDDY_HANDLE_PAGES))
    }

    // The table is process-wide and never deinitialised.

    @inline(__always)
    static func makeID(slot: UInt32, kind: HandleKind, generation: UInt32) -> UInt64 {
        UInt64(slot) | (UInt64(kind.rawValue) << 32) | (UInt64(generation) << 40)
    }

    @inline(__always)
    static func slotIndex(_ id: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: id) }

    @inline(__always)
    static func kindByte(_ id: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: id >> 32) }

    /// Address of slot `index`, or nil when its page was never allocated.
    @inline(__always)
    private func slot(_ index: UInt32) -> UnsafeMutablePointer<HandleSlot>? { HandleTable.hotSlot(index) }

    // MARK: lookups

    /// `hotSlot` for an index already known to be below maxPages * pageSize.
    @inline(__always)
    static func hotSlotInRange(_ index: UInt32) -> UnsafeMutablePointer<HandleSlot>? {
        let base = ceddy_handle_page(index >> UInt32(HandleTable.pageShift))
        guard base != 0 else { return nil }
        let first = UnsafeMutablePointer<HandleSlot>(bitPattern: base).unsafelyUnwrapped
        return first + Int(index & UInt32(HandleTable.pageSize - 1))
    }

    /// Slot address, or nil when its page does not exist. Static (the directory is
    /// the C shim's static array): no swift_once for the `handleTable` global.
    @inline(__always)
    static func hotSlot(_ index: UInt32) -> UnsafeMutablePointer<HandleSlot>? {
        guard Int(index >> UInt32(HandleTable.pageShift)) < HandleTable.maxPages else { return nil }
        return hotSlotInRange(index)
    }

    /// Bits 22...39 of an id: the slot index above the largest one (22 = log2 of
    /// maxPages * pageSize, so these must be 0) and the kind byte (bits 32...39).
    static let kindAndRangeShift: UInt64 = 22
    static let kindAndRangeMask: UInt64 = (1 << (40 - kindAndRangeShift)) - 1

    /// Hot path. Checks the id (kind included) and that the caller is the
    /// owning thread; returns the object bits without retaining them.
    /// Safe only for kinds freed exclusively by the owning thread.
    @inline(__always)
    static func lookupLocal(_ id: UInt64, _ kind: HandleKind, thread: UInt) -> HandleLookup {
        // Kind and slot range in one masked compare (see kindAndRangeShift).
        guard (id >> kindAndRangeShift) & kindAndRangeMask == UInt64(kind.rawValue) << (32 - kindAndRangeShift),
              let s = hotSlotInRange(HandleTable.slotIndex(id)) else {
            return HandleLookup(bits: 0, error: EddyCode.badHandle)
        }
        guard s.pointee.tag.load(ordering: .acquiring) == id else {
            return HandleLookup(bits: 0, error: EddyCode.badHandle)
        }
        let owner = s.pointee.thread.load(ordering: .relaxed)
        let bits = s.pointee.object.load(ordering: .relaxed)
        // Seqlock re-check: the fields read above belong to `id` only if the
        // tag still reads `id` after them.
        atomicMemoryFence(ordering: .acquiring)
        guard s.pointee.tag.load(ordering: .relaxed) == id else {
            return HandleLookup(bits: 0, error: EddyCode.badHandle)
        }
        guard owner == thread else {
            return HandleLookup(bits: 0, error: EddyCode.wrongThread)
        }
        return HandleLookup(bits: bits, error: 0)
    }

    /// Any-thread lookup: returns the object retained (+1) with its bits, or nil.
    /// The caller balances with `Unmanaged.release()`.
    func retainShared(_ id: UInt64, _ kind: HandleKind) -> UInt? {
        guard HandleTable.kindByte(id) == kind.rawValue,
              let s = slot(HandleTable.slotIndex(id)) else { return nil }
        s.pointee.pins.wrappingAdd(1, ordering: .sequentiallyConsistent)
        var result: UInt? = nil
        if s.pointee.tag.load(ordering: .sequentiallyConsistent) == id {
            let bits = s.pointee.object.load(ordering: .relaxed)
            _ = Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(bits)).retain()
            result = bits
        }
        s.pointee.pins.wrappingSubtract(1, ordering: .releasing)
        return result
    }

    /// Owner thread of a live handle (any kind), or nil when the id is not live.
    func ownerThread(_ id: UInt64) -> UInt? {
        guard let s = slot(HandleTable.slotIndex(id)) else { return nil }
        guard s.pointee.tag.load(ordering: .acquiring) == id else { return nil }
        let t = s.pointee.thread.load(ordering: .relaxed)
        atomicMemoryFence(ordering: .acquiring)
        guard s.pointee.tag.load(ordering: .relaxed) == id else { return nil }
        return t
    }

    /// Owning runtime id of `id`. Only after `lookupLocal(id)` succeeded on
    /// this thread (then the entry cannot change under us).
    @inline(__always)
    static func ownerLocal(_ id: UInt64) -> UInt64 {
        hotSlot(HandleTable.slotIndex(id)).unsafelyUnwrapped.pointee.owner
    }

    @inline(__always)
    static func pointer(_ bits: UInt) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: bits & ~UInt(1)).unsafelyUnwrapped
    }

    // MARK: allocation

    /// Stores `bits` (an object retained +1 for the table, bit 0 optional flag)
    /// and returns its new id, or nil when the table is full.
    /// `owner` is the owning runtime's id, which must still be live (so a
    /// handle can never be created for a runtime being freed); nil means "this
    /// entry is a runtime and owns itself".
    func insert(bits: UInt, kind: HandleKind, owner: UInt64?, thread: UInt) -> UInt64? {
        lock.withLock { st -> UInt64? in
            if let o = owner {
                guard let os = slot(HandleTable.slotIndex(o)),
                      os.pointee.tag.load(ordering: .relaxed) == o else { return nil }
            }
            let index: UInt32
            if st.freeHead != 0 {
                index = st.freeHead - 1
                guard let s = slot(index) else { return nil }
                st.freeHead = s.pointee.nextFree
            } else {
                guard st.used < UInt32(HandleTable.maxPages * HandleTable.pageSize) else { return nil }
                index = st.used
                let page = Int(index >> UInt32(HandleTable.pageShift))
                if ceddy_handle_page_relaxed(UInt32(page)) == 0 {
                    let p = UnsafeMutablePointer<HandleSlot>.allocate(capacity: HandleTable.pageSize)
                    for i in 0..<HandleTable.pageSize { (p + i).initialize(to: HandleSlot()) }
                    ceddy_handle_page_set(UInt32(page), UInt(bitPattern: p))
                }
                st.used += 1
            }
            let s = slot(index).unsafelyUnwrapped
            var gen = (s.pointee.generation + 1) & HandleTable.generationMask
            if gen == 0 { gen = 1 }
            s.pointee.generation = gen
            s.pointee.nextFree = 0
            let id = HandleTable.makeID(slot: index, kind: kind, generation: gen)
            s.pointee.owner = owner ?? id
            s.pointee.kind = kind.rawValue
            // Order the field rewrites after the previous dead tag (seqlock writer).
            atomicMemoryFence(ordering: .releasing)
            s.pointee.thread.store(thread, ordering: .relaxed)
            s.pointee.object.store(bits, ordering: .relaxed)
            s.pointee.tag.store(id, ordering: .releasing)
            st.live += 1
            return id
        }
    }

    /// Marks a slot dead while holding the lock; returns the object bits whose
    /// table reference the caller must now release (outside the lock).
    private func kill(_ s: UnsafeMutablePointer<HandleSlot>, index: UInt32, _ st: inout State) -> UInt {
        s.pointee.tag.store(0, ordering: .sequentiallyConsistent)
        // Wait for any-thread readers that may have seen the old tag.
        while s.pointee.pins.load(ordering: .sequentiallyConsistent) != 0 {
            sched_yield()
        }
        let bits = s.pointee.object.load(ordering: .relaxed)
        s.pointee.object.store(0, ordering: .relaxed)
        s.pointee.kind = 0
        s.pointee.nextFree = st.freeHead
        st.freeHead = index + 1
        st.live -= 1
        return bits
    }

    /// Frees a live id of `kind`; returns the object bits (caller releases), or nil.
    func remove(_ id: UInt64, _ kind: HandleKind) -> UInt? {
        guard HandleTable.kindByte(id) == kind.rawValue else { return nil }
        return lock.withLock { st -> UInt? in
            let index = HandleTable.slotIndex(id)
            guard let s = slot(index), s.pointee.tag.load(ordering: .relaxed) == id else { return nil }
            return kill(s, index: index, &st)
        }
    }

    /// Points live id `id` at new object bits and returns the old ones (the caller
    /// releases whatever they stood for), or nil when `id` is not live. Only for kinds
    /// read exclusively by the owning thread (`lookupLocal`), called on that thread: no
    /// reader can see the change half-done.
    func replace(_ id: UInt64, _ kind: HandleKind, bits: UInt) -> UInt? {
        guard HandleTable.kindByte(id) == kind.rawValue else { return nil }
        return lock.withLock { _ -> UInt? in
            guard let s = slot(HandleTable.slotIndex(id)), s.pointee.tag.load(ordering: .relaxed) == id else { return nil }
            let old = s.pointee.object.load(ordering: .relaxed)
            s.pointee.object.store(bits, ordering: .relaxed)
            return old
        }
    }

    /// Frees every live entry owned by runtime `owner`, the runtime's own entry
    /// last, in one lock hold (so no handle can be added for it afterwards).
    /// Returns the other entries so the caller can close/release them outside
    /// the lock, and the runtime's own bits.
    func removeAll(owner: UInt64) -> (handles: [DetachedHandle], runtime: UInt?) {
        lock.withLock { st -> ([DetachedHandle], UInt?) in
            let ownIndex = HandleTable.slotIndex(owner)
            guard let own = slot(ownIndex), own.pointee.tag.load(ordering: .relaxed) == owner else {
                return ([], nil)
            }
            var out: [DetachedHandle] = []
            var i: UInt32 = 0
            while i < st.used {
                if i != ownIndex, let s = slot(i), s.pointee.kind != 0, s.pointee.owner == owner,
                   let k = HandleKind(rawValue: s.pointee.kind) {
                    let bits = kill(s, index: i, &st)
                    out.append(DetachedHandle(kind: k, bits: bits))
                }
                i += 1
            }
            let bits = kill(own, index: ownIndex, &st)
            return (out, bits)
        }
    }

    /// Number of live handles (diagnostics).
    var liveCount: Int { lock.withLock { $0.live } }
}

/// The process-wide table.
let handleTable = HandleTable()
