import Glibc
import Synchronization
import Testing
@testable import Eddy

/// A future that completes after `polls` polls, waking itself each time.
private struct CountDown: Future {
    var polls: Int
    mutating func poll(_ cx: inout Context) -> Poll<Int> {
        polls -= 1
        if polls <= 0 { return .ready(7) }
        cx.waker.wake()
        return .pending
    }
}

@Suite(.serialized) struct GracefulShutdownTests {
    @Test func everyTaskStateFromOutsideWhileIdle() throws {
        let rt = try Runtime()
        let done = rt.spawn(CountDown(polls: 1))
        try rt.run()                                       // `done` completed
        let quick = rt.spawn(Sleep(for: .milliseconds(20)))
        let slow = rt.spawn(Sleep(for: .seconds(60)))
        let spinning = rt.spawn(CountDown(polls: 50))
        let start = Instant.now()
        let report = try #require(try rt.shutdown(timeout: .milliseconds(300)))
        #expect(millis(since: start) >= 300)               // `slow` held it to the deadline
        #expect(report.tasksFinished == 2)                 // quick, spinning
        #expect(report.tasksDropped == 1)                  // slow
        #expect(done.tryResult().map { (try? $0.get()) == 7 } == true)
        #expect(quick.isFinished && spinning.isFinished && slow.isFinished)
        #expect(slow.tryResult().map { if case .failure(.cancelled) = $0 { true } else { false } } == true)
        // Refused from now on; the report is kept.
        let late = rt.spawn(CountDown(polls: 1))
        #expect(late.isFinished)
        #expect(try rt.shutdown(timeout: .zero) == report)
        #expect(rt.shutdownReport == report && rt.isShutdown && rt.isStopping)
    }

    @Test func fromInsideATaskItBeginsAndTheRunFinishesIt() throws {
        let rt = try Runtime()
        let other = rt.spawn(Sleep(for: .seconds(60)))
        let begun = try rt.blockOn { () async throws -> Bool in
            let r = try Runtime.current!.shutdown(timeout: .milliseconds(50))
            return r == nil
        }
        #expect(begun)
        #expect(other.isFinished)                           // aborted at the deadline, by blockOn
        let report = try #require(rt.shutdownReport)
        #expect(report.tasksDropped == 1)
    }

    @Test func fromAnotherThreadWhileRunning() throws {
        let rt = try Runtime()
        let box = ReportBox()
        let t = spawnThread {
            usleep(50_000)
            box.set(try? rt.shutdown(timeout: .milliseconds(50)))
        }
        #expect(throws: EddyError.shutdown) { _ = try rt.blockOn(Sleep(for: .seconds(60))) }
        pthread_join(t, nil)
        let r = try #require(box.get())
        #expect(r.tasksDropped == 1 && r.tasksFinished == 0)
    }

    @Test func blockingJobsInFlight() throws {
        var c = Runtime.Configuration()
        c.blockingThreads = 1
        let rt = try Runtime(c)
        let running = rt.spawnBlocking { usleep(1_000_000); return 1 }   // detached after this
        usleep(20_000)
        let queued = rt.spawnBlocking { 2 }
        let report = try #require(try rt.shutdown(timeout: .milliseconds(50)))
        #expect(report.blockingJobsRunning == 1)
        #expect(report.blockingJobsAbandoned == 1)
        #expect(!running.isFinished)                        // it goes on; the runtime's end waits
        #expect(try Runtime().blockOn(queued) == .failure(.cancelled))
    }
}

private final class ReportBox: @unchecked Sendable {
    private let m = PosixMutex<ShutdownReport?>(nil)
    func set(_ r: ShutdownReport??) { m.withLock { $0 = r ?? nil } }
    func get() -> ShutdownReport? { m.withLock { $0 } }
}

private func spawnThread(_ body: @escaping () -> Void) -> pthread_t {
    final class Box { let body: () -> Void; init(_ b: @escaping () -> Void) { body = b } }
    var tid = pthread_t()
    pthread_create(&tid, nil, { raw in
        Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, Unmanaged.passRetained(Box(body)).toOpaque())
    return tid
}
