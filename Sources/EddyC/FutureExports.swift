// FutureExports: eddy_tcp_connect, eddy_sleep, eddy_timeout, eddy_future_*.

import Eddy

/// Runtime for a future-creating call: owning thread, not being freed.
@inline(__always)
func creatingRuntime(_ rt: UInt64) -> (CRuntime?, Int32) {
    let (u, err) = local(rt, .runtime, as: CRuntime.self)
    guard let u else { return (nil, err) }
    let cr = u.takeUnretainedValue()
    if cr.freeing.load(ordering: .relaxed) { return (nil, EddyCode.shutdown) }
    return (cr, 0)
}

/// Stores a new future for runtime `cr`.
func publish(_ f: CFuture, _ cr: CRuntime, _ out: UnsafeMutablePointer<UInt64>) -> Int32 {
    guard let id = insertHandle(f, kind: .future, owner: cr.id, thread: cr.thread) else {
        f.close()
        return EddyCode.enomem
    }
    out.pointee = id
    return 0
}

@_cdecl("eddy_tcp_connect")
public func eddy_tcp_connect(_ rt: UInt64, _ host: UnsafePointer<CChar>?, _ port: UInt16,
                             _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let host, let out else { return EddyCode.einval }
    let c: ConnectFuture
    do { c = try TcpStream.connect(host: String(cString: host), port: port, runtime: cr.runtime) } catch {
        return error.code
    }
    return publish(CFuture(connect: c), cr, out)
}

/// Deadline `nanos` from now, saturated (a huge timeout means "never").
@inline(__always)
func deadline(after nanos: UInt64) -> Instant {
    let now = Instant.now().nanoseconds
    let capped = min(nanos, UInt64(Int64.max) / 2)
    return Instant(nanoseconds: now &+ capped)
}

@_cdecl("eddy_sleep")
public func eddy_sleep(_ rt: UInt64, _ nanos: UInt64, _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let out else { return EddyCode.einval }
    return publish(CFuture(sleep: Sleep(until: deadline(after: nanos))), cr, out)
}

@_cdecl("eddy_timeout")
public func eddy_timeout(_ rt: UInt64, _ inner: UInt64, _ nanos: UInt64,
                         _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    let (i, ierr) = local(inner, .future, as: CFuture.self)
    guard let i else { return ierr }
    guard let out, HandleTable.ownerLocal(inner) == rt, !i.takeUnretainedValue().hasThen else {
        return EddyCode.einval
    }
    // Take ownership of inner: its handle dies, the table's reference moves to us.
    guard let bits = handleTable.remove(inner, .future) else { return EddyCode.badHandle }
    let innerFuture = Unmanaged<CFuture>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    return publish(CFuture(inner: innerFuture, timer: Sleep(until: deadline(after: nanos))), cr, out)
}

@_cdecl("eddy_future_poll")
public func eddy_future_poll(_ fut: UInt64, _ cx: OpaquePointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let (f, err) = local(fut, .future, as: CFuture.self)
    guard let f else { return err }
    return f._withUnsafeGuaranteedRef { f in
        if f.hasThen { return EddyCode.ebusy }
        return f.poll(&cxp.pointee)
    }
}

@_cdecl("eddy_future_take_tcp")
public func eddy_future_take_tcp(_ fut: UInt64, _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (f, err) = local(fut, .future, as: CFuture.self)
    guard let f else { return err }
    guard let out else { return EddyCode.einval }
    let future = f.takeUnretainedValue()
    switch future.takeStream() {
    case .failure(let e): return e.code
    case .success(let stream):
        let owner = HandleTable.ownerLocal(fut)
        guard let id = insertHandle(stream, kind: .tcp, owner: owner, thread: currentThread()) else {
            stream.close()
            return EddyCode.enomem
        }
        out.pointee = id
        return 0
    }
}

@_cdecl("eddy_future_take_value")
public func eddy_future_take_value(_ fut: UInt64, _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (f, err) = local(fut, .future, as: CFuture.self)
    guard let f else { return err }
    guard let out else { return EddyCode.einval }
    switch f.takeUnretainedValue().takeValue() {
    case .failure(let e): return e.code
    case .success(let v):
        out.pointee = v
        return 0
    }
}

@_cdecl("eddy_future_then")
public func eddy_future_then(_ fut: UInt64, _ cb: CThenFn?, _ user: UnsafeMutableRawPointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (f, err) = local(fut, .future, as: CFuture.self)
    guard let f else { return err }
    guard let cb else { return EddyCode.einval }
    let future = f.takeUnretainedValue()
    if future.hasThen { return EddyCode.ebusy }
    guard let rtBits = handleTable.retainShared(HandleTable.ownerLocal(fut), .runtime) else { return EddyCode.shutdown }
    let cr = Unmanaged<CRuntime>.fromOpaque(HandleTable.pointer(rtBits)).takeRetainedValue()
    if cr.freeing.load(ordering: .relaxed) { return EddyCode.shutdown }
    future.hasThen = true
    // The JoinHandle is dropped: the internal task runs detached.
    cr.runtime.spawn(ThenTask(future: future, callback: ThenCallback(fn: cb, user: user)))
    return 0
}

@_cdecl("eddy_future_free")
public func eddy_future_free(_ fut: UInt64) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (f, err) = local(fut, .future, as: CFuture.self)
    guard f != nil else { return err }
    guard let bits = handleTable.remove(fut, .future) else { return EddyCode.badHandle }
    Unmanaged<CFuture>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue().close()
    return 0
}
