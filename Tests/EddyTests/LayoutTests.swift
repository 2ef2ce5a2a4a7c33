import Testing
@testable import Eddy

/// Memory layout choices the cost per round trip at thousands of connections depends on
/// (docs/PERFORMANCE-LOG.md, "Cost per round trip as connections grow"): each one removed a
/// cache line loaded per connection per round trip, measured with callgrind's cache model.
struct LayoutTests {
    /// A registration slot is one whole cache line: a dispatch and the socket steps after
    /// it never load two lines for one slot (a 40-byte slot straddled two in 3 cases of 8).
    @Test func ioSlotsAreWholeCacheLines() throws {
        #expect(MemoryLayout<IoSlot>.stride == PagedSlab<IoSlot>.lineSize)
        let slab = PagedSlab<IoSlot>()
        var indices: [Int32] = []
        // Two pages' worth: the second page must be aligned too.
        for _ in 0..<(PagedSlab<IoSlot>.pageSize + 3) {
            indices.append(try #require(slab.allocate()))
        }
        for i in indices {
            #expect(UInt(bitPattern: slab.pointer(i)) % UInt(PagedSlab<IoSlot>.lineSize) == 0)
        }
        for i in indices { slab.free(i) }
    }
}
