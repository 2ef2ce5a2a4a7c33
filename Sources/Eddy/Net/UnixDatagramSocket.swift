// UnixDatagramSocket: Unix-domain datagram sockets (issue 15 item 3), the UDP API shape
// with paths (and Linux abstract `@names`) for addresses.

import CEddySys
import Glibc

/// A Unix-domain datagram address: a filesystem path, a Linux abstract name written
/// `@name`, or unnamed (an unbound sender; `path` is ""). Held by value (a
/// `sockaddr_un`): receiving one allocates nothing; `path` builds a String.
public struct UnixDatagramAddress: Sendable, Equatable, CustomStringConvertible {
    var raw = sockaddr_un()
    var length: socklen_t = 0

    /// Unnamed (what a receive overwrites).
    public init() {}

    /// A path, or `@name`: empty or NUL bytes EINVAL, longer than `sun_path` holds
    /// ENAMETOOLONG (refused, never truncated).
    public init(path: String) throws(EddyError) {
        let a = try UnixAddress(path: path)
        raw = a.raw
        length = a.length
    }

    /// `init(path:)` from a NUL-terminated C string, with no heap allocation (the C
    /// ABI's per-datagram send path).
    package init(cString: UnsafePointer<CChar>) throws(EddyError) {
        let a = try UnixAddress(cString: cString)
        raw = a.raw
        length = a.length
    }

    init(_ a: UnixAddress) {
        raw = a.raw
        length = a.length
    }

    /// "/run/x.sock", "@name", or "" when unnamed.
    public var path: String {
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let n = Int(length) - offset
        if n <= 0 { return "" }
        return withUnsafeBytes(of: raw.sun_path) { p in
            if p[0] == 0 { return "@" + String(decoding: p[1..<min(n, p.count)], as: UTF8.self) }
            let bytes = p[0..<min(n, p.count)]
            return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Writes `path` NUL-terminated into `out` (room for `capacity` bytes, at least 1)
    /// without building a String: at most `capacity - 1` bytes, the rest cut off.
    /// Returns the bytes written before the NUL.
    package func copyPath(to out: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let n = Int(length) - offset
        var w = 0
        if n > 0 {
            withUnsafeBytes(of: raw.sun_path) { p in
                let end = min(n, p.count)
                var i = 0
                if p[0] == 0 {  // abstract: "@" and the name's bytes
                    if capacity < 2 { return }
                    out[0] = CChar(UInt8(ascii: "@"))
                    w = 1
                    i = 1
                }
                while i < end, w < capacity - 1, p[i] != 0 || p[0] == 0 {
                    out[w] = CChar(bitPattern: p[i])
                    w += 1
                    i += 1
                }
            }
        }
        out[w] = 0
        return w
    }

    /// The path, `@name` for an abstract name, or "unnamed" for an unbound socket.
    public var description: String { path.isEmpty ? "unnamed" : path }

    /// The same path (or abstract name), or both unnamed.
    public static func == (a: UnixDatagramAddress, b: UnixDatagramAddress) -> Bool { a.path == b.path }

    @usableFromInline
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        let len = length
        return withUnsafePointer(to: raw) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, len) } }
    }

    @usableFromInline
    mutating func fill<R>(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> R) -> R {
        var len = socklen_t(MemoryLayout<sockaddr_un>.size)
        let r = withUnsafeMutablePointer(to: &raw) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &len) }
        }
        length = len
        return r
    }
}

/// A Unix-domain datagram socket (`AF_UNIX`, `SOCK_DGRAM`) registered with its runtime's
/// reactor: `bind(path:)`, `connect(path:)`, `send(_:to:)` / `receive`, and the poll-style
/// `pollSend` / `pollReceive`, as `UdpSocket` does with IP addresses. Datagram boundaries
/// are kept; a datagram longer than the buffer is reported `truncated`. Sending to a path
/// nobody has bound is `ECONNREFUSED` (a stale file) or `ENOENT` (no file). Use it from
/// the loop thread of its runtime.
public final class UnixDatagramSocket: @unchecked Sendable {
    // @unchecked Sendable: as `UdpSocket`: the state is the `IoSource`, confined to its
    // runtime's loop thread and checked at run time by every operation.
    let source: IoSource
    private var unlinkPath: String?

    init(source: IoSource, unlinkPath: String?) {
        self.source = source
        self.unlinkPath = unlinkPath
    }

    deinit { removeSocketFile() }

    /// The largest datagram Eddy sends or receives through the array forms (Linux's
    /// limit depends on `SO_SNDBUF`; a larger send is the kernel's EMSGSIZE).
    public static let maxArrayReceive = 1 << 20

    /// Binds a new socket to `path` (or `@name`). A stale socket file in the way is
    /// replaced; a live socket or another file is `EADDRINUSE`. `unlinkOnClose` removes
    /// the file on close. Uses `runtime`, or the one driving this thread.
    public static func bind(path: String, unlinkOnClose: Bool = false, runtime: Runtime? = nil) throws(EddyError) -> UnixDatagramSocket {
        let addr = try UnixAddress(path: path)
        let core = try constructionCore(runtime)
        let fd = sysSocket(family: AF_UNIX, type: Int32(SOCK_DGRAM.rawValue))
        if fd < 0 { throw .errno(-fd) }
        var r = addr.withSockAddr { Glibc.bind(fd, $0, $1) }
        if r != 0, errno == EADDRINUSE, !addr.isAbstract, isStale(addr) {
            _ = Glibc.unlink(path)
            r = addr.withSockAddr { Glibc.bind(fd, $0, $1) }
        }
        if r != 0 {
            let e = errno
            sysClose(fd)
            throw .errno(e)
        }
        let key: IoKey
        do { key = try core.io.register(fd: fd, initial: Readiness.writable).get() } catch {
            if !addr.isAbstract { _ = Glibc.unlink(path) }
            throw error
        }
        return UnixDatagramSocket(source: IoSource(core: core, key: key),
                                  unlinkPath: unlinkOnClose && !addr.isAbstract ? path : nil)
    }

    /// A new unbound socket (a client that only sends, or connects first; its
    /// datagrams arrive unnamed: nobody can reply to them).
    public static func unbound(runtime: Runtime? = nil) throws(EddyError) -> UnixDatagramSocket {
        let core = try constructionCore(runtime)
        let fd = sysSocket(family: AF_UNIX, type: Int32(SOCK_DGRAM.rawValue))
        if fd < 0 { throw .errno(-fd) }
        let key = try core.io.register(fd: fd, initial: Readiness.writable).get()
        return UnixDatagramSocket(source: IoSource(core: core, key: key), unlinkPath: nil)
    }

    /// Takes over an existing Unix-domain datagram socket descriptor (inherited, passed
    /// over a Unix socket, socket activation): Eddy makes it non-blocking and
    /// close-on-exec and owns it from now on, also when this throws (then it is closed).
    /// Not a socket: ENOTSOCK; not open: EBADF; another type or family (a UDP socket, a
    /// Unix stream): EINVAL. `unlinkOnClose` is not available: Eddy did not bind it.
    public static func adopt(fileDescriptor fd: Int32, runtime: Runtime? = nil) throws(EddyError) -> UnixDatagramSocket {
        let core: Core
        do { core = try constructionCore(runtime) } catch {
            sysClose(fd)
            throw error
        }
        var r = sysPrepareAdopted(fd, type: Int32(SOCK_DGRAM.rawValue))
        if r == 0, sysGetIntOption(fd, SOL_SOCKET, SO_DOMAIN) != AF_UNIX { r = -EINVAL }
        if r < 0 {
            sysClose(fd)
            throw .errno(-r)
        }
        // Writable from the start (as UdpSocket.adopt); datagrams already queued are
        // reported by epoll when the descriptor is registered (edge-triggered adds
        // report the current state).
        let key = try core.io.register(fd: fd, initial: Readiness.writable).get()
        return UnixDatagramSocket(source: IoSource(core: core, key: key), unlinkPath: nil)
    }

    /// A socket file nobody has bound any more: a datagram connect is refused.
    private static func isStale(_ addr: UnixAddress) -> Bool {
        var st = stat()
        let isSocket = withUnsafeBytes(of: addr.raw.sun_path) { p in
            stat(p.baseAddress!.assumingMemoryBound(to: CChar.self), &st) == 0
        } && (st.st_mode & S_IFMT) == S_IFSOCK
        if !isSocket { return false }
        let probe = sysSocket(family: AF_UNIX, type: Int32(SOCK_DGRAM.rawValue))
        if probe < 0 { return false }
        defer { sysClose(probe) }
        return addr.withSockAddr { Glibc.connect(probe, $0, $1) } != 0 && errno == ECONNREFUSED
    }

    /// Sets the default destination and accepts datagrams from it only (`connect(2)`).
    public func connect(path: String) throws(EddyError) {
        try connect(to: UnixDatagramAddress(path: path))
    }

    /// `connect(path:)` with an address.
    public func connect(to address: UnixDatagramAddress) throws(EddyError) {
        let fd = try source.openFd()
        if address.withSockAddr({ Glibc.connect(fd, $0, $1) }) != 0 { throw .errno(errno) }
    }

    // MARK: steps (Int-coded: n >= 0, TcpStream.pendingCode, or -errno / an Eddy code; DatagramSteps)

    /// One receive: the datagram's full length (more than `len`: truncated).
    package func pollReceiveStep(_ cx: inout Context, _ buf: UnsafeMutableRawPointer?, _ len: Int,
                                 _ from: UnsafeMutablePointer<UnixDatagramAddress>?) -> Int {
        source.pollReceiveDatagram(&cx, buf, len, from)
    }

    /// One send to `to` (nil: the connected peer).
    package func pollSendStep(_ cx: inout Context, _ buf: UnsafeRawPointer?, _ len: Int,
                              _ to: UnsafePointer<UnixDatagramAddress>?) -> Int {
        source.pollSendDatagram(&cx, buf, len, to)
    }

    // MARK: poll style

    /// Receives one datagram into `buffer`: ready with (bytes stored, truncated, sender).
    public func pollReceive(_ cx: inout Context, into buffer: UnsafeMutableRawBufferPointer)
        -> Poll<Result<(count: Int, truncated: Bool, sender: UnixDatagramAddress), EddyError>> {
        var from = UnixDatagramAddress()
        let n = pollReceiveStep(&cx, buffer.baseAddress, buffer.count, &from)
        if n >= 0 { return .ready(.success((min(n, buffer.count), n > buffer.count, from))) }
        if n == TcpStream.pendingCode { return .pending }
        return .ready(.failure(EddyError(code: Int32(truncatingIfNeeded: n))))
    }

    /// Sends `bytes` as one datagram to `to` (nil: the connected peer).
    public func pollSend(_ cx: inout Context, _ bytes: UnsafeRawBufferPointer, to: UnixDatagramAddress? = nil) -> Poll<Result<Int, EddyError>> {
        if var dest = to { return TcpStream.decode(pollSendStep(&cx, bytes.baseAddress, bytes.count, &dest)) }
        return TcpStream.decode(pollSendStep(&cx, bytes.baseAddress, bytes.count, nil))
    }

    // MARK: async

    /// Receives one datagram of at most `maxBytes` (0 ... 1 MiB, else `.invalidArgument`).
    nonisolated(nonsending) public func receive(maxBytes: Int = 65_536) async throws
        -> (bytes: [UInt8], sender: UnixDatagramAddress, truncated: Bool) {
        guard maxBytes >= 0, maxBytes <= UnixDatagramSocket.maxArrayReceive else { throw EddyError.invalidArgument }
        var out = [UInt8](repeating: 0, count: maxBytes)
        var from = UnixDatagramAddress()
        let n = try await source.retryDatagram(read: true) { p in
            out.withUnsafeMutableBytes { raw in source.tryReceiveDatagram(p, raw.baseAddress, raw.count, &from) }
        }
        out.removeSubrange(min(n, maxBytes)...)
        return (out, from, n > maxBytes)
    }

    /// Sends `bytes` as one datagram to `path` (nil: the connected peer).
    nonisolated(nonsending) public func send(_ bytes: [UInt8], to path: String? = nil) async throws {
        let dest = try path.map { p throws(EddyError) in try UnixDatagramAddress(path: p) }
        try await send(bytes, to: dest)
    }

    /// Sends `bytes` as one datagram to `address` (nil: the connected peer).
    nonisolated(nonsending) public func send(_ bytes: [UInt8], to address: UnixDatagramAddress?) async throws {
        _ = try await source.retryDatagram(read: false) { p in
            bytes.withUnsafeBytes { raw in
                if var d = address { return source.trySendDatagram(p, raw.baseAddress, raw.count, &d) }
                return source.trySendDatagram(p, raw.baseAddress, raw.count, nil as UnsafePointer<UnixDatagramAddress>?)
            }
        }
    }

    // MARK: the rest

    /// The bound address (unnamed for an unbound socket).
    public var localAddress: UnixDatagramAddress {
        get throws(EddyError) { try address(peer: false) }
    }

    /// The connected peer (`ENOTCONN` if not connected).
    public var peerAddress: UnixDatagramAddress {
        get throws(EddyError) { try address(peer: true) }
    }

    private func address(peer: Bool) throws(EddyError) -> UnixDatagramAddress {
        let fd = try source.openFd()
        var a = UnixDatagramAddress()
        let r = a.fill { sa, len in peer ? getpeername(fd, sa, len) : getsockname(fd, sa, len) }
        if r != 0 { throw .errno(errno) }
        return a
    }

    /// The descriptor (Eddy's: never close it).
    public var fileDescriptor: Int32 {
        get throws(EddyError) { try source.openFd() }
    }

    /// Closes the socket (idempotent), removing its file with `unlinkOnClose`.
    public func close() {
        source.closeRegistration()
        removeSocketFile()
    }

    private func removeSocketFile() {
        if let p = unlinkPath {
            unlinkPath = nil
            _ = Glibc.unlink(p)
        }
    }
}
