import Testing
@testable import EddyC

/// `TrivialQueue`, the host turn's event and repeat lists: order kept through
/// growth, the slide of live values to the front, and partial takes.
struct TrivialQueueTests {
    @Test func keepsOrderThroughGrowthAndSlides() {
        let q = TrivialQueue<Int>(capacity: 4)
        var expected: [Int] = []
        var next = 0
        // Appends outpace takes (growth), then takes catch up (slides at a full tail).
        for round in 0..<200 {
            for _ in 0..<(round % 7 + 1) {
                q.append(next)
                expected.append(next)
                next += 1
            }
            let take = min(q.count, round % 5 + (round > 100 ? 3 : 0))
            for i in 0..<take { #expect(q[i] == expected[i]) }
            q.removeFirst(take)
            expected.removeFirst(take)
            #expect(q.count == expected.count)
        }
        for i in 0..<q.count { #expect(q[i] == expected[i]) }
        q.removeAll()
        #expect(q.isEmpty && q.count == 0)
        q.append(7)
        #expect(q.count == 1 && q[0] == 7)
    }

    @Test func slideMovesOverlappingValues() {
        // head = 3, 3 values live when the 8-slot tail is reached: the slide moves
        // them to the front without growing (3 <= 8 / 2), overlapping nothing or not.
        let q = TrivialQueue<UInt64>(capacity: 8)
        for v in 0..<8 { q.append(UInt64(v)) }
        q.removeFirst(5)
        q.append(100)  // tail == capacity: slide
        #expect(q.count == 4)
        #expect((0..<4).map { q[$0] } == [5, 6, 7, 100])
    }
}
