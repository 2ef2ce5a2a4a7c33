import Glibc
import Synchronization
import Testing
@testable import Eddy

/// Semaphore, Notify, AsyncMutex, Condition: FIFO, cancellation safety, misuse,
/// threads.
@Suite(.serialized) struct SyncTests {
    @Test func semaphoreServesWaitersInOrder() throws {
        let rt = try Runtime()
        let order = try rt.blockOn { () async throws -> [Int] in
            let sem = Semaphore(permits: 0)
            let log = Box<[Int]>([])
            var tasks: [Task<Void, any Error>] = []
            for i in 0..<4 {
                tasks.append(Eddy.spawn { try await sem.acquire(); log.value.append(i) })
                try await Eddy.sleep(for: .milliseconds(2))
            }
            #expect(sem.tryAcquire() == .noPermits)
            sem.release(4)
            for t in tasks { try await t.value }
            return log.value
        }
        #expect(order == [0, 1, 2, 3])
    }

    @Test func noOvertakingWhileWaitersQueue() throws {
        let sem = Semaphore(permits: 0)
        let node = WaitNode()
        #expect(sem.pollAcquire(node, Waker(ContinuationWaiter())).isReady == false)
        sem.release(1)  // goes to the queued node, not to the pool
        #expect(sem.tryAcquire() == .noPermits)
        #expect(sem.pollAcquire(node, Waker(ContinuationWaiter())).isReady)
    }

    @Test func aCancelledAcquireGivesBackItsPermit() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let sem = Semaphore(permits: 0)
            let a = Eddy.spawn { try await sem.acquire() }
            try await Eddy.sleep(for: .milliseconds(2))
            let b = Eddy.spawn { try await sem.acquire() }
            try await Eddy.sleep(for: .milliseconds(2))
            a.cancel()
            await #expect(throws: CancellationError.self) { try await a.value }
            sem.release(1)
            try await b.value
            #expect(sem.availablePermits == 0 && sem.waiterCount == 0)
        }
    }

    @Test func closedSemaphoreFailsWaiters() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let sem = Semaphore(permits: 0)
            let a = Eddy.spawn { try await sem.acquire() }
            try await Eddy.sleep(for: .milliseconds(2))
            sem.close()
            await #expect(throws: SyncError.closed) { try await a.value }
            #expect(sem.tryAcquire() == .closed)
        }
    }

    @Test func mutexUnlockWhenNotHeldIsAnError() throws {
        let m = AsyncMutex()
        #expect(throws: SyncError.notHeld) { try m.unlock() }
        #expect(m.tryLock())
        #expect(!m.tryLock())
        try m.unlock()
        #expect(throws: SyncError.notHeld) { try m.unlock() }
        #expect(m.permits.availablePermits == 1)  // never a second permit
    }

    @Test func mutexExcludesAcrossThreadsAndRuntimes() throws {
        let m = AsyncMutex(0)
        let per = 500
        var threads: [Thread] = []
        for _ in 0..<3 {
            threads.append(Thread {
                let rt = try! Runtime()
                try! rt.blockOn {
                    for _ in 0..<per {
                        try await m.withLock { v in
                            let old = v
                            await Task.yield()
                            v = old + 1
                        }
                    }
                }
            })
        }
        for t in threads { t.join() }
        let total = try Runtime().blockOn { try await m.withLock { $0 } }
        #expect(total == 3 * per)
    }

    @Test func notifyOneStoresAPermitNotifyWaitersDoesNot() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let n = Notify()
            n.notifyOne()
            try await n.notified()  // the permit: returns at once
            n.notifyWaiters()       // nobody waits: nothing stored
            let t = Eddy.spawn { try await n.notified() }
            try await Eddy.sleep(for: .milliseconds(5))
            #expect(n.waiterCount == 1)
            n.notifyWaiters()
            try await t.value
        }
    }

    @Test func aNotifiedWaiterCancelledPassesItOn() throws {
        let n = Notify()
        let a = WaitNode(), b = WaitNode()
        let w = Waker(ContinuationWaiter())
        #expect(!n.pollNotified(a, w).isReady)
        #expect(!n.pollNotified(b, w).isReady)
        n.notifyOne()  // to a
        n.cancel(a)    // a gives up: b gets it
        #expect(n.pollNotified(b, w).isReady)
    }

    @Test func notifyAcrossThreads() throws {
        let rt = try Runtime()
        let n = Notify()
        let th = Thread { usleep(3_000); n.notifyOne() }
        try rt.blockOn { try await n.notified() }
        th.join()
    }

    @Test func conditionWaitReleasesAndReacquires() throws {
        let rt = try Runtime()
        let got = try rt.blockOn { () async throws -> [Int] in
            let m = AsyncMutex([Int]())
            let cond = Condition()
            let consumer = Eddy.spawn { () async throws -> [Int] in
                try await m.lock()
                while m.value.count < 3 { try await cond.wait(m) }
                let v = m.value
                try m.unlock()
                return v
            }
            for i in 0..<3 {
                try await Eddy.sleep(for: .milliseconds(1))
                try await m.withLock { $0.append(i) }
                cond.notify()
            }
            return try await consumer.value
        }
        #expect(got == [0, 1, 2])
    }

    @Test func conditionWaitWithoutTheMutexFailsAndCancelReacquires() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let m = AsyncMutex()
            let cond = Condition()
            await #expect(throws: SyncError.notHeld) { try await cond.wait(m) }
            #expect(cond.waiterCount == 0)
            let t = Eddy.spawn { () async throws -> Bool in
                try await m.lock()
                do { try await cond.wait(m) } catch { return m.isLocked }  // holds it again
                return false
            }
            try await Eddy.sleep(for: .milliseconds(3))
            t.cancel()
            #expect(try await t.value == true)
            try m.unlock()
        }
    }
}
