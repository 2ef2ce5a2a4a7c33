// TcpExports: eddy_tcp_listen, the poll-style TCP functions, close.
//
// The hot path (poll_read / poll_write / poll_accept): TLS cx compare, seqlock
// lookup + thread compare (the fork flag is tested on the error path only, see
// Fork.swift: the lookup cannot succeed in a forked child), then the core's raw-pointer poll on
// an unretained object (_withUnsafeGuaranteedRef): no lock, no allocation, no
// ARC traffic, no existential. Listener and stream share the tcp kind; bit 0 of
// the slot's object bits marks a listener.

import CEddyABI
import Eddy

/// Bit 0 of a tcp handle's object bits: the object is a listener, not a stream.
let listenerFlag: UInt = 1

@c @implementation
public func eddy_tcp_listen(_ rt: eddy_runtime_t, _ host: UnsafePointer<CChar>?, _ port: UInt16, _ backlog: Int32,
                            _ out: UnsafeMutablePointer<eddy_tcp_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let host, let out else { return EddyCode.einval }
    let l: TcpListener
    do {
        l = try TcpListener.bind(host: String(cString: host), port: port,
                                 backlog: backlog > 0 ? backlog : 1024, runtime: cr.runtime)
    } catch { return error.code }
    guard let id = insertHandle(l, kind: .tcp, owner: cr.id, thread: cr.handleThread(), flag: listenerFlag) else {
        l.close()
        return EddyCode.enomem
    }
    out.pointee = eddy_tcp_t(id: id)
    return 0
}

@c @implementation
public func eddy_tcp_poll_accept(_ listener: eddy_tcp_t, _ cx: OpaquePointer?, _ out: UnsafeMutablePointer<eddy_tcp_t>?) -> Int32 {
    let listener = listener.id
    // No fork test up front: see Fork.swift (`forkedOr`).
    guard let cxp = validContext(cx) else { return forkedOr(EddyCode.einval) }
    let thread = currentThread()
    let r = HandleTable.lookupLocal(listener, .tcp, thread: thread)
    guard r.error == 0 else { return forkedOr(r.error) }
    guard let out, r.bits & listenerFlag != 0 else { return EddyCode.einval }
    let polled = Unmanaged<TcpListener>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
        $0.pollAccept(&cxp.pointee)
    }
    switch polled {
    case .pending: return EddyCode.pending
    case .ready(.failure(let e)): return e.code
    case .ready(.success(let stream)):
        guard let id = insertHandle(stream, kind: .tcp, owner: HandleTable.ownerLocal(listener), thread: thread) else {
            stream.close()
            return EddyCode.enomem
        }
        out.pointee = eddy_tcp_t(id: id)
        return EddyCode.ready
    }
}

/// The shared body of poll_read / poll_write: argument and handle checks, then one
/// Int-coded step of the core, inlined: each export is one flat function.
@inline(__always)
private func pollStreamBytes(_ stream: UInt64, _ cx: OpaquePointer?, hasBuffer: Bool, _ len: Int,
                             _ n: UnsafeMutablePointer<Int>?, _ step: (TcpStream, inout Context) -> Int) -> Int32 {
    // No fork test up front: see Fork.swift (`forkedOr`).
    guard let cxp = validContext(cx) else { return forkedOr(EddyCode.einval) }
    let r = HandleTable.lookupTcp(stream)
    guard r.error == 0 else { return forkedOr(r.error) }
    guard let n, r.bits & listenerFlag == 0 else { return EddyCode.einval }
    // Nested, not one boolean expression: two tests on the common path.
    if hasBuffer {
        if len < 0 { return EddyCode.einval }
    } else if len != 0 {
        return EddyCode.einval
    }
    let got = Unmanaged<TcpStream>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
        step($0, &cxp.pointee)
    }
    if got >= 0 {
        n.pointee = got
        return EddyCode.ready
    }
    return got == TcpStream.pendingCode ? EddyCode.pending : Int32(truncatingIfNeeded: got)
}

@c @implementation
public func eddy_tcp_poll_read(_ stream: eddy_tcp_t, _ cx: OpaquePointer?, _ buf: UnsafeMutableRawPointer?, _ len: Int,
                               _ n: UnsafeMutablePointer<Int>?) -> Int32 {
    pollStreamBytes(stream.id, cx, hasBuffer: buf != nil, len, n) { $0.pollReadStep(&$1, buf, len) }
}

@c @implementation
public func eddy_tcp_poll_write(_ stream: eddy_tcp_t, _ cx: OpaquePointer?, _ buf: UnsafeRawPointer?, _ len: Int,
                                _ n: UnsafeMutablePointer<Int>?) -> Int32 {
    pollStreamBytes(stream.id, cx, hasBuffer: buf != nil, len, n) { $0.pollWriteStep(&$1, buf, len) }
}

@c @implementation
public func eddy_tcp_poll_shutdown(_ stream: eddy_tcp_t, _ cx: OpaquePointer?) -> Int32 {
    let stream = stream.id
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let r = HandleTable.lookupLocal(stream, .tcp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard r.bits & listenerFlag == 0 else { return EddyCode.einval }
    let polled = Unmanaged<TcpStream>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
        $0.pollShutdown(&cxp.pointee)
    }
    switch polled {
    case .pending: return EddyCode.pending
    case .ready(.success): return EddyCode.ready
    case .ready(.failure(let e)): return e.code
    }
}

@c @implementation
public func eddy_tcp_local_port(_ tcp: eddy_tcp_t, _ port: UnsafeMutablePointer<UInt16>?) -> Int32 {
    let tcp = tcp.id
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(tcp, .tcp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let port else { return EddyCode.einval }
    let p = HandleTable.pointer(r.bits)
    if r.bits & listenerFlag != 0 {
        port.pointee = Unmanaged<TcpListener>.fromOpaque(p).takeUnretainedValue().port
        return 0
    }
    do {
        port.pointee = try Unmanaged<TcpStream>.fromOpaque(p).takeUnretainedValue().localAddress.port
    } catch { return code(of: error) }
    return 0
}

@c @implementation
public func eddy_tcp_set_nodelay(_ stream: eddy_tcp_t, _ enabled: Int32) -> Int32 {
    let stream = stream.id
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(stream, .tcp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard r.bits & listenerFlag == 0 else { return EddyCode.einval }
    do {
        try Unmanaged<TcpStream>.fromOpaque(HandleTable.pointer(r.bits)).takeUnretainedValue().setNoDelay(enabled != 0)
    } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_tcp_fd(_ tcp: eddy_tcp_t, _ fd: UnsafeMutablePointer<Int32>?) -> Int32 {
    let tcp = tcp.id
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(tcp, .tcp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let fd else { return EddyCode.einval }
    let p = HandleTable.pointer(r.bits)
    do {
        if r.bits & listenerFlag != 0 {
            fd.pointee = try Unmanaged<TcpListener>.fromOpaque(p).takeUnretainedValue().fileDescriptor
        } else {
            fd.pointee = try Unmanaged<TcpStream>.fromOpaque(p).takeUnretainedValue().fileDescriptor
        }
    } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_tcp_close(_ tcp: eddy_tcp_t) -> Int32 {
    let tcp = tcp.id
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(tcp, .tcp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let bits = handleTable.remove(tcp, .tcp) else { return EddyCode.badHandle }
    let p = HandleTable.pointer(bits)
    if bits & listenerFlag != 0 {
        Unmanaged<TcpListener>.fromOpaque(p).takeRetainedValue().close()
    } else {
        Unmanaged<TcpStream>.fromOpaque(p).takeRetainedValue().close()
    }
    return 0
}
