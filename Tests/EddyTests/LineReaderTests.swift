import Glibc
import Testing
@testable import Eddy

/// Lines and frames (issue 15 item 5): LineReader, listener.connections, socket.datagrams.
@Suite struct LineReaderTests {
    @Test func linesFramesAndTheUnterminatedTail() throws {
        let rt = try Runtime()
        let got = try rt.blockOn { () async throws -> [[UInt8]] in
            let (c, s) = try await connectedPair()
            defer { c.close(); s.close() }
            let r = try LineReader(s)
            let writer = Eddy.spawn { () async throws -> Void in
                for part in ["one\ntw", "o\r\n", "", "abcd", "EFGH|x\ntail"] {
                    try await c.writeAll(part)
                    try await sleep(for: .milliseconds(5))
                }
                try c.shutdown(.write)
            }
            var out: [[UInt8]] = []
            out.append(try await r.readLine() ?? [])
            out.append(try await r.readLine(separator: Array("\r\n".utf8)) ?? [])
            out.append(try await r.read(exactly: 4))
            out.append(try await r.readLine(separator: [UInt8(ascii: "|")]) ?? [])
            for try await line in r.lines { out.append(line) }
            #expect(try await r.readLine() == nil)
            try await writer.value
            return out
        }
        #expect(got.map { String(decoding: $0, as: UTF8.self) } == ["one\n", "two\r\n", "abcd", "EFGH|", "x\n", "tail"])
    }

    @Test func lineOverTheLimitIsEMSGSIZEAndTheStreamGoesOn() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let (c, s) = try await connectedPair()
            defer { c.close(); s.close() }
            let r = try LineReader(s, limit: 16)
            try await c.writeAll(String(repeating: "x", count: 40) + "\nok\n" + "0123456789abcdefghij\nz\n")
            try c.shutdown(.write)
            var errors = 0
            var lines: [String] = []
            while true {
                do {
                    guard let l = try await r.readLine() else { break }
                    lines.append(String(decoding: l, as: UTF8.self))
                } catch let e as EddyError {
                    #expect(e == .errno(EMSGSIZE))
                    errors += 1
                }
            }
            #expect(errors >= 2)
            #expect(lines.contains("ok\n") && lines.last == "z\n")
            #expect(!lines.contains { $0.count > 17 })
        }
    }

    @Test func badSizesAndEarlyEndOfStream() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let (c, s) = try await connectedPair()
            defer { c.close(); s.close() }
            #expect(throws: EddyError.invalidArgument) { try LineReader(s, limit: 0) }
            #expect(throws: EddyError.invalidArgument) { try LineReader(s, limit: -1) }
            #expect(throws: EddyError.invalidArgument) { try LineReader(s, limit: Int.max) }
            let r = try LineReader(s, limit: 1024)
            #expect(await thrownError { try await r.read(exactly: -1) } == .invalidArgument)
            // a peer-supplied absurd frame size: refused before any read or allocation
            #expect(await thrownError { try await r.read(exactly: 1 << 40) } == .errno(EMSGSIZE))
            #expect(await thrownError { try await r.readLine(separator: []) } == .invalidArgument)
            try await c.writeAll("abc")
            try c.shutdown(.write)
            #expect(await thrownError { try await r.read(exactly: 10) } == .errno(ENODATA))
        }
    }

    @Test func peerResetMidLineIsAnErrorAndLeaksNothing() throws {
        let before = openDescriptorCount()
        let rt = try Runtime()
        try rt.blockOn {
            let (c, s) = try await connectedPair()
            let r = try LineReader(s)
            try await c.writeAll("half a li")
            try c.setOption(.linger, 0)
            c.close()  // RST
            #expect(await thrownError { try await r.readLine() } == .errno(ECONNRESET))
            s.close()
            #expect(await thrownError { try await r.readLine() } == .badHandle)
        }
        #expect(openDescriptorCount() == before + ownDescriptors(rt))
    }

    @Test func connectionsAndDatagramsAsAsyncSequences() throws {
        let rt = try Runtime()
        try rt.blockOn {
            let l = try TcpListener.bind(host: "127.0.0.1", port: 0)
            defer { l.close() }
            let server = Eddy.spawn { () async throws -> Int in
                var n = 0
                for try await conn in l.connections {
                    let b = try await conn.read(maxBytes: 8)
                    try await conn.writeAll(b)
                    conn.close()
                    n += 1
                    if n == 3 { break }
                }
                return n
            }
            for i in 0..<3 {
                let c = try await TcpStream.connect(host: "127.0.0.1", port: l.port)
                try await c.writeAll("c\(i)")
                #expect(try await c.read(maxBytes: 8) == Array("c\(i)".utf8))
                c.close()
            }
            #expect(try await server.value == 3)

            let a = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            let b = try UdpSocket.bind(host: "127.0.0.1", port: 0)
            defer { a.close(); b.close() }
            let la = try a.localAddress
            let receiver = Eddy.spawn { () async throws -> [Datagram] in
                var got: [Datagram] = []
                for try await d in b.datagrams(maxBytes: 4) {
                    got.append(d)
                    if got.count == 2 { break }
                }
                return got
            }
            try await a.send(Array("hi".utf8), to: try b.localAddress)
            try await a.send(Array("toolong".utf8), to: try b.localAddress)
            let got = try await receiver.value
            #expect(got == [Datagram(bytes: Array("hi".utf8), sender: la, truncated: false),
                            Datagram(bytes: Array("tool".utf8), sender: la, truncated: true)])
            var it = b.datagrams(maxBytes: -1).makeAsyncIterator()
            #expect(await thrownError { try await it.next() } == .invalidArgument)
        }
    }
}
