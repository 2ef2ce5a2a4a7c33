import Testing
@testable import Eddy

/// The paused clock (Runtime+Clock.swift) and intervals' missed-tick behaviours
/// (Interval.swift), without real waiting: every test here would take hours on the real
/// clock, and they finish in milliseconds.
@Suite(.serialized) struct PausedClockTests {
    @Test func advanceFiresTimersInDeadlineOrder() throws {
        let rt = try Runtime()
        try rt.pauseClock()
        let t0 = try rt.clockNow()
        let order = Box<[Int]>([])
        for h in [5, 1, 4, 2, 3] {  // hours, spawned out of order
            let s = Sleep(until: t0.advanced(by: .seconds(3600 * h)))
            rt.spawn(s.map { _ in order.value.append(h) })
        }
        try rt.run(tickingOnce: true) { true }  // one turn: arms every sleep (no idle wait: no auto-advance)
        #expect(order.value.isEmpty)
        #expect(try rt.advanceClock(by: .seconds(3600 * 2)) == 2)
        try rt.run(tickingOnce: true) { true }
        #expect(order.value == [1, 2])
        #expect(try rt.clockNow() == t0.advanced(by: .seconds(7200)))
        #expect(try rt.advanceClock(by: .seconds(3600 * 10)) == 3)
        try rt.run()
        #expect(order.value == [1, 2, 3, 4, 5])
    }

    /// A shutdown's timeout is real time: a paused clock must not hold it (the ABI fuzzer
    /// hung in eddy_runtime_shutdown on a runtime whose clock it had paused).
    @Test func shutdownOfAPausedRuntimeEndsAtItsRealDeadline() throws {
        let rt = try Runtime()
        try rt.pauseClock()
        let slow = rt.spawn(Sleep(for: .seconds(3600)))
        try rt.run(tickingOnce: true) { true }  // arms the sleep
        let start = Instant.now()
        let report = try #require(try rt.shutdown(timeout: .milliseconds(20)))
        #expect(report.tasksDropped == 1)
        #expect(slow.isFinished)
        #expect(millis(since: start) < 30_000)
        try rt.pauseClock()  // refused quietly once a shutdown began: the clock stays real
        #expect(try rt.clockNow() >= start)
    }

    @Test func idlePausedRuntimeAutoAdvancesToTheNextTimer() throws {
        let rt = try Runtime()
        let real0 = Instant.now()
        let slept = try rt.blockOn { () async throws -> Duration in
            try pauseClock()
            let c0 = clockNow()
            try await Eddy.sleep(for: .seconds(86_400))  // a day
            return clockNow().duration(since: c0)
        }
        #expect(slept == .seconds(86_400))
        #expect(Instant.now().duration(since: real0) < .seconds(60))
    }

    @Test func advanceWithoutPauseOrBackwardsIsAnError() throws {
        let rt = try Runtime()
        #expect(throws: EddyError.invalidArgument) { try rt.advanceClock(by: .seconds(1)) }
        try rt.pauseClock()
        #expect(throws: EddyError.invalidArgument) { try rt.advanceClock(by: .seconds(-1)) }
        #expect(try rt.advanceClock(by: .seconds(Int64.max)) == 0)  // saturates, no trap
        try rt.resumeClock()
        #expect(throws: EddyError.invalidArgument) { try rt.advanceClock(by: .zero) }
    }

    @Test func clockCallsOffTheLoopThreadFail() throws {
        #expect(throws: EddyError.wrongThread) { try pauseClock() }
    }

    /// A task sleeps 10 s per period after each tick (the interval ticks every 1 s, so
    /// it misses 9 each time): what the next ticks are depends on the behaviour.
    func ticks(_ b: MissedTickBehavior) throws -> [Int64] {
        let rt = try Runtime()
        return try rt.blockOn { () async throws -> [Int64] in
            try pauseClock()
            let t0 = clockNow()
            let iv = try Interval(every: .seconds(1), startingAt: t0, missedTickBehavior: b)
            var got: [Int64] = []
            for i in 0..<4 {
                let t = try await iv.tick()
                got.append(Int64(t.duration(since: t0).components.seconds))
                if i == 0 { try await advanceClock(by: .milliseconds(3500)) }  // late by 3.5 s
            }
            return got
        }
    }

    @Test func missedTicksBurstDelaySkip() throws {
        // burst: the missed ticks 1, 2, 3 come at once, the schedule stays.
        #expect(try ticks(.burst) == [0, 1, 2, 3])
        // delay: one tick (scheduled at 1, delivered at 3.5), then 4.5, 5.5 (shown in whole seconds).
        #expect(try ticks(.delay) == [0, 1, 4, 5])
        // skip: one tick, then the next on the original schedule after 3.5: 4, 5.
        #expect(try ticks(.skip) == [0, 1, 4, 5])
    }

    @Test func skipAndDelayDifferOnTheSchedule() throws {
        let rt = try Runtime()
        let (d, s) = try rt.blockOn { () async throws -> (Instant, Instant) in
            try pauseClock()
            let t0 = clockNow()
            let a = try Interval(every: .seconds(1), startingAt: t0, missedTickBehavior: .delay)
            let b = try Interval(every: .seconds(1), startingAt: t0, missedTickBehavior: .skip)
            try await a.tick()
            try await b.tick()
            try await advanceClock(by: .milliseconds(2500))
            try await a.tick()
            try await b.tick()
            return (a.nextTick, b.nextTick)
        }
        // delivered at t0 + 2.5 s: delay schedules 3.5 s, skip the schedule's 3 s.
        #expect(s.nanoseconds + 500_000_000 == d.nanoseconds)
    }

    @Test func pollTickUsesTheRuntimesClock() throws {
        let rt = try Runtime()
        try rt.pauseClock()
        let t0 = try rt.clockNow()
        let iv = try Interval(every: .seconds(60), startingAt: t0.advanced(by: .seconds(60)), missedTickBehavior: .skip)
        #expect(iv.nextTick == t0.advanced(by: .seconds(60)))
        let n = Box(0)
        rt.spawn(PollFn<Void> { cx in
            while case .ready = iv.pollTick(&cx) {
                n.value += 1
                if n.value == 3 { return .ready(()) }
            }
            return .pending
        })
        let real0 = Instant.now()
        try rt.run()  // auto-advance: three minutes of paused time
        #expect(n.value == 3)
        #expect(try rt.clockNow() == t0.advanced(by: .seconds(180)))
        #expect(Instant.now().duration(since: real0) < .seconds(60))
    }
}
