import Glibc
import Testing
@testable import Eddy

@Suite(.serialized) struct TimerTests {
    /// Never early and in deadline order, at any speed: deadlines start 200 ms out so every
    /// sleep is armed before the first is due; one that a stalled machine first polled after
    /// its deadline (completed at once, in spawn order) is left out of the order check.
    /// Lateness is bounded only against faults (a missed wakeup), not scheduling noise: CI
    /// also runs this under TSan on 2 shared cores.
    @Test func timersFireInOrderNotEarlyWithBoundedLateness() throws {
        let rt = try Runtime()
        let order = Box<[Int]>([])
        let lateness = Box<[Double]>([])
        let start = Instant.now().advanced(by: .milliseconds(200))
        // Deadlines deliberately spawned out of order.
        let delays = [37, 5, 80, 12, 60, 1, 25, 45, 70, 18]
        for d in delays {
            let deadline = start.advanced(by: .milliseconds(d))
            let s = Sleep(until: deadline)
            let armedInTime = Box<Bool?>(nil)
            rt.spawn(PollFn<Void> { cx in
                if armedInTime.value == nil { armedInTime.value = Instant.now() < deadline }
                guard case .ready = s.poll(&cx) else { return .pending }
                let late = Double(Instant.now().nanoseconds) - Double(deadline.nanoseconds)
                if armedInTime.value == true { order.value.append(d) }
                lateness.value.append(late / 1e6)
                return .ready(())
            })
        }
        try rt.run()
        #expect(lateness.value.count == delays.count)
        #expect(order.value == order.value.sorted(), "out of deadline order: \(order.value)")
        #expect(order.value.count >= delays.count / 2, "most sleeps armed in time: \(order.value)")
        #expect(lateness.value.allSatisfy { $0 >= 0 }, "a timer fired early: \(lateness.value)")
        #expect(lateness.value.allSatisfy { $0 < 2_000 }, "lateness beyond 2 s: \(lateness.value)")
    }

    @Test func hundredThousandConcurrentSleepsComplete() throws {
        let rt = try Runtime()
        let done = Box(0)
        for i in 0..<100_000 {
            rt.spawn(Sleep(for: .milliseconds(1 + i % 50)).map { _ in done.value += 1 })
        }
        let start = Instant.now()
        try rt.run()
        #expect(done.value == 100_000)
        #expect(rt.core.timers.count == 0)
        #expect(rt.core.timers.allocated == 0)
        #expect(millis(since: start) < 20_000)
    }

    @Test func cancellingSleepsFreesThem() throws {
        let rt = try Runtime()
        var handles: [JoinHandle<Void>] = []
        for _ in 0..<1_000 { handles.append(rt.spawn(Sleep(for: .seconds(30)))) }
        _ = try rt.blockOn(Sleep(for: .milliseconds(2)))
        #expect(rt.core.timers.count == 1_000)
        for h in handles { h.abort() }
        let start = Instant.now()
        try rt.run()
        #expect(millis(since: start) < 15_000)  // not the 30 s sleeps (half of them: any speed)
        #expect(rt.core.timers.count == 0)
        #expect(rt.core.timers.allocated == 0)
    }

    @Test func asyncSleepTimeoutAndInterval() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let start = Instant.now()
            try await Eddy.sleep(for: .milliseconds(20))
            #expect(millis(since: start) >= 20)
            do {
                _ = try await Eddy.timeout(.milliseconds(10)) {
                    try await Eddy.sleep(for: .seconds(10))
                    return 1
                }
                Issue.record("timeout did not fire")
            } catch let e as EddyError {
                #expect(e == .timedOut)
            }
            let v = try await Eddy.timeout(.seconds(5)) { 7 }
            #expect(v == 7)
            let tick = try Interval(every: .milliseconds(5))
            let t0 = Instant.now()
            for _ in 0..<4 { try await tick.tick() }
            #expect(millis(since: t0) >= 15)
        }
        #expect(rt.core.timers.allocated == 0)
    }

    @Test func cancellingAsyncSleepWakesIt() throws {
        let rt = try Runtime()
        let elapsed = try rt.blockOn { () async throws -> Double in
            let start = Instant.now()
            let t = Eddy.spawn { try await Eddy.sleep(for: .seconds(30)) }
            try await Eddy.sleep(for: .milliseconds(5))
            t.cancel()
            do {
                try await t.value
                Issue.record("cancelled sleep returned normally")
            } catch is CancellationError {}
            return millis(since: start)
        }
        #expect(elapsed < 15_000)  // not the 30 s sleep (half of it: any speed)
        #expect(rt.core.timers.allocated == 0)
    }
}

extension Future {
    /// Test helper: run `body` once the future completes.
    func map(_ body: @escaping (Output) -> Void) -> PollFn<Void> {
        var me = self
        return PollFn { cx in
            switch me.poll(&cx) {
            case .pending: return .pending
            case .ready(let v):
                body(v)
                return .ready(())
            }
        }
    }
}
