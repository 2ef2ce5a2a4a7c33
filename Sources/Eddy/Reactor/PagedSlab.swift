/// An entry of a `PagedSlab`: default-constructible, with a free-list link.
protocol SlabEntry {
    init()
    var nextFree: Int32 { get set }
}

/// Fixed-size pages of entries that never move, addressed by a 32-bit index.
///
/// Entries keep their address for the slab's whole life, so a pointer may be held
/// across calls that allocate; slots are recycled through a free list (generation
/// checks are the user's job). No allocation once the pages exist.
final class PagedSlab<Entry: SlabEntry> {
    static var pageShift: Int { 10 }
    static var pageSize: Int { 1 << pageShift }
    private static var maxPages: Int { 1 << 14 }   // 16 M entries
    /// Cache line size the pages are aligned to.
    static var lineSize: Int { 64 }

    private let directory: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>
    @exclusivity(unchecked) private(set) var pageCount = 0
    @exclusivity(unchecked) private var freeHead: Int32 = -1
    /// Number of allocated (in use) entries.
    @exclusivity(unchecked) private(set) var live = 0

    init() {
        directory = .allocate(capacity: Self.maxPages)
        directory.initialize(repeating: nil, count: Self.maxPages)
    }

    deinit {
        for p in 0..<pageCount {
            directory[p]!.deinitialize(count: Self.pageSize)
            directory[p]!.deallocate()
        }
        directory.deallocate()
    }

    var capacity: Int { pageCount << Self.pageShift }

    @inline(__always)
    func pointer(_ index: Int32) -> UnsafeMutablePointer<Entry> { Self.pointer(index, in: directory) }

    /// The page directory: fixed for the slab's life (pages get added, it never moves),
    /// so a loop over many entries may load it once.
    var pages: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?> { directory }

    @inline(__always)
    static func pointer(_ index: Int32, in pages: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>) -> UnsafeMutablePointer<Entry> {
        let i = Int(index)
        return pages[i >> pageShift].unsafelyUnwrapped + (i & (pageSize - 1))
    }

    /// `true` if `index` names an entry that exists (in use or free).
    @inline(__always)
    func contains(_ index: Int32) -> Bool { index >= 0 && Int(index) < capacity }

    /// Takes a free entry; nil only when the slab is at its hard size limit.
    func allocate() -> Int32? {
        if freeHead < 0 {
            guard pageCount < Self.maxPages else { return nil }
            // Line-aligned pages: an entry whose stride is a multiple of 64 (IoSlot) then
            // never straddles two cache lines.
            let page = UnsafeMutableRawPointer.allocate(
                byteCount: Self.pageSize * MemoryLayout<Entry>.stride,
                alignment: max(Self.lineSize, MemoryLayout<Entry>.alignment)
            ).bindMemory(to: Entry.self, capacity: Self.pageSize)
            let base = Int32(pageCount << Self.pageShift)
            for i in 0..<Self.pageSize {
                var e = Entry()
                e.nextFree = i + 1 < Self.pageSize ? base + Int32(i + 1) : -1
                (page + i).initialize(to: e)
            }
            directory[pageCount] = page
            pageCount += 1
            freeHead = base
        }
        let index = freeHead
        freeHead = pointer(index).pointee.nextFree
        live += 1
        return index
    }

    /// Returns an entry to the free list (the caller has already reset its fields).
    func free(_ index: Int32) {
        pointer(index).pointee.nextFree = freeHead
        freeHead = index
        live -= 1
    }
}
