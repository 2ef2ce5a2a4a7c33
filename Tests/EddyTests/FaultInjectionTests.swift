import CEddySys
import Glibc
import Testing
@testable import Eddy

/// The script the fake kernel follows (one test at a time: the suite is serialized).
struct FaultScript {
    var readEagain = 0          // next N reads fail with EAGAIN
    var sendMax = Int.max       // cap every send (short writes)
    var eintrEveryOther = false // reads/sends/epoll_wait/io_uring_enter alternate EINTR
    var acceptErrors: [Int32] = []
    var acceptCalls = 0
    var toggle = false
}
nonisolated(unsafe) var script = FaultScript()

/// A kernel that follows `script`, passing through to the real one otherwise.
let faultyKernel = SysCalls(
    read: { fd, buf, len in
        if script.readEagain > 0 { script.readEagain -= 1; errno = EAGAIN; return -1 }
        if script.eintrEveryOther { script.toggle.toggle(); if script.toggle { errno = EINTR; return -1 } }
        return Glibc.read(fd, buf, len)
    },
    send: { fd, buf, len, flags in
        if script.eintrEveryOther { script.toggle.toggle(); if script.toggle { errno = EINTR; return -1 } }
        return Glibc.send(fd, buf, min(len, script.sendMax), flags)
    },
    accept: { fd, addr, len in
        script.acceptCalls += 1
        if !script.acceptErrors.isEmpty { errno = script.acceptErrors.removeFirst(); return -1 }
        return ceddy_accept4(fd, addr, len)
    },
    connect: { fd, addr, len in Glibc.connect(fd, addr, len) },
    epollWait: { ep, events, max, timeout in
        if script.eintrEveryOther { script.toggle.toggle(); if script.toggle { errno = EINTR; return -1 } }
        return ceddy_epoll_wait(ep, events, max, timeout)
    },
    uringEnter: { ring, wait, timeout in
        if script.eintrEveryOther { script.toggle.toggle(); if script.toggle { return -EINTR } }
        return ceddy_uring_enter(ring, wait, timeout)
    }
)

func faultyRuntime(returnOnSignal: Bool = false) throws -> Runtime {
    var config = Runtime.Configuration()
    config.sys = faultyKernel
    config.returnOnSignal = returnOnSignal
    return try Runtime(config)
}

/// A connected pair on loopback, from inside a runtime.
func connectedPair() async throws -> (TcpStream, TcpStream, TcpListener) {
    let listener = try TcpListener.bind(host: "127.0.0.1", port: 0)
    let c = try await TcpStream.connect(host: "127.0.0.1", port: listener.port)
    let s = try await listener.accept()
    return (c, s, listener)
}

@Suite(.serialized) struct FaultInjectionTests {
    init() { script = FaultScript() }

    @Test func eagainAfterReadinessWaitsForTheNextEdge() throws {
        let rt = try faultyRuntime()
        let got = try rt.blockOn { () async throws -> [UInt8] in
            let (c, s, l) = try await connectedPair()
            try await c.writeAll("one")
            try await Eddy.sleep(for: .milliseconds(2))
            script.readEagain = 1   // readiness says readable, the "kernel" says EAGAIN
            let reader = Eddy.spawn { try await s.read(maxBytes: 64) }
            try await Eddy.sleep(for: .milliseconds(5))
            try await c.writeAll("two")   // a new edge
            let bytes = try await reader.value
            c.close(); s.close(); l.close()
            return bytes
        }
        #expect(got == Array("onetwo".utf8))
    }

    @Test func shortWritesStillDeliverEverything() throws {
        let rt = try faultyRuntime()
        let ok = try rt.blockOn { () async throws -> Bool in
            let (c, s, l) = try await connectedPair()
            script.sendMax = 7
            let payload = pattern(3, 100_000)
            let w = Eddy.spawn { try await c.writeAll(payload); c.close() }
            var got: [UInt8] = []
            while true {
                let chunk = try await s.read(maxBytes: 65536)
                if chunk.isEmpty { break }
                got += chunk
            }
            try await w.value
            s.close(); l.close()
            return got == payload
        }
        #expect(ok)
    }

    @Test func eintrEverywhereIsRetried() throws {
        let rt = try faultyRuntime()
        let ok = try rt.blockOn { () async throws -> Bool in
            let (c, s, l) = try await connectedPair()
            script.eintrEveryOther = true
            let payload = pattern(5, 50_000)
            let w = Eddy.spawn { try await c.writeAll(payload); c.close() }
            var got: [UInt8] = []
            while true {
                let chunk = try await s.read(maxBytes: 4096)
                if chunk.isEmpty { break }
                got += chunk
            }
            try await w.value
            try await Eddy.sleep(for: .milliseconds(3))
            script.eintrEveryOther = false
            s.close(); l.close()
            return got == payload
        }
        #expect(ok)
    }

    @Test func returnOnSignalSurfacesEintrAndResumes() throws {
        let rt = try faultyRuntime(returnOnSignal: true)
        let h = rt.spawn(Sleep(for: .milliseconds(20)))
        script.eintrEveryOther = true
        var interrupted = 0
        while true {
            do {
                _ = try rt.runUntil(h)
                break
            } catch let e {
                #expect(e == .errno(EINTR))
                interrupted += 1
                if interrupted > 1000 { break }
            }
        }
        script.eintrEveryOther = false
        #expect(interrupted >= 1)
        #expect(h.isFinished)
    }

    @Test func acceptErrorsAreSurvived() throws {
        let rt = try faultyRuntime()
        let port = try rt.blockOn { () async throws -> UInt16 in
            let l = try TcpListener.bind(host: "127.0.0.1", port: 0)
            script.acceptErrors = [ECONNABORTED, EPROTO]
            let c = try await TcpStream.connect(host: "127.0.0.1", port: l.port)
            let s = try await l.accept()
            #expect(script.acceptCalls == 3)
            c.close(); s.close(); l.close()
            return l.port
        }
        #expect(port != 0)
    }

    @Test func emfileInAcceptBacksOffWithoutSpinning() throws {
        let rt = try faultyRuntime()
        let elapsed = try rt.blockOn { () async throws -> Double in
            let l = try TcpListener.bind(host: "127.0.0.1", port: 0)
            script.acceptErrors = [EMFILE, ENFILE, EMFILE]
            let c = try await TcpStream.connect(host: "127.0.0.1", port: l.port)
            let start = Instant.now()
            let s = try await l.accept()
            let ms = millis(since: start)
            // Three failures, three 100 ms backoffs, then success: 4 accept calls, not thousands.
            #expect(script.acceptCalls == 4)
            c.close(); s.close(); l.close()
            return ms
        }
        #expect(elapsed >= 250 && elapsed < 3_000)
    }

    @Test func spuriousEventsAreHarmless() throws {
        let rt = try Runtime()
        let result = try rt.blockOn { () async throws -> [UInt8] in
            let (c, s, l) = try await connectedPair()
            let key = try #require(s.source.key)
            let reader = Eddy.spawn { try await s.read(maxBytes: 16) }
            try await Eddy.sleep(for: .milliseconds(2))
            // Fake readiness with no data: the reader retries, gets EAGAIN, waits again.
            for _ in 0..<5 {
                rt.core.io.dispatch(data: key.epollData, events: CEDDY_EPOLLIN)
                try await Eddy.sleep(for: .milliseconds(1))
            }
            // A stale key (old generation) is ignored.
            rt.core.io.dispatch(data: IoKey(index: key.index, generation: key.generation &- 1).epollData, events: CEDDY_EPOLLIN)
            try await c.writeAll("real")
            let got = try await reader.value
            c.close(); s.close(); l.close()
            return got
        }
        #expect(result == Array("real".utf8))
    }
}
