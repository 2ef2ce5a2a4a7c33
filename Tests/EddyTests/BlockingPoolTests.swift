import Glibc
import Synchronization
import Testing
@testable import Eddy

/// A gate the blocking jobs wait on, opened by the test.
private final class Gate: Sendable {
    let open = Atomic<Bool>(false)
    let started = Atomic<Int>(0)
    func pass() {
        started.add(1, ordering: .sequentiallyConsistent)
        while !open.load(ordering: .acquiring) { usleep(1000) }
    }
    func waitStarted(_ n: Int) {
        while started.load(ordering: .sequentiallyConsistent) < n { usleep(1000) }
    }
}

/// A flag shared with a blocking job.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

@Suite(.serialized) struct BlockingPoolTests {
    @Test func spawnBlockingRunsOffTheLoopAndIsAwaitable() throws {
        let rt = try Runtime()
        let loop = pthread_self()
        let onOtherThread = try rt.blockOn { () async throws -> Bool in
            let h = Runtime.current!.spawnBlocking { pthread_equal(pthread_self(), loop) == 0 }
            return try await h.value
        }
        #expect(onOtherThread)
    }

    @Test func spawnBlockingIsAPollStyleFuture() throws {
        let rt = try Runtime()
        let h = rt.spawnBlocking { 6 * 7 }
        #expect(try rt.blockOn(h).get() == 42)
        #expect(h.isFinished)
    }

    @Test func cancelBeforeStartMeansNeverRuns() throws {
        var c = Runtime.Configuration()
        c.blockingThreads = 1
        let rt = try Runtime(c)
        let gate = Gate()
        let ran = Flag()
        let first = rt.spawnBlocking { gate.pass() }
        gate.waitStarted(1)
        let second = rt.spawnBlocking { () -> Int in ran.set(); return 1 }
        #expect(rt.blockingPoolCounts.queuedJobs == 1)
        #expect(second.cancel())          // still queued: it never runs
        #expect(!first.cancel())          // running: no effect
        gate.open.store(true, ordering: .releasing)
        #expect(throws: Never.self) { try rt.blockOn(first).get() }
        #expect(try rt.blockOn(second) == .failure(.cancelled))
        let didRun = ran.isSet
        #expect(!didRun)
    }

    @Test func countsAndTheThreadBound() throws {
        var c = Runtime.Configuration()
        c.blockingThreads = 2
        let rt = try Runtime(c)
        #expect(rt.blockingPoolCounts.threads == 0)  // started on demand
        let gate = Gate()
        let hs = (0..<5).map { _ in rt.spawnBlocking { gate.pass() } }
        gate.waitStarted(2)
        usleep(50_000)  // a third thread, if any, would start its job now
        let during = rt.blockingPoolCounts
        #expect(during.threads == 2 && during.runningJobs == 2 && during.queuedJobs == 3 && during.maxThreads == 2)
        let started = gate.started.load(ordering: .sequentiallyConsistent)
        #expect(started == 2)
        gate.open.store(true, ordering: .releasing)
        for h in hs { _ = try rt.blockOn(h) }
        var after = rt.blockingPoolCounts
        // A job counts as completed once its wake-up returned: a moment after the value.
        for _ in 0..<5000 where after.completedJobs < 5 || after.runningJobs > 0 {
            usleep(1000)
            after = rt.blockingPoolCounts
        }
        #expect(after.completedJobs == 5 && after.runningJobs == 0 && after.queuedJobs == 0)
    }

    @Test func idleThreadsExitAfterTheTimeout() throws {
        var c = Runtime.Configuration()
        c.blockingIdleTimeout = .milliseconds(300)
        let rt = try Runtime(c)
        let start = Instant.now()
        _ = try rt.blockOn(rt.spawnBlocking { 1 })
        while rt.blockingPoolCounts.threads > 0 && millis(since: start) < 20_000 { usleep(5_000) }
        let idleFor = millis(since: start)
        #expect(rt.blockingPoolCounts.threads == 0)
        #expect(idleFor >= 300)  // not before its idle timeout
        // And a later job starts a new thread.
        #expect(try rt.blockOn(rt.spawnBlocking { 2 }).get() == 2)
    }

    @Test func poolThreadsBlockEverySignal() throws {
        let rt = try Runtime()
        let blocked = try rt.blockOn(rt.spawnBlocking { () -> Bool in
            var cur = sigset_t()
            pthread_sigmask(SIG_BLOCK, nil, &cur)
            return [SIGINT, SIGTERM, SIGUSR1, SIGCHLD, SIGALRM, SIGPIPE].allSatisfy { sigismember(&cur, $0) == 1 }
        }).get()
        #expect(blocked)
    }

    @Test func shutdownAbandonsQueuedJobsAndWaitsForRunningOnes() throws {
        var c = Runtime.Configuration()
        c.blockingThreads = 1
        let rt = try Runtime(c)
        let gate = Gate()
        let finished = Flag()
        let running = rt.spawnBlocking { gate.pass(); finished.set() }
        gate.waitStarted(1)
        let queued = rt.spawnBlocking { 1 }
        let opener = Thread { usleep(50_000); gate.open.store(true, ordering: .releasing) }
        try rt.shutdown()
        opener.join()
        let waited = finished.isSet
        #expect(waited)  // the shutdown waited for it
        #expect(running.isFinished)
        #expect(queued.isFinished)
        #expect(try Runtime().blockOn(queued) == .failure(.cancelled))
        // After shutdown a new job completes at once, cancelled, without running.
        let late = rt.spawnBlocking { 3 }
        #expect(late.isFinished)
    }

    @Test func badConfigurationIsRefused() {
        var c = Runtime.Configuration()
        c.blockingThreads = 0
        #expect(throws: EddyError.invalidArgument) { _ = try Runtime(c) }
        c.blockingThreads = 1025
        #expect(throws: EddyError.invalidArgument) { _ = try Runtime(c) }
    }
}
