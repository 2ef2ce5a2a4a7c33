// AddrInfo: getaddrinfo, blocking, as the resolver's pool job runs it (issue 15 item 1).
//
// Everything getaddrinfo allocates is freed before this returns: the caller gets plain
// `Endpoint` values, so a lookup whose result nobody takes any more (cancelled, timed
// out) leaks nothing when the array is dropped.

import Glibc
import Synchronization

/// getaddrinfo calls made so far (tests check that cancelled and numeric lookups make none).
let getAddrInfoCalls = Atomic<Int>(0)

/// The longest host name DNS can carry (RFC 1035: 253 characters in text form).
let maxHostNameLength = 253

/// Eddy's code for a getaddrinfo return value: `EDDY_EAI_*` (-5100 + the EAI value),
/// or the errno for `EAI_SYSTEM`. glibc's EAI values are -1 ... -12; anything else
/// (another C library) is `EDDY_EAI_FAIL`.
func resolverError(_ rc: Int32, errno saved: Int32) -> EddyError {
    if rc == EAI_SYSTEM { return .errno(saved == 0 ? EIO : saved) }
    let code = OwnCode.eaiBase + rc
    if rc < 0, rc >= -12, headerError(code) != nil { return EddyError(code: code) }
    return EddyError(code: OwnCode.eaiFail)
}

/// Checks a host name before any lookup: empty, a NUL byte or longer than DNS allows
/// is `EINVAL`; RFC 6761's `.invalid` domain never resolves, so it fails here with
/// `EDDY_EAI_NONAME` instead of asking a DNS server (which may take seconds to say no).
func checkHostName(_ host: String) throws(EddyError) {
    let utf8 = host.utf8
    if utf8.isEmpty || utf8.count > maxHostNameLength || utf8.contains(0) { throw .invalidArgument }
    var lower = host.lowercased()
    if lower.hasSuffix(".") { lower.removeLast() }
    if lower == "invalid" || lower.hasSuffix(".invalid") { throw .nameNotFound }
}

/// Every address of `host` for a stream socket, in getaddrinfo's order, with `port`.
/// Blocks (DNS, /etc/hosts): run on the blocking pool. No `AI_ADDRCONFIG`: on a
/// machine with only loopback addresses it can hide `localhost`'s; an address of a
/// family the machine lacks fails its connection attempt at once, and Happy Eyeballs
/// moves on.
func blockingGetAddrInfo(host: String, port: UInt16) -> Result<[Endpoint], EddyError> {
    do { try checkHostName(host) } catch { return .failure(error) }
    var hints = addrinfo()
    hints.ai_family = AF_UNSPEC
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    var list: UnsafeMutablePointer<addrinfo>?
    getAddrInfoCalls.add(1, ordering: .relaxed)
    errno = 0
    let rc = getaddrinfo(host, nil, &hints, &list)
    let saved = errno
    if rc != 0 { return .failure(resolverError(rc, errno: saved)) }
    defer { freeaddrinfo(list) }
    var out: [Endpoint] = []
    var p = list
    while let ai = p {
        p = ai.pointee.ai_next
        guard let sa = ai.pointee.ai_addr else { continue }
        var e: Endpoint?
        if ai.pointee.ai_family == AF_INET {
            e = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { s in
                withUnsafeBytes(of: s.pointee.sin_addr) { Endpoint(family: AF_INET, address: $0, port: port) }
            }
        } else if ai.pointee.ai_family == AF_INET6 {
            e = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { s in
                withUnsafeBytes(of: s.pointee.sin6_addr) {
                    Endpoint(family: AF_INET6, address: $0, port: port, scopeID: s.pointee.sin6_scope_id)
                }
            }
        }
        if let e, !out.contains(e) { out.append(e) }
    }
    return out.isEmpty ? .failure(EddyError(code: OwnCode.eaiNoData)) : .success(out)
}
