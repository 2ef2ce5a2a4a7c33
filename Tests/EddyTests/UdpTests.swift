import CEddyABI
import Glibc
import Testing
@testable import Eddy

/// UDP (issue 15): async and poll-style, truncation, empty datagrams, ICMP errors on
/// connected sockets, options, broadcast/multicast on loopback only, bad input.
@Suite(.serialized) struct UdpTests {
    @Test func asyncSendToReceiveFromIPv4AndIPv6() throws {
        let rt = try Runtime()
        for host in ["127.0.0.1", "::1"] {
            let ok = try rt.blockOn { () async throws -> Bool in
                let a = try UdpSocket.bind(host: host, port: 0)
                let b = try UdpSocket.bind(host: host, port: 0)
                defer { a.close(); b.close() }
                let la = try a.localAddress, lb = try b.localAddress
                #expect(la.port != 0 && la.family == (host == "::1" ? AF_INET6 : AF_INET))
                let receiver = Eddy.spawn { try await b.receive(maxBytes: 100) }
                try await a.send(Array("ping".utf8), to: lb)
                let got = try await receiver.value
                #expect(got.bytes == Array("ping".utf8) && got.sender == la && !got.truncated)
                try await b.send(Array("pong".utf8), to: got.sender)
                let back = try await a.receive(maxBytes: 100)
                return back.bytes == Array("pong".utf8) && back.sender == lb
            }
            #expect(ok)
        }
    }

    @Test func truncationAndEmptyDatagrams() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let a = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            let b = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            defer { a.close(); b.close() }
            let lb = try b.localAddress
            try await a.send([UInt8](repeating: 7, count: 100), to: lb)
            try await a.send([], to: lb)
            let t = try await b.receive(maxBytes: 10)
            #expect(t.bytes.count == 10 && t.truncated)
            let e = try await b.receive(maxBytes: 10)
            #expect(e.bytes.isEmpty && !e.truncated)  // an empty datagram, not end of stream
            // Oversized: EMSGSIZE, an error value.
            let big = [UInt8](repeating: 1, count: 70_000)
            #expect(await thrownError { try await a.send(big, to: lb) } == .errno(EMSGSIZE))
            #expect(await thrownError { try await b.receive(maxBytes: -1) } == .invalidArgument)
            #expect(await thrownError { try await b.receive(maxBytes: 1 << 40) } == .invalidArgument)
            // Not connected: no default destination.
            #expect(await thrownError { try await a.send([1]) } == .errno(EDESTADDRREQ))
        }
    }

    @Test func connectedSocketReportsICMPRefused() throws {
        let rt = try Runtime()
        try rt.blockOn {
            // A port nothing listens on: bind, note, close.
            let probe = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            let dead = try probe.localAddress
            probe.close()
            let a = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            defer { a.close() }
            try a.connect(to: dead)
            #expect(try a.peerAddress == dead)
            let receiver = Eddy.spawn { await thrownError { try await a.receive(maxBytes: 10) } }
            try await a.send([1, 2, 3])
            #expect(try await receiver.value == .errno(ECONNREFUSED))
        }
    }

    @Test func pollStyleExchange() throws {
        let rt = try Runtime()
        let a = try UdpSocket.bind(host: "127.0.0.1", port: 0, runtime: rt)
        let b = try UdpSocket.bind(host: "127.0.0.1", port: 0, runtime: rt)
        defer { a.close(); b.close() }
        let lb = try b.localAddress, la = try a.localAddress
        try a.connect(to: lb)
        let got = Box<ReceivedDatagram?>(nil)
        var sent = false
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buf.deallocate() }
        try rt.blockOn(PollFn<Void> { cx in
            if !sent {
                let payload: [UInt8] = [9, 8, 7]
                let r = payload.withUnsafeBytes { a.pollSend(&cx, $0) }
                guard case .ready(.success(3)) = r else { return .pending }
                sent = true
            }
            switch b.pollReceive(&cx, into: buf) {
            case .pending: return .pending
            case .ready(let r):
                got.value = try? r.get()
                return .ready(())
            }
        })
        #expect(got.value?.count == 3 && got.value?.sender == la && got.value?.truncated == false)
    }

    @Test func optionsBroadcastAndMulticastOnLoopback() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let rx = try UdpSocket.bind(host: "127.255.255.255", port: 0)
            let tx = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            defer { rx.close(); tx.close() }
            #expect(await thrownError { try await tx.send([1], to: try rx.localAddress) } == .errno(EACCES))
            try tx.setOption(.broadcast, 1)
            #expect(try tx.option(.broadcast) == 1)
            try await tx.send([1], to: try rx.localAddress)
            #expect(try await rx.receive(maxBytes: 4).bytes == [1])

            let lo = if_nametoindex("lo")
            let group = try UdpSocket.bind(host: "239.255.0.78", port: 0)
            defer { group.close() }
            try group.joinMulticast(group: "239.255.0.78", interface: lo)
            try tx.setOption(.multicastTTL, 0)  // never leaves this host
            try tx.setOption(.multicastInterface, Int32(lo))
            try tx.setOption(.multicastLoop, 1)
            try await tx.send([42], to: try group.localAddress)
            #expect(try await group.receive(maxBytes: 4).bytes == [42])
            try group.leaveMulticast(group: "239.255.0.78", interface: lo)
            #expect(throws: EddyError.errno(EADDRNOTAVAIL)) { try group.leaveMulticast(group: "239.255.0.78", interface: lo) }
            #expect(throws: EddyError.invalidArgument) { try tx.setOption(.multicastTTL, 256) }
            #expect(throws: EddyError.invalidArgument) { try tx.option(.multicastInterface) }
            #expect(throws: EddyError.errno(ENOPROTOOPT)) { try tx.setOption(.noDelay, 1) }
            try tx.setOption(.receiveBufferSize, 50_000)
            #expect(try tx.option(.receiveBufferSize) >= 50_000)
        }
    }

    @Test func badInputAndAdoption() throws {
        let rt = try Runtime()
        let before = openDescriptorCount()
        #expect(throws: EddyError.invalidArgument) { try UdpSocket.bind(host: "nonsense", port: 0, runtime: rt) }
        #expect(throws: EddyError.invalidArgument) { try Endpoint(host: "1.2.3.4.5", port: 1) }
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(throws: EddyError.invalidArgument) { try UdpSocket.adopt(fileDescriptor: tcp, runtime: rt) }
        #expect(throws: EddyError.errno(EBADF)) { try UdpSocket.adopt(fileDescriptor: -1, runtime: rt) }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        let u = try UdpSocket.adopt(fileDescriptor: fd, runtime: rt)
        #expect(try u.fileDescriptor == fd)
        #expect(fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
        u.close()
        #expect(throws: EddyError.errno(EBADF)) { try u.localAddress }
        #expect(openDescriptorCount() == before)
    }

    @Test func endpointRoundTrips() throws {
        let e = try Endpoint(host: "[::1]", port: 80)
        #expect(e.description == "[::1]:80" && e.family == AF_INET6)
        let f = try Endpoint(host: "127.0.0.1", port: 1)
        #expect(f.description == "127.0.0.1:1" && f != e)
        // A name, "localhost" too, is the resolver's (NameTests), never parsed as numeric.
        #expect(throws: EddyError.invalidArgument) { try Endpoint(host: "localhost", port: 1) }
        let g = e.withAddressBytes { Endpoint(family: AF_INET6, address: $0, port: 80) }
        #expect(g == e)
        #expect(Endpoint().description == "unset")
    }
}


/// SocketOption's raw values are the header's EDDY_OPT_* (EddyC converts by raw value).
@Test func socketOptionsMatchTheHeader() {
    let pairs: [(SocketOption, Int32)] = [
        (.reuseAddress, EDDY_OPT_REUSEADDR), (.reusePort, EDDY_OPT_REUSEPORT), (.keepAlive, EDDY_OPT_KEEPALIVE),
        (.keepAliveIdle, EDDY_OPT_KEEPALIVE_IDLE), (.keepAliveInterval, EDDY_OPT_KEEPALIVE_INTERVAL),
        (.keepAliveCount, EDDY_OPT_KEEPALIVE_COUNT), (.sendBufferSize, EDDY_OPT_SNDBUF),
        (.receiveBufferSize, EDDY_OPT_RCVBUF), (.linger, EDDY_OPT_LINGER), (.noDelay, EDDY_OPT_NODELAY),
        (.broadcast, EDDY_OPT_BROADCAST), (.multicastLoop, EDDY_OPT_MULTICAST_LOOP),
        (.multicastTTL, EDDY_OPT_MULTICAST_TTL), (.multicastInterface, EDDY_OPT_MULTICAST_IF),
    ]
    #expect(pairs.count == SocketOption.allCases.count)
    for (o, c) in pairs { #expect(o.rawValue == c) }
}
