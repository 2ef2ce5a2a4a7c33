import CEddySys
import Glibc

/// Which direction(s) `shutdown` closes.
public enum ShutdownHow: Sendable {
    /// `.read`: SHUT_RD; `.write`: SHUT_WR (the peer then reads end of stream); `.both`: SHUT_RDWR.
    case read, write, both
    var raw: Int32 {
        switch self {
        case .read: return Int32(SHUT_RD)
        case .write: return Int32(SHUT_WR)
        case .both: return Int32(SHUT_RDWR)
        }
    }
}

/// A connected TCP socket, registered once with its runtime's reactor (edge-triggered).
///
/// Poll-style (`pollRead`/`pollWrite`/`pollShutdown`) and async (`read`/`write`/...)
/// forms share one readiness cache; neither allocates per call. Use a stream from the
/// loop thread of its runtime. `close()` (or dropping it) closes the descriptor.
public final class TcpStream: IoSource, @unchecked Sendable {
    // @unchecked Sendable: the stream's state is its `IoSource` (a registration slot of its
    // runtime's reactor), confined to that runtime's loop thread. Every operation checks it
    // at run time: poll steps compare the polling runtime (`cx.isPolledBy`), async ones the
    // calling thread (`IoSource.checkAsync`, `isLoopThread`), `close` defers to the loop
    // (`Core.closeIo`); a call from elsewhere fails with `.wrongThread`, never races. The
    // README captures streams in `Eddy.spawn`'s @Sendable closures: that is why it is Sendable.
    // The stream *is* its IoSource (a subclass, not a field): one object per connection,
    // so a read or write loads one line of it, not a TcpStream line and then an IoSource line.
    /// The registration half of this stream (itself).
    @inlinable @inline(__always)
    var source: IoSource { self }

    override init(core: Core, key: IoKey) { super.init(core: core, key: key) }

    /// Registers an already-connected descriptor (the registry owns it from now on).
    /// `completionReads`: a TCP socket accept returned (connected for sure), whose reads
    /// the io_uring driver may do as completions (`IoRegistry.completionRead`).
    static func adopt(fd: Int32, core: Core, initial: UInt32, completionReads: Bool = false) -> Result<TcpStream, EddyError> {
        switch core.io.register(fd: fd, initial: initial, completionReads: completionReads) {
        case .success(let key): return .success(TcpStream(core: core, key: key))
        case .failure(let e): return .failure(e)
        }
    }

    // MARK: poll style

    /// Reads into `buffer`: `.ready(.success(0))` is end of stream (or an empty buffer).
    public func pollRead(_ cx: inout Context, into buffer: UnsafeMutableRawBufferPointer) -> Poll<Result<Int, EddyError>> {
        pollRead(&cx, buffer.baseAddress, buffer.count)
    }

    /// Raw-pointer form of `pollRead`. A negative `len`, or a nil `buf` with `len > 0`,
    /// is `.invalidArgument` (EINVAL).
    public func pollRead(_ cx: inout Context, _ buf: UnsafeMutableRawPointer?, _ len: Int) -> Poll<Result<Int, EddyError>> {
        if !TcpStream.validBuffer(buf != nil, len) { return .ready(.failure(.invalidArgument)) }
        return TcpStream.decode(pollReadStep(&cx, buf, len))
    }

    /// Writes some of `bytes`; `.ready(.success(n))` with 0 < n <= count.
    public func pollWrite(_ cx: inout Context, _ bytes: UnsafeRawBufferPointer) -> Poll<Result<Int, EddyError>> {
        pollWrite(&cx, bytes.baseAddress, bytes.count)
    }

    /// Raw-pointer form of `pollWrite`. A negative `len`, or a nil `buf` with `len > 0`,
    /// is `.invalidArgument` (EINVAL).
    public func pollWrite(_ cx: inout Context, _ buf: UnsafeRawPointer?, _ len: Int) -> Poll<Result<Int, EddyError>> {
        if !TcpStream.validBuffer(buf != nil, len) { return .ready(.failure(.invalidArgument)) }
        return TcpStream.decode(pollWriteStep(&cx, buf, len))
    }

    /// A raw buffer argument the kernel may be handed: `len >= 0`, and a buffer unless
    /// `len` is 0 (the C ABI checks the same in its exports).
    @inline(__always)
    static func validBuffer(_ hasBuffer: Bool, _ len: Int) -> Bool {
        len >= 0 && (hasBuffer || len == 0)
    }

    /// The largest `read(maxBytes:)`: what one read(2) can transfer on Linux
    /// (MAX_RW_COUNT, INT_MAX rounded down to a page). Larger sizes are EINVAL.
    public static let maxReadBytes = 0x7fff_f000

    /// What the `…Step` forms return for "pending" (other negatives are error codes).
    @inlinable package static var pendingCode: Int { Int.min }

    @inline(__always)
    static func decode(_ r: Int) -> Poll<Result<Int, EddyError>> {
        if r >= 0 { return .ready(.success(r)) }
        if r == pendingCode { return .pending }
        return .ready(.failure(EddyError(code: Int32(truncatingIfNeeded: r))))
    }

    /// `pollRead` as one Int: n >= 0, `pendingCode`, or a negative `EddyError` code.
    /// `len` must be >= 0 (callers check it; the C exports do before calling).
    /// Inlinable so the C ABI's entry compiles to one flat function around the read(2)
    /// (no Poll/Result enum, no second frame).
    @inlinable @inline(__always)
    package func pollReadStep(_ cx: inout Context, _ buf: UnsafeMutableRawPointer?, _ len: Int) -> Int {
        pollStep(&cx, len, .read) { source.tryRead($0, buf, len) }
    }

    /// `pollWrite` as one Int (see `pollReadStep`).
    @inlinable @inline(__always)
    package func pollWriteStep(_ cx: inout Context, _ buf: UnsafeRawPointer?, _ len: Int) -> Int {
        pollStep(&cx, len, .write) { source.tryWrite($0, buf, len) }
    }

    /// The shared body of the two steps: checks, one `attempt`, and for a step that moved
    /// no bytes: EAGAIN stores the waker, a spent budget requeues the task (it stays
    /// ready), anything else is the error.
    @inlinable @inline(__always)
    func pollStep(_ cx: inout Context, _ len: Int, _ direction: Direction,
                  _ attempt: (UnsafeMutablePointer<IoSlot>) -> Int) -> Int {
        let s = source
        guard let p = s.slot, cx.isPolledBy(s.core) else { return Int(s.unusable().code) }
        if len == 0 { return 0 }
        let n = attempt(p)
        if n >= 0 { return n }
        if n == -Int(EAGAIN) {
            switch direction {
            case .read: cx.register(&p.pointee.readWaker)
            case .write: cx.register(&p.pointee.writeWaker)
            }
            return TcpStream.pendingCode
        }
        if n == IoSource.yieldCode {
            cx.wakeSelf()
            return TcpStream.pendingCode
        }
        return n
    }

    /// Half-closes the write side (`shutdown(SHUT_WR)`); the peer reads end of stream.
    public func pollShutdown(_ cx: inout Context) -> Poll<Result<Void, EddyError>> {
        pollShutdown(&cx, .write)
    }

    /// `shutdown(2)` of `how` from a poll function (immediate: never pending). After
    /// `.read`, reads return end of stream.
    public func pollShutdown(_ cx: inout Context, _ how: ShutdownHow) -> Poll<Result<Void, EddyError>> {
        guard source.slot != nil, cx.isPolledBy(source.core) else { return .ready(.failure(source.unusable())) }
        do { try shutdown(how) } catch { return .ready(.failure(error)) }
        return .ready(.success(()))
    }

    // MARK: async

    /// Retries `attempt` (a read or write step) until it does not report EAGAIN,
    /// parking the Swift task on the matching readiness in between.
    @inlinable @inline(__always)
    nonisolated(nonsending) func retry(_ direction: Direction, _ attempt: (UnsafeMutablePointer<IoSlot>) -> Int) async throws -> Int {
        while true {
            let p = try source.checkAsync()
            let n = attempt(p)
            if n >= 0 { return n }
            if n == IoSource.yieldCode {
                await Task.yield()  // budget spent: back of the executor's queue
                continue
            }
            if n != -Int(EAGAIN) { throw EddyError.errno(Int32(-n)) }
            switch direction {
            case .read: try await source.waitReadable(p)
            case .write: try await source.waitWritable(p)
            }
        }
    }

    /// Reads into `buffer`; 0 means end of stream.
    ///
    /// Inlinable (as is `writeAll(_:)`): inlined into the caller's async function, the
    /// operation needs no task-allocator frame of its own.
    @inlinable @inline(__always)
    nonisolated(nonsending) public func read(into buffer: UnsafeMutableRawBufferPointer) async throws -> Int {
        if buffer.count == 0 { return 0 }
        return try await retry(.read) { source.tryRead($0, buffer.baseAddress, buffer.count) }
    }

    /// Reads into `buffer[offset...]` without copying; 0 means end of stream (or
    /// `offset == buffer.count`: no room). An offset outside `0...buffer.count` throws
    /// `EddyError.invalidArgument` (EINVAL).
    nonisolated(nonsending) public func read(into buffer: inout [UInt8], at offset: Int = 0) async throws -> Int {
        guard offset >= 0, offset <= buffer.count else { throw EddyError.invalidArgument }
        if offset == buffer.count { return 0 }
        let src = source
        return try await retry(.read) { p in
            buffer.withUnsafeMutableBytes { raw in src.tryRead(p, raw.baseAddress! + offset, raw.count - offset) }
        }
    }

    /// Reads up to `maxBytes` into a new array of that size; an empty array means end of
    /// stream (or `maxBytes == 0`). A negative `maxBytes`, or one above `maxReadBytes`,
    /// throws `EddyError.invalidArgument` (EINVAL): it could otherwise not be told from
    /// end of stream, or could not be allocated.
    nonisolated(nonsending) public func read(maxBytes: Int) async throws -> [UInt8] {
        guard maxBytes >= 0, maxBytes <= TcpStream.maxReadBytes else { throw EddyError.invalidArgument }
        if maxBytes == 0 { return [] }
        var out = [UInt8](repeating: 0, count: maxBytes)
        let n = try await read(into: &out)
        out.removeSubrange(n...)
        return out
    }

    /// Writes some of `bytes`; returns how many were written (> 0 unless empty).
    @inlinable
    nonisolated(nonsending) public func write(_ bytes: UnsafeRawBufferPointer) async throws -> Int {
        if bytes.count == 0 { return 0 }
        return try await retry(.write) { source.tryWrite($0, bytes.baseAddress, bytes.count) }
    }

    /// Writes all of `bytes`, waiting for the peer as needed (backpressure).
    @inlinable @inline(__always)
    nonisolated(nonsending) public func writeAll(_ bytes: UnsafeRawBufferPointer) async throws {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let at = offset
            offset += try await retry(.write) { source.tryWrite($0, base + at, bytes.count - at) }
        }
    }

    /// Writes all of `bytes[range]` without copying.
    nonisolated(nonsending) public func writeAll(_ bytes: [UInt8], range: Range<Int>? = nil) async throws {
        let r = range ?? 0..<bytes.count
        guard r.lowerBound >= 0, r.upperBound <= bytes.count else { throw EddyError.invalidArgument }
        var offset = r.lowerBound
        let src = source
        while offset < r.upperBound {
            offset += try await retry(.write) { p in
                bytes.withUnsafeBytes { raw in src.tryWrite(p, raw.baseAddress! + offset, r.upperBound - offset) }
            }
        }
    }

    /// Writes all of `string` as UTF-8.
    nonisolated(nonsending) public func writeAll(_ string: String) async throws {
        try await writeAll(Array(string.utf8))
    }

    // MARK: synchronous

    /// Connects to a numeric address (IPv4/IPv6): the future completes through
    /// writability + `SO_ERROR`. Uses `runtime`, or the one driving this thread.
    public static func connect(host: String, port: UInt16, runtime: Runtime? = nil) throws(EddyError) -> ConnectFuture {
        try ConnectFuture(host: host, port: port, core: constructionCore(runtime))
    }

    /// Connects from async code on an Eddy runtime.
    /// A numeric host connects at once (no lookup, no blocking-pool hop); a name is
    /// resolved and raced with Happy Eyeballs (`HappyEyeballsConnect`); a name that
    /// does not resolve throws `ResolveError` (code and host name).
    nonisolated(nonsending) public static func connect(host: String, port: UInt16) async throws -> TcpStream {
        let core = try loopCore()
        let addr: SockAddrStorage
        do { addr = try SocketAddress.resolve(host: host, port: port) } catch {
            return try await connect(name: host, port: port, core: core)
        }
        let fut = try ConnectFuture(addr: addr, core: core)
        return try await fut.wait()
    }

    /// The name path of `connect(host:port:)` (issue 15 item 1), kept out of the numeric one.
    @inline(never)
    nonisolated(nonsending) static func connect(name: String, port: UInt16, core: Core) async throws -> TcpStream {
        let he = HappyEyeballsConnect(host: name, port: port, core: core, attemptDelay: HappyEyeballsConnect.defaultAttemptDelay,
                                      timeout: ResolveFuture.defaultTimeout)
        switch try await awaitPolling(he, core: core) {
        case .success(let s): return s
        case .failure(let e): throw he.failedInLookup ? ResolveError(e, host: name) as Error : e
        }
    }

    /// Races connections to `endpoints` with Happy Eyeballs (RFC 8305: families
    /// interleaved, the next attempt after `attemptDelay` or on a failure, the first
    /// to connect wins, the others are closed).
    nonisolated(nonsending) public static func connect(to endpoints: [Endpoint],
                                                      attemptDelay: Duration = HappyEyeballsConnect.defaultAttemptDelay) async throws -> TcpStream {
        let core = try loopCore()
        let he = HappyEyeballsConnect(endpoints: endpoints, core: core, attemptDelay: attemptDelay)
        return try await awaitPolling(he, core: core).get()
    }

    /// `shutdown(2)` of one or both directions.
    public func shutdown(_ how: ShutdownHow = .write) throws(EddyError) {
        guard let p = source.slot else { throw source.core.isShutdown ? .shutdown : .errno(EBADF) }
        if Glibc.shutdown(p.pointee.fd, how.raw) != 0 { throw .errno(errno) }
    }

    /// Closes the socket (idempotent); pending operations on it fail with EBADF.
    public func close() { closeRegistration() }

    /// `true` until `close()` (or runtime shutdown).
    public var isOpen: Bool { source.slot != nil }

    /// The local address.
    public var localAddress: SocketAddress {
        get throws(EddyError) { try SocketAddress.of(fd: openFd(), peer: false) }
    }

    /// The peer's address.
    public var peerAddress: SocketAddress {
        get throws(EddyError) { try SocketAddress.of(fd: openFd(), peer: true) }
    }

    /// The local address as an `Endpoint` (a value: no allocation).
    public var localEndpoint: Endpoint {
        get throws(EddyError) { try Endpoint.of(fd: openFd(), peer: false) }
    }

    /// The peer's address as an `Endpoint`.
    public var peerEndpoint: Endpoint {
        get throws(EddyError) { try Endpoint.of(fd: openFd(), peer: true) }
    }

    /// Sets a socket option (`.noDelay`, `.keepAlive`, `.keepAliveIdle`, `.linger`,
    /// `.sendBufferSize` ...; see `SocketOption`).
    public func setOption(_ option: SocketOption, _ value: Int32) throws(EddyError) { try source.setSocketOption(option, value) }

    /// Reads a socket option.
    public func option(_ option: SocketOption) throws(EddyError) -> Int32 { try source.socketOption(option) }

    /// Takes over a connected TCP socket descriptor (made elsewhere, inherited, passed
    /// over a Unix socket): Eddy makes it non-blocking and close-on-exec and owns it from
    /// now on, also when this throws (then it is closed). Not a stream socket: EINVAL;
    /// not a socket: ENOTSOCK; a listening socket: EINVAL (see `TcpListener.adopt`).
    public static func adopt(fileDescriptor fd: Int32, runtime: Runtime? = nil) throws(EddyError) -> TcpStream {
        let core: Core
        do { core = try constructionCore(runtime) } catch {
            sysClose(fd)
            throw error
        }
        var r = sysPrepareAdopted(fd, type: Int32(SOCK_STREAM.rawValue))
        if r == 0, sysGetIntOption(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1 { r = -EINVAL }
        if r < 0 {
            sysClose(fd)
            throw .errno(-r)
        }
        // Readable and writable until the kernel says otherwise: the first attempt tells.
        return try adopt(fd: fd, core: core, initial: Readiness.readable | Readiness.writable).get()
    }

    /// Enables/disables Nagle's algorithm (`TCP_NODELAY`).
    public func setNoDelay(_ on: Bool) throws(EddyError) {
        let r = sysSetIntOption(try openFd(), Int32(IPPROTO_TCP), TCP_NODELAY, on ? 1 : 0)
        if r < 0 { throw .errno(-r) }
    }

    /// The socket's descriptor (the `uv_fileno` / `AsRawFd` escape hatch): for
    /// socket options Eddy does not wrap, or a direct non-blocking write. Eddy
    /// keeps owning it: never close it; the number is invalid once the stream is
    /// closed (it may then name another file). Reading from it behind Eddy's
    /// back can lose a readiness edge.
    public var fileDescriptor: Int32 {
        get throws(EddyError) { try openFd() }
    }
}
