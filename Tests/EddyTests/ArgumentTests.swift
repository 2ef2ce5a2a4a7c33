import Glibc
import Testing
@testable import Eddy

/// Negative or absurd sizes are `EddyError.invalidArgument` (EINVAL), never a value that
/// means something else (an empty read is end of stream) and never a crash.
@Suite(.serialized) struct ArgumentTests {
    @Test func readSizesOutOfRangeThrowEinval() throws {
        let rt = try Runtime()
        try rt.blockOn { () async throws in
            let (c, s) = try await connectedPair()
            try await s.writeAll("x")
            for bad in [-1, Int.min, TcpStream.maxReadBytes + 1, Int.max] {
                #expect(await thrownError { try await c.read(maxBytes: bad) } == .invalidArgument, "maxBytes \(bad)")
            }
            var buf = [UInt8](repeating: 0, count: 4)
            for bad in [-1, Int.min, 5, Int.max] {
                #expect(await thrownError { try await c.read(into: &buf, at: bad) } == .invalidArgument, "offset \(bad)")
            }
            // Empty requests are 0 bytes, not errors (documented), and consume nothing.
            #expect(try await c.read(maxBytes: 0) == [])
            #expect(try await c.read(into: &buf, at: 4) == 0)
            // The refused calls left the stream usable: the byte is still there.
            #expect(try await c.read(maxBytes: 16) == Array("x".utf8))
            c.close()
            s.close()
        }
    }

    @Test func pollStyleBadBuffersThrowEinval() throws {
        let rt = try Runtime()
        let (c, s) = try rt.blockOn { try await connectedPair() }
        let p = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
        defer { p.deallocate() }
        let results = try rt.blockOn(PollFn<[Poll<Result<Int, EddyError>>]> { cx in
            .ready([
                c.pollRead(&cx, p, -1),
                c.pollRead(&cx, nil, 1),
                c.pollWrite(&cx, p, -1),
                c.pollWrite(&cx, nil, 1),
                c.pollRead(&cx, nil, 0),  // empty: 0 bytes, not an error
            ])
        })
        #expect(results.count == 5)
        for r in results.prefix(4) {
            guard case .ready(.failure(let e)) = r else { Issue.record("accepted a bad buffer: \(r)"); continue }
            #expect(e == .invalidArgument)
        }
        if case .ready(.success(let n)) = results.last { #expect(n == 0) } else { Issue.record("empty read: \(String(describing: results.last))") }
        c.close()
        s.close()
    }

    @Test func negativeBacklogAndBadConfigurationThrowEinval() throws {
        let rt = try Runtime()
        #expect(throws: EddyError.invalidArgument) { try TcpListener.bind(host: "127.0.0.1", port: 0, backlog: -1, runtime: rt) }
        let l = try TcpListener.bind(host: "127.0.0.1", port: 0, backlog: 0, runtime: rt)  // listen(2)'s minimum
        l.close()
        var bad: [Runtime.Configuration] = []
        for v in [0, -1, 1025, Int.min] { var c = Runtime.Configuration(); c.eventBatch = v; bad.append(c) }
        for v in [0, -1, Int.min] { var c = Runtime.Configuration(); c.taskBudget = v; bad.append(c) }
        for v in [0, -1, Int.min] { var c = Runtime.Configuration(); c.operationBudget = v; bad.append(c) }
        for c in bad {
            #expect(throws: EddyError.invalidArgument) { _ = try Runtime(c) }
        }
        var edge = Runtime.Configuration()
        edge.eventBatch = 1
        edge.taskBudget = 1
        edge.operationBudget = .max
        _ = try Runtime(edge)
    }

    @Test func intervalPeriodMustBePositive() throws {
        #expect(throws: EddyError.invalidArgument) { _ = try Interval(every: .zero) }
        #expect(throws: EddyError.invalidArgument) { _ = try Interval(every: .milliseconds(-5)) }
        _ = try Interval(every: .nanoseconds(1))
    }

    /// Timers: a negative duration is a deadline that has passed (decided: meaningful,
    /// as in tokio and asyncio), so it completes at once instead of failing.
    @Test func negativeSleepCompletesAtOnce() throws {
        let rt = try Runtime()
        let t0 = Instant.now()
        try rt.blockOn { () async throws in
            try await Eddy.sleep(for: .seconds(-3600))
            try await Eddy.sleep(for: .nanoseconds(Int64.min))
        }
        try rt.blockOn(Sleep(for: .seconds(-1)))
        // Generous: "at once" vs the hour asked for, on a loaded machine.
        #expect(millis(since: t0) < 5_000)
    }
}
