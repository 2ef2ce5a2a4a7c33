import CEddySys
import Glibc
import Testing
@testable import Eddy

/// io_uring completion reads (`EDDY_URING_RECV=1`): accepted streams read through a
/// multishot recv into the driver's buffer pool. The bytes, their order, end of stream
/// and errors must be exactly what read(2) gives; the pool must get every buffer back;
/// the kernel must never write into a caller's buffer.
@Suite(.serialized) struct CompletionReadTests {
    /// A runtime on io_uring with completion reads (pool of `buffers` when given), or nil
    /// when this kernel cannot (then `DriverTests.ioUringOrAReason` says why).
    private func runtime(buffers: Int? = nil) throws -> Runtime? {
        setenv("EDDY_URING_RECV", "1", 1)
        if let buffers { setenv("EDDY_TEST_URING_RX_BUFFERS", String(buffers), 1) }
        defer {
            unsetenv("EDDY_URING_RECV")
            unsetenv("EDDY_TEST_URING_RX_BUFFERS")
        }
        var c = Runtime.Configuration()
        c.driver = .ioUring
        let rt = try Runtime(configuration: c)
        guard rt.driver == .ioUring else { return nil }
        // Only a kernel older than 6.0 (no multishot recv) may refuse the pool.
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let major = Int(release.split(separator: ".").first ?? "") ?? 0
        if major >= 6 { #expect(rt.core.io.rx != nil, "kernel \(release): no completion reads") }
        return rt.core.io.rx == nil ? nil : rt
    }

    /// (free, count) of the pool.
    private func pool(_ rt: Runtime) -> (UInt32, UInt32) {
        let p = rt.core.io.rx!.pointee
        return (p.free, p.count)
    }

    private func slot(_ s: TcpStream) -> UnsafeMutablePointer<IoSlot> { s.slotAddress }

    /// 40 000 bytes through a pool of 8 buffers of 2 KiB, read 100 bytes at a time: the
    /// recv runs the pool dry (ENOBUFS), the stream goes on with read(2) and re-arms; the
    /// bytes arrive whole and in order, and every buffer comes back.
    @Test func bytesInOrderThroughADryPool() throws {
        guard let rt = try runtime(buffers: 8) else { return }
        let total = 40_000
        let (got, mode) = try rt.blockOn { () async throws -> ([UInt8], UInt8) in
            let (c, s) = try await connectedPair()
            let mode = self.slot(s).pointee.rx.mode
            let writer = Eddy.spawn { try await c.writeAll(pattern(3, total)); c.close() }
            try await Eddy.sleep(for: .milliseconds(30))  // the pool fills before anybody reads
            var got: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 100)
            while true {
                let n = try await s.read(into: &buf)
                if n == 0 { break }
                got += buf[0..<n]
            }
            try await writer.value
            s.close()
            return (got, mode)
        }
        #expect(mode == RxMode.armed)
        #expect(got == pattern(3, total))
        try rt.run(tickingOnce: true) { true }  // late completions of the closed stream
        let (free, count) = pool(rt)
        #expect(free == count)
    }

    /// A stream closed with unread data in pool buffers (and its recv in flight) gives
    /// them back; the late completions of its cancelled recv are dropped, buffers returned.
    @Test func closeWithUnreadDataReturnsTheBuffers() throws {
        guard let rt = try runtime() else { return }
        try rt.blockOn {
            let (c, s) = try await connectedPair()
            try await c.writeAll(pattern(5, 5000))
            try await Eddy.sleep(for: .milliseconds(30))
            #expect(self.slot(s).pointee.rx.head != CEDDY_RX_NONE)  // data waits in the pool
            s.close()
            try await c.writeAll(pattern(6, 100))  // may race the cancellation: dropped
            try await Eddy.sleep(for: .milliseconds(30))
            c.close()
        }
        try rt.run(tickingOnce: true) { true }
        let (free, count) = pool(rt)
        #expect(free == count)
    }

    /// End of stream after data, and a reset, read as read(2) reports them: the data, then
    /// 0 (again and again); ECONNRESET once, then 0.
    @Test func endOfStreamAndResetAsReadReportsThem() throws {
        guard let rt = try runtime() else { return }
        try rt.blockOn {
            let (c, s) = try await connectedPair()
            try await c.writeAll([1, 2, 3])
            c.close()
            #expect(try await s.read(maxBytes: 16) == [1, 2, 3])
            #expect(try await s.read(maxBytes: 16) == [])
            #expect(try await s.read(maxBytes: 16) == [])
            s.close()

            let (c2, s2) = try await connectedPair()
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            #expect(setsockopt(try c2.fileDescriptor, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size)) == 0)
            c2.close()  // RST
            #expect(await thrownError { try await s2.read(maxBytes: 16) } == .errno(ECONNRESET))
            #expect(try await s2.read(maxBytes: 16) == [])
            s2.close()
        }
    }

    /// A Unix stream keeps read(2)/recvmsg reads: a recv would consume the byte that
    /// carries a descriptor and drop the descriptor (found by the Python suite's
    /// test_pass_descriptors, which hung: the receiver waited for a message already gone).
    @Test func unixStreamsKeepReadinessReadsForDescriptors() throws {
        guard let rt = try runtime() else { return }
        try rt.blockOn {
            let path = "@eddy-swift-rx-fd-\(getpid())"
            let l = try TcpListener.bind(unixPath: path)
            defer { l.close() }
            let acc = Eddy.spawn { try await l.accept() }
            let c = try await TcpStream.connect(unixPath: path)
            let s = try await acc.value
            defer { c.close(); s.close() }
            try #require(self.slot(s).pointee.rx.mode == RxMode.readiness)
            try await Eddy.sleep(for: .milliseconds(20))  // the loop turns: a recv would be in
            var p: [Int32] = [-1, -1]
            #expect(pipe(&p) == 0)
            try await c.send(descriptor: p[1])
            try await Eddy.sleep(for: .milliseconds(20))
            let got = try await s.receiveDescriptor()
            #expect(got >= 0)
            close(got); close(p[0]); close(p[1])
        }
    }

    /// A poll-style read left pending hands nothing to the kernel: data arriving after
    /// it waits in the pool, the abandoned buffer is never written, and the next read,
    /// into another buffer, gets the bytes.
    @Test func anAbandonedReadBufferIsNeverWritten() throws {
        guard let rt = try runtime() else { return }
        let abandoned = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { abandoned.deallocate() }
        abandoned.initializeMemory(as: UInt8.self, repeating: 0xAA)
        let (c, s) = try rt.blockOn { try await connectedPair() }
        var first: Poll<Result<Int, EddyError>>?
        try rt.blockOn(PollFn<Void> { cx in
            first = s.pollRead(&cx, into: abandoned)  // nothing yet: pending, then dropped
            return .ready(())
        })
        #expect(first.map { if case .pending = $0 { true } else { false } } == true)
        let got = try rt.blockOn {
            try await c.writeAll([9, 8, 7])
            try await Eddy.sleep(for: .milliseconds(20))
            return try await s.read(maxBytes: 16)
        }
        #expect(got == [9, 8, 7])
        #expect(abandoned.allSatisfy { $0 == 0xAA })
        c.close()
        s.close()
    }
}
