import Synchronization

// Short spellings for the orderings Eddy uses on its state words.
extension Atomic where Value == UInt32 {
    @inlinable @inline(__always) func load() -> UInt32 { load(ordering: .acquiring) }
    @inlinable @inline(__always) func store(_ v: UInt32) { store(v, ordering: .releasing) }
    @inlinable @inline(__always) func compareExchange(expected: UInt32, desired: UInt32) -> Bool {
        compareExchange(expected: expected, desired: desired, ordering: .acquiringAndReleasing).exchanged
    }
}
