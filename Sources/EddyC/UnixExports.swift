// UnixExports: eddy_unix_listen, eddy_unix_connect (issue 15). A Unix-domain listener
// and its connections are tcp handles (TcpListener / TcpStream objects): every
// eddy_tcp_* function works on them.

import CEddyABI
import Eddy

@c @implementation
public func eddy_unix_listen(_ rt: eddy_runtime_t, _ path: UnsafePointer<CChar>?, _ backlog: Int32, _ flags: UInt32,
                             _ out: UnsafeMutablePointer<eddy_tcp_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let path, let out, flags & ~UInt32(EDDY_UNIX_UNLINK_ON_CLOSE) == 0 else { return EddyCode.einval }
    let l: TcpListener
    do {
        l = try TcpListener.bind(unixPath: String(cString: path), backlog: backlog > 0 ? backlog : 1024,
                                 unlinkOnClose: flags & UInt32(EDDY_UNIX_UNLINK_ON_CLOSE) != 0, runtime: cr.runtime)
    } catch { return error.code }
    guard let id = insertHandle(l, kind: .tcp, owner: cr.id, thread: cr.handleThread(), flag: listenerFlag) else {
        l.close()
        return EddyCode.enomem
    }
    out.pointee = eddy_tcp_t(id: id)
    return 0
}

@c @implementation
public func eddy_unix_connect(_ rt: eddy_runtime_t, _ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let path, let out else { return EddyCode.einval }
    let c: ConnectFuture
    do { c = try TcpStream.connect(unixPath: String(cString: path), runtime: cr.runtime) } catch { return error.code }
    return publish(CFuture(connect: c), cr, out)
}

@c @implementation
public func eddy_tcp_peer_cred(_ stream: eddy_tcp_t, _ pid: UnsafeMutablePointer<Int32>?, _ uid: UnsafeMutablePointer<UInt32>?,
                               _ gid: UnsafeMutablePointer<UInt32>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(stream.id, .tcp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard r.bits & listenerFlag == 0 else { return EddyCode.einval }
    let c: PeerCredentials
    do { c = try Unmanaged<TcpStream>.fromOpaque(HandleTable.pointer(r.bits)).takeUnretainedValue().peerCredentials } catch {
        return error.code
    }
    pid?.pointee = c.pid
    uid?.pointee = c.uid
    gid?.pointee = c.gid
    return 0
}

/// The stream behind a tcp handle for a poll function (cx, handle, not a listener).
@inline(__always)
private func pollStream(_ id: UInt64, _ cx: OpaquePointer?) -> (TcpStream?, UnsafeMutablePointer<Context>?, Int32) {
    if isForked() { return (nil, nil, EddyCode.forked) }
    guard let cxp = validContext(cx) else { return (nil, nil, EddyCode.einval) }
    let r = HandleTable.lookupLocal(id, .tcp, thread: currentThread())
    guard r.error == 0 else { return (nil, nil, r.error) }
    guard r.bits & listenerFlag == 0 else { return (nil, nil, EddyCode.einval) }
    return (Unmanaged<TcpStream>.fromOpaque(HandleTable.pointer(r.bits)).takeUnretainedValue(), cxp, 0)
}

@c @implementation
public func eddy_tcp_poll_send_fd(_ stream: eddy_tcp_t, _ cx: OpaquePointer?, _ fd: Int32) -> Int32 {
    let (s, cxp, err) = pollStream(stream.id, cx)
    guard let s, let cxp else { return err }
    switch s.pollSendDescriptor(&cxp.pointee, fd) {
    case .pending: return EddyCode.pending
    case .ready(.success): return EddyCode.ready
    case .ready(.failure(let e)): return e.code
    }
}

@c @implementation
public func eddy_tcp_poll_recv_fd(_ stream: eddy_tcp_t, _ cx: OpaquePointer?, _ fd: UnsafeMutablePointer<Int32>?) -> Int32 {
    let (s, cxp, err) = pollStream(stream.id, cx)
    guard let s, let cxp else { return err }
    guard let fd else { return EddyCode.einval }
    switch s.pollReceiveDescriptor(&cxp.pointee) {
    case .pending: return EddyCode.pending
    case .ready(.success(let got)):
        fd.pointee = got
        return EddyCode.ready
    case .ready(.failure(let e)): return e.code
    }
}
