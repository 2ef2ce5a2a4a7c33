import Glibc

/// A listening TCP socket registered with a runtime.
///
/// Accept survives descriptor exhaustion: on EMFILE/ENFILE/ENOBUFS/ENOMEM it backs off
/// (100 ms timer) and retries with the readiness still set — under edge triggering no
/// new event would come for the connections already queued.
public final class TcpListener: @unchecked Sendable {
    // @unchecked Sendable: as `TcpStream`: the listener's `IoSource` and backoff timer are
    // confined to its runtime's loop thread, checked on every accept (`cx.isPolledBy`,
    // `checkAsync`: `.wrongThread` otherwise); `close` defers to the loop (`Core.closeIo`).
    let source: IoSource
    /// Local port (resolved once at bind, so port 0 reads back the ephemeral port).
    public let port: UInt16
    private var backoff: Sleep?
    static let backoffDelay: Duration = .milliseconds(100)
    /// A Unix-domain listener's socket file, removed by `close()` (unlink-on-close);
    /// nil for TCP, abstract names and listeners that keep their file (issue 15).
    var unlinkPath: String?

    init(source: IoSource, port: UInt16, unlinkPath: String? = nil) {
        self.source = source
        self.port = port
        self.unlinkPath = unlinkPath
    }

    // A listener dropped without close() still removes its socket file.
    deinit { removeSocketFile() }

    private func removeSocketFile() {
        if let path = unlinkPath {
            unlinkPath = nil
            _ = Glibc.unlink(path)
        }
    }

    /// Binds and listens on a numeric IPv4/IPv6 address; port 0 picks an ephemeral port.
    /// `backlog` is listen(2)'s (the kernel caps it at `somaxconn`); a negative one
    /// throws `EddyError.invalidArgument` (EINVAL).
    /// `reusePort` sets `SO_REUSEPORT` before binding: several listeners (threads,
    /// processes) may then bind the same port and the kernel spreads connections.
    public static func bind(host: String, port: UInt16, backlog: Int32 = 1024, reusePort: Bool = false,
                            runtime: Runtime? = nil) throws(EddyError) -> TcpListener {
        if backlog < 0 { throw .invalidArgument }
        let core = try constructionCore(runtime)
        let addr = try SocketAddress.resolve(host: host, port: port)
        return try bind(family: addr.family, backlog: backlog, reusePort: reusePort, core: core) { fd in
            addr.withSockAddr { Glibc.bind(fd, $0, $1) }
        }
    }

    // ---- names (issue 15 item 1) ----

    /// Binds and listens on one resolved address (see `bind(host:port:)`).
    public static func bind(endpoint: Endpoint, backlog: Int32 = 1024, reusePort: Bool = false,
                            runtime: Runtime? = nil) throws(EddyError) -> TcpListener {
        if backlog < 0 { throw .invalidArgument }
        guard endpoint.family == AF_INET || endpoint.family == AF_INET6 else { throw .invalidArgument }
        let core = try constructionCore(runtime)
        return try bind(family: endpoint.family, backlog: backlog, reusePort: reusePort, core: core) { fd in
            endpoint.withSockAddr { Glibc.bind(fd, $0, $1) }
        }
    }

    /// Listens on a host name (or a numeric address, which skips the lookup): resolves
    /// it on the blocking pool and binds the first address that binds (getaddrinfo's
    /// order); throws `ResolveError` for a name that does not resolve, else the last
    /// bind error.
    nonisolated(nonsending) public static func bind(resolving host: String, port: UInt16, backlog: Int32 = 1024,
                                                   reusePort: Bool = false) async throws -> TcpListener {
        if backlog < 0 { throw EddyError.invalidArgument }
        let list = try await Resolver.resolve(host: host, port: port)
        var last = EddyError.nameNotFound
        for e in list {
            do { return try bind(endpoint: e, backlog: backlog, reusePort: reusePort) } catch { last = error }
        }
        throw last
    }

    // ---- end of names ----

    private static func bind(family: Int32, backlog: Int32, reusePort: Bool, core: Core,
                             _ bindCall: (Int32) -> Int32) throws(EddyError) -> TcpListener {
        let fd = sysTcpSocket(family: family)
        if fd < 0 { throw .errno(-fd) }
        _ = sysSetIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if reusePort, SocketOption.reusePort.set(fd, 1) < 0 {
            let e = errno
            sysClose(fd)
            throw .errno(e)
        }
        var r = bindCall(fd)
        if r == 0 { r = Glibc.listen(fd, backlog) }
        if r != 0 {
            let e = errno
            sysClose(fd)
            throw .errno(e)
        }
        let bound: SocketAddress
        do { bound = try SocketAddress.of(fd: fd, peer: false) } catch {
            sysClose(fd)
            throw error
        }
        let key = try core.io.register(fd: fd, initial: Readiness.readable).get()
        return TcpListener(source: IoSource(core: core, key: key), port: bound.port)
    }

    /// Takes over a listening TCP socket descriptor, e.g. one systemd passes with socket
    /// activation (`LISTEN_FDS`: descriptors 3, 4, ...; see docs/NETWORKING.md). Eddy
    /// makes it non-blocking and close-on-exec and owns it from now on, also when this
    /// throws (then it is closed). Not a listening stream socket: EINVAL.
    public static func adopt(fileDescriptor fd: Int32, runtime: Runtime? = nil) throws(EddyError) -> TcpListener {
        let core: Core
        do { core = try constructionCore(runtime) } catch {
            sysClose(fd)
            throw error
        }
        var r = sysPrepareAdopted(fd, type: Int32(SOCK_STREAM.rawValue))
        if r == 0, sysGetIntOption(fd, SOL_SOCKET, SO_ACCEPTCONN) != 1 { r = -EINVAL }
        if r < 0 {
            sysClose(fd)
            throw .errno(-r)
        }
        // A Unix-domain listener has no port.
        let bound = (try? SocketAddress.of(fd: fd, peer: false)) ?? SocketAddress(host: "", port: 0, family: AF_UNIX)
        // Connections may already be queued: start readable (edge triggering would
        // otherwise wait for the next one).
        let key = try core.io.register(fd: fd, initial: Readiness.readable).get()
        return TcpListener(source: IoSource(core: core, key: key), port: bound.port)
    }

    /// Sets a socket option on the listening socket (accepted streams inherit most).
    public func setOption(_ option: SocketOption, _ value: Int32) throws(EddyError) { try source.setSocketOption(option, value) }

    /// Reads a socket option.
    public func option(_ option: SocketOption) throws(EddyError) -> Int32 { try source.socketOption(option) }

    /// The bound address.
    public var localAddress: SocketAddress {
        get throws(EddyError) {
            guard let p = source.slot else { throw .errno(EBADF) }
            return try SocketAddress.of(fd: p.pointee.fd, peer: false)
        }
    }

    /// The bound address as an `Endpoint` (a value: no allocation).
    public var localEndpoint: Endpoint {
        get throws(EddyError) { try Endpoint.of(fd: source.openFd(), peer: false) }
    }

    /// The listening socket's descriptor (see `TcpStream.fileDescriptor`): Eddy
    /// owns it; never close it or accept on it.
    public var fileDescriptor: Int32 {
        get throws(EddyError) {
            guard let p = source.slot else { throw .errno(EBADF) }
            return p.pointee.fd
        }
    }

    private enum Step { case accepted(TcpStream), wait, backoff, yield, failed(EddyError) }

    /// One accept attempt against the readiness cache.
    private func step(_ p: UnsafeMutablePointer<IoSlot>) -> Step {
        while true {
            if p.pointee.readiness & Readiness.readInterest == 0 { return .wait }
            if !source.spendBudget() { return .yield }
            let fd = source.core.sys.accept(p.pointee.fd)
            if fd >= 0 {
                // Completion reads for TCP only (port 0: a Unix listener): a Unix stream may
                // carry descriptors (SCM_RIGHTS), which a recv would consume and drop.
                switch TcpStream.adopt(fd: fd, core: source.core, initial: Readiness.readable | Readiness.writable,
                                       completionReads: port != 0) {
                case .success(let s): return .accepted(s)
                case .failure(let e): return .failed(e)
                }
            }
            switch -fd {
            case EAGAIN:
                IoRegistry.clear(p, Readiness.readInterest)
                return .wait
            case ECONNABORTED, EPROTO, EPERM, EINTR:
                continue  // that connection is gone; take the next one
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                return .backoff
            default:
                return .failed(.errno(-fd))
            }
        }
    }

    /// Accepts one connection (poll style).
    public func pollAccept(_ cx: inout Context) -> Poll<Result<TcpStream, EddyError>> {
        guard let p = source.slot, cx.isPolledBy(source.core) else { return .ready(.failure(source.unusable())) }
        if let b = backoff {
            if case .pending = b.poll(&cx) { return .pending }
            backoff = nil
        }
        switch step(p) {
        case .accepted(let s): return .ready(.success(s))
        case .failed(let e): return .ready(.failure(e))
        case .wait:
            cx.register(&p.pointee.readWaker)
            return .pending
        case .backoff:
            let b = Sleep(for: Self.backoffDelay)
            backoff = b
            _ = b.poll(&cx)
            return .pending
        case .yield:
            cx.wakeSelf()
            return .pending
        }
    }

    /// Accepts one connection (async, on the loop thread).
    nonisolated(nonsending) public func accept() async throws -> TcpStream {
        while true {
            let p = try source.checkAsync()
            switch step(p) {
            case .accepted(let s): return s
            case .failed(let e): throw e
            case .wait: try await source.waitReadable(p)
            case .backoff: try await sleep(for: Self.backoffDelay)
            case .yield: await Task.yield()
            }
        }
    }

    /// Closes the listening socket (idempotent); a Unix-domain listener bound with
    /// unlink-on-close also removes its socket file.
    public func close() {
        source.closeRegistration()
        removeSocketFile()
    }
}
