import CEddySys
import Glibc
import Synchronization
import Testing
@testable import Eddy

// The multi-thread runtime's global inject queue (issue 14): spawns from threads that
// are not workers go to the first idle worker, which owns the task from then on.

private func workersRuntime(_ n: Int) throws -> Runtime {
    var c = Runtime.Configuration()
    c.workers = n
    return try Runtime(c)
}

private final class IQCount: @unchecked Sendable {
    let v = Atomic<Int>(0)
    var value: Int { v.load(ordering: .acquiring) }
    func add() { v.add(1, ordering: .acquiringAndReleasing) }
}

/// Counts its own deinit (the future holding it was dropped).
private final class IQProbe: @unchecked Sendable {
    let drops: IQCount
    init(_ drops: IQCount) { self.drops = drops }
    deinit { drops.add() }
}

/// Per task: the threads of its polls and whether it completed, under a lock.
private final class IQLog: @unchecked Sendable {
    private let m = PosixMutex<[Int: [UInt]]>([:])
    func record(_ i: Int) { m.withLock { $0[i, default: []].append(UInt(ceddy_thread_id())) } }
    var all: [Int: [UInt]] { m.withLock { $0 } }
}

/// Outside threads a test started from inside a poll, joined once the runtime returns.
private final class IQThreads: @unchecked Sendable {
    private let m = PosixMutex<[Thread]>([])
    func start(_ body: @escaping () -> Void) { let t = Thread(body); m.withLock { $0.append(t) } }
    func joinAll() { for t in m.withLock({ $0 }) { t.join() } }
}

/// Spins the calling thread for about `ns` (a CPU-bound slice of work).
private func spin(ns: UInt64) {
    let end = Instant.now().nanoseconds + ns
    while Instant.now().nanoseconds < end {}
}

/// Waits (polling, bounded) for `cond`; false on timeout.
private func waitFor(seconds: UInt64 = 20, _ cond: () -> Bool) -> Bool {
    let end = Instant.now().nanoseconds + seconds * 1_000_000_000
    while !cond() {
        if Instant.now().nanoseconds > end { return false }
        usleep(200)
    }
    return true
}

@Suite(.serialized) struct InjectQueueTests {
    /// A CPU-bound batch spawned from an outside thread while worker 0 runs is shared by
    /// several workers through the inject queue; each task stays on the worker that took
    /// it (its wake from another thread and its timer come back there) and runs once.
    /// With 2 workers too: worker 1 takes it all (worker 0, the blockOn thread, never does).
    @Test(.timeLimit(.minutes(2)), arguments: [2, 3]) func outsideSpawnsSpreadOverIdleWorkers(workers: Int) throws {
        let threads = IQThreads()
        defer { threads.joinAll() }
        let rt = try workersRuntime(workers)
        let n = 48
        let log = IQLog()
        let done = IQCount()
        let wakers = PosixMutex<[Waker]>([])
        let spawned = IQCount()
        let root = PollFn<Void> { cx in
            if spawned.value == 0 {
                spawned.add()
                let w = cx.waker
                // Spawns from a thread that is no worker while worker 0 is being driven.
                threads.start {
                    for i in 0..<n {
                        var step = 0
                        var sleep: Sleep?
                        rt.spawn(PollFn<Void> { cx in
                            log.record(i)
                            step += 1
                            switch step {
                            case 1:
                                spin(ns: 2_000_000)  // CPU-bound: the other workers must help
                                wakers.withLock { $0.append(cx.waker) }  // woken from outside
                                return .pending
                            case 2:
                                sleep = Sleep(for: .milliseconds(1))  // a timer on this worker
                                return sleep!.poll(&cx).isReady ? .ready(()) : .pending
                            default:
                                guard sleep!.poll(&cx).isReady else { return .pending }
                                done.add()
                                if done.value == n { w.wake() }
                                return .ready(())
                            }
                        })
                    }
                    // Wake every task from this (outside) thread once all have parked.
                    _ = waitFor { wakers.withLock { $0.count } == n }
                    for wk in wakers.withLock({ $0 }) { wk.wake() }
                }
            }
            return done.value == n ? .ready(()) : .pending
        }
        try rt.blockOn(root)
        #expect(done.value == n)
        let runs = log.all
        #expect(runs.count == n)
        // Every poll of a task on one thread (3 or more polls: the timer may be spurious-free).
        #expect(runs.values.allSatisfy { Set($0).count == 1 && $0.count >= 3 })
        // Workers 1..<N take the outside batch; worker 0 (the blockOn thread, whose loop
        // ends with its future) never does.
        let ran = Set(runs.values.map { $0[0] })
        #expect(ran.count >= min(2, workers - 1), "the batch ran on \(ran.count) worker(s)")
        let m = rt.workerMetrics
        #expect(m.reduce(0) { $0 + $1.injectedTaken } == UInt64(n))
        #expect(m[0].injectedTaken == 0)
        #expect(m.filter { $0.injectedTaken > 0 }.count >= min(2, workers - 1))
        #expect(m.allSatisfy { $0.globalQueueDepth == 0 })
    }

    /// With every worker parked, each spawn from an outside thread must unpark one: 3 000
    /// spawns, each waited for before the next (a lost unpark hangs, then fails).
    @Test(.timeLimit(.minutes(2))) func noLostUnparkForOutsideSpawns() throws {
        let threads = IQThreads()
        defer { threads.joinAll() }
        let rt = try workersRuntime(3)
        let rounds = 3_000
        let ran = IQCount()
        let lost = IQCount()
        let finished = IQCount()
        let started = IQCount()
        try rt.blockOn(PollFn<Void> { cx in
            if started.value == 0 {
                started.add()
                let w = cx.waker
                threads.start {
                    for i in 0..<rounds {
                        rt.spawn(PollFn<Void> { _ in ran.add(); return .ready(()) })
                        if !waitFor(seconds: 10, { ran.value > i }) {
                            lost.add()
                            break
                        }
                        if i % 7 == 0 { usleep(50) }  // let the workers park again
                    }
                    finished.add()
                    w.wake()
                }
            }
            return finished.value == 1 ? .ready(()) : .pending
        })
        #expect(lost.value == 0)
        #expect(ran.value == rounds)
        #expect(rt.workerMetrics.reduce(0) { $0 + $1.injectedTaken } == UInt64(rounds))
    }

    /// The owner spawning before it runs the runtime places on worker 0, as before (its
    /// sockets made then register there).
    @Test func ownerSpawnsBetweenRunsGoToWorker0() throws {
        let threads = IQThreads()
        defer { threads.joinAll() }
        let rt = try workersRuntime(3)
        let h = rt.spawn(PollFn<UInt> { _ in .ready(UInt(ceddy_thread_id())) })
        #expect(try rt.blockOn(h).get() == UInt(ceddy_thread_id()))
        #expect(rt.workerMetrics.allSatisfy { $0.injectedTaken == 0 })
    }

    /// Spawn-then-abort from outside threads while the workers take the queue: every
    /// future is dropped exactly once, whether it ran or not.
    @Test(.timeLimit(.minutes(2))) func abortWhileInTheInjectQueue() throws {
        let threads = IQThreads()
        defer { threads.joinAll() }
        let rt = try workersRuntime(3)
        let n = 2_000
        let drops = IQCount()
        let finished = IQCount()
        let started = IQCount()
        try rt.blockOn(PollFn<Void> { cx in
            if started.value == 0 {
                started.add()
                let w = cx.waker
                let spawners = (0..<2).map { _ in
                    Thread {
                        for i in 0..<(n / 2) {
                            let p = IQProbe(drops)
                            let h = rt.spawn(PollFn<Void> { _ in _ = p; return i % 3 == 0 ? .ready(()) : .pending })
                            h.abort()
                        }
                    }
                }
                threads.start {
                    for s in spawners { s.join() }
                    finished.add()
                    w.wake()
                }
            }
            return finished.value == 1 ? .ready(()) : .pending
        })
        #expect(waitFor { drops.value == n })
        usleep(20_000)
        #expect(drops.value == n)
    }

    /// A graceful shutdown begun while tasks wait in the inject queue (every worker busy
    /// in one long poll) drops each of them exactly once, never polled.
    @Test(.timeLimit(.minutes(2))) func shutdownDropsWhatTheInjectQueueHolds() throws {
        let threads = IQThreads()
        defer { threads.joinAll() }
        let rt = try workersRuntime(2)
        let k = 50
        let drops = IQCount()
        let ran = IQCount()
        let queued = IQCount()
        let release = IQCount()
        let blocking = IQCount()
        let depth = IQCount()
        // Worker 1: one poll that does not return until released.
        let blocker = try rt.spawn(PollFn<Void> { _ in
            blocking.add()
            _ = waitFor { release.value == 1 }
            return .ready(())
        }, onWorker: 1)
        var phase = 0
        #expect(throws: EddyError.shutdown) {
            try rt.blockOn(PollFn<Void> { cx in
                phase += 1
                if phase == 1 {
                    _ = waitFor { blocking.value == 1 }
                    // From an outside thread while this worker runs: into the inject queue.
                    let t = Thread {
                        for _ in 0..<k {
                            let p = IQProbe(drops)
                            rt.spawn(PollFn<Void> { _ in _ = p; ran.add(); return .ready(()) })
                            queued.add()
                        }
                    }
                    // Worker 0 stays in this poll until they are all queued (so it takes none).
                    t.join()
                    for _ in 0..<rt.workerMetrics[0].globalQueueDepth { depth.add() }
                    _ = try? cx.runtime.shutdown(timeout: .milliseconds(100))
                    release.add()
                }
                return .pending  // ended by the shutdown
            })
        }
        #expect(waitFor { rt.shutdownReport != nil })
        #expect(queued.value == k)
        #expect(depth.value == k)
        #expect(ran.value == 0)
        #expect(drops.value == k)
        _ = blocker
    }

    /// A task spawned from outside that polls a socket registered with worker 0 (made by
    /// the owner before running the runtime) and is taken by another worker gets
    /// `.wrongThread`, a value, never a race on worker 0's registration; spawned with
    /// `onWorker: 0` it works (the documented way out).
    @Test(.timeLimit(.minutes(2))) func outsideSpawnUsingAWorker0SocketGetsWrongThread() throws {
        let threads = IQThreads()
        defer { threads.joinAll() }
        let rt = try workersRuntime(3)
        let listener = try TcpListener.bind(host: "127.0.0.1", port: 0, runtime: rt)  // worker 0's
        defer { listener.close() }
        let k = 20
        let outcomes = PosixMutex<[(UInt, String)]>([])
        let done = IQCount()
        let started = IQCount()
        let me = UInt(ceddy_thread_id())
        func probe() -> PollFn<Void> {
            PollFn { cx in
                let r: String
                switch listener.pollAccept(&cx) {
                case .pending: r = "pending"
                case .ready(.failure(let e)) where e == .wrongThread: r = "wrongThread"
                case .ready(let other): r = "\(other)"
                }
                outcomes.withLock { $0.append((UInt(ceddy_thread_id()), r)) }
                done.add()
                return .ready(())
            }
        }
        try rt.blockOn(PollFn<Void> { cx in
            if started.value == 0 {
                started.add()
                let w = cx.waker
                threads.start {
                    for _ in 0..<k { rt.spawn(probe()) }
                    _ = try? rt.spawn(probe(), onWorker: 0)
                    _ = waitFor { done.value == k + 1 }
                    w.wake()
                }
            }
            return done.value == k + 1 ? .ready(()) : .pending
        })
        let all = outcomes.withLock { $0 }
        #expect(all.count == k + 1)
        let onWorker0 = all.filter { $0.0 == me }
        let elsewhere = all.filter { $0.0 != me }
        // Worker 0 (parked in blockOn) may take some of the outside spawns: they work.
        #expect(onWorker0.count >= 1 && onWorker0.allSatisfy { $0.1 == "pending" })
        #expect(elsewhere.count >= 1 && elsewhere.allSatisfy { $0.1 == "wrongThread" })
    }
}
