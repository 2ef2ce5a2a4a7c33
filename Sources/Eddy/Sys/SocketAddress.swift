#if canImport(Glibc)
import Glibc
#endif

/// A numeric IPv4 or IPv6 socket address.
public struct SocketAddress: CustomStringConvertible, Sendable, Equatable {
    /// Numeric host ("127.0.0.1", "::1").
    public var host: String
    /// Port, host byte order.
    public var port: UInt16
    /// AF_INET or AF_INET6.
    public var family: Int32

    /// "host:port", or "[host]:port" for IPv6.
    public var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses a numeric host (brackets allowed around IPv6) into a sockaddr.
    /// Names are not resolved here, "localhost" included (the resolver answers it like
    /// every name: ::1 and/or 127.0.0.1): they are `EddyError.invalidArgument`.
    static func resolve(host: String, port: UInt16) throws(EddyError) -> SockAddrStorage {
        var h = host
        if h.hasPrefix("["), h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        var storage = SockAddrStorage()
        let ok: Bool = h.withCString { cs in
            if h.contains(":") {
                return withUnsafeMutableBytes(of: &storage.raw) { raw -> Bool in
                    let sin6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                    sin6.pointee.sin6_family = sa_family_t(AF_INET6)
                    sin6.pointee.sin6_port = port.bigEndian
                    return inet_pton(AF_INET6, cs, &sin6.pointee.sin6_addr) == 1
                }
            }
            return withUnsafeMutableBytes(of: &storage.raw) { raw -> Bool in
                let sin = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                sin.pointee.sin_family = sa_family_t(AF_INET)
                sin.pointee.sin_port = port.bigEndian
                return inet_pton(AF_INET, cs, &sin.pointee.sin_addr) == 1
            }
        }
        guard ok else { throw .invalidArgument }
        storage.length = h.contains(":") ? socklen_t(MemoryLayout<sockaddr_in6>.size)
                                         : socklen_t(MemoryLayout<sockaddr_in>.size)
        return storage
    }

    /// Reads the local (`peer == false`) or peer address of a socket.
    static func of(fd: Int32, peer: Bool) throws(EddyError) -> SocketAddress {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let r = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len)
            }
        }
        if r != 0 { throw .errno(Glibc.errno) }
        let fam = Int32(storage.ss_family)
        if fam != AF_INET && fam != AF_INET6 { throw .errno(EAFNOSUPPORT) }  // a Unix-domain socket
        let copy = storage
        return withUnsafePointer(to: copy) { p -> SocketAddress in
            var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            if Int32(copy.ss_family) == AF_INET6 {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { s6 in
                    var a = s6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count))
                    return SocketAddress(host: String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port: UInt16(bigEndian: s6.pointee.sin6_port), family: AF_INET6)
                }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { s4 in
                var a = s4.pointee.sin_addr
                inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count))
                return SocketAddress(host: String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port: UInt16(bigEndian: s4.pointee.sin_port), family: AF_INET)
            }
        }
    }
}

/// A parsed sockaddr ready for bind/connect.
struct SockAddrStorage {
    var raw = sockaddr_storage()
    var length: socklen_t = 0
    var family: Int32 { Int32(raw.ss_family) }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: raw) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
