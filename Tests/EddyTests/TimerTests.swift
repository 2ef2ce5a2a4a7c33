import Glibc
import Testing
@testable import Eddy

@Suite(.serialized) struct TimerTests {
    @Test func timersFireInOrderNotEarlyWithBoundedLateness() throws {
        let rt = try Runtime()
        let order = Box<[Int]>([])
        let lateness = Box<[Double]>([])
        let start = Instant.now()
        // Deadlines deliberately spawned out of order.
        let delays = [37, 5, 80, 12, 60, 1, 25, 45, 70, 18]
        for d in delays {
            let deadline = start.advanced(by: .milliseconds(d))
            let s = Sleep(until: deadline)
            rt.spawn(Join(s, PollFn<Void> { _ in .ready(()) }).map { _ in
                let late = Double(Instant.now().nanoseconds) - Double(deadline.nanoseconds)
                order.value.append(d)
                lateness.value.append(late / 1e6)
            })
        }
        try rt.run()
        #expect(order.value == delays.sorted())
        #expect(lateness.value.allSatisfy { $0 >= 0 }, "a timer fired early: \(lateness.value)")
        #expect(lateness.value.allSatisfy { $0 < 100 }, "lateness beyond 100 ms: \(lateness.value)")
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
        #expect(millis(since: start) < 1_000)
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
        #expect(elapsed < 1_000)
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
