import Testing
@testable import Eddy

/// Keyed timers (`Runtime.reserveTimer` / `pollTimer`): timers without an object (EddyC's sleep handles use them).
@Suite(.serialized) struct KeyedTimerTests {
    /// The C ABI's 1 M-timer budget (docs/PERFORMANCE.md) counts on 32 bytes per entry.
    @Test func timerEntryStaysSmall() {
        #expect(MemoryLayout<TimerEntry>.stride == 32)
    }

    @Test func reservedTimerArmsOnPollFiresAndStaysComplete() throws {
        let rt = try Runtime()
        let start = Instant.now()  // before the deadline is set: never early counts from here
        let deadline = start.advanced(by: .milliseconds(200))
        let key = try #require(rt.reserveTimer(until: deadline))
        #expect(rt.core.timers.count == 0)  // not armed before its first poll
        #expect(!rt.isTimerCompleted(key))
        let polls = Box(0)
        let firstPollInTime = Box(true)
        try rt.blockOn(PollFn<Void> { cx in
            polls.value += 1
            if polls.value == 1 { firstPollInTime.value = Instant.now() < deadline }
            return rt.pollTimer(key, &cx) ? .ready(()) : .pending
        })
        #expect(millis(since: start) >= 200)
        // Armed once, woken once: no busy polling (one poll if a stall outlasted the 200 ms).
        #expect(polls.value == (firstPollInTime.value ? 2 : 1))
        #expect(rt.isTimerCompleted(key))
        #expect(rt.core.timers.count == 0)
        // Polling again after completion stays ready (the clock does not go back).
        try rt.blockOn(PollFn<Void> { cx in rt.pollTimer(key, &cx) ? .ready(()) : .pending })
        #expect(rt.core.timers.allocated == 1)
        rt.releaseTimer(key)
        #expect(rt.core.timers.allocated == 0)
    }

    @Test func releasingAnArmedTimerDisarmsIt() throws {
        let rt = try Runtime()
        let key = try #require(rt.reserveTimer(until: Instant.now().advanced(by: .seconds(30))))
        try rt.blockOn(PollFn<Void> { cx in
            #expect(!rt.pollTimer(key, &cx))
            #expect(!rt.pollTimer(key, &cx))  // a re-poll does not arm twice
            return .ready(())
        })
        #expect(rt.core.timers.count == 1)
        rt.releaseTimer(key)
        #expect(rt.core.timers.count == 0)
        #expect(rt.core.timers.allocated == 0)
    }

    @Test func staleKeyReadsCompletedAndReleaseIsIgnored() throws {
        let rt = try Runtime()
        let old = try #require(rt.reserveTimer(until: Instant.now().advanced(by: .seconds(30))))
        rt.releaseTimer(old)
        // The slot is reused with a new generation: the old key must not reach it.
        let fresh = try #require(rt.reserveTimer(until: Instant.now().advanced(by: .seconds(30))))
        #expect(fresh.index == old.index && fresh.generation != old.generation)
        #expect(rt.isTimerCompleted(old))
        try rt.blockOn(PollFn<Void> { cx in
            #expect(rt.pollTimer(old, &cx))  // a stale key never stays pending forever
            #expect(!rt.pollTimer(fresh, &cx))
            return .ready(())
        })
        rt.releaseTimer(old)
        #expect(rt.core.timers.count == 1)
        #expect(rt.core.timers.allocated == 1)
        rt.releaseTimer(fresh)
        #expect(rt.core.timers.allocated == 0)
    }

    @Test func manyReservedTimersFireInDeadlineOrder() throws {
        let rt = try Runtime()
        // Reserved in scrambled order, deadlines 400...439 ms away: all armed by their first
        // poll before the earliest is due (under TSan arming 2 000 took ~75 ms), so
        // completion order is the heap's order.
        // A timer a stalled machine first polled after its deadline completes at once, in
        // spawn order: left out of the order check, which then holds at any speed.
        let start = Instant.now().advanced(by: .milliseconds(400))
        let delays = (0..<2_000).map { ($0 * 7919) % 40 }
        let order = Box<[Int]>([])
        for d in delays {
            let deadline = start.advanced(by: .milliseconds(d))
            let key = try #require(rt.reserveTimer(until: deadline))
            let armedInTime = Box<Bool?>(nil)
            rt.spawn(PollFn<Void> { cx in
                if armedInTime.value == nil { armedInTime.value = Instant.now() < deadline }
                guard rt.pollTimer(key, &cx) else { return .pending }
                if armedInTime.value == true { order.value.append(d) }
                rt.releaseTimer(key)
                return .ready(())
            })
        }
        try rt.run()
        #expect(order.value == order.value.sorted())
        #expect(order.value.count >= delays.count / 2, "most timers armed in time: \(order.value.count)")
        #expect(rt.core.timers.allocated == 0)
    }
}
