import Glibc
import Testing
@testable import Eddy

/// Deterministic payload for connection `i`.
func pattern(_ i: Int, _ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i &* 7) }
}

@Suite(.serialized) struct TcpTests {
    @Test func asyncEcho200ConcurrentConnections() throws {
        let rt = try Runtime()
        let verified = try rt.blockOn { () async throws -> Int in
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let port = listener.port
            let n = 200, size = 16 * 1024
            let server = Eddy.spawn {
                for _ in 0..<n {
                    let s = try await listener.accept()
                    Eddy.spawn {
                        var buf = [UInt8](repeating: 0, count: 4096)
                        while true {
                            let k = try await s.read(into: &buf)
                            if k == 0 { break }
                            try await s.writeAll(buf, range: 0..<k)
                        }
                        s.close()
                    }
                }
            }
            let clients = (0..<n).map { i in
                Eddy.spawn { () async throws -> Bool in
                    let c = try await TcpStream.connect(host: "127.0.0.1", port: port)
                    let payload = pattern(i, size)
                    let writer = Eddy.spawn { try await c.writeAll(payload) }
                    var got: [UInt8] = []
                    while got.count < size {
                        let chunk = try await c.read(maxBytes: 8192)
                        if chunk.isEmpty { break }
                        got += chunk
                    }
                    try await writer.value
                    c.close()
                    return got == payload
                }
            }
            var ok = 0
            for c in clients where try await c.value { ok += 1 }
            try await server.value
            listener.close()
            return ok
        }
        #expect(verified == 200)
    }

    @Test func pollStyleEchoServer() throws {
        let rt = try Runtime()
        let listener = try TcpListener.bind(host: "127.0.0.1", port: 0, runtime: rt)
        let port = listener.port
        // Accept loop as a poll-style task spawning a poll-style echo task per connection.
        let accepted = Box(0)
        rt.spawn(PollFn<Void> { cx in
            while accepted.value < 20 {
                switch listener.pollAccept(&cx) {
                case .pending: return .pending
                case .ready(.failure): return .ready(())
                case .ready(.success(let s)):
                    accepted.value += 1
                    cx.runtime.spawn(EchoConnection(s))
                }
            }
            return .ready(())
        })
        let ok = try rt.blockOn {
            var good = 0
            for i in 0..<20 {
                let c = try await TcpStream.connect(host: "127.0.0.1", port: port)
                let payload = pattern(i, 1000)
                try await c.writeAll(payload)
                try c.shutdown(.write)
                var got: [UInt8] = []
                while true {
                    let chunk = try await c.read(maxBytes: 4096)
                    if chunk.isEmpty { break }
                    got += chunk
                }
                if got == payload { good += 1 }
                c.close()
            }
            return good
        }
        #expect(ok == 20)
        listener.close()
    }

    /// Runs where a plain socket can bind ::1 (probed without Eddy), and there it must
    /// work: any Eddy error fails the test. Elsewhere it is reported as skipped.
    @Test(.enabled(if: ipv6LoopbackUsable(), "IPv6 loopback (::1) cannot be bound on this machine"))
    func ipv6LoopbackListenerWhenAvailable() throws {
        let rt = try Runtime()
        let listener = try TcpListener.bind(host: "::1", port: 0, runtime: rt)
        let port = listener.port
        #expect(port != 0)
        let peer = try rt.blockOn { () async throws -> String in
            let accept = Eddy.spawn { try await listener.accept() }
            let c = try await TcpStream.connect(host: "[::1]", port: port)
            let s = try await accept.value
            let addr = try s.peerAddress
            #expect(try c.localAddress.port == addr.port)
            c.close()
            s.close()
            return addr.host
        }
        #expect(peer == "::1")
        listener.close()
    }

    @Test func connectRefusedIsAnError() throws {
        let rt = try Runtime()
        let port = try TcpListener.bind(host: "127.0.0.1", port: 0, runtime: rt).port  // closed at once (deinit)
        let err = try rt.blockOn { () async -> EddyError? in
            do {
                _ = try await TcpStream.connect(host: "127.0.0.1", port: port)
                return nil
            } catch { return error as? EddyError }
        }
        #expect(err == .errno(ECONNREFUSED))
        // Poll style too.
        let fut = try TcpStream.connect(host: "127.0.0.1", port: port, runtime: rt)
        let r = try rt.blockOn(fut)
        #expect(r.map { _ in 0 } == .failure(.errno(ECONNREFUSED)))
    }

    @Test func badHostIsInvalidArgument() throws {
        let rt = try Runtime()
        #expect(throws: EddyError.invalidArgument) { try TcpListener.bind(host: "not-an-ip", port: 0, runtime: rt) }
        #expect(throws: EddyError.invalidArgument) { try TcpStream.connect(host: "300.1.1.1", port: 1, runtime: rt) }
    }

    @Test func peerCloseReadsZeroAndResetIsAnError() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            // Orderly close: read returns 0.
            let c1 = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
            let s1 = try await listener.accept()
            c1.close()
            var buf = [UInt8](repeating: 0, count: 16)
            #expect(try await s1.read(into: &buf) == 0)
            s1.close()
            // Reset (SO_LINGER 0): read fails with ECONNRESET, process alive.
            let c2 = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
            let s2 = try await listener.accept()
            var lg = linger(l_onoff: 1, l_linger: 0)
            setsockopt(try c2.openFd(), SOL_SOCKET, SO_LINGER, &lg, socklen_t(MemoryLayout<linger>.size))
            c2.close()
            do {
                _ = try await s2.read(into: &buf)
                Issue.record("read after reset succeeded")
            } catch let e as EddyError {
                #expect(e == .errno(ECONNRESET))
            }
            s2.close()
            listener.close()
        }
    }

    @Test func writeToClosedPeerIsEPIPENotSignal() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let c = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
            let s = try await listener.accept()
            s.close()
            listener.close()
            try await Eddy.sleep(for: .milliseconds(5))
            var failure: EddyError?
            let chunk = [UInt8](repeating: 1, count: 1024)
            for _ in 0..<1000 {
                do { try await c.writeAll(chunk) } catch let e as EddyError {
                    failure = e
                    break
                }
            }
            #expect(failure == .errno(EPIPE) || failure == .errno(ECONNRESET))
            c.close()
        }
    }

    @Test func operationsAfterCloseFailCleanly() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let c = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
            c.close()
            c.close()
            await #expect(throws: EddyError.errno(EBADF)) { _ = try await c.read(maxBytes: 10) }
            await #expect(throws: EddyError.errno(EBADF)) { try await c.writeAll("x") }
            #expect(throws: EddyError.errno(EBADF)) { try c.setNoDelay(true) }
            listener.close()
            await #expect(throws: EddyError.errno(EBADF)) { _ = try await listener.accept() }
        }
    }

    @Test func halfCloseDeliversRemainingBytes() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let c = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
            let s = try await listener.accept()
            try c.setNoDelay(true)
            try await c.writeAll("last words")
            try c.shutdown(.write)
            var got: [UInt8] = []
            while true {
                let chunk = try await s.read(maxBytes: 64)
                if chunk.isEmpty { break }
                got += chunk
            }
            #expect(got == Array("last words".utf8))
            // The other direction still works after the peer's half-close.
            try await s.writeAll("reply")
            #expect(try await c.read(maxBytes: 64) == Array("reply".utf8))
            c.close()
            s.close()
            listener.close()
        }
    }

    @Test func droppingRuntimeClosesEverything() throws {
        let before = openDescriptorCount()
        var streams: [TcpStream] = []
        do {
            let rt = try Runtime()
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0, runtime: rt)
            let port = listener.port
            streams = try rt.blockOn {
                var out: [TcpStream] = []
                for _ in 0..<10 {
                    out.append(try await TcpStream.connect(host: "127.0.0.1", port: port))
                    out.append(try await listener.accept())
                }
                return out
            }
            // Live tasks parked on reads and on a long sleep.
            for s in streams {
                rt.spawn(PollFn<Void> { cx in
                    var b = [UInt8](repeating: 0, count: 8)
                    return b.withUnsafeMutableBytes { s.pollRead(&cx, into: $0) }.isReady ? .ready(()) : .pending
                })
            }
            rt.spawn(Sleep(for: .seconds(60)))
            _ = try rt.blockOn(Sleep(for: .milliseconds(2)))
            #expect(openDescriptorCount() > before + 20)
            let report = try rt.shutdown()
            #expect(report.tasksDropped == 21)
            #expect(report.descriptorsClosed == 21)
        }
        #expect(openDescriptorCount() == before)
        // Sockets that outlived their runtime fail cleanly.
        let rt2 = try Runtime()
        let r = try rt2.blockOn(PollFn<Result<Int, EddyError>> { cx in
            var b = [UInt8](repeating: 0, count: 8)
            return b.withUnsafeMutableBytes { streams[0].pollRead(&cx, into: $0) }
        })
        #expect(r == .failure(.shutdown))
        streams.removeAll()
        #expect(openDescriptorCount() == before + ownDescriptors(rt2))  // rt2's epoll + eventfd (io_uring: + signalfd)
    }

    @Test func addressesAndNoDelay() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
            #expect(try listener.localAddress.port == listener.port)
            let c = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
            let s = try await listener.accept()
            #expect(try c.peerAddress == listener.localAddress)
            #expect(try s.peerAddress == c.localAddress)
            #expect(try c.localAddress.description.hasPrefix("127.0.0.1:"))
            try c.setNoDelay(true)
            #expect(sysGetIntOption(try c.openFd(), Int32(IPPROTO_TCP), TCP_NODELAY) == 1)
            c.close()
            s.close()
            listener.close()
        }
    }
}

@Suite(.serialized) struct ShutdownTests {
    /// Swift tasks suspended in Eddy operations when the runtime shuts down are resumed
    /// with EddyError.shutdown and unwind, instead of being left suspended (leaked).
    @Test func suspendedSwiftTasksUnwindAtShutdown() throws {
        let rt = try Runtime()
        let outcomes = Box<[String]>([])
        let listener = try TcpListener.bind(host: "127.0.0.1", port: 0, runtime: rt)
        let port = listener.port
        let client = try rt.blockOn { try await TcpStream.connect(host: "127.0.0.1", port: port) }
        rt.spawn {
            do { _ = try await client.read(maxBytes: 16) } catch { outcomes.value.append("read: \(error)") }
        }
        rt.spawn {
            do { try await Eddy.sleep(for: .seconds(60)) } catch { outcomes.value.append("sleep: \(error)") }
        }
        let accepted = Box<TcpStream?>(nil)  // keeps the client's peer open: its read must block
        rt.spawn {
            do {
                accepted.value = try await listener.accept()
                _ = try await listener.accept()
            } catch { outcomes.value.append("accept: \(error)") }
        }
        _ = try rt.blockOn(Sleep(for: .milliseconds(10)))
        #expect(outcomes.value.isEmpty)
        try rt.shutdown()
        #expect(outcomes.value.sorted() == ["accept", "read", "sleep"].map { "\($0): \(EddyError.shutdown)" })
    }
}
