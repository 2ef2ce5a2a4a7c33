// HandleTable: the one process-wide table behind every C handle.
//
// Why a table and not pointers: C (and Python through ctypes) may pass any
// 64-bit value back to us — a freed handle, a handle of the wrong kind, random
// bits. A generational id is checked against the slot's current tag, so every
// such value is answered with EDDY_EBADHANDLE instead of a crash.
//
// id layout: slot index (bits 0..21) | generation (bits 22..53) | kind (bits 54..63).
// Kinds start at 1, so id 0 is never issued. The lookup checks the kind (and that
// the bits above it are clear) with one shift and one compare, then masks the slot
// (docs/PERFORMANCE-LOG.md has its cost against the earlier layout).
//
// Stale ids stay dead forever: a slot's generation counts up by one per reuse
// (32 bits, 4 billion reuses), and a slot whose generation is exhausted is retired
// (never put back on the free list) instead of wrapping, so a freed id can never
// name a live object again. Retiring costs 48 bytes per 4 billion handle lifetimes
// of one slot; LIFO reuse stays (cache-warm slots, no quarantine bookkeeping).
//
// Concurrency design:
// - Slots live in fixed-size pages that never move nor get freed, reachable
//   through a static directory (ceddy_handle_pages); so a slot address is stable
//   and can be read without a lock.
// - Allocation and free happen under one lock (rare compared to lookups).
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

/// The kinds of handle the C ABI hands out; stored in bits 54..63 of an id.
enum HandleKind: UInt8 {
    case runtime = 1
    case task = 2
    case future = 3
    case tcp = 4
    case waker = 5
    case fd = 6
    // ---- issue 15 ----
    case udp = 7
    // ---- channels and sync primitives (issue 16): 20... so that kinds other branches
    // add next to `fd` (7, 8 ...) do not collide; any value below 1024 fits the id ----
    case sender = 20
    case receiver = 21
    case semaphore = 22
    case notify = 23
    case condition = 24
    // ---- lines and files (issue 15 item 5; branch lines-15): 30... ----
    case reader = 30
    // ---- Unix datagram sockets (issue 15 item 3): 30, clear of the ranges above ----
    case unixDatagram = 31
    // ---- time and combinators (issue 16, item 6): 45 (clear of the 2x block and sigproc's 40, 41) ----
    case interval = 45
    // ---- signals and child processes (issue 16, branch sigproc-16): 40... ----
    case signal = 40
    case process = 41
    // ---- broadcast and watch channels (issue 16 item 1; branch bcast-16): 46, 47.
    // Object bit 0 (`receiverFlag`): 1 = a receiver, 0 = the sender ----
    case broadcast = 46
    case watch = 47
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
    /// Address of the slot when `error == 0` (for the per-thread tcp cache), else 0.
    var slot: UInt = 0
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
    static let slotBits: UInt64 = 22              // log2(maxPages * pageSize)
    static let slotMask: UInt32 = (1 << 22) - 1
    static let generationShift: UInt64 = 22       // 32 bits of generation
    static let kindShift: UInt64 = 54             // kind in the top bits: one compare checks it

    /// Free list head (index + 1), number of slots ever used, live count, slots retired
    /// because their generation is exhausted: under `lock`.
    private struct State {
        var freeHead: UInt32 = 0
        var used: UInt32 = 0
        var live: Int = 0
        var retired: Int = 0
    }
    private let mutex = Mutex(State())
    /// Makes the mutex's ordering visible to ThreadSanitizer. Synchronization.Mutex's
    /// contended path lives in the statically linked, uninstrumented Swift runtime, so TSan
    /// does not see it order the table's writes and reported every contended allocation as
    /// a race (make sanlib-tsan). An acquiring load at the start of each critical section
    /// and a releasing store at its end (instrumented code: TSan sees them) give the same
    /// happens-before edges the mutex already guarantees. Two plain moves on x86, far
    /// cheaper than a pthread mutex (docs/PERFORMANCE-LOG.md).
    private let order = Atomic<UInt>(0)

    /// The table lock (see `order`).
    @inline(__always)
    private func withLock<R>(_ body: (inout State) -> R) -> R {
        mutex.withLock { st -> R in
            _ = order.load(ordering: .acquiring)
            defer { order.store(0, ordering: .releasing) }
            return body(&st)
        }
    }

    /// Slots that may ever be used (maxPages * pageSize, lower only for tests).
    let slotLimit: UInt32
    /// Last generation a slot may carry before it is retired (UInt32.max, lower only for tests).
    let generationLimit: UInt32

    /// Test hooks, read once when the table is first used (the table is process-wide):
    /// EDDY_TEST_HANDLE_SLOTS caps the slots so a test can fill the table (EDDY_ENOMEM),
    /// EDDY_TEST_HANDLE_GENERATIONS lowers the generation limit so a test can see slot
    /// retirement in milliseconds. Unset (every real program): the full table. Values
    /// can only lower the limits.
    init() {
        assert(HandleTable.maxPages * HandleTable.pageSize == 1 << Int(HandleTable.slotBits))
        assert(HandleTable.maxPages == Int(CEDDY_HANDLE_PAGES))
        let full = UInt32(HandleTable.maxPages * HandleTable.pageSize)
        slotLimit = min(HandleTable.testLimit("EDDY_TEST_HANDLE_SLOTS") ?? full, full)
        generationLimit = max(HandleTable.testLimit("EDDY_TEST_HANDLE_GENERATIONS") ?? UInt32.max, 1)
    }

    private static func testLimit(_ name: String) -> UInt32? {
        guard let v = getenv(name) else { return nil }
        return UInt32(String(cString: v))
    }

    // The table is process-wide and never deinitialised.

    @inline(__always)
    static func makeID(slot: UInt32, kind: HandleKind, generation: UInt32) -> UInt64 {
        UInt64(slot) | (UInt64(generation) << generationShift) | (UInt64(kind.rawValue) << kindShift)
    }

    @inline(__always)
    static func slotIndex(_ id: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: id) & slotMask }

    /// The kind field (and any garbage above it: a forged id then matches no kind).
    @inline(__always)
    static func kindBits(_ id: UInt64) -> UInt64 { id >> kindShift }

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

    /// Hot path. Checks the id (kind included) and that the caller is the
    /// owning thread; returns the object bits without retaining them.
    /// Safe only for kinds freed exclusively by the owning thread.
    @inline(__always)
    static func lookupLocal(_ id: UInt64, _ kind: HandleKind, thread: UInt) -> HandleLookup {
        // Kind (and nothing above it) in one compare; the masked slot index is in range.
        guard HandleTable.kindBits(id) == UInt64(kind.rawValue),
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
        return HandleLookup(bits: bits, error: 0, slot: UInt(bitPattern: s))
    }

    /// `lookupLocal(id, .tcp, thread: currentThread())` through the calling thread's
    /// one-entry cache (CEddyABI's ceddy_tls_tcp_cache): an echo task polls the same
    /// stream two or three times per turn. A hit is two TLS loads and one tag load:
    /// the cached entry was found owned by this thread, a live id's owner never
    /// changes and only the owner frees it, so a tag still reading `id` means the
    /// entry is live, ours, and stays so for this call; a freed id never reads again
    /// (generations). The fork handler resets the cache (Fork.swift).
    @inline(__always)
    static func lookupTcp(_ id: UInt64) -> HandleLookup {
        if ceddy_tcp_cache_id() == id {
            let s = UnsafeMutablePointer<HandleSlot>(bitPattern: ceddy_tcp_cache_slot()).unsafelyUnwrapped
            if s.pointee.tag.load(ordering: .acquiring) == id {
                return HandleLookup(bits: s.pointee.object.load(ordering: .relaxed), error: 0)
            }
        }
        let r = lookupLocal(id, .tcp, thread: currentThread())
        if r.error == 0 { ceddy_tcp_cache_set(id, r.slot) }
        return r
    }

    /// Any-thread lookup: returns the object retained (+1) with its bits, or nil.
    /// The caller balances with `Unmanaged.release()`.
    func retainShared(_ id: UInt64, _ kind: HandleKind) -> UInt? {
        guard HandleTable.kindBits(id) == UInt64(kind.rawValue),
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

    /// Owning runtime id of live `id` (any thread; takes the table lock: cold paths).
    func ownerOf(_ id: UInt64) -> UInt64? {
        withLock { _ -> UInt64? in
            guard let s = slot(HandleTable.slotIndex(id)), s.pointee.tag.load(ordering: .relaxed) == id else { return nil }
            return s.pointee.owner
        }
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
        withLock { st -> UInt64? in
            guard let id = allocate(kind: kind, owner: owner, &st) else { return nil }
            publishLocked(id, bits: bits, thread: thread, &st)
            return id
        }
    }

    /// `insert` of two entries in one lock hold (a channel's two ends): both or neither.
    /// nil: table full or `owner` not live.
    func insertPair(_ first: UInt, _ firstKind: HandleKind, _ second: UInt, _ secondKind: HandleKind,
                    owner: UInt64, thread: UInt) -> (UInt64, UInt64)? {
        withLock { st -> (UInt64, UInt64)? in
            guard let a = allocate(kind: firstKind, owner: owner, &st) else { return nil }
            guard let b = allocate(kind: secondKind, owner: owner, &st) else {
                release(slot(HandleTable.slotIndex(a)).unsafelyUnwrapped, index: HandleTable.slotIndex(a), &st)
                return nil
            }
            publishLocked(a, bits: first, thread: thread, &st)
            publishLocked(b, bits: second, thread: thread, &st)
            return (a, b)
        }
    }

    /// Takes a slot and fixes the id a later `publish` will make live, without
    /// making anything visible (lookups and `removeAll` do not see it). For exports
    /// that must know the handle can be created before they hand an object over
    /// (eddy_spawn takes `state` only once its handle is sure). nil: table full or
    /// `owner` not live. Balance with `publish` or `unreserve`.
    func reserve(kind: HandleKind, owner: UInt64) -> UInt64? {
        withLock { st in allocate(kind: kind, owner: owner, &st) }
    }

    /// Makes reserved `id` live with `bits` (+1 for the table). Returns false, and
    /// gives the slot back, when its owner was freed meanwhile (then the caller keeps
    /// `bits`' reference, and the id simply reads as a freed handle).
    func publish(_ id: UInt64, bits: UInt, thread: UInt) -> Bool {
        withLock { st -> Bool in
            let s = slot(HandleTable.slotIndex(id)).unsafelyUnwrapped
            let o = s.pointee.owner
            guard let os = slot(HandleTable.slotIndex(o)), os.pointee.tag.load(ordering: .relaxed) == o else {
                release(s, index: HandleTable.slotIndex(id), &st)
                return false
            }
            publishLocked(id, bits: bits, thread: thread, &st)
            return true
        }
    }

    /// Gives back a reserved id that will not be published.
    func unreserve(_ id: UInt64) {
        withLock { st in
            release(slot(HandleTable.slotIndex(id)).unsafelyUnwrapped, index: HandleTable.slotIndex(id), &st)
        }
    }

    /// Under the lock: a free slot with its next generation, recorded in the slot.
    private func allocate(kind: HandleKind, owner: UInt64?, _ st: inout State) -> UInt64? {
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
            guard st.used < slotLimit else { return nil }
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
        // Never wraps: `release` retires a slot whose generation reached the limit.
        let gen = s.pointee.generation + 1
        s.pointee.generation = gen
        s.pointee.nextFree = 0
        let id = HandleTable.makeID(slot: index, kind: kind, generation: gen)
        s.pointee.owner = owner ?? id
        return id
    }

    /// Under the lock: publishes allocated `id` (seqlock writer).
    private func publishLocked(_ id: UInt64, bits: UInt, thread: UInt, _ st: inout State) {
        let s = slot(HandleTable.slotIndex(id)).unsafelyUnwrapped
        s.pointee.kind = UInt8(truncatingIfNeeded: HandleTable.kindBits(id))
        // Order the field rewrites after the previous dead tag.
        atomicMemoryFence(ordering: .releasing)
        s.pointee.thread.store(thread, ordering: .relaxed)
        s.pointee.object.store(bits, ordering: .relaxed)
        s.pointee.tag.store(id, ordering: .releasing)
        st.live += 1
    }

    /// Under the lock: a dead slot goes back on the free list, or is retired for
    /// good when its generation is exhausted (so no old id of it can come back).
    private func release(_ s: UnsafeMutablePointer<HandleSlot>, index: UInt32, _ st: inout State) {
        s.pointee.kind = 0
        if s.pointee.generation >= generationLimit {
            st.retired += 1
            return
        }
        s.pointee.nextFree = st.freeHead
        st.freeHead = index + 1
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
        release(s, index: index, &st)
        st.live -= 1
        return bits
    }

    /// Frees a live id of `kind`; returns the object bits (caller releases), or nil.
    func remove(_ id: UInt64, _ kind: HandleKind) -> UInt? {
        guard HandleTable.kindBits(id) == UInt64(kind.rawValue) else { return nil }
        return withLock { st -> UInt? in
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
        guard HandleTable.kindBits(id) == UInt64(kind.rawValue) else { return nil }
        return withLock { _ -> UInt? in
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
        withLock { st -> ([DetachedHandle], UInt?) in
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
    var liveCount: Int { withLock { $0.live } }

    /// Number of slots retired because their generation was exhausted (diagnostics).
    var retiredCount: Int { withLock { $0.retired } }
}

/// The process-wide table.
let handleTable = HandleTable()
