// UnixDatagramExports: eddy_unixdgram_* (issue 15 item 3) — the eddy_udp_* shape with
// paths: bind (or unbound), adopt, connect, the four poll functions, addresses, fd, close.

import CEddyABI
import Eddy
import Glibc

/// The UnixDatagramSocket behind `id` (owning thread), unretained.
@inline(__always)
private func dgramSocket(_ id: UInt64) -> (Unmanaged<UnixDatagramSocket>?, Int32) {
    if isForked() { return (nil, EddyCode.forked) }
    return local(id, .unixDatagram, as: UnixDatagramSocket.self)
}

@c @implementation
public func eddy_unixdgram_bind(_ rt: eddy_runtime_t, _ path: UnsafePointer<CChar>?, _ flags: UInt32,
                                _ out: UnsafeMutablePointer<eddy_unixdgram_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let out, flags & ~UInt32(EDDY_UNIXDGRAM_UNLINK_ON_CLOSE) == 0 else { return EddyCode.einval }
    let s: UnixDatagramSocket
    do {
        if let path {
            s = try UnixDatagramSocket.bind(path: String(cString: path),
                                            unlinkOnClose: flags & UInt32(EDDY_UNIXDGRAM_UNLINK_ON_CLOSE) != 0,
                                            runtime: cr.runtime)
        } else {
            s = try UnixDatagramSocket.unbound(runtime: cr.runtime)
        }
    } catch { return error.code }
    guard let id = insertHandle(s, kind: .unixDatagram, owner: cr.id, thread: cr.handleThread()) else {
        s.close()
        return EddyCode.enomem
    }
    out.pointee = eddy_unixdgram_t(id: id)
    return 0
}

@c @implementation
public func eddy_unixdgram_connect(_ s: eddy_unixdgram_t, _ path: UnsafePointer<CChar>?) -> Int32 {
    let (u, err) = dgramSocket(s.id)
    guard let u else { return err }
    guard let path else { return EddyCode.einval }
    do { try u.takeUnretainedValue().connect(path: String(cString: path)) } catch { return error.code }
    return 0
}

/// Receive (DatagramPoll): the sender's path is copied, NUL-terminated, into `from`.
private func receiveDgram(_ id: UInt64, _ cx: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ len: Int,
                          _ n: UnsafeMutablePointer<Int>?, _ from: UnsafeMutablePointer<CChar>?, _ fromLen: Int,
                          _ truncated: UnsafeMutablePointer<Int32>?) -> Int32 {
    if from != nil && (fromLen >= 0 && fromLen < Int(EDDY_UNIX_PATH_MAX)) {
        return isForked() ? EddyCode.forked : EddyCode.einval
    }
    var sender = UnixDatagramAddress()
    let rc = receiveDatagram(id, .unixDatagram, cx, buf, len, n, truncated, sender: &sender, wantsSender: from != nil) {
        (s: UnixDatagramSocket, c: inout Context, fromPtr) in s.pollReceiveStep(&c, buf, len, fromPtr)
    }
    if rc != EddyCode.ready { return rc }
    if let from { _ = sender.copyPath(to: from, capacity: Int(EDDY_UNIX_PATH_MAX)) }  // no String: no malloc
    return rc
}

@c @implementation
public func eddy_unixdgram_poll_recv_from(_ s: eddy_unixdgram_t, _ cx: OpaquePointer?, _ buf: UnsafeMutableRawPointer?,
                                          _ len: Int, _ n: UnsafeMutablePointer<Int>?, _ from: UnsafeMutablePointer<CChar>?,
                                          _ fromLen: Int, _ truncated: UnsafeMutablePointer<Int32>?) -> Int32 {
    receiveDgram(s.id, cx, buf, len, n, from, fromLen, truncated)
}

@c @implementation
public func eddy_unixdgram_poll_recv(_ s: eddy_unixdgram_t, _ cx: OpaquePointer?, _ buf: UnsafeMutableRawPointer?,
                                     _ len: Int, _ n: UnsafeMutablePointer<Int>?, _ truncated: UnsafeMutablePointer<Int32>?) -> Int32 {
    receiveDgram(s.id, cx, buf, len, n, nil, 0, truncated)
}

@c @implementation
public func eddy_unixdgram_poll_send_to(_ s: eddy_unixdgram_t, _ cx: OpaquePointer?, _ buf: UnsafeRawPointer?, _ len: Int,
                                        _ path: UnsafePointer<CChar>?, _ n: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let path else { return isForked() ? EddyCode.forked : EddyCode.einval }
    var dest: UnixDatagramAddress
    // Parsed in place into a sockaddr_un on the stack: no String, no allocation.
    do { dest = try UnixDatagramAddress(cString: path) } catch {
        return isForked() ? EddyCode.forked : error.code
    }
    return pollDatagram(s.id, .unixDatagram, cx, hasBuffer: buf != nil, len, n) { (sock: UnixDatagramSocket, c: inout Context) in
        sock.pollSendStep(&c, buf, len, &dest)
    }
}

@c @implementation
public func eddy_unixdgram_poll_send(_ s: eddy_unixdgram_t, _ cx: OpaquePointer?, _ buf: UnsafeRawPointer?, _ len: Int,
                                     _ n: UnsafeMutablePointer<Int>?) -> Int32 {
    pollDatagram(s.id, .unixDatagram, cx, hasBuffer: buf != nil, len, n) { (sock: UnixDatagramSocket, c: inout Context) in
        sock.pollSendStep(&c, buf, len, nil)
    }
}

@c @implementation
public func eddy_unixdgram_fd(_ s: eddy_unixdgram_t, _ fd: UnsafeMutablePointer<Int32>?) -> Int32 {
    let (u, err) = dgramSocket(s.id)
    guard let u else { return err }
    guard let fd else { return EddyCode.einval }
    do { fd.pointee = try u.takeUnretainedValue().fileDescriptor } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_unixdgram_from_fd(_ rt: eddy_runtime_t, _ fd: Int32, _ out: UnsafeMutablePointer<eddy_unixdgram_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    // The descriptor is ours from the call on (header): close it on every failure.
    guard let cr else { if fd >= 0 { close(fd) }; return err }
    guard let out else { if fd >= 0 { close(fd) }; return EddyCode.einval }
    let s: UnixDatagramSocket
    do { s = try UnixDatagramSocket.adopt(fileDescriptor: fd, runtime: cr.runtime) } catch { return error.code }
    guard let id = insertHandle(s, kind: .unixDatagram, owner: cr.id, thread: cr.handleThread()) else {
        s.close()
        return EddyCode.enomem
    }
    out.pointee = eddy_unixdgram_t(id: id)
    return 0
}

/// The shared body of local_addr / peer_addr: the path, NUL-terminated, into `path`.
private func dgramAddress(_ id: UInt64, _ path: UnsafeMutablePointer<CChar>?, _ len: Int, peer: Bool) -> Int32 {
    let (u, err) = dgramSocket(id)
    guard let u else { return err }
    guard let path, len >= Int(EDDY_UNIX_PATH_MAX) else { return EddyCode.einval }
    do {
        let s = u.takeUnretainedValue()
        let a = peer ? try s.peerAddress : try s.localAddress
        _ = a.copyPath(to: path, capacity: Int(EDDY_UNIX_PATH_MAX))
    } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_unixdgram_local_addr(_ s: eddy_unixdgram_t, _ path: UnsafeMutablePointer<CChar>?, _ pathLen: Int) -> Int32 {
    dgramAddress(s.id, path, pathLen, peer: false)
}

@c @implementation
public func eddy_unixdgram_peer_addr(_ s: eddy_unixdgram_t, _ path: UnsafeMutablePointer<CChar>?, _ pathLen: Int) -> Int32 {
    dgramAddress(s.id, path, pathLen, peer: true)
}

@c @implementation
public func eddy_unixdgram_close(_ s: eddy_unixdgram_t) -> Int32 {
    let id = s.id
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(id, .unixDatagram, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let bits = handleTable.remove(id, .unixDatagram) else { return EddyCode.badHandle }
    Unmanaged<UnixDatagramSocket>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue().close()
    return 0
}
