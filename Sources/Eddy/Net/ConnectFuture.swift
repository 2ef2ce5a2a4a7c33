import Glibc

/// An outgoing connection in flight: a nonblocking `connect` completed through
/// writability and `SO_ERROR`. Dropping it before completion closes the socket.
public final class ConnectFuture: Future, @unchecked Sendable {
    // @unchecked Sendable: mutable state (`stream`, `result`) is touched only by `poll`,
    // i.e. by the one task that owns and polls the future; `poll` checks at run time that
    // it runs on the socket's loop thread (`cx.isPolledBy`, else `.wrongThread`), and the
    // socket's own steps check again. Handing it to another thread between polls is safe:
    // spawn and wake hand-offs order the accesses.
    private var stream: TcpStream?
    private var result: Result<TcpStream, EddyError>?

    convenience init(host: String, port: UInt16, core: Core) throws(EddyError) {
        try self.init(addr: try SocketAddress.resolve(host: host, port: port), core: core)
    }

    /// A connect to a parsed numeric address (the synchronous fast path).
    convenience init(addr: SockAddrStorage, core: Core) throws(EddyError) {
        try self.init(family: addr.family, core: core) { fd in addr.withSockAddr { core.sys.connect(fd, $0, $1) } }
    }

    /// A connect to one resolved address (a Happy Eyeballs attempt, issue 15).
    convenience init(endpoint: Endpoint, core: Core) throws(EddyError) {
        try self.init(family: endpoint.family, core: core) { fd in endpoint.withSockAddr { core.sys.connect(fd, $0, $1) } }
    }

    /// A Unix-domain stream connect (issue 15): immediate or an error (no listener:
    /// ENOENT, a stale socket file: ECONNREFUSED, a full backlog: EAGAIN).
    convenience init(unix addr: UnixAddress, core: Core) throws(EddyError) {
        try self.init(family: AF_UNIX, core: core) { fd in addr.withSockAddr { core.sys.connect(fd, $0, $1) } }
    }

    /// Creates the socket, registers it, starts `connect` (0 or -errno).
    private init(family: Int32, core: Core, _ connect: (Int32) -> Int32) throws(EddyError) {
        let fd = sysTcpSocket(family: family)
        if fd < 0 { throw .errno(-fd) }
        let s = try TcpStream.adopt(fd: fd, core: core, initial: 0).get()
        let r = connect(fd)
        if r == 0 {
            s.source.slot?.pointee.readiness |= Readiness.writable | Readiness.readable
            result = .success(s)
        } else if r == -EINPROGRESS {
            stream = s
        } else {
            s.close()
            result = .failure(.errno(-r))
        }
    }

    /// Ready with the connected stream (once; later polls return the same result
    /// only if it was an error) or the connect error (`ECONNREFUSED`, ...).
    public func poll(_ cx: inout Context) -> Poll<Result<TcpStream, EddyError>> {
        if let r = result { return .ready(r) }
        guard let s = stream, let p = s.source.slot else {
            return .ready(.failure(stream?.source.core.isShutdown == true ? .shutdown : .errno(EBADF)))
        }
        guard cx.isPolledBy(s.source.core) else { return .ready(.failure(.wrongThread)) }
        if p.pointee.readiness & Readiness.writeInterest == 0 {
            cx.register(&p.pointee.writeWaker)
            return .pending
        }
        return .ready(finish(s, p))
    }

    private func finish(_ s: TcpStream, _ p: UnsafeMutablePointer<IoSlot>) -> Result<TcpStream, EddyError> {
        let err = sysGetIntOption(p.pointee.fd, SOL_SOCKET, SO_ERROR)
        stream = nil
        let r: Result<TcpStream, EddyError>
        if err == 0 {
            r = .success(s)
        } else {
            s.close()
            r = .failure(.errno(err < 0 ? -err : err))
        }
        result = r
        return r
    }

    /// Drops the attempt: closes its socket (connected or not); later polls report
    /// `ECANCELED` (a Happy Eyeballs loser, issue 15).
    func cancel() {
        if case .success(let s)? = result { s.close() }
        stream?.close()
        stream = nil
        result = .failure(.cancelled)
    }

    /// Takes the connected stream out of a finished future (the C ABI's `take`).
    public func take() -> Result<TcpStream, EddyError>? {
        guard let r = result else { return nil }
        if case .success = r { result = .failure(.notReady) }
        return r
    }

    /// Async wait on the loop thread.
    nonisolated(nonsending) func wait() async throws -> TcpStream {
        while true {
            if let r = result { return try r.get() }
            guard let s = stream else { throw EddyError.errno(EBADF) }
            let p = try s.source.checkAsync()
            if p.pointee.readiness & Readiness.writeInterest != 0 { return try finish(s, p).get() }
            try await s.source.waitWritable(p)
        }
    }
}
