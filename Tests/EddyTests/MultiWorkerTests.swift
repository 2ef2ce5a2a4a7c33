import CEddySys
import Glibc
import Synchronization
import Testing
@testable import Eddy

// The multi-thread runtime (issue 14): contracts that only a runtime with several
// workers can break. The rest of the suite runs on both flavours through EDDY_WORKERS
// (mk/workers.mk).

private func multi(_ workers: Int) throws -> Runtime {
    var c = Runtime.Configuration()
    c.workers = workers
    return try Runtime(c)
}

/// Waits (polling) for every handle; the output of each, in order.
private func joinAll<T>(_ handles: [JoinHandle<T>]) -> PollFn<[Result<T, JoinError>]> {
    let hs = Box(handles)
    return PollFn { cx in
        var out: [Result<T, JoinError>] = []
        for i in hs.value.indices {
            guard case .ready(let r) = hs.value[i].poll(&cx) else { return .pending }
            out.append(r)
        }
        return .ready(out)
    }
}

/// An atomic counter that closures and arrays can hold (Atomic itself is ~Copyable).
private final class MWCounter: @unchecked Sendable {
    let v = Atomic<Int>(0)
    var value: Int { v.load(ordering: .acquiring) }
    func add() { v.add(1, ordering: .acquiringAndReleasing) }
    func set(_ x: Int) { v.store(x, ordering: .releasing) }
    /// Stores 1 and returns the previous value.
    func exchangeOne() -> Int { v.exchange(1, ordering: .acquiringAndReleasing) }
}

/// Counts its own deinit (the future that holds it was dropped).
private final class MWProbe: @unchecked Sendable {
    let drops: MWCounter
    init(_ drops: MWCounter) { self.drops = drops }
    deinit { drops.add() }
}

/// A lock-protected waker slot any thread may fill or wake.
private final class MWWaker: @unchecked Sendable {
    private let slot = PosixMutex<Waker?>(nil)
    func set(_ w: Waker) { slot.withLock { $0 = w } }
    func wake() { slot.withLock { $0 }?.wake() }
}

@Suite(.serialized) struct MultiWorkerTests {
    @Test func workerCountIsConfigurableAndChecked() throws {
        #expect(try multi(3).workers == 3)
        #expect(try multi(1).workers == 1)
        #expect(throws: EddyError.invalidArgument) { _ = try multi(-1) }
        #expect(throws: EddyError.invalidArgument) { _ = try multi(1025) }
        let rt = try multi(2)
        #expect(throws: EddyError.invalidArgument) { try rt.spawn(Ready(1), onWorker: 2) }
    }

    @Test func tasksRunOnTheWorkerTheyWereSpawnedOn() throws {
        let rt = try multi(3)
        var hs: [JoinHandle<UInt>] = []
        for w in 0..<3 {
            hs.append(try rt.spawn(PollFn { _ in .ready(UInt(ceddy_thread_id())) }, onWorker: w))
        }
        let me = UInt(ceddy_thread_id())
        let ids = try rt.blockOn(joinAll(hs)).map { try $0.get() }
        #expect(ids[0] == me)  // worker 0: the thread inside blockOn
        #expect(Set(ids).count == 3)
        // A spawn from inside a worker stays on that worker.
        let outer = try rt.spawn(PollFn<JoinHandle<UInt>> { cx in
            .ready(cx.runtime.spawn(PollFn { _ in .ready(UInt(ceddy_thread_id())) }))
        }, onWorker: 2)
        let inner = try rt.blockOn(outer).get()
        #expect(try rt.blockOn(inner).get() == ids[2])
        // Per-worker metrics saw polls on every worker.
        let m = rt.workerMetrics
        #expect(m.count == 3)
        #expect(m.allSatisfy { $0.polls > 0 })
    }

    /// Swift async on a worker: its jobs run on that worker's thread and the sockets it
    /// makes there register with that worker's driver (a TCP round trip works).
    @Test func asyncTasksOnAWorkerOwnTheirSockets() throws {
        let rt = try multi(3)
        let task = try rt.spawn(onWorker: 2) { () async throws -> [UInt] in
            var threads = [UInt(ceddy_thread_id())]
            let (c, s) = try await connectedPair()
            defer { c.close(); s.close() }
            let out: [UInt8] = [1, 2, 3, 4]
            try await c.writeAll(out)
            threads.append(UInt(ceddy_thread_id()))
            var buf = [UInt8](repeating: 0, count: 4)
            var got = 0
            while got < 4 { got += try await s.read(into: &buf, at: got) }
            threads.append(UInt(ceddy_thread_id()))
            return buf == out ? threads : []
        }
        let threads = try rt.blockOn { try await task.value }
        #expect(threads.count == 3)
        #expect(Set(threads).count == 1)  // every resumption on worker 2's thread
        #expect(threads.first != UInt(ceddy_thread_id()))
        // From a thread that is no worker, Runtime.spawn { } runs on worker 0 (this thread, in blockOn).
        let here = try rt.blockOn { try await rt.spawn { UInt(ceddy_thread_id()) }.value }
        #expect(here == UInt(ceddy_thread_id()))
    }

    @Test func workerThreadsBlockEverySignal() throws {
        let rt = try multi(2)
        let h = try rt.spawn(PollFn<Bool> { _ in
            var set = sigset_t()
            pthread_sigmask(SIG_BLOCK, nil, &set)
            return .ready(sigismember(&set, SIGINT) == 1 && sigismember(&set, SIGTERM) == 1
                          && sigismember(&set, SIGCHLD) == 1 && sigismember(&set, SIGUSR1) == 1)
        }, onWorker: 1)
        #expect(try rt.blockOn(h).get())
    }

    /// Every task is polled by one thread at a time and completes exactly once while
    /// wakes rain on it from every worker and from outside threads.
    @Test func everyTaskRunsExactlyOnceUnderCrossWorkerWakeStorms() throws {
        let rt = try multi(3)
        let n = 300
        let wakers = (0..<n).map { _ in MWWaker() }
        let inPoll = (0..<n).map { _ in MWCounter() }
        let completions = (0..<n).map { _ in MWCounter() }
        let overlaps = MWCounter()
        let done = MWCounter()
        var hs: [JoinHandle<Void>] = []
        for i in 0..<n {
            var polls = 0
            hs.append(try rt.spawn(PollFn<Void> { cx in
                if inPoll[i].exchangeOne() != 0 { overlaps.add() }
                defer { inPoll[i].set(0) }
                polls += 1
                wakers[i].set(cx.waker)
                // Storm from inside: wake a task of (most likely) another worker.
                wakers[(i &* 7 &+ polls) % n].wake()
                if polls < 5 { return .pending }
                completions[i].add()
                done.add()
                return .ready(())
            }, onWorker: i % 3))
        }
        let stormers = (0..<2).map { _ in
            Thread {
                while done.value < n { for w in wakers { w.wake() } }
            }
        }
        let results = try rt.blockOn(joinAll(hs))
        for t in stormers { t.join() }
        #expect(results.count == n)
        #expect(overlaps.value == 0)
        #expect(completions.allSatisfy { $0.value == 1 })
    }

    /// 100 000 wakes that each are needed for progress: two tasks on two workers take
    /// turns; a lost wake hangs the test.
    @Test(.timeLimit(.minutes(2))) func hundredThousandCrossWorkerWakes() throws {
        let rt = try multi(3)
        let turns = 100_000
        let counter = MWCounter()
        let w = [MWWaker(), MWWaker()]
        func player(_ me: Int) -> PollFn<Int> {
            PollFn { cx in
                w[me].set(cx.waker)
                while true {
                    let c = counter.value
                    if c >= turns { w[1 - me].wake(); return .ready(c) }
                    guard c % 2 == me else { return .pending }
                    counter.set(c + 1)
                    w[1 - me].wake()
                }
            }
        }
        let a = try rt.spawn(player(0), onWorker: 1)
        let b = try rt.spawn(player(1), onWorker: 2)
        let r = try rt.blockOn(joinAll([a, b]))
        #expect(try r.map { try $0.get() } == [turns, turns])
    }

    /// Budget: a task that always wakes itself leaves the others on its worker their turn.
    @Test func aSpinningTaskDoesNotStarveItsWorker() throws {
        let rt = try multi(2)
        let stop = MWCounter()
        let spinner = try rt.spawn(PollFn<Void> { cx in
            if stop.value != 0 { return .ready(()) }
            cx.waker.wake()
            return .pending
        }, onWorker: 1)
        let sleeper = try rt.spawn(Timeout(PollFn<Void> { _ in .pending }, after: .milliseconds(20)), onWorker: 1)
        let other = try rt.spawn(PollFn<Int> { _ in .ready(7) }, onWorker: 1)
        let r = try rt.blockOn(join(sleeper, other))
        #expect(try r.1.get() == 7)
        #expect((try? r.0.get()) != nil)
        stop.set(1)
        #expect((try? rt.blockOn(spinner).get()) != nil)
    }

    /// abort and drop across workers, in every order: the future is dropped exactly once
    /// and a join sees `cancelled` unless the task finished first.
    @Test func abortAndDropInEveryOrderAcrossWorkers() throws {
        let rt = try multi(3)
        for order in 0..<5 {
            let drops = MWCounter()
            do {
                let parkedWaker = MWWaker()
                let polled = MWCounter()
                let probe = MWProbe(drops)
                let finishNow = order == 2
                var victim: JoinHandle<Int>? = try rt.spawn(PollFn<Int> { cx in
                    _ = probe
                    polled.set(1)
                    parkedWaker.set(cx.waker)
                    return finishNow ? .ready(1) : .pending
                }, onWorker: 1)
                let v = victim!
                switch order {
                case 0:  // aborted from another worker, maybe before its first poll
                    _ = try rt.blockOn(try rt.spawn(PollFn<Void> { _ in v.abort(); return .ready(()) }, onWorker: 2))
                case 1:  // parked, then aborted from an outside thread while a worker wakes it
                    while polled.value == 0 { sched_yield() }
                    let t = Thread { v.abort() }
                    _ = try rt.blockOn(try rt.spawn(PollFn<Void> { _ in parkedWaker.wake(); return .ready(()) }, onWorker: 2))
                    t.join()
                case 2:  // finished, then aborted from outside and from a worker
                    while !v.isFinished { sched_yield() }
                    v.abort()
                    _ = try rt.blockOn(try rt.spawn(PollFn<Void> { _ in v.abort(); return .ready(()) }, onWorker: 2))
                case 3:  // aborted from two threads at once
                    let t = Thread { v.abort() }
                    v.abort()
                    t.join()
                default:  // handle dropped (detached) while parked, then aborted through a copy
                    while polled.value == 0 { sched_yield() }
                    victim = nil
                    v.abort()
                }
                let r = try rt.blockOn(v)
                if order == 2 { #expect(try r.get() == 1) } else { #expect(r == .failure(.cancelled)) }
                _ = victim
            }
            // The future (and its probe) went exactly once.
            let deadline = Instant.now().nanoseconds + 5_000_000_000
            while drops.value == 0 && Instant.now().nanoseconds < deadline { usleep(1000) }
            usleep(10_000)
            #expect(drops.value == 1, "order \(order)")
        }
    }

    @Test func timersFireOnEveryWorker() throws {
        let rt = try multi(3)
        let start = Instant.now()
        let hs = try (0..<3).map { w in try rt.spawn(Timeout(PollFn<Void> { _ in .pending }, after: .milliseconds(30)), onWorker: w) }
        let r = try rt.blockOn(joinAll(hs))
        #expect(r.count == 3)
        #expect(millis(since: start) >= 29)
    }

    @Test func immediateShutdownDropsTheTasksOfEveryWorker() throws {
        let rt = try multi(3)
        let drops = MWCounter()
        let started = MWCounter()
        for w in 0..<3 {
            let p = MWProbe(drops)
            try rt.spawn(PollFn<Void> { _ in _ = p; started.add(); return .pending }, onWorker: w)
        }
        // Workers 1 and 2 poll theirs on their own; worker 0 needs a blockOn turn.
        try rt.blockOn(PollFn<Void> { cx in
            if started.value >= 3 { return .ready(()) }
            cx.waker.wake()
            return .pending
        })
        let report = try rt.shutdown()
        #expect(report.tasksDropped == 3)
        #expect(drops.value == 3)
        #expect(rt.isShutdown)
        #expect(try rt.shutdown() == ShutdownReport(tasksDropped: 0, descriptorsClosed: 0))
    }

    @Test func gracefulShutdownFromOutsideWaitsForEveryWorker() throws {
        let rt = try multi(3)
        for w in 0..<3 {
            // Each worker: one task that finishes in 20 ms, one that never does.
            try rt.spawn(Timeout(PollFn<Void> { _ in .pending }, after: .milliseconds(20)), onWorker: w)
            try rt.spawn(PollFn<Void> { _ in .pending }, onWorker: w)
        }
        let r = try #require(try rt.shutdown(timeout: .milliseconds(300)))
        #expect(r.tasksFinished == 3)
        #expect(r.tasksDropped == 3)
        #expect(rt.shutdownReport == r)
    }

    @Test func gracefulShutdownFromATaskOnAnotherWorker() throws {
        let rt = try multi(3)
        let began = MWCounter()
        let asked = MWCounter()
        try rt.spawn(PollFn<Void> { _ in .pending }, onWorker: 1)
        // Worker 0 waits for something that never comes: the shutdown ends it. The shutdown
        // task is spawned from blockOn's first poll, so blockOn's task exists before it runs.
        #expect(throws: EddyError.shutdown) {
            try rt.blockOn(PollFn<Void> { _ in
                if asked.exchangeOne() == 0 {
                    _ = try? rt.spawn(PollFn<Void> { cx in
                        let r = try? cx.runtime.shutdown(timeout: .milliseconds(50))
                        if r == nil { began.set(1) }  // from inside: begun, not finished
                        return .ready(())
                    }, onWorker: 2)
                }
                return .pending
            })
        }
        #expect(began.value == 1)
        let deadline = Instant.now().nanoseconds + 5_000_000_000
        while rt.shutdownReport == nil && Instant.now().nanoseconds < deadline { usleep(1000) }
        let r = try #require(rt.shutdownReport)
        #expect(r.tasksDropped >= 2)  // worker 1's parked task and worker 0's blockOn task
    }
}
