import CEddySys
import Glibc
import Testing
@testable import Eddy

/// What the fake kernel does to UDP calls (one test at a time: the suite is serialized).
struct UdpFaultScript {
    var recvErrors: [Int32] = []  // the next recvfrom calls fail with these, in order
    var sendErrors: [Int32] = []  // the next sendto calls fail with these
    var eintrEveryOther = false   // recvfrom/sendto alternate EINTR
    var toggle = false
    var recvCalls = 0
}
nonisolated(unsafe) var udpScript = UdpFaultScript()

/// The real kernel, with recvfrom/sendto following `udpScript` (UDP's SysCalls seam).
let udpFaultyKernel: SysCalls = {
    var k = SysCalls.system
    k.recvFrom = { fd, buf, len, flags, sa, alen in
        udpScript.recvCalls += 1
        if !udpScript.recvErrors.isEmpty { errno = udpScript.recvErrors.removeFirst(); return -1 }
        if udpScript.eintrEveryOther { udpScript.toggle.toggle(); if udpScript.toggle { errno = EINTR; return -1 } }
        return ceddy_recvfrom(fd, buf, len, flags, sa, alen)
    }
    k.sendTo = { fd, buf, len, flags, sa, alen in
        if !udpScript.sendErrors.isEmpty { errno = udpScript.sendErrors.removeFirst(); return -1 }
        if udpScript.eintrEveryOther { udpScript.toggle.toggle(); if udpScript.toggle { errno = EINTR; return -1 } }
        return ceddy_sendto(fd, buf, len, flags, sa, alen)
    }
    return k
}()

/// UDP fault injection through the SysCalls seam: EINTR retried, a spurious EAGAIN waits
/// for the next edge, ECONNREFUSED reported and the socket still usable.
@Suite(.serialized) struct UdpFaultTests {
    init() { udpScript = UdpFaultScript() }

    func runtime() throws -> Runtime {
        var config = Runtime.Configuration()
        config.sys = udpFaultyKernel
        return try Runtime(config)
    }

    @Test func eintrOnEveryOtherCallIsRetried() throws {
        let rt = try runtime()
        let got = try rt.blockOn { () async throws -> [[UInt8]] in
            let a = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            let b = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            defer { a.close(); b.close() }
            udpScript.eintrEveryOther = true
            var out: [[UInt8]] = []
            for i in 0..<20 {
                try await a.send([UInt8(i), 1, 2], to: try b.localAddress)
                out.append(try await b.receive(maxBytes: 16).bytes)
            }
            udpScript.eintrEveryOther = false
            return out
        }
        #expect(got == (0..<20).map { [UInt8($0), 1, 2] })
    }

    @Test func spuriousEagainWaitsForTheNextDatagram() throws {
        let rt = try runtime()
        let got = try rt.blockOn { () async throws -> [[UInt8]] in
            let a = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            let b = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            defer { a.close(); b.close() }
            let to = try b.localAddress
            try await a.send([1], to: to)
            try await sleep(for: .milliseconds(10))  // readable now
            udpScript.recvErrors = [EAGAIN]  // the kernel says "nothing" once
            let receiver = Eddy.spawn { () async throws -> [[UInt8]] in
                [try await b.receive(maxBytes: 8).bytes, try await b.receive(maxBytes: 8).bytes]
            }
            try await sleep(for: .milliseconds(20))
            try await a.send([2], to: to)  // a new edge: both come out, in order
            return try await receiver.value
        }
        #expect(got == [[1], [2]])
    }

    @Test func connectionRefusedIsReportedAndTheSocketGoesOn() throws {
        let rt = try runtime()
        try rt.blockOn {
            let a = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            let b = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            defer { a.close(); b.close() }
            try b.connect(to: try a.localAddress)
            udpScript.sendErrors = [ECONNREFUSED]
            #expect(await thrownError { try await b.send([7]) } == .errno(ECONNREFUSED))
            try await b.send([8])  // the next send works
            try await a.send([9], to: try b.localAddress)
            udpScript.recvErrors = [ECONNREFUSED]
            #expect(await thrownError { try await b.receive(maxBytes: 8) } == .errno(ECONNREFUSED))
            #expect(try await b.receive(maxBytes: 8).bytes == [9])  // still queued, still readable
            #expect(try await a.receive(maxBytes: 8).bytes == [8])
            udpScript.sendErrors = [EINTR, EINTR, EINTR]
            try await a.send([10], to: try b.localAddress)  // EINTR is retried, not reported
            #expect(try await b.receive(maxBytes: 8).bytes == [10])
        }
    }
}
