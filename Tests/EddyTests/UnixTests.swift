import Glibc
import Testing
@testable import Eddy

/// Unix-domain stream sockets (issue 15).
@Suite(.serialized) struct UnixTests {
    /// A fresh folder for socket files, removed by `body`'s end.
    func withTempDir(_ body: (String) throws -> Void) throws {
        var template = Array("/tmp/eddy-unix-swift-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw EddyError.errno(errno) }
        let dir = String(cString: p)
        defer { _ = system("rm -rf '\(dir)'") }
        try body(dir)
    }

    @Test func echoOverAPathAndAnAbstractName() throws {
        let rt = try Runtime()
        try withTempDir { dir in
            for path in ["\(dir)/e.sock", "@eddy-swift-test-\(getpid())"] {
                let got = try rt.blockOn { () async throws -> [UInt8] in
                    let l = try TcpListener.bind(unixPath: path, unlinkOnClose: true)
                    defer { l.close() }
                    let acc = Eddy.spawn { try await l.accept() }
                    let c = try await TcpStream.connect(unixPath: path)
                    let s = try await acc.value
                    try await c.writeAll("ping")
                    try c.shutdown(.write)
                    var all: [UInt8] = []
                    while true {
                        let chunk = try await s.read(maxBytes: 64)
                        if chunk.isEmpty { break }
                        all += chunk
                    }
                    #expect(throws: EddyError.errno(EAFNOSUPPORT)) { try s.localEndpoint }
                    #expect(try s.peerCredentials == PeerCredentials(pid: getpid(), uid: geteuid(), gid: getegid()))
                    c.close()
                    s.close()
                    return all
                }
                #expect(got == Array("ping".utf8))
                if !path.hasPrefix("@") { #expect(access(path, F_OK) != 0) }  // unlinked on close
            }
        }
    }

    @Test func staleFilesTooLongPathsAndNoListener() throws {
        let rt = try Runtime()
        try withTempDir { dir in
            let path = "\(dir)/s.sock"
            try rt.blockOn {
                let l = try TcpListener.bind(unixPath: path)  // keeps its file
                #expect(throws: EddyError.errno(EADDRINUSE)) { try TcpListener.bind(unixPath: path) }
                l.close()
                #expect(access(path, F_OK) == 0)
                #expect(await thrownError { try await TcpStream.connect(unixPath: path) } == .errno(ECONNREFUSED))
                let again = try TcpListener.bind(unixPath: path)  // the stale file is replaced
                again.close()
                #expect(await thrownError { try await TcpStream.connect(unixPath: "\(dir)/none.sock") } == .errno(ENOENT))
                let long = dir + "/" + String(repeating: "x", count: 120)
                #expect(throws: EddyError.errno(ENAMETOOLONG)) { try TcpListener.bind(unixPath: long) }
                #expect(await thrownError { try await TcpStream.connect(unixPath: long) } == .errno(ENAMETOOLONG))
                #expect(throws: EddyError.invalidArgument) { try TcpListener.bind(unixPath: "") }
                #expect(throws: EddyError.invalidArgument) { try TcpListener.bind(unixPath: "@") }
            }
        }
    }

    @Test func passDescriptors() throws {
        let rt = try Runtime()
        let before = openDescriptorCount()
        try rt.blockOn {
            let path = "@eddy-swift-fd-\(getpid())"
            let l = try TcpListener.bind(unixPath: path)
            defer { l.close() }
            let acc = Eddy.spawn { try await l.accept() }
            let c = try await TcpStream.connect(unixPath: path)
            let s = try await acc.value
            defer { c.close(); s.close() }
            var p: [Int32] = [-1, -1]
            #expect(pipe(&p) == 0)
            try await c.send(descriptor: p[1])
            let got = try await s.receiveDescriptor()
            #expect(got >= 0 && got != p[1])
            #expect(write(got, "ok", 2) == 2)
            var buf = [UInt8](repeating: 0, count: 2)
            #expect(read(p[0], &buf, 2) == 2 && buf == Array("ok".utf8))
            close(got); close(p[0]); close(p[1])
            #expect(await thrownError { try await c.send(descriptor: p[1]) } == .errno(EBADF))
            try await c.writeAll("x")
            #expect(await thrownError { try await s.receiveDescriptor() } == .errno(EBADMSG))
            // A TCP stream carries no descriptors.
            let (tc, ts) = try await connectedPair()
            #expect(await thrownError { try await tc.send(descriptor: 0) } == .errno(EAFNOSUPPORT))
            #expect(await thrownError { try await ts.receiveDescriptor() } == .errno(EAFNOSUPPORT))
            tc.close(); ts.close()
        }
        #expect(openDescriptorCount() == before)
    }
}
