import Glibc
import Testing
@testable import Eddy

/// The rest of TCP (issue 15): addresses, shutdown of either side, options, reusePort,
/// adopting descriptors.
@Suite(.serialized) struct TcpSocketTests {
    @Test func addressesAndShutdownOfEitherSide() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let (c, s) = try await connectedPair()
            defer { c.close(); s.close() }
            #expect(try c.peerEndpoint == s.localEndpoint)
            #expect(try s.peerEndpoint == c.localEndpoint)
            #expect(try c.peerAddress.port == s.localAddress.port)
            #expect(throws: EddyError.errno(EAFNOSUPPORT)) { try s.peerCredentials }
            // read: our reads see end of stream although the peer is still open.
            try s.shutdown(.read)
            #expect(try await s.read(maxBytes: 10) == [])
            // write: the peer reads end of stream.
            try s.shutdown(.write)
            #expect(try await c.read(maxBytes: 10) == [])
            try c.shutdown(.both)
        }
    }

    @Test func pollShutdownRead() throws {
        let rt = try Runtime()
        let l = try TcpListener.bind(host: "127.0.0.1", port: 0, runtime: rt)
        defer { l.close() }
        let peer = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(peer) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = l.port.bigEndian
        sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let rc = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(peer, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(rc == 0)
        var stream: TcpStream?
        let n = try rt.blockOn(PollFn<Int> { cx in
            if stream == nil {
                switch l.pollAccept(&cx) {
                case .pending: return .pending
                case .ready(.failure): return .ready(-1)
                case .ready(.success(let s)): stream = s
                }
            }
            guard case .ready(.success) = stream!.pollShutdown(&cx, .read) else { return .ready(-2) }
            var buf = [UInt8](repeating: 0, count: 8)
            switch buf.withUnsafeMutableBytes({ stream!.pollRead(&cx, into: $0) }) {
            case .pending: return .pending
            case .ready(let r): return .ready((try? r.get()) ?? -3)
            }
        })
        #expect(n == 0)
        stream?.close()
    }

    @Test func optionsAndReusePort() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let a = try TcpListener.bind(host: "127.0.0.1", port: 0, reusePort: true)
            defer { a.close() }
            #expect(try a.option(.reuseAddress) == 1)
            let b = try TcpListener.bind(host: "127.0.0.1", port: a.port, reusePort: true)
            b.close()
            #expect(throws: EddyError.errno(EADDRINUSE)) { try TcpListener.bind(host: "127.0.0.1", port: a.port) }
            let (c, s) = try await connectedPair()
            defer { c.close(); s.close() }
            try c.setOption(.keepAlive, 1)
            try c.setOption(.keepAliveIdle, 60)
            try c.setOption(.keepAliveInterval, 7)
            try c.setOption(.keepAliveCount, 3)
            #expect(try c.option(.keepAlive) == 1 && c.option(.keepAliveIdle) == 60)
            #expect(try c.option(.keepAliveInterval) == 7 && c.option(.keepAliveCount) == 3)
            #expect(try c.option(.linger) == -1)
            try c.setOption(.linger, 2)
            #expect(try c.option(.linger) == 2)
            try c.setOption(.noDelay, 1)
            #expect(try c.option(.noDelay) == 1)
            try c.setOption(.sendBufferSize, 32_768)
            #expect(try c.option(.sendBufferSize) >= 32_768)
            #expect(throws: EddyError.invalidArgument) { try c.setOption(.keepAliveIdle, 0) }
            #expect(throws: EddyError.invalidArgument) { try c.setOption(.receiveBufferSize, -1) }
        }
    }

    @Test func adoptListenerAndStream() throws {
        let rt = try Runtime()
        let before = openDescriptorCount()
        try rt.blockOn {
            // A listener made outside Eddy (what socket activation hands over).
            let outside = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let fd = dup(try outside.fileDescriptor)
            outside.close()
            let l = try TcpListener.adopt(fileDescriptor: fd)
            defer { l.close() }
            #expect(l.port != 0)
            let accept = Eddy.spawn { try await l.accept() }
            let c = try await TcpStream.connect(host: "127.0.0.1", port: l.port)
            let s = try await accept.value
            // A connected stream made outside Eddy.
            let adopted = try TcpStream.adopt(fileDescriptor: dup(try c.fileDescriptor))
            c.close()
            try await adopted.writeAll("hi")
            #expect(try await s.read(maxBytes: 10) == Array("hi".utf8))
            adopted.close()
            s.close()
        }
        #expect(throws: EddyError.invalidArgument) {
            try TcpListener.adopt(fileDescriptor: socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0), runtime: rt)
        }
        #expect(throws: EddyError.invalidArgument) {
            try TcpStream.adopt(fileDescriptor: socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0), runtime: rt)
        }
        #expect(throws: EddyError.errno(EBADF)) { try TcpStream.adopt(fileDescriptor: -1, runtime: rt) }
        #expect(openDescriptorCount() == before)
    }
}
