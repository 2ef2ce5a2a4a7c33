// AddrExports: eddy_addr_t <-> Endpoint, eddy_addr_parse, eddy_addr_format.
//
// eddy_addr_t is the C ABI's by-value address (family, port, scope, 16 bytes); the
// core's Endpoint is a sockaddr. Both conversions are field copies: the UDP hot
// path converts per datagram without allocating.

import CEddyABI
import Eddy
import Glibc

extension Endpoint {
    /// The endpoint `a` describes, or nil for a family other than IPv4/IPv6.
    @inline(__always)
    init?(_ a: eddy_addr_t) {
        var copy = a
        let port = a.port
        let scope = a.scope_id
        switch Int32(a.family) {
        case EDDY_ADDR_IPV4:
            guard let e = withUnsafeBytes(of: &copy.addr, { Endpoint(family: AF_INET, address: UnsafeRawBufferPointer(rebasing: $0[0..<4]), port: port) }) else { return nil }
            self = e
        case EDDY_ADDR_IPV6:
            guard let e = withUnsafeBytes(of: &copy.addr, { Endpoint(family: AF_INET6, address: $0, port: port, scopeID: scope) }) else { return nil }
            self = e
        default:
            return nil
        }
    }

    /// This endpoint as the C ABI's struct (an unset endpoint: family 0).
    @inline(__always)
    var cAddr: eddy_addr_t {
        var a = eddy_addr_t()
        a.family = family == AF_INET ? UInt16(EDDY_ADDR_IPV4) : family == AF_INET6 ? UInt16(EDDY_ADDR_IPV6) : 0
        a.port = port
        a.scope_id = scopeID
        withAddressBytes { src in withUnsafeMutableBytes(of: &a.addr) { $0.copyMemory(from: src) } }
        return a
    }
}

@c @implementation
public func eddy_addr_parse(_ host: UnsafePointer<CChar>?, _ port: UInt16, _ out: UnsafeMutablePointer<eddy_addr_t>?) -> Int32 {
    guard let host, let out else { return EddyCode.einval }
    do { out.pointee = try Endpoint(host: String(cString: host), port: port).cAddr } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_addr_format(_ addr: UnsafePointer<eddy_addr_t>?, _ buf: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    guard let addr, let buf, let e = Endpoint(addr.pointee) else { return EddyCode.einval }
    let text = Array(e.description.utf8)
    // len is a size_t: a huge one reads as negative here, and is room enough.
    guard len < 0 || len > text.count else { return EddyCode.einval }
    text.withUnsafeBytes { UnsafeMutableRawPointer(buf).copyMemory(from: $0.baseAddress!, byteCount: text.count) }
    buf[text.count] = 0
    return 0
}
