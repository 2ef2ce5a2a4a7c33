// UdpExports: eddy_udp_* — bind, adopt, connect, the four poll functions, options,
// multicast membership, addresses, close.
//
// The poll functions take the TCP exports' shape (DatagramPoll: fork flag, TLS cx
// compare, local lookup, then the core's Int-coded step on an unretained object). Addresses cross
// as eddy_addr_t values: no allocation per datagram.

import CEddyABI
import Eddy
import Glibc

/// The UdpSocket behind `id` (owning thread), unretained.
@inline(__always)
private func udpSocket(_ id: UInt64) -> (Unmanaged<UdpSocket>?, Int32) {
    if isForked() { return (nil, EddyCode.forked) }
    return local(id, .udp, as: UdpSocket.self)
}

/// Stores a new UDP socket for runtime `cr` in *out (closing it if the table is full).
private func publishUdp(_ s: UdpSocket, _ cr: CRuntime, _ out: UnsafeMutablePointer<eddy_udp_t>) -> Int32 {
    guard let id = insertHandle(s, kind: .udp, owner: cr.id, thread: cr.handleThread()) else {
        s.close()
        return EddyCode.enomem
    }
    out.pointee = eddy_udp_t(id: id)
    return 0
}

@c @implementation
public func eddy_udp_bind(_ rt: eddy_runtime_t, _ host: UnsafePointer<CChar>?, _ port: UInt16, _ flags: UInt32,
                          _ out: UnsafeMutablePointer<eddy_udp_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let host, let out, flags & ~UInt32(EDDY_UDP_REUSEPORT) == 0 else { return EddyCode.einval }
    let s: UdpSocket
    do {
        s = try UdpSocket.bind(host: String(cString: host), port: port,
                               reusePort: flags & UInt32(EDDY_UDP_REUSEPORT) != 0, runtime: cr.runtime)
    } catch { return error.code }
    return publishUdp(s, cr, out)
}

@c @implementation
public func eddy_udp_from_fd(_ rt: eddy_runtime_t, _ fd: Int32, _ out: UnsafeMutablePointer<eddy_udp_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    // The descriptor is ours from the call on (header): close it on every failure.
    guard let cr else { if fd >= 0 { close(fd) }; return err }
    guard let out else { if fd >= 0 { close(fd) }; return EddyCode.einval }
    let s: UdpSocket
    do { s = try UdpSocket.adopt(fileDescriptor: fd, runtime: cr.runtime) } catch { return error.code }
    return publishUdp(s, cr, out)
}

@c @implementation
public func eddy_udp_connect(_ udp: eddy_udp_t, _ peer: UnsafePointer<eddy_addr_t>?) -> Int32 {
    let (u, err) = udpSocket(udp.id)
    guard let u else { return err }
    guard let peer, let e = Endpoint(peer.pointee) else { return EddyCode.einval }
    do { try u.takeUnretainedValue().connect(to: e) } catch { return error.code }
    return 0
}

/// Receive (DatagramPoll): the sender crosses as an eddy_addr_t.
@inline(__always)
private func receive(_ udp: UInt64, _ cx: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ len: Int,
                     _ n: UnsafeMutablePointer<Int>?, _ from: UnsafeMutablePointer<eddy_addr_t>?,
                     _ truncated: UnsafeMutablePointer<Int32>?) -> Int32 {
    var sender = Endpoint()
    let rc = receiveDatagram(udp, .udp, cx, buf, len, n, truncated, sender: &sender, wantsSender: from != nil) {
        (s: UdpSocket, c: inout Context, fromPtr) in s.pollReceiveStep(&c, buf, len, fromPtr)
    }
    if rc == EddyCode.ready { from?.pointee = sender.cAddr }
    return rc
}

@c @implementation
public func eddy_udp_poll_recv_from(_ udp: eddy_udp_t, _ cx: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ len: Int,
                                    _ n: UnsafeMutablePointer<Int>?, _ from: UnsafeMutablePointer<eddy_addr_t>?,
                                    _ truncated: UnsafeMutablePointer<Int32>?) -> Int32 {
    receive(udp.id, cx, buf, len, n, from, truncated)
}

@c @implementation
public func eddy_udp_poll_recv(_ udp: eddy_udp_t, _ cx: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ len: Int,
                               _ n: UnsafeMutablePointer<Int>?, _ truncated: UnsafeMutablePointer<Int32>?) -> Int32 {
    receive(udp.id, cx, buf, len, n, nil, truncated)
}

@c @implementation
public func eddy_udp_poll_send_to(_ udp: eddy_udp_t, _ cx: OpaquePointer?, _ buf: UnsafeRawPointer?, _ len: Int,
                                  _ to: UnsafePointer<eddy_addr_t>?, _ n: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let to, var dest = Endpoint(to.pointee) else {
        return isForked() ? EddyCode.forked : EddyCode.einval
    }
    return pollDatagram(udp.id, .udp, cx, hasBuffer: buf != nil, len, n) { (s: UdpSocket, c: inout Context) in
        s.pollSendStep(&c, buf, len, &dest)
    }
}

@c @implementation
public func eddy_udp_poll_send(_ udp: eddy_udp_t, _ cx: OpaquePointer?, _ buf: UnsafeRawPointer?, _ len: Int,
                               _ n: UnsafeMutablePointer<Int>?) -> Int32 {
    pollDatagram(udp.id, .udp, cx, hasBuffer: buf != nil, len, n) { (s: UdpSocket, c: inout Context) in
        s.pollSendStep(&c, buf, len, nil)
    }
}

@c @implementation
public func eddy_udp_set_option(_ udp: eddy_udp_t, _ option: Int32, _ value: Int32) -> Int32 {
    let (u, err) = udpSocket(udp.id)
    guard let u else { return err }
    guard let o = SocketOption(rawValue: option) else { return EddyCode.einval }
    do { try u.takeUnretainedValue().setOption(o, value) } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_udp_get_option(_ udp: eddy_udp_t, _ option: Int32, _ value: UnsafeMutablePointer<Int32>?) -> Int32 {
    let (u, err) = udpSocket(udp.id)
    guard let u else { return err }
    guard let value, let o = SocketOption(rawValue: option) else { return EddyCode.einval }
    do { value.pointee = try u.takeUnretainedValue().option(o) } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_udp_multicast(_ udp: eddy_udp_t, _ group: UnsafePointer<CChar>?, _ ifindex: UInt32, _ join: Int32) -> Int32 {
    let (u, err) = udpSocket(udp.id)
    guard let u else { return err }
    guard let group else { return EddyCode.einval }
    let s = u.takeUnretainedValue()
    let g = String(cString: group)
    do {
        if join != 0 { try s.joinMulticast(group: g, interface: ifindex) } else { try s.leaveMulticast(group: g, interface: ifindex) }
    } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_udp_local_addr(_ udp: eddy_udp_t, _ out: UnsafeMutablePointer<eddy_addr_t>?) -> Int32 {
    let (u, err) = udpSocket(udp.id)
    guard let u else { return err }
    guard let out else { return EddyCode.einval }
    do { out.pointee = try u.takeUnretainedValue().localAddress.cAddr } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_udp_peer_addr(_ udp: eddy_udp_t, _ out: UnsafeMutablePointer<eddy_addr_t>?) -> Int32 {
    let (u, err) = udpSocket(udp.id)
    guard let u else { return err }
    guard let out else { return EddyCode.einval }
    do { out.pointee = try u.takeUnretainedValue().peerAddress.cAddr } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_udp_fd(_ udp: eddy_udp_t, _ fd: UnsafeMutablePointer<Int32>?) -> Int32 {
    let (u, err) = udpSocket(udp.id)
    guard let u else { return err }
    guard let fd else { return EddyCode.einval }
    do { fd.pointee = try u.takeUnretainedValue().fileDescriptor } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_udp_close(_ udp: eddy_udp_t) -> Int32 {
    let id = udp.id
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(id, .udp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let bits = handleTable.remove(id, .udp) else { return EddyCode.badHandle }
    Unmanaged<UdpSocket>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue().close()
    return 0
}
