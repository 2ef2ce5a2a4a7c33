import Glibc
import Testing
@testable import Eddy

/// Driver selection (configuration, EDDY_DRIVER, fallback) and the io_uring driver's
/// own guarantees. The other suites run on whichever driver EDDY_DRIVER names
/// (`make test` runs them once per driver).
@Suite(.serialized) struct DriverTests {
    private func config(_ kind: DriverKind?) -> Runtime.Configuration {
        var c = Runtime.Configuration()
        c.driver = kind
        return c
    }

    /// Runs `body` with the environment variable `name` set to `value` (nil: unset).
    @discardableResult
    private func withEnv<T>(_ name: String, _ value: String?, _ body: () throws -> T) rethrows -> T {
        let old = getenv(name).map { String(cString: $0) }
        if let value { setenv(name, value, 1) } else { unsetenv(name) }
        defer { if let old { setenv(name, old, 1) } else { unsetenv(name) } }
        return try body()
    }

    /// One echo round trip over loopback: the runtime's readiness works.
    private func echoes(_ rt: Runtime) throws -> Bool {
        try rt.blockOn {
            let l = try TcpListener.bind(host: "127.0.0.1", port: 0)
            let c = try await TcpStream.connect(host: "127.0.0.1", port: l.port)
            let s = try await l.accept()
            try await c.writeAll([1, 2, 3])
            let got = try await s.read(maxBytes: 16)
            c.close(); s.close(); l.close()
            return got == [1, 2, 3]
        }
    }

    @Test func explicitEpollIsEpoll() throws {
        let rt = try withEnv("EDDY_DRIVER", "io_uring") { try Runtime(configuration: config(.epoll)) }
        #expect(rt.driver == .epoll)
        #expect(rt.driverFallback == nil)
        #expect(try echoes(rt))
    }

    /// io_uring where the kernel allows it; otherwise epoll with the reason.
    @Test func ioUringOrAReason() throws {
        let rt = try Runtime(configuration: config(.ioUring))
        #expect(rt.driver == .ioUring || rt.driverFallback != nil)
        #expect((rt.driver == .ioUring) == (rt.driverFallback == nil))
        #expect(try echoes(rt))
    }

    @Test func environmentPicksTheDriver() throws {
        for value in ["epoll", nil] {
            let rt = try withEnv("EDDY_DRIVER", value) { try Runtime() }
            #expect(rt.driver == .epoll)
        }
        let rt = try withEnv("EDDY_DRIVER", "io_uring") { try Runtime() }
        #expect(rt.driver == .ioUring || rt.driverFallback != nil)
        withEnv("EDDY_DRIVER", "kqueue") {
            #expect(throws: EddyError.invalidArgument) { _ = try Runtime() }
        }
    }

    /// A refused io_uring_setup (forced through the test hook: ENOSYS as on an old kernel
    /// or under seccomp, EPERM as with io_uring_disabled) falls back to a working epoll
    /// runtime that says why.
    @Test func refusedSetupFallsBackToEpollWithTheReason() throws {
        for e in [ENOSYS, EPERM] {
            let rt = try withEnv("EDDY_TEST_IO_URING_SETUP_ERRNO", String(e)) {
                try Runtime(configuration: config(.ioUring))
            }
            #expect(rt.driver == .epoll)
            #expect(rt.driverFallback == .errno(e))
            #expect(try echoes(rt))
        }
    }

    /// A registration cancelled with completions of its poll still in the ring, its slot
    /// reused at once: those completions carry the old generation and must not reach the
    /// new registration.
    @Test func cancelledRegistrationDeliversNothingToTheReusedSlot() throws {
        let rt = try Runtime(configuration: config(.ioUring))
        guard rt.driver == .ioUring else { return }  // no io_uring here: ioUringOrAReason says why
        var p1: [Int32] = [-1, -1], p2: [Int32] = [-1, -1]
        try #require(pipe(&p1) == 0 && pipe(&p2) == 0)
        defer { for fd in p1 + p2 { close(fd) } }
        let io = rt.core.io
        let k1 = try io.watch(fd: p1[0]).get()
        try rt.run(tickingOnce: true) { true }  // the poll request goes in
        var b: UInt8 = 1
        #expect(write(p1[1], &b, 1) == 1)  // a completion for k1 is posted ...
        io.close(k1)  // ... and, with the removal's, left in the ring: nothing reaped them
        let k2 = try io.watch(fd: p2[0]).get()  // empty pipe: never readable
        #expect(k2.index == k1.index && k2.generation != k1.generation)
        try rt.run(tickingOnce: true) { true }
        #expect(io.slab.pointer(k2.index).pointee.readiness & Readiness.readable == 0)
        io.close(k2)
    }

    /// Closing a registered socket closes it at once (the poll request holds the file):
    /// the peer reads end of file without the loop turning again, also when the socket
    /// is closed in the turn that registered it (its poll, ready at once, and the
    /// cancellation go in together: a POLL_REMOVE then failed with EALREADY and the
    /// socket stayed open).
    @Test func closeReleasesTheSocketAtOnce() throws {
        for kind in [DriverKind.epoll, .ioUring] {
            for closeAtOnce in [false, true] {
                let rt = try Runtime(configuration: config(kind))
                let (c, s) = try rt.blockOn { () async throws -> (TcpStream, TcpStream?) in
                    let l = try TcpListener.bind(host: "127.0.0.1", port: 0)
                    let c = try await TcpStream.connect(host: "127.0.0.1", port: l.port)
                    let s = try await l.accept()
                    if closeAtOnce { s.close() }
                    l.close()
                    return (c, closeAtOnce ? nil : s)
                }
                s?.close()
                let fd = dup(try c.fileDescriptor)
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                #expect(poll(&pfd, 1, 2000) == 1, "\(kind) closeAtOnce \(closeAtOnce)")
                var buf = [UInt8](repeating: 0, count: 8)
                #expect(read(fd, &buf, 8) == 0, "\(kind) closeAtOnce \(closeAtOnce)")  // FIN
                close(fd)
                c.close()
            }
        }
    }
}
