// FdExports: readiness of caller-owned descriptors — eddy_fd_watch,
// eddy_fd_poll_ready, eddy_fd_clear_ready, eddy_fd_free.
//
// An eddy_fd_t is an FdWatch (Sources/Eddy/Net/FdWatch.swift): the fd is
// registered once with the runtime's epoll (edge-triggered) and stays the
// caller's; Eddy never reads, writes nor closes it. Why a general watcher and
// not a runtime-level "wake fd" for the Python binding's signal.set_wakeup_fd:
// see docs/ARCHITECTURE.md ("Caller-owned descriptors").
//
// Everything is owning-thread only (the handle's slot records the runtime's
// thread: one compare, EDDY_EWRONGTHREAD otherwise). Misuse the kernel can tell
// (bad fd, regular file, an fd already registered with this runtime) comes back
// as its -errno; a handle used after eddy_fd_free or eddy_runtime_free is
// EDDY_EBADHANDLE.

import CEddyABI
import Eddy
import Glibc

/// EDDY_FD_READABLE | EDDY_FD_WRITABLE.
private let knownInterest: UInt32 = 0x3

@c @implementation
public func eddy_fd_watch(_ rt: eddy_runtime_t, _ fd: Int32, _ out: UnsafeMutablePointer<eddy_fd_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let out else { return EddyCode.einval }
    let w: FdWatch
    do { w = try FdWatch.watch(fd: fd, runtime: cr.runtime) } catch { return error.code }
    guard let id = insertHandle(w, kind: .fd, owner: cr.id, thread: cr.handleThread()) else {
        try? w.deregister()
        return EddyCode.enomem
    }
    out.pointee = eddy_fd_t(id: id)
    return 0
}

@c @implementation
public func eddy_fd_poll_ready(_ watch: eddy_fd_t, _ cx: OpaquePointer?, _ interest: UInt32,
                               _ ready: UnsafeMutablePointer<UInt32>?) -> Int32 {
    let watch = watch.id
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let r = HandleTable.lookupLocal(watch, .fd, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let ready, interest != 0, interest & ~knownInterest == 0 else { return EddyCode.einval }
    let n = Unmanaged<FdWatch>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
        $0.pollReadyStep(&cxp.pointee, interest)
    }
    if n > 0 {
        ready.pointee = UInt32(truncatingIfNeeded: n)
        return EddyCode.ready
    }
    return n == TcpStream.pendingCode ? EddyCode.pending : Int32(truncatingIfNeeded: n)
}

@c @implementation
public func eddy_fd_clear_ready(_ watch: eddy_fd_t, _ bits: UInt32) -> Int32 {
    let watch = watch.id
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(watch, .fd, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard bits & ~knownInterest == 0 else { return EddyCode.einval }
    do {
        try Unmanaged<FdWatch>.fromOpaque(HandleTable.pointer(r.bits)).takeUnretainedValue()
            .clearReady(FdInterest(rawValue: bits))
    } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_fd_free(_ watch: eddy_fd_t) -> Int32 {
    let watch = watch.id
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(watch, .fd, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let bits = handleTable.remove(watch, .fd) else { return EddyCode.badHandle }
    let w = Unmanaged<FdWatch>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    do { try w.deregister() } catch { return error.code }  // -EBADF: the handle is freed anyway
    return 0
}
