import CEddySys
import Glibc

// Unix-domain stream sockets (issue 15): a listener is a `TcpListener` and a
// connection a `TcpStream` — Eddy's listener and connected-stream types, whose names
// predate Unix sockets — so the stream API (poll and async, read/write/shutdown,
// options where the kernel has them) and the C ABI's tcp handles work unchanged.

extension TcpListener {
    /// Binds and listens on a Unix-domain path, or a Linux abstract name written
    /// `@name`. A path longer than `sun_path` holds is `ENAMETOOLONG`; an empty one or
    /// one with NUL bytes is EINVAL. A stale socket file in the way (a socket nobody
    /// listens on any more: connecting is refused) is replaced; a live listener or any
    /// other file there is `EADDRINUSE`. With `unlinkOnClose`, `close()` (or dropping
    /// the listener) removes the socket file; otherwise it stays (a stale file the next
    /// bind replaces).
    public static func bind(unixPath path: String, backlog: Int32 = 1024, unlinkOnClose: Bool = false,
                            runtime: Runtime? = nil) throws(EddyError) -> TcpListener {
        if backlog < 0 { throw .invalidArgument }
        let core = try constructionCore(runtime)
        let addr = try UnixAddress(path: path)
        let fd = sysTcpSocket(family: AF_UNIX)
        if fd < 0 { throw .errno(-fd) }
        var r = addr.withSockAddr { Glibc.bind(fd, $0, $1) }
        if r != 0, errno == EADDRINUSE, !addr.isAbstract, isStaleSocketFile(addr) {
            _ = Glibc.unlink(path)
            r = addr.withSockAddr { Glibc.bind(fd, $0, $1) }
        }
        if r == 0 { r = Glibc.listen(fd, backlog) }
        if r != 0 {
            let e = errno
            sysClose(fd)
            throw .errno(e)
        }
        let key: IoKey
        do { key = try core.io.register(fd: fd, initial: Readiness.readable).get() } catch {
            if !addr.isAbstract { _ = Glibc.unlink(path) }
            throw error
        }
        return TcpListener(source: IoSource(core: core, key: key), port: 0,
                           unlinkPath: unlinkOnClose && !addr.isAbstract ? path : nil)
    }

    /// A socket file whose listener is gone: a non-blocking connect is refused. A full
    /// backlog (EAGAIN) or a success means someone listens.
    private static func isStaleSocketFile(_ addr: UnixAddress) -> Bool {
        var st = stat()
        let isSocket = addr.raw.sun_path.0 != 0 && withUnsafeBytes(of: addr.raw.sun_path) { p in
            stat(p.baseAddress!.assumingMemoryBound(to: CChar.self), &st) == 0
        } && (st.st_mode & S_IFMT) == S_IFSOCK
        if !isSocket { return false }
        let probe = sysTcpSocket(family: AF_UNIX)
        if probe < 0 { return false }
        defer { sysClose(probe) }
        return addr.withSockAddr { Glibc.connect(probe, $0, $1) } != 0 && errno == ECONNREFUSED
    }
}

extension TcpStream {
    /// Connects to a Unix-domain listener at `path` (or `@name`). The future is ready at
    /// its first poll: no listener is ENOENT (no file) or ECONNREFUSED (a stale file);
    /// a full backlog is EAGAIN; a path longer than `sun_path` is ENAMETOOLONG.
    public static func connect(unixPath path: String, runtime: Runtime? = nil) throws(EddyError) -> ConnectFuture {
        try ConnectFuture(unix: UnixAddress(path: path), core: constructionCore(runtime))
    }

    /// Connects to a Unix-domain listener from async code on an Eddy runtime.
    nonisolated(nonsending) public static func connect(unixPath path: String) async throws -> TcpStream {
        let core = try loopCore()
        let fut = try ConnectFuture(unix: UnixAddress(path: path), core: core)
        return try await fut.wait()
    }
}

/// The process on the other end of a Unix-domain stream, as the kernel recorded it when
/// the connection was made (`SO_PEERCRED`): not spoofable by the peer.
public struct PeerCredentials: Sendable, Equatable {
    /// The peer's process id (of the process that called connect or listen).
    public var pid: Int32
    /// Its effective user id.
    public var uid: UInt32
    /// Its effective group id.
    public var gid: UInt32

    /// Credentials from their parts.
    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

extension TcpStream {
    /// The peer's credentials on a Unix-domain stream (`SO_PEERCRED`). On a TCP stream:
    /// `EAFNOSUPPORT` (the kernel has none to give; Linux would report pid 0).
    public var peerCredentials: PeerCredentials {
        get throws(EddyError) {
            let fd = try openFd()
            if sysGetIntOption(fd, SOL_SOCKET, SO_DOMAIN) != AF_UNIX { throw .errno(EAFNOSUPPORT) }
            var c = PeerCredentials(pid: 0, uid: 0, gid: 0)
            if ceddy_peercred(fd, &c.pid, &c.uid, &c.gid) != 0 { throw .errno(errno) }
            return c
        }
    }
}

// MARK: passing descriptors (SCM_RIGHTS)

extension TcpStream {
    /// One descriptor-passing syscall if the readiness cache allows it: n >= 0, -errno,
    /// or -EAGAIN (readiness cleared: wait for the next edge).
    private func fdAttempt(_ p: UnsafeMutablePointer<IoSlot>, read: Bool, _ call: (Int32) -> Int) -> Int {
        let interest = read ? Readiness.readInterest : Readiness.writeInterest
        if p.pointee.readiness & interest == 0 { return -Int(EAGAIN) }
        while true {
            let n = call(p.pointee.fd)
            if n >= 0 { return n }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN { IoRegistry.clear(p, interest) }
            return -Int(e)
        }
    }

    /// A Unix-domain socket (descriptors travel only there).
    private static func isUnix(_ fd: Int32) -> Bool { sysGetIntOption(fd, SOL_SOCKET, SO_DOMAIN) == AF_UNIX }

    private static func sendCall(_ fd: Int32) -> (Int32) -> Int { { sock in ceddy_send_fd(sock, fd) } }

    /// What a receive attempt means: the descriptor, or why there is none.
    private static func received(_ n: Int, _ got: Int32) -> Result<Int32, EddyError> {
        if n < 0 { return .failure(.errno(Int32(-n))) }
        if n == 0 { return .failure(.errno(ENODATA)) }   // end of stream
        if got < 0 { return .failure(.errno(EBADMSG)) }  // plain data, no descriptor
        return .success(got)
    }

    /// Sends a duplicate of descriptor `fd` to the peer of a Unix-domain stream
    /// (`SCM_RIGHTS`), carried by one byte of stream data (a 0); the caller keeps `fd`.
    /// A closed `fd` is EBADF; a TCP stream is EAFNOSUPPORT (Linux TCP would drop the
    /// descriptor and send the byte alone).
    public func pollSendDescriptor(_ cx: inout Context, _ fd: Int32) -> Poll<Result<Void, EddyError>> {
        if fd < 0 { return .ready(.failure(.errno(EBADF))) }
        guard let p = source.slot, cx.isPolledBy(source.core) else { return .ready(.failure(source.unusable())) }
        if !TcpStream.isUnix(p.pointee.fd) { return .ready(.failure(.errno(EAFNOSUPPORT))) }
        let n = fdAttempt(p, read: false, TcpStream.sendCall(fd))
        if n >= 0 { return .ready(.success(())) }
        if n != -Int(EAGAIN) { return .ready(.failure(.errno(Int32(-n)))) }
        cx.register(&p.pointee.writeWaker)
        return .pending
    }

    /// Receives a descriptor sent with `pollSendDescriptor` (it reads the one byte that
    /// carries it). The new descriptor (close-on-exec) is the caller's to close. End of
    /// stream is `ENODATA`; a byte that came without a descriptor (plain data) `EBADMSG`.
    public func pollReceiveDescriptor(_ cx: inout Context) -> Poll<Result<Int32, EddyError>> {
        guard let p = source.slot, cx.isPolledBy(source.core) else { return .ready(.failure(source.unusable())) }
        if !TcpStream.isUnix(p.pointee.fd) { return .ready(.failure(.errno(EAFNOSUPPORT))) }
        var got: Int32 = -1
        let n = fdAttempt(p, read: true) { sock in ceddy_recv_fd(sock, &got) }
        if n == -Int(EAGAIN) {
            cx.register(&p.pointee.readWaker)
            return .pending
        }
        return .ready(TcpStream.received(n, got))
    }

    /// `pollSendDescriptor` from async code on the loop thread.
    nonisolated(nonsending) public func send(descriptor fd: Int32) async throws {
        if fd < 0 { throw EddyError.errno(EBADF) }
        while true {
            let p = try source.checkAsync()
            if !TcpStream.isUnix(p.pointee.fd) { throw EddyError.errno(EAFNOSUPPORT) }
            let n = fdAttempt(p, read: false, TcpStream.sendCall(fd))
            if n >= 0 { return }
            if n != -Int(EAGAIN) { throw EddyError.errno(Int32(-n)) }
            try await source.waitWritable(p)
        }
    }

    /// `pollReceiveDescriptor` from async code on the loop thread.
    nonisolated(nonsending) public func receiveDescriptor() async throws -> Int32 {
        while true {
            let p = try source.checkAsync()
            if !TcpStream.isUnix(p.pointee.fd) { throw EddyError.errno(EAFNOSUPPORT) }
            var got: Int32 = -1
            let n = fdAttempt(p, read: true) { sock in ceddy_recv_fd(sock, &got) }
            if n != -Int(EAGAIN) { return try TcpStream.received(n, got).get() }
            try await source.waitReadable(p)
        }
    }
}
