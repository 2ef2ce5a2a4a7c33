#if canImport(Glibc)
import Glibc
#endif

/// A numeric IPv4 or IPv6 socket address held by value: a `sockaddr_in6`-sized
/// buffer (a `sockaddr_in` fits inside). Carrying, comparing and handing it to the
/// kernel allocates nothing, which is what the per-datagram paths need (a
/// `SocketAddress` holds its host as a `String`).
public struct Endpoint: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The sockaddr bytes (`sockaddr_in` or `sockaddr_in6`).
    @usableFromInline var raw = sockaddr_in6()

    /// An unset endpoint (family `AF_UNSPEC`): what a receive overwrites.
    public init() {}

    /// Parses a numeric host ("127.0.0.1", "::1", "[::1]"). Anything else (names,
    /// "localhost" included, garbage, NUL bytes) is `.invalidArgument`.
    public init(host: String, port: UInt16) throws(EddyError) {
        let s = try SocketAddress.resolve(host: host, port: port)
        withUnsafeMutableBytes(of: &raw) { dst in
            withUnsafeBytes(of: s.raw) { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<dst.count])) }
        }
    }

    /// Builds an endpoint from its parts: `family` is `AF_INET` (4 address bytes,
    /// network order) or `AF_INET6` (16 bytes). nil for any other family or length.
    public init?(family: Int32, address: UnsafeRawBufferPointer, port: UInt16, scopeID: UInt32 = 0) {
        if family == AF_INET, address.count == 4 {
            withUnsafeMutableBytes(of: &raw) { dst in
                let sin = dst.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                sin.pointee.sin_family = sa_family_t(AF_INET)
                sin.pointee.sin_port = port.bigEndian
                withUnsafeMutableBytes(of: &sin.pointee.sin_addr) { $0.copyMemory(from: address) }
            }
        } else if family == AF_INET6, address.count == 16 {
            raw.sin6_family = sa_family_t(AF_INET6)
            raw.sin6_port = port.bigEndian
            raw.sin6_scope_id = scopeID
            withUnsafeMutableBytes(of: &raw.sin6_addr) { $0.copyMemory(from: address) }
        } else {
            return nil
        }
    }

    /// `AF_INET`, `AF_INET6`, or `AF_UNSPEC` for an unset endpoint.
    public var family: Int32 { Int32(raw.sin6_family) }

    /// The port, host byte order (the same offset in both sockaddr layouts).
    public var port: UInt16 { UInt16(bigEndian: raw.sin6_port) }

    /// The IPv6 scope (interface index); 0 for IPv4.
    public var scopeID: UInt32 { family == AF_INET6 ? raw.sin6_scope_id : 0 }

    /// The address bytes in network order: 4 (IPv4), 16 (IPv6) or none (unset).
    public func withAddressBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: raw) { all in
            switch family {
            case AF_INET: return try body(UnsafeRawBufferPointer(rebasing: all[4..<8]))
            case AF_INET6: return try body(UnsafeRawBufferPointer(rebasing: all[8..<24]))
            default: return try body(UnsafeRawBufferPointer(rebasing: all[0..<0]))
            }
        }
    }

    /// The sockaddr length the kernel expects for this family.
    @usableFromInline var length: socklen_t {
        family == AF_INET ? socklen_t(MemoryLayout<sockaddr_in>.size) : socklen_t(MemoryLayout<sockaddr_in6>.size)
    }

    /// The numeric host ("127.0.0.1", "::1"); allocates (for display, not the hot path).
    public var host: String {
        var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = raw
        let af = family
        if af != AF_INET && af != AF_INET6 { return "" }
        withUnsafeMutableBytes(of: &copy) { p in
            _ = inet_ntop(af, p.baseAddress! + (af == AF_INET ? 4 : 8), &buf, socklen_t(buf.count))
        }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// "host:port", "[host]:port" for IPv6, "unset" for an unset endpoint.
    public var description: String {
        switch family {
        case AF_INET: return "\(host):\(port)"
        case AF_INET6: return "[\(host)]:\(port)"
        default: return "unset"
        }
    }

    /// The same address as a `SocketAddress`.
    public var socketAddress: SocketAddress { SocketAddress(host: host, port: port, family: family) }

    /// Same family, port, scope and address bytes.
    public static func == (a: Endpoint, b: Endpoint) -> Bool {
        if a.family != b.family || a.port != b.port || a.scopeID != b.scopeID { return false }
        return a.withAddressBytes { x in b.withAddressBytes { y in x.elementsEqual(y) } }
    }

    /// Hashes what `==` compares (but the scope).
    public func hash(into h: inout Hasher) {
        h.combine(family)
        h.combine(port)
        withAddressBytes { h.combine(bytes: $0) }
    }

    /// Calls `body` with the sockaddr pointer and length (for sendto/bind/connect).
    @inlinable @inline(__always)
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        let len = length
        return withUnsafePointer(to: raw) { p in p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, len) } }
    }

    /// Lets recvfrom/getsockname fill the endpoint; `capacity` is `sizeof(sockaddr_in6)`.
    @inlinable @inline(__always)
    mutating func fill<R>(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> R) -> R {
        var len = socklen_t(MemoryLayout<sockaddr_in6>.size)
        return withUnsafeMutablePointer(to: &raw) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, &len) }
        }
    }

    /// The local (`peer == false`) or peer address of a socket.
    static func of(fd: Int32, peer: Bool) throws(EddyError) -> Endpoint {
        var e = Endpoint()
        var storage = sockaddr_storage()  // room for any family (a Unix path is longer)
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &len) : getsockname(fd, $0, &len) }
        }
        if r != 0 { throw .errno(Glibc.errno) }
        let fam = Int32(storage.ss_family)
        if fam != AF_INET && fam != AF_INET6 { throw .errno(EAFNOSUPPORT) }  // a Unix-domain socket
        withUnsafeMutableBytes(of: &e.raw) { dst in
            withUnsafeBytes(of: storage) { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<dst.count])) }
        }
        return e
    }
}
