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
            let fd = try liveFd()
            if sysGetIntOption(fd, SOL_SOCKET, SO_DOMAIN) != AF_UNIX { throw .errno(EAFNOSUPPORT) }
            var c = PeerCredentials(pid: 0, uid: 0, gid: 0)
            if ceddy_peercred(fd, &c.pid, &c.uid, &c.gid) != 0 { throw .errno(errno) }
            return c
        }
    }
}
