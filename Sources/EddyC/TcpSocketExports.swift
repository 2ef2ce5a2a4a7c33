// TcpSocketExports: the rest of TCP (issue 15) — listen with flags, listener/stream
// from a descriptor, shutdown of either side, local/peer addresses, socket options.
// Not on a hot path: plain lookups, like eddy_tcp_local_port.

import CEddyABI
import Eddy
import Glibc

/// A tcp handle's object: a listener or a stream (owning thread).
private enum TcpObject {
    case listener(TcpListener)
    case stream(TcpStream)
}

@inline(__always)
private func tcpObject(_ id: UInt64) -> (TcpObject?, Int32) {
    if isForked() { return (nil, EddyCode.forked) }
    let r = HandleTable.lookupLocal(id, .tcp, thread: currentThread())
    guard r.error == 0 else { return (nil, r.error) }
    let p = HandleTable.pointer(r.bits)
    if r.bits & listenerFlag != 0 { return (.listener(Unmanaged<TcpListener>.fromOpaque(p).takeUnretainedValue()), 0) }
    return (.stream(Unmanaged<TcpStream>.fromOpaque(p).takeUnretainedValue()), 0)
}

/// Stores a new listener/stream for runtime `cr` in *out (closing it if the table is full).
func publishTcp(_ object: AnyObject, listener: Bool, _ cr: CRuntime, _ out: UnsafeMutablePointer<eddy_tcp_t>) -> Int32 {
    guard let id = insertHandle(object, kind: .tcp, owner: cr.id, thread: cr.handleThread(), flag: listener ? listenerFlag : 0) else {
        (object as? TcpListener)?.close()
        (object as? TcpStream)?.close()
        return EddyCode.enomem
    }
    out.pointee = eddy_tcp_t(id: id)
    return 0
}

@c @implementation
public func eddy_tcp_listen_flags(_ rt: eddy_runtime_t, _ host: UnsafePointer<CChar>?, _ port: UInt16, _ backlog: Int32,
                                  _ flags: UInt32, _ out: UnsafeMutablePointer<eddy_tcp_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let host, let out, flags & ~UInt32(EDDY_TCP_REUSEPORT) == 0 else { return EddyCode.einval }
    let l: TcpListener
    do {
        l = try TcpListener.bind(host: String(cString: host), port: port, backlog: backlog > 0 ? backlog : 1024,
                                 reusePort: flags & UInt32(EDDY_TCP_REUSEPORT) != 0, runtime: cr.runtime)
    } catch { return error.code }
    return publishTcp(l, listener: true, cr, out)
}

/// The shared body of the two from_fd functions: the descriptor is Eddy's from the call
/// on (header), so every failure closes it.
private func adoptTcp(_ rt: UInt64, _ fd: Int32, _ out: UnsafeMutablePointer<eddy_tcp_t>?, listener: Bool) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { if fd >= 0 { close(fd) }; return err }
    guard let out else { if fd >= 0 { close(fd) }; return EddyCode.einval }
    do {
        if listener {
            return publishTcp(try TcpListener.adopt(fileDescriptor: fd, runtime: cr.runtime), listener: true, cr, out)
        }
        return publishTcp(try TcpStream.adopt(fileDescriptor: fd, runtime: cr.runtime), listener: false, cr, out)
    } catch { return error.code }
}

@c @implementation
public func eddy_tcp_listener_from_fd(_ rt: eddy_runtime_t, _ fd: Int32, _ out: UnsafeMutablePointer<eddy_tcp_t>?) -> Int32 {
    adoptTcp(rt.id, fd, out, listener: true)
}

@c @implementation
public func eddy_tcp_stream_from_fd(_ rt: eddy_runtime_t, _ fd: Int32, _ out: UnsafeMutablePointer<eddy_tcp_t>?) -> Int32 {
    adoptTcp(rt.id, fd, out, listener: false)
}

@c @implementation
public func eddy_tcp_shutdown(_ stream: eddy_tcp_t, _ how: Int32) -> Int32 {
    let (o, err) = tcpObject(stream.id)
    guard let o else { return err }
    guard case .stream(let s) = o else { return EddyCode.einval }
    let h: ShutdownHow
    switch how {
    case EDDY_SHUT_READ: h = .read
    case EDDY_SHUT_WRITE: h = .write
    case EDDY_SHUT_BOTH: h = .both
    default: return EddyCode.einval
    }
    do { try s.shutdown(h) } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_tcp_local_addr(_ tcp: eddy_tcp_t, _ out: UnsafeMutablePointer<eddy_addr_t>?) -> Int32 {
    let (o, err) = tcpObject(tcp.id)
    guard let o else { return err }
    guard let out else { return EddyCode.einval }
    do {
        switch o {
        case .listener(let l): out.pointee = try l.localEndpoint.cAddr
        case .stream(let s): out.pointee = try s.localEndpoint.cAddr
        }
    } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_tcp_peer_addr(_ stream: eddy_tcp_t, _ out: UnsafeMutablePointer<eddy_addr_t>?) -> Int32 {
    let (o, err) = tcpObject(stream.id)
    guard let o else { return err }
    guard let out, case .stream(let s) = o else { return EddyCode.einval }
    do { out.pointee = try s.peerEndpoint.cAddr } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_tcp_set_option(_ tcp: eddy_tcp_t, _ option: Int32, _ value: Int32) -> Int32 {
    let (o, err) = tcpObject(tcp.id)
    guard let o else { return err }
    guard let opt = SocketOption(rawValue: option) else { return EddyCode.einval }
    do {
        switch o {
        case .listener(let l): try l.setOption(opt, value)
        case .stream(let s): try s.setOption(opt, value)
        }
    } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_tcp_get_option(_ tcp: eddy_tcp_t, _ option: Int32, _ value: UnsafeMutablePointer<Int32>?) -> Int32 {
    let (o, err) = tcpObject(tcp.id)
    guard let o else { return err }
    guard let value, let opt = SocketOption(rawValue: option) else { return EddyCode.einval }
    do {
        switch o {
        case .listener(let l): value.pointee = try l.option(opt)
        case .stream(let s): value.pointee = try s.option(opt)
        }
    } catch { return error.code }
    return 0
}
