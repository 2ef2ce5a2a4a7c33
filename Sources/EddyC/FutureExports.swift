// FutureExports: eddy_tcp_connect, eddy_sleep, eddy_timeout, eddy_future_*.

import CEddyABI
import Eddy

/// Runtime for a future-creating call: owning thread, not being freed.
@inline(__always)
func creatingRuntime(_ rt: UInt64) -> (CRuntime?, Int32) {
    let (u0, err) = local(rt, .runtime, as: CRuntime.self)
    guard let u = u0 ?? workerRuntime(rt, err) else { return (nil, err) }
    let cr = u.takeUnretainedValue()
    if cr.freeing.load(ordering: .relaxed) { return (nil, EddyCode.shutdown) }
    return (cr, 0)
}

/// What a live future handle stands for: a CFuture, or a keyed sleep (CTimer.swift).
enum LocalFuture {
    case object(Unmanaged<CFuture>)
    case timer(UInt)
}

/// `local(_:_:as:)` for future handles, which may hold a keyed sleep instead of an object.
@inline(__always)
func localFuture(_ id: UInt64) -> (LocalFuture?, Int32) {
    let r = HandleTable.lookupLocal(id, .future, thread: currentThread())
    guard r.error == 0 else { return (nil, r.error) }
    if CTimer.isTimer(r.bits) { return (.timer(r.bits), 0) }
    return (.object(Unmanaged<CFuture>.fromOpaque(HandleTable.pointer(r.bits))), 0)
}

/// The CFuture behind future `id`, turning a keyed sleep into a `.timer` CFuture first
/// (for callers that must hold the future as an object: eddy_future_then).
func objectFuture(_ id: UInt64) -> (Unmanaged<CFuture>?, Int32) {
    let (f, err) = localFuture(id)
    switch f {
    case nil: return (nil, err)
    case .object(let u)?: return (u, 0)
    case .timer(let bits)?:
        let (rt, rerr) = CTimer.runtime(of: id)
        guard let rt else { return (nil, rerr) }
        let u = Unmanaged.passRetained(CFuture(timer: CTimer.key(bits), runtime: rt))
        guard handleTable.replace(id, .future, bits: UInt(bitPattern: u.toOpaque())) != nil else {
            u.release()  // cannot happen on the owning thread; the key stays with the handle
            return (nil, EddyCode.badHandle)
        }
        return (u, 0)
    }
}

/// Stores a new future for runtime `cr`.
func publish(_ f: CFuture, _ cr: CRuntime, _ out: UnsafeMutablePointer<eddy_future_t>) -> Int32 {
    guard let id = insertHandle(f, kind: .future, owner: cr.id, thread: cr.handleThread()) else {
        f.close()
        return EddyCode.enomem
    }
    out.pointee = eddy_future_t(id: id)
    return 0
}

@c @implementation
public func eddy_tcp_connect(_ rt: eddy_runtime_t, _ host: UnsafePointer<CChar>?, _ port: UInt16,
                             _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let host, let out else { return EddyCode.einval }
    let c: ConnectFuture
    let name = String(cString: host)
    do { c = try TcpStream.connect(host: name, port: port, runtime: cr.runtime) } catch {
        // Not a numeric address: a host name (issue 15), resolved off the loop.
        if error == .invalidArgument { return connectByName(name, port, cr, out) }
        return error.code
    }
    return publish(CFuture(connect: c), cr, out)
}

/// Deadline `nanos` from now on `runtime`'s clock (issue 16: it may be paused),
/// saturated (a huge timeout means "never").
@inline(__always)
func deadline(after nanos: UInt64, _ runtime: Runtime) -> Instant {
    let now = runtime.clockNanos
    let capped = min(nanos, UInt64(Int64.max) / 2)
    return Instant(nanoseconds: now &+ capped)
}

@c @implementation
public func eddy_sleep(_ rt: eddy_runtime_t, _ nanos: UInt64, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let out else { return EddyCode.einval }
    // A keyed timer, no object (CTimer.swift).
    guard let key = cr.runtime.reserveTimer(until: deadline(after: nanos, cr.runtime)) else { return EddyCode.enomem }
    guard let id = handleTable.insert(bits: CTimer.bits(key), kind: .future, owner: cr.id, thread: cr.handleThread()) else {
        cr.runtime.releaseTimer(key)
        return EddyCode.enomem
    }
    out.pointee = eddy_future_t(id: id)
    return 0
}

@c @implementation
public func eddy_timeout(_ rt: eddy_runtime_t, _ inner: eddy_future_t, _ nanos: UInt64,
                         _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    let rt = rt.id
    let inner = inner.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    let (i, ierr) = localFuture(inner)
    guard let i else { return ierr }
    if case .object(let u) = i, u.takeUnretainedValue().hasThen { return EddyCode.einval }
    guard let out, HandleTable.ownerLocal(inner) == rt else { return EddyCode.einval }
    guard let key = cr.runtime.reserveTimer(until: deadline(after: nanos, cr.runtime)) else { return EddyCode.enomem }
    // The new handle's slot before inner is taken: "on failure inner is left untouched"
    // must hold even when the table is full (inner's freed slot may be retired).
    guard let id = handleTable.reserve(kind: .future, owner: cr.id) else {
        cr.runtime.releaseTimer(key)
        return EddyCode.enomem
    }
    // Take ownership of inner: its handle dies, the table's reference (or key) moves to us.
    guard let bits = handleTable.remove(inner, .future) else {
        handleTable.unreserve(id)
        cr.runtime.releaseTimer(key)
        return EddyCode.badHandle
    }
    let innerFuture = CTimer.isTimer(bits)
        ? CFuture(timer: CTimer.key(bits), runtime: cr.runtime)
        : Unmanaged<CFuture>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    let f = CFuture(inner: innerFuture, deadline: key, runtime: cr.runtime)
    let fBits = UInt(bitPattern: Unmanaged.passRetained(f).toOpaque())
    // The owner is live: this is its owning thread and it is not being freed.
    guard handleTable.publish(id, bits: fBits, thread: cr.handleThread()) else {
        Unmanaged<CFuture>.fromOpaque(HandleTable.pointer(fBits)).release()
        f.close()
        return EddyCode.shutdown
    }
    out.pointee = eddy_future_t(id: id)
    return 0
}

@c @implementation
public func eddy_future_poll(_ fut: eddy_future_t, _ cx: OpaquePointer?) -> Int32 {
    let fut = fut.id
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let (lf, err) = localFuture(fut)
    guard let lf else { return err }
    switch lf {
    case .timer(let bits):
        return CTimer.poll(fut, bits, &cxp.pointee)
    case .object(let f):
        return f._withUnsafeGuaranteedRef { f in
            if f.hasThen { return EddyCode.ebusy }
            return f.poll(&cxp.pointee)
        }
    }
}

@c @implementation
public func eddy_future_take_tcp(_ fut: eddy_future_t, _ out: UnsafeMutablePointer<eddy_tcp_t>?) -> Int32 {
    let fut = fut.id
    if isForked() { return EddyCode.forked }
    let (lf, err) = localFuture(fut)
    guard let lf else { return err }
    guard let out else { return EddyCode.einval }
    let f: Unmanaged<CFuture>
    switch lf {
    case .timer(let bits): return CTimer.take(fut, bits)
    case .object(let u): f = u
    }
    let future = f.takeUnretainedValue()
    switch future.takeStream() {
    case .failure(let e): return e.code
    case .success(let stream):
        let owner = HandleTable.ownerLocal(fut)
        guard let id = insertHandle(stream, kind: .tcp, owner: owner, thread: currentThread()) else {
            stream.close()
            return EddyCode.enomem
        }
        out.pointee = eddy_tcp_t(id: id)
        return 0
    }
}

@c @implementation
public func eddy_future_take_value(_ fut: eddy_future_t, _ out: UnsafeMutablePointer<eddy_value_t>?) -> Int32 {
    let fut = fut.id
    if isForked() { return EddyCode.forked }
    let (lf, err) = localFuture(fut)
    guard let lf else { return err }
    guard let out else { return EddyCode.einval }
    let f: Unmanaged<CFuture>
    switch lf {
    case .timer(let bits): return CTimer.take(fut, bits)
    case .object(let u): f = u
    }
    switch f.takeUnretainedValue().takeValue() {
    case .failure(let e): return e.code
    case .success(let v):
        out.pointee = eddy_value_t(u: v)
        return 0
    }
}

@c @implementation
public func eddy_future_then(_ fut: eddy_future_t, _ cb: CThenFn?, _ user: UnsafeMutableRawPointer?) -> Int32 {
    let fut = fut.id
    if isForked() { return EddyCode.forked }
    let (lf, err) = localFuture(fut)
    guard lf != nil else { return err }
    guard let cb else { return EddyCode.einval }
    // The then-task holds the future as an object: a keyed sleep becomes one here.
    let (f, ferr) = objectFuture(fut)
    guard let f else { return ferr }
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

@c @implementation
public func eddy_future_free(_ fut: eddy_future_t) -> Int32 {
    let fut = fut.id
    if isForked() { return EddyCode.forked }
    let (f, err) = localFuture(fut)
    guard f != nil else { return err }
    if case .timer = f {
        let (rt, rerr) = CTimer.runtime(of: fut)
        guard let rt else { return rerr }
        guard let bits = handleTable.remove(fut, .future) else { return EddyCode.badHandle }
        rt.releaseTimer(CTimer.key(bits))
        return 0
    }
    guard let bits = handleTable.remove(fut, .future) else { return EddyCode.badHandle }
    Unmanaged<CFuture>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue().close()
    return 0
}
