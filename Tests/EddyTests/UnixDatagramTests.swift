import Glibc
import Testing
@testable import Eddy

/// Unix-domain datagram sockets (issue 15 item 3): paths and abstract names, the UDP API shape.
@Suite(.serialized) struct UnixDatagramTests {
    func withTempDir(_ body: (String) throws -> Void) throws {
        var template = Array("/tmp/eddy-udg-swift-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw EddyError.errno(errno) }
        let dir = String(cString: p)
        defer { _ = system("rm -rf '\(dir)'") }
        try body(dir)
    }

    @Test func sendToReceiveFromOverPathsAndAbstractNames() throws {
        let rt = try Runtime()
        try withTempDir { dir in
            for (a, b) in [("\(dir)/a.sock", "\(dir)/b.sock"), ("@eddy-udg-a-\(getpid())", "@eddy-udg-b-\(getpid())")] {
                try rt.blockOn {
                    let sa = try UnixDatagramSocket.bind(path: a, unlinkOnClose: true)
                    let sb = try UnixDatagramSocket.bind(path: b, unlinkOnClose: true)
                    #expect(try sa.localAddress.path == a)
                    try await sa.send(Array("ping".utf8), to: b)
                    let (bytes, from, truncated) = try await sb.receive(maxBytes: 64)
                    #expect(bytes == Array("ping".utf8) && from.path == a && !truncated)
                    try await sb.send(Array("pong!".utf8), to: from)
                    let r = try await sa.receive(maxBytes: 2)  // truncated
                    #expect(r.bytes == Array("po".utf8) && r.truncated && r.sender.path == b)
                    try await sa.send([], to: b)  // an empty datagram is a datagram
                    let e = try await sb.receive()
                    #expect(e.bytes.isEmpty && !e.truncated)
                    // Connected: send / receive without an address.
                    try sa.connect(path: b)
                    #expect(try sa.peerAddress.path == b)
                    try await sa.send(Array("c".utf8))
                    #expect(try await sb.receive().bytes == Array("c".utf8))
                    sa.close()
                    sb.close()
                }
                if !a.hasPrefix("@") { #expect(access(a, F_OK) != 0 && access(b, F_OK) != 0) }  // unlinked
            }
        }
    }

    @Test func pollStyleAndAnUnboundSender() throws {
        let rt = try Runtime()
        let name = "@eddy-udg-poll-\(getpid())"
        let server = try UnixDatagramSocket.bind(path: name, runtime: rt)
        let client = try UnixDatagramSocket.unbound(runtime: rt)
        let to = try UnixDatagramAddress(path: name)
        var buf = [UInt8](repeating: 0, count: 16)
        var sent = false
        let got = try rt.blockOn(PollFn { (cx: inout Context) -> Poll<Result<(Int, Bool, UnixDatagramAddress), EddyError>> in
            if !sent {
                switch "hello".utf8CString.withUnsafeBytes({ client.pollSend(&cx, UnsafeRawBufferPointer(rebasing: $0[0..<5]), to: to) }) {
                case .pending: return .pending
                case .ready(.failure(let e)): return .ready(.failure(e))
                case .ready(.success(let n)): #expect(n == 5); sent = true
                }
            }
            return buf.withUnsafeMutableBytes { b in
                switch server.pollReceive(&cx, into: b) {
                case .pending: return .pending
                case .ready(.failure(let e)): return .ready(.failure(e))
                case .ready(.success(let r)): return .ready(.success((r.count, r.truncated, r.sender)))
                }
            }
        }).get()
        #expect(got.0 == 5 && !got.1 && got.2.path == "")  // an unbound sender is unnamed
        #expect(Array(buf[0..<5]) == Array("hello".utf8))
        server.close()
        client.close()
    }

    @Test func badInputIsAnErrorValue() throws {
        let rt = try Runtime()
        try withTempDir { dir in
            #expect(throws: EddyError.errno(ENAMETOOLONG)) { try UnixDatagramSocket.bind(path: "/tmp/" + String(repeating: "x", count: 200), runtime: rt) }
            #expect(throws: EddyError.invalidArgument) { try UnixDatagramSocket.bind(path: "", runtime: rt) }
            #expect(throws: EddyError.invalidArgument) { try UnixDatagramSocket.bind(path: "@", runtime: rt) }
            #expect(throws: EddyError.invalidArgument) { try UnixDatagramAddress(path: "a\u{0}b") }
            // A stale socket file is replaced; a live one is EADDRINUSE.
            let path = "\(dir)/s.sock"
            let first = try UnixDatagramSocket.bind(path: path, runtime: rt)
            #expect(throws: EddyError.errno(EADDRINUSE)) { try UnixDatagramSocket.bind(path: path, runtime: rt) }
            first.close()  // the file stays (no unlinkOnClose): stale now
            let second = try UnixDatagramSocket.bind(path: path, runtime: rt)
            second.close()
            try rt.blockOn {
                let c = try UnixDatagramSocket.unbound()
                // Nobody bound there: no file ENOENT, a stale file ECONNREFUSED.
                #expect(await thrownError { try await c.send([1], to: "\(dir)/none.sock") } == .errno(ENOENT))
                #expect(await thrownError { try await c.send([1], to: path) } == .errno(ECONNREFUSED))
                #expect(await thrownError { try await c.receive(maxBytes: -1) } == .invalidArgument)
                #expect(await thrownError { try await c.receive(maxBytes: 1 << 40) } == .invalidArgument)
                #expect(await thrownError { try await c.send([1]) } == .errno(ENOTCONN))
                c.close()
                #expect(await thrownError { try await c.send([1], to: path) } == .errno(EBADF))
            }
        }
    }

    @Test func adoptADescriptorAndReadItsAddresses() throws {
        let rt = try Runtime()
        let before = openDescriptorCount()
        try withTempDir { dir in
            let path = "\(dir)/adopted.sock"
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            let sun = try UnixDatagramAddress(path: path)
            #expect(sun.withSockAddr { Glibc.bind(fd, $0, $1) } == 0)
            try rt.blockOn {
                let client = try UnixDatagramSocket.unbound()
                #expect(try client.localAddress.path == "")
                #expect(throws: EddyError.errno(ENOTCONN)) { try client.peerAddress }
                try await client.send(Array("early".utf8), to: path)  // queued before adoption
                let s = try UnixDatagramSocket.adopt(fileDescriptor: fd)
                #expect(try s.fileDescriptor == fd && fcntl(fd, F_GETFL) & O_NONBLOCK != 0)
                #expect(try s.localAddress.path == path)
                let got = try await s.receive(maxBytes: 16)
                #expect(got.bytes == Array("early".utf8) && got.sender.path == "")
                try client.connect(path: path)
                #expect(try client.peerAddress == sun)
                s.close()
                client.close()
                #expect(UnixDatagramAddress().path == "")
            }
            // Wrong types are EINVAL, a non-socket ENOTSOCK, a closed descriptor EBADF; each closed.
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            #expect(throws: EddyError.invalidArgument) { try UnixDatagramSocket.adopt(fileDescriptor: udp, runtime: rt) }
            #expect(fcntl(udp, F_GETFD) == -1)
            let stream = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            #expect(throws: EddyError.invalidArgument) { try UnixDatagramSocket.adopt(fileDescriptor: stream, runtime: rt) }
            #expect(fcntl(stream, F_GETFD) == -1)
            var p: [Int32] = [0, 0]
            #expect(pipe(&p) == 0)
            close(p[1])
            #expect(throws: EddyError.errno(ENOTSOCK)) { try UnixDatagramSocket.adopt(fileDescriptor: p[0], runtime: rt) }
            #expect(throws: EddyError.errno(EBADF)) { try UnixDatagramSocket.adopt(fileDescriptor: -1, runtime: rt) }
            // And the other way round: a Unix datagram socket is not UDP.
            let unixdg = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            #expect(throws: EddyError.invalidArgument) { try UdpSocket.adopt(fileDescriptor: unixdg, runtime: rt) }
            #expect(fcntl(unixdg, F_GETFD) == -1)
        }
        #expect(openDescriptorCount() == before)
    }

    /// The C ABI's send path parses a C string in place; it agrees with the String form.
    @Test func cStringPathsParseAsStrings() throws {
        for path in ["/tmp/a-rather-long-socket-path.sock", "@abstract-name", "x"] {
            let a = try path.withCString { try UnixDatagramAddress(cString: $0) }
            #expect(a == (try UnixDatagramAddress(path: path)) && a.path == path)
            var out = [CChar](repeating: 7, count: 110)
            #expect(a.copyPath(to: &out, capacity: out.count) == path.utf8.count)
            #expect(String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) == path)
        }
        #expect(throws: EddyError.invalidArgument) { try "".withCString { try UnixDatagramAddress(cString: $0) } }
        #expect(throws: EddyError.invalidArgument) { try "@".withCString { try UnixDatagramAddress(cString: $0) } }
        let long = "/" + String(repeating: "y", count: 120)
        #expect(throws: EddyError.errno(ENAMETOOLONG)) { try long.withCString { try UnixDatagramAddress(cString: $0) } }
    }
}
