import CEddySys
import Glibc

/// What one receive delivered: `count` bytes were stored; `truncated` says the
/// datagram was longer than the buffer (the rest is gone: UDP keeps datagram
/// boundaries); `sender` is where it came from.
public struct ReceivedDatagram: Sendable, Equatable {
    /// Bytes stored in the buffer (0 for an empty datagram, which is not end of stream).
    public var count: Int
    /// The datagram was longer than the buffer (`MSG_TRUNC`).
    public var truncated: Bool
    /// The sender's address.
    public var sender: Endpoint

    /// A datagram of `count` bytes from `sender`.
    public init(count: Int, truncated: Bool, sender: Endpoint) {
        self.count = count
        self.truncated = truncated
        self.sender = sender
    }
}

/// A UDP socket registered with its runtime's reactor (edge-triggered).
///
/// Poll-style (`pollReceive`/`pollSend`) and async (`receive`/`send`) forms share one
/// readiness cache; none allocates per datagram (addresses travel as `Endpoint`
/// values). Use it from the loop thread of its runtime. On a connected socket an ICMP
/// error (port unreachable) is reported by the next receive or send as
/// `ECONNREFUSED`, never dropped.
public final class UdpSocket: @unchecked Sendable {
    // @unchecked Sendable: as `TcpStream`: the state is the `IoSource`, confined to its
    // runtime's loop thread and checked at run time by every operation (`cx.isPolledBy`,
    // `checkAsync`: `.wrongThread` otherwise); `close` defers to the loop (`Core.closeIo`).
    @usableFromInline let source: IoSource

    init(source: IoSource) { self.source = source }

    /// The largest UDP payload over IPv4 (65535 - 8 - 20); IPv6 allows 65527. Larger
    /// sends fail with EMSGSIZE.
    public static let maxDatagramSize = 65_507

    /// Binds a new socket to a numeric IPv4/IPv6 address; port 0 picks an ephemeral
    /// port (read it back from `localAddress`). `reusePort` sets `SO_REUSEPORT` before
    /// binding. Uses `runtime`, or the one driving this thread.
    public static func bind(host: String, port: UInt16, reusePort: Bool = false, runtime: Runtime? = nil) throws(EddyError) -> UdpSocket {
        try bind(Endpoint(host: host, port: port), reusePort: reusePort, runtime: runtime)
    }

    /// Binds a new socket to `endpoint` (see `bind(host:port:reusePort:runtime:)`).
    public static func bind(_ endpoint: Endpoint, reusePort: Bool = false, runtime: Runtime? = nil) throws(EddyError) -> UdpSocket {
        let core = try constructionCore(runtime)
        let fd = sysSocket(family: endpoint.family, type: Int32(SOCK_DGRAM.rawValue))
        if fd < 0 { throw .errno(-fd) }
        if reusePort, SocketOption.reusePort.set(fd, 1) < 0 {
            let e = errno
            sysClose(fd)
            throw .errno(e)
        }
        if endpoint.withSockAddr({ Glibc.bind(fd, $0, $1) }) != 0 {
            let e = errno
            sysClose(fd)
            throw .errno(e)
        }
        // Writable from the start (a fresh socket has an empty send queue); readable
        // is learned from the first edge.
        let key = try core.io.register(fd: fd, initial: Readiness.writable).get()
        return UdpSocket(source: IoSource(core: core, key: key))
    }

    /// Takes over an existing UDP descriptor (e.g. from systemd socket activation):
    /// Eddy makes it non-blocking and close-on-exec and owns it from now on (also when
    /// this throws: then it is closed). Not an IPv4/IPv6 datagram socket: EINVAL.
    public static func adopt(fileDescriptor fd: Int32, runtime: Runtime? = nil) throws(EddyError) -> UdpSocket {
        let core: Core
        do { core = try constructionCore(runtime) } catch {
            sysClose(fd)
            throw error
        }
        var r = sysPrepareAdopted(fd, type: Int32(SOCK_DGRAM.rawValue))
        if r == 0 {  // a Unix-domain datagram socket is UnixDatagramSocket.adopt's
            let family = sysGetIntOption(fd, SOL_SOCKET, SO_DOMAIN)
            if family != AF_INET && family != AF_INET6 { r = -EINVAL }
        }
        if r < 0 {
            sysClose(fd)
            throw .errno(-r)
        }
        let key = try core.io.register(fd: fd, initial: Readiness.writable).get()
        return UdpSocket(source: IoSource(core: core, key: key))
    }

    /// Sets the default destination and filters incoming datagrams to that peer
    /// (`connect(2)`: immediate for UDP). Then `send`/`receive` without an address
    /// work, and ICMP errors from the peer are reported.
    public func connect(host: String, port: UInt16) throws(EddyError) {
        try connect(to: Endpoint(host: host, port: port))
    }

    /// `connect(host:port:)` with an `Endpoint`.
    public func connect(to endpoint: Endpoint) throws(EddyError) {
        let fd = try source.openFd()
        let r = endpoint.withSockAddr { Glibc.connect(fd, $0, $1) }
        if r != 0 { throw .errno(errno) }
    }

    // MARK: the steps (Int-coded, for the C ABI and the two styles below; DatagramSteps)

    /// One receive attempt: the datagram's full length (>= 0; more than `len` means
    /// truncated), `TcpStream.pendingCode` (waker stored), or -errno. `len >= 0`.
    @inlinable @inline(__always)
    package func pollReceiveStep(_ cx: inout Context, _ buf: UnsafeMutableRawPointer?, _ len: Int,
                                 _ from: UnsafeMutablePointer<Endpoint>?) -> Int {
        source.pollReceiveDatagram(&cx, buf, len, from)
    }

    /// One send attempt: bytes sent (the whole datagram), pending, or -errno. A nil
    /// `to` sends to the connected peer.
    @inlinable @inline(__always)
    package func pollSendStep(_ cx: inout Context, _ buf: UnsafeRawPointer?, _ len: Int,
                              _ to: UnsafePointer<Endpoint>?) -> Int {
        source.pollSendDatagram(&cx, buf, len, to)
    }

    // MARK: poll style

    /// Receives one datagram into `buffer` (poll style). An empty buffer still takes
    /// one datagram off the queue (and reports it truncated unless it was empty).
    public func pollReceive(_ cx: inout Context, into buffer: UnsafeMutableRawBufferPointer) -> Poll<Result<ReceivedDatagram, EddyError>> {
        var from = Endpoint()
        let n = pollReceiveStep(&cx, buffer.baseAddress, buffer.count, &from)
        if n >= 0 { return .ready(.success(ReceivedDatagram(count: min(n, buffer.count), truncated: n > buffer.count, sender: from))) }
        if n == TcpStream.pendingCode { return .pending }
        return .ready(.failure(EddyError(code: Int32(truncatingIfNeeded: n))))
    }

    /// Sends `bytes` as one datagram to `to`, or to the connected peer when nil.
    /// Ready with the bytes sent (all of them).
    public func pollSend(_ cx: inout Context, _ bytes: UnsafeRawBufferPointer, to: Endpoint? = nil) -> Poll<Result<Int, EddyError>> {
        let n: Int
        if var dest = to {
            n = pollSendStep(&cx, bytes.baseAddress, bytes.count, &dest)
        } else {
            n = pollSendStep(&cx, bytes.baseAddress, bytes.count, nil)
        }
        return TcpStream.decode(n)
    }

    // MARK: async

    /// Receives one datagram into `buffer` (see `ReceivedDatagram`).
    @inlinable
    nonisolated(nonsending) public func receive(into buffer: UnsafeMutableRawBufferPointer) async throws -> ReceivedDatagram {
        var from = Endpoint()
        let n = try await source.retryDatagram(read: true) { source.tryReceiveDatagram($0, buffer.baseAddress, buffer.count, &from) }
        return ReceivedDatagram(count: min(n, buffer.count), truncated: n > buffer.count, sender: from)
    }

    /// Receives one datagram of at most `maxBytes` into a new array. `maxBytes`
    /// outside `0...65535` throws `.invalidArgument` (no datagram is larger).
    nonisolated(nonsending) public func receive(maxBytes: Int = 65_535) async throws -> (bytes: [UInt8], sender: Endpoint, truncated: Bool) {
        guard maxBytes >= 0, maxBytes <= 65_535 else { throw EddyError.invalidArgument }
        var out = [UInt8](repeating: 0, count: maxBytes)
        var from = Endpoint()
        let n = try await source.retryDatagram(read: true) { p in
            out.withUnsafeMutableBytes { raw in source.tryReceiveDatagram(p, raw.baseAddress, raw.count, &from) }
        }
        out.removeSubrange(min(n, maxBytes)...)
        return (out, from, n > maxBytes)
    }

    /// Sends `bytes` as one datagram to `to` (or the connected peer when nil).
    @inlinable
    nonisolated(nonsending) public func send(_ bytes: UnsafeRawBufferPointer, to: Endpoint? = nil) async throws -> Int {
        if var dest = to {
            return try await source.retryDatagram(read: false) { source.trySendDatagram($0, bytes.baseAddress, bytes.count, &dest) }
        }
        return try await source.retryDatagram(read: false) { source.trySendDatagram($0, bytes.baseAddress, bytes.count, nil as UnsafePointer<Endpoint>?) }
    }

    /// Sends `bytes` as one datagram (see `send(_:to:)` for raw buffers).
    nonisolated(nonsending) public func send(_ bytes: [UInt8], to: Endpoint? = nil) async throws {
        var dest = to ?? Endpoint()
        let hasDest = to != nil
        _ = try await source.retryDatagram(read: false) { p in
            bytes.withUnsafeBytes { raw in
                hasDest ? source.trySendDatagram(p, raw.baseAddress, raw.count, &dest) : source.trySendDatagram(p, raw.baseAddress, raw.count, nil as UnsafePointer<Endpoint>?)
            }
        }
    }

    // MARK: options and addresses

    /// Sets a socket option (`.broadcast`, `.multicastTTL`, `.receiveBufferSize` ...).
    public func setOption(_ option: SocketOption, _ value: Int32) throws(EddyError) { try source.setSocketOption(option, value) }

    /// Reads a socket option.
    public func option(_ option: SocketOption) throws(EddyError) -> Int32 { try source.socketOption(option) }

    /// Joins multicast `group` (numeric IPv4 or IPv6) on interface index `interface`
    /// (0: the kernel's choice; `if_nametoindex("lo")` keeps it on this host).
    public func joinMulticast(group: String, interface: UInt32 = 0) throws(EddyError) {
        try membership(group, interface, join: true)
    }

    /// Leaves a group joined with `joinMulticast` (EADDRNOTAVAIL if not a member).
    public func leaveMulticast(group: String, interface: UInt32 = 0) throws(EddyError) {
        try membership(group, interface, join: false)
    }

    private func membership(_ group: String, _ interface: UInt32, join: Bool) throws(EddyError) {
        let fd = try source.openFd()
        let g = try Endpoint(host: group, port: 0)
        guard interface <= UInt32(Int32.max) else { throw .invalidArgument }
        let r: Int32
        if g.family == AF_INET {
            var m = ip_mreqn()
            g.withAddressBytes { b in withUnsafeMutableBytes(of: &m.imr_multiaddr) { $0.copyMemory(from: b) } }
            m.imr_ifindex = Int32(interface)
            r = setsockopt(fd, Int32(IPPROTO_IP), join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, socklen_t(MemoryLayout<ip_mreqn>.size))
        } else {
            var m = ipv6_mreq()
            g.withAddressBytes { b in withUnsafeMutableBytes(of: &m.ipv6mr_multiaddr) { $0.copyMemory(from: b) } }
            m.ipv6mr_interface = interface
            r = setsockopt(fd, Int32(IPPROTO_IPV6), join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &m, socklen_t(MemoryLayout<ipv6_mreq>.size))
        }
        if r != 0 { throw .errno(errno) }
    }

    /// The bound address (after port 0, the ephemeral port).
    public var localAddress: Endpoint {
        get throws(EddyError) { try Endpoint.of(fd: source.openFd(), peer: false) }
    }

    /// The connected peer (ENOTCONN if not connected).
    public var peerAddress: Endpoint {
        get throws(EddyError) { try Endpoint.of(fd: source.openFd(), peer: true) }
    }

    /// The descriptor (see `TcpStream.fileDescriptor`): Eddy owns it.
    public var fileDescriptor: Int32 {
        get throws(EddyError) { try source.openFd() }
    }

    /// Closes the socket (idempotent); pending operations fail with EBADF.
    public func close() { source.closeRegistration() }

    /// `true` until `close()` (or runtime shutdown).
    public var isOpen: Bool { source.slot != nil }
}
