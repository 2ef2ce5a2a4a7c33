import Glibc

/// The socket options Eddy wraps, one integer value each. The raw values are the C
/// ABI's `EDDY_OPT_*` constants (include/eddy.h), so the three front doors share them.
///
/// Booleans take 0/1 (any non-zero value sets them). Which socket takes which option
/// is the kernel's call: `noDelay` on a UDP socket is `ENOPROTOOPT`, an error value.
public enum SocketOption: Int32, Sendable, CaseIterable {
    /// `SO_REUSEADDR` (Eddy sets it on every TCP listener).
    case reuseAddress = 1
    /// `SO_REUSEPORT`: several sockets bind the same port; the kernel spreads
    /// connections (TCP) or datagrams (UDP) over them. Set it before binding: see the
    /// `reusePort:` parameter of the bind functions.
    case reusePort = 2
    /// `SO_KEEPALIVE`.
    case keepAlive = 3
    /// `TCP_KEEPIDLE`: seconds of idleness before the first probe (1...32767).
    case keepAliveIdle = 4
    /// `TCP_KEEPINTVL`: seconds between probes (1...32767).
    case keepAliveInterval = 5
    /// `TCP_KEEPCNT`: unanswered probes before the connection is dropped (1...127).
    case keepAliveCount = 6
    /// `SO_SNDBUF` in bytes (> 0; Linux doubles it and reports the doubled size).
    case sendBufferSize = 7
    /// `SO_RCVBUF` in bytes (> 0; doubled as `sendBufferSize`).
    case receiveBufferSize = 8
    /// `SO_LINGER`: -1 turns lingering off (the default); n >= 0 makes close wait up
    /// to n seconds for unsent data (0: close resets the connection).
    case linger = 9
    /// `TCP_NODELAY`: disables Nagle's algorithm.
    case noDelay = 10
    /// `SO_BROADCAST`: lets a UDP socket send to a broadcast address.
    case broadcast = 11
    /// `IP_MULTICAST_LOOP` / `IPV6_MULTICAST_LOOP`: this host receives its own
    /// multicast datagrams.
    case multicastLoop = 12
    /// `IP_MULTICAST_TTL` / `IPV6_MULTICAST_HOPS` (0...255; 0 keeps datagrams on
    /// this host).
    case multicastTTL = 13
    /// `IP_MULTICAST_IF` / `IPV6_MULTICAST_IF`: the interface index multicast is
    /// sent from (0: the routing table's choice). Set only: reading it is EINVAL.
    case multicastInterface = 14

    /// Sets the option on `fd`: 0 or -errno.
    func set(_ fd: Int32, _ value: Int32) -> Int32 {
        switch self {
        case .reuseAddress: return sysSetIntOption(fd, SOL_SOCKET, SO_REUSEADDR, value != 0 ? 1 : 0)
        case .reusePort: return sysSetIntOption(fd, SOL_SOCKET, SO_REUSEPORT, value != 0 ? 1 : 0)
        case .keepAlive: return sysSetIntOption(fd, SOL_SOCKET, SO_KEEPALIVE, value != 0 ? 1 : 0)
        case .keepAliveIdle, .keepAliveInterval, .keepAliveCount:
            if value <= 0 { return -EINVAL }
            return sysSetIntOption(fd, Int32(IPPROTO_TCP), tcpName, value)
        case .sendBufferSize, .receiveBufferSize:
            if value <= 0 { return -EINVAL }
            return sysSetIntOption(fd, SOL_SOCKET, self == .sendBufferSize ? SO_SNDBUF : SO_RCVBUF, value)
        case .linger:
            var l = Glibc.linger(l_onoff: value >= 0 ? 1 : 0, l_linger: max(value, 0))
            return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<Glibc.linger>.size)) == 0 ? 0 : -errno
        case .noDelay: return sysSetIntOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, value != 0 ? 1 : 0)
        case .broadcast: return sysSetIntOption(fd, SOL_SOCKET, SO_BROADCAST, value != 0 ? 1 : 0)
        case .multicastLoop:
            let v6 = SocketOption.isIPv6(fd)
            return sysSetIntOption(fd, v6 ? Int32(IPPROTO_IPV6) : Int32(IPPROTO_IP),
                                   v6 ? IPV6_MULTICAST_LOOP : IP_MULTICAST_LOOP, value != 0 ? 1 : 0)
        case .multicastTTL:
            if value < 0 || value > 255 { return -EINVAL }
            let v6 = SocketOption.isIPv6(fd)
            return sysSetIntOption(fd, v6 ? Int32(IPPROTO_IPV6) : Int32(IPPROTO_IP),
                                   v6 ? IPV6_MULTICAST_HOPS : IP_MULTICAST_TTL, value)
        case .multicastInterface:
            if value < 0 { return -EINVAL }
            if SocketOption.isIPv6(fd) { return sysSetIntOption(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, value) }
            var m = ip_mreqn()
            m.imr_ifindex = value
            return setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &m, socklen_t(MemoryLayout<ip_mreqn>.size)) == 0 ? 0 : -errno
        }
    }

    /// Reads the option: its value (>= 0, or -1 for `linger` off) or -errno in `error`.
    func get(_ fd: Int32) -> (value: Int32, error: Int32) {
        func int(_ level: Int32, _ name: Int32) -> (Int32, Int32) {
            var v: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            return getsockopt(fd, level, name, &v, &len) == 0 ? (v, 0) : (0, -errno)
        }
        switch self {
        case .reuseAddress: return int(SOL_SOCKET, SO_REUSEADDR)
        case .reusePort: return int(SOL_SOCKET, SO_REUSEPORT)
        case .keepAlive: return int(SOL_SOCKET, SO_KEEPALIVE)
        case .keepAliveIdle, .keepAliveInterval, .keepAliveCount: return int(Int32(IPPROTO_TCP), tcpName)
        case .sendBufferSize: return int(SOL_SOCKET, SO_SNDBUF)
        case .receiveBufferSize: return int(SOL_SOCKET, SO_RCVBUF)
        case .linger:
            var l = Glibc.linger()
            var len = socklen_t(MemoryLayout<Glibc.linger>.size)
            if getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) != 0 { return (0, -errno) }
            return (l.l_onoff != 0 ? l.l_linger : -1, 0)
        case .noDelay: return int(Int32(IPPROTO_TCP), TCP_NODELAY)
        case .broadcast: return int(SOL_SOCKET, SO_BROADCAST)
        case .multicastLoop:
            return SocketOption.isIPv6(fd) ? int(Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP) : int(Int32(IPPROTO_IP), IP_MULTICAST_LOOP)
        case .multicastTTL:
            return SocketOption.isIPv6(fd) ? int(Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS) : int(Int32(IPPROTO_IP), IP_MULTICAST_TTL)
        case .multicastInterface: return (0, -EINVAL)
        }
    }

    private var tcpName: Int32 {
        switch self {
        case .keepAliveIdle: return TCP_KEEPIDLE
        case .keepAliveInterval: return TCP_KEEPINTVL
        default: return TCP_KEEPCNT
        }
    }

    /// The socket's address family is AF_INET6 (multicast options have one name per family).
    static func isIPv6(_ fd: Int32) -> Bool { sysGetIntOption(fd, SOL_SOCKET, SO_DOMAIN) == AF_INET6 }
}

extension IoSource {
    /// Sets `option` on this source's socket (loop thread; EBADF once closed).
    func setSocketOption(_ option: SocketOption, _ value: Int32) throws(EddyError) {
        let r = option.set(try openFd(), value)
        if r < 0 { throw .errno(-r) }
    }

    /// Reads `option` from this source's socket.
    func socketOption(_ option: SocketOption) throws(EddyError) -> Int32 {
        let (v, e) = option.get(try openFd())
        if e < 0 { throw .errno(-e) }
        return v
    }

    /// The descriptor while the source is open.
    func openFd() throws(EddyError) -> Int32 {
        guard let p = slot else { throw core.isShutdown ? .shutdown : .errno(EBADF) }
        return p.pointee.fd
    }
}
