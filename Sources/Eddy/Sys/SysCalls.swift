import CEddySys
#if canImport(Glibc)
import Glibc
#endif

/// The kernel interface Eddy calls, as a table of C function pointers.
///
/// The runtime copies one table at creation and calls through it, so a test can hand
/// a `Runtime` a table whose entries script errno sequences (EAGAIN after readiness,
/// short writes, EINTR, accept errors) — SwiftNIO's "fake kernel", without a protocol
/// dispatch on the hot path. Entries follow libc conventions: -1 and `errno` on failure.
public struct SysCalls: @unchecked Sendable {
    // @unchecked Sendable: immutable after creation (the runtime copies it); its entries are
    // plain functions over their arguments (a test's table may capture state: its test then
    // owns the synchronization).
    /// `read(2)`.
    public typealias ReadFn = @convention(c) (Int32, UnsafeMutableRawPointer?, Int) -> Int
    /// `send(2)` (Eddy passes MSG_NOSIGNAL).
    public typealias SendFn = @convention(c) (Int32, UnsafeRawPointer?, Int, Int32) -> Int
    /// `accept4(2)` with SOCK_NONBLOCK | SOCK_CLOEXEC.
    public typealias AcceptFn = @convention(c) (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int32
    /// `connect(2)`.
    public typealias ConnectFn = @convention(c) (Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int32
    /// `epoll_wait(2)`.
    public typealias EpollWaitFn = @convention(c) (Int32, UnsafeMutablePointer<ceddy_event>?, Int32, Int32) -> Int32

    // ---- UDP (branch lines-15) ----
    /// `recvfrom(2)` (Eddy passes MSG_TRUNC).
    public typealias RecvFromFn = @convention(c) (Int32, UnsafeMutableRawPointer?, Int, Int32,
                                                  UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int
    /// `sendto(2)` (Eddy passes MSG_NOSIGNAL).
    public typealias SendToFn = @convention(c) (Int32, UnsafeRawPointer?, Int, Int32, UnsafePointer<sockaddr>?, socklen_t) -> Int

    /// `io_uring_enter(2)` on a ring: submit the queued requests, wait for `UInt32`
    /// completions at most `Int64` ns (-1: no limit). The count submitted or -errno.
    public typealias UringEnterFn = @convention(c) (UnsafeMutablePointer<ceddy_uring>?, UInt32, Int64) -> Int32

    /// Reads from a socket.
    public var read: ReadFn
    /// Writes to a socket.
    public var send: SendFn
    /// Accepts a connection.
    public var accept: AcceptFn
    /// Starts a connection.
    public var connect: ConnectFn
    /// Waits for readiness events.
    public var epollWait: EpollWaitFn
    /// The io_uring driver's wait (once per loop turn).
    public var uringEnter: UringEnterFn
    /// Receives a datagram (UDP; branch lines-15).
    public var recvFrom: RecvFromFn
    /// Sends a datagram (UDP; branch lines-15).
    public var sendTo: SendToFn

    /// A table of the given functions (see `system` for the real ones).
    public init(read: @escaping ReadFn, send: @escaping SendFn, accept: @escaping AcceptFn,
                connect: @escaping ConnectFn, epollWait: @escaping EpollWaitFn,
                uringEnter: @escaping UringEnterFn = { r, wait, timeout in ceddy_uring_enter(r, wait, timeout) },
                recvFrom: @escaping RecvFromFn = ceddy_recvfrom, sendTo: @escaping SendToFn = ceddy_sendto) {
        self.read = read
        self.send = send
        self.accept = accept
        self.connect = connect
        self.epollWait = epollWait
        self.uringEnter = uringEnter
        self.recvFrom = recvFrom
        self.sendTo = sendTo
    }

    /// The real kernel.
    public static let system = SysCalls(
        read: ceddy_read,
        send: ceddy_send,
        accept: { fd, addr, len in ceddy_accept4(fd, addr, len) },
        connect: { fd, addr, len in Glibc.connect(fd, addr, len) },
        epollWait: { ep, events, max, timeout in ceddy_epoll_wait(ep, events, max, timeout) }
    )
}

/// Thin wrappers over a `SysCalls` table: retry EINTR, return `-errno` instead of -1.
@usableFromInline
struct Sys {
    @usableFromInline let calls: SysCalls

    @inlinable @inline(__always)
    func read(_ fd: Int32, _ buf: UnsafeMutableRawPointer?, _ len: Int) -> Int {
        while true {
            let n = calls.read(fd, buf, len)
            if n >= 0 { return n }
            let e = Glibc.errno
            if e != EINTR { return -Int(e) }
        }
    }

    /// `send(..., MSG_NOSIGNAL)`: a closed peer is EPIPE, never SIGPIPE in the host process.
    @inlinable @inline(__always)
    func send(_ fd: Int32, _ buf: UnsafeRawPointer?, _ len: Int) -> Int {
        while true {
            let n = calls.send(fd, buf, len, Int32(MSG_NOSIGNAL))
            if n >= 0 { return n }
            let e = Glibc.errno
            if e != EINTR { return -Int(e) }
        }
    }

    @inlinable
    func accept(_ fd: Int32) -> Int32 {
        while true {
            let c = calls.accept(fd, nil, nil)
            if c >= 0 { return c }
            let e = Glibc.errno
            if e != EINTR { return -e }
        }
    }

    /// connect(2) on a nonblocking socket: 0, or -errno (-EINPROGRESS while in flight).
    /// EINTR means the connect goes on asynchronously: report it as in progress.
    func connect(_ fd: Int32, _ addr: UnsafePointer<sockaddr>, _ len: socklen_t) -> Int32 {
        let r = calls.connect(fd, addr, len)
        if r == 0 { return 0 }
        let e = Glibc.errno
        return e == EINTR ? -EINPROGRESS : -e
    }

    /// epoll_wait; EINTR is returned (the run loop decides whether to retry).
    func epollWait(_ ep: Int32, _ events: UnsafeMutablePointer<ceddy_event>, _ max: Int32, _ timeoutMs: Int32) -> Int32 {
        let n = calls.epollWait(ep, events, max, timeoutMs)
        return n >= 0 ? n : -Glibc.errno
    }
}

/// close(2) without retrying EINTR: on Linux the descriptor is gone even then, and a
/// retry could close a descriptor another thread just received.
@usableFromInline
func sysClose(_ fd: Int32) {
    if fd >= 0 { _ = Glibc.close(fd) }
}

/// Creates a nonblocking, close-on-exec TCP socket.
func sysTcpSocket(family: Int32) -> Int32 {
    let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | CEDDY_SOCK_NONBLOCK | CEDDY_SOCK_CLOEXEC, 0)
    return fd >= 0 ? fd : -Glibc.errno
}

func sysSetIntOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Int32 {
    var v = value
    let r = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
    return r == 0 ? 0 : -Glibc.errno
}

func sysGetIntOption(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32 {
    var v: Int32 = 0
    var len = socklen_t(MemoryLayout<Int32>.size)
    let r = getsockopt(fd, level, name, &v, &len)
    return r == 0 ? v : -Glibc.errno
}
