import Glibc
import Synchronization
import Testing
@testable import Eddy

/// Counts values released by a channel without being received.
final class DropCounter: Sendable {
    let count = Atomic<Int>(0)
    var hook: @Sendable (Int) -> Void { { _ in self.count.wrappingAdd(1, ordering: .relaxed) } }
    var value: Int { count.load(ordering: .relaxed) }
}

@Suite(.serialized) struct ChannelTests {
    @Test func trySendAndReceiveInOrderUntilFull() throws {
        let (tx, rx) = channel(of: Int.self, capacity: 3)
        for i in 0..<3 { try tx.trySend(i) }
        #expect(throws: SendError<Int>.self) { try tx.trySend(9) }
        do { try tx.trySend(9) } catch { #expect(error.reason == .full && error.value == 9) }
        #expect(try rx.tryReceive() == 0)
        try tx.trySend(3)  // room again
        #expect(try rx.tryReceive() == 1)
        #expect(try rx.tryReceive() == 2)
        #expect(try rx.tryReceive() == 3)
        #expect(throws: SyncError.empty) { try rx.tryReceive() }
    }

    @Test func receiverSeesTheEndAfterEverySenderIsGone() throws {
        var (tx, rx): (Sender<Int>?, Receiver<Int>) = channel(of: Int.self, capacity: 4)
        var tx2: Sender<Int>? = tx!.clone()
        try tx!.trySend(1)
        tx = nil
        #expect(try rx.tryReceive() == 1)
        #expect(throws: SyncError.empty) { try rx.tryReceive() }  // tx2 remains
        try tx2!.trySend(2)
        tx2 = nil
        #expect(try rx.tryReceive() == 2)  // queued values come before the end
        #expect(throws: SyncError.closed) { try rx.tryReceive() }
    }

    @Test func sendersSeeClosedAfterTheReceiverIsGone() throws {
        let drops = DropCounter()
        var (tx, rx): (Sender<Int>, Receiver<Int>?) = channel(of: Int.self, capacity: 4, dropUndelivered: drops.hook)
        try tx.trySend(1)
        try tx.trySend(2)
        rx = nil
        #expect(drops.value == 2)  // each queued value released once
        #expect(tx.isClosed)
        do { try tx.trySend(3) } catch { #expect(error.reason == .closed && error.value == 3) }
        #expect(drops.value == 2)  // a refused value stays the caller's
        _ = rx
    }

    @Test func asyncSendWaitsForRoomAndWaitersAreFIFO() throws {
        let rt = try Runtime()
        let order = try rt.blockOn { () async throws -> [Int] in
            let (tx, rx) = channel(of: Int.self, capacity: 1)
            try tx.trySend(0)
            var tasks: [Task<Void, any Error>] = []
            for i in 1...3 {
                let s = tx.clone()
                tasks.append(Eddy.spawn { try await s.send(i) })
                try await Eddy.sleep(for: .milliseconds(2))  // arrive in order
            }
            #expect(tx.state.slots.waiterCount == 3)
            var got: [Int] = []
            for _ in 0..<4 { got.append(try await rx.receive()!) }
            for t in tasks { try await t.value }
            return got
        }
        #expect(order == [0, 1, 2, 3])
    }

    @Test func aCancelledSenderGivesBackItsPlace() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let (tx, rx) = channel(of: Int.self, capacity: 1)
            try tx.trySend(0)
            let a = tx.clone(), b = tx.clone()
            let ta = Eddy.spawn { try await a.send(1) }
            try await Eddy.sleep(for: .milliseconds(2))
            let tb = Eddy.spawn { try await b.send(2) }
            try await Eddy.sleep(for: .milliseconds(2))
            ta.cancel()
            await #expect(throws: CancellationError.self) { try await ta.value }
            #expect(tx.state.slots.waiterCount == 1)
            #expect(try await rx.receive() == 0)
            try await tb.value
            #expect(try await rx.receive() == 2)  // the cancelled send never arrives
            #expect(throws: SyncError.empty) { try rx.tryReceive() }
        }
    }

    @Test func aPermitGrantedToACancelledWaiterGoesToTheNext() throws {
        let sem = Semaphore(permits: 0)
        let a = WaitNode(), b = WaitNode()
        let w = Waker(ContinuationWaiter())
        #expect(sem.pollAcquire(a, w).isReady == false)
        #expect(sem.pollAcquire(b, w).isReady == false)
        sem.release(1)     // granted to a (FIFO)
        sem.cancel(a)      // a gives up: its permit goes to b
        if case .ready(let ok) = sem.pollAcquire(b, w) { #expect(ok) } else { Issue.record("b not granted") }
        #expect(sem.availablePermits == 0 && sem.waiterCount == 0)
    }

    @Test func receiveWaitsAndEndsWithNil() throws {
        let rt = try Runtime()
        let got = try rt.blockOn { () async throws -> [Int] in
            // The only sender lives in the producer task: gone when it ends.
            let rx = { () -> Receiver<Int> in
                let (tx, rx) = channel(of: Int.self, capacity: 2)
                _ = Eddy.spawn { for i in 0..<10 { try await tx.send(i) } }
                return rx
            }()
            var out: [Int] = []
            for await v in rx { out.append(v) }
            return out
        }
        #expect(got == Array(0..<10))
    }

    @Test func aPlainThreadAndAnotherRuntimeSend() throws {
        let rt = try Runtime()
        let (tx, rx) = channel(of: Int.self, capacity: 8)
        let n = 2_000
        // A plain pthread with trySend (spinning on full), and a task of a second runtime
        // on its own thread with async send.
        let t1 = tx.clone(), t2 = tx.clone()
        let th = Thread {
            var i = 0
            while i < n {
                do { try t1.trySend(i); i += 1 } catch { sched_yield() }
            }
        }
        let th2 = Thread {
            let other = try! Runtime()
            try! other.blockOn { for i in 0..<n { try await t2.send(n + i) } }
        }
        let sum = try rt.blockOn { () async throws -> Int in
            var s = 0
            var count = 0
            while count < 2 * n {
                guard let v = try await rx.receive() else { break }
                s += v; count += 1
            }
            return s
        }
        th.join(); th2.join()
        #expect(sum == (0..<(2 * n)).reduce(0, +))
        _ = tx
    }

    @Test func oneshotDeliversOnceThenAlreadyReceived() throws {
        let (tx, rx) = oneshot(of: String.self)
        #expect(throws: SyncError.empty) { try rx.tryReceive() }
        try tx.send("hi")
        do { try tx.send("again") } catch { #expect(error.reason == .closed) }
        #expect(try rx.tryReceive() == "hi")
        #expect(throws: SyncError.alreadyReceived) { try rx.tryReceive() }
    }

    @Test func oneshotEnds() throws {
        var (tx, rx): (OneshotSender<Int>?, OneshotReceiver<Int>) = oneshot(of: Int.self)
        tx = nil
        #expect(throws: SyncError.closed) { try rx.tryReceive() }
        let drops = DropCounter()
        var (tx2, rx2): (OneshotSender<Int>, OneshotReceiver<Int>?) = oneshot(of: Int.self, dropUndelivered: drops.hook)
        try tx2.send(5)
        rx2 = nil
        #expect(drops.value == 1)
        do { try tx2.send(6) } catch { #expect(error.reason == .closed) }
        _ = (tx, rx2)
    }

    @Test func oneshotAcrossThreadsAsync() throws {
        let rt = try Runtime()
        let (tx, rx) = oneshot(of: Int.self)
        let th = Thread { usleep(2_000); try! tx.send(42) }
        let v = try rt.blockOn { try await rx.receive() }
        th.join()
        #expect(v == 42)
    }
}
