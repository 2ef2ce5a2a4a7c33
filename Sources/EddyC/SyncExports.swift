// SyncExports: eddy_semaphore_* and eddy_notify_* (include/eddy.h, "Sync primitives").
//
// A handle is one waiting place: the shared core object (Semaphore / Notify from
// Sources/Eddy/Sync) plus a WaitNode of its own. Freeing the handle withdraws the
// node, handing on a permit or notification it had been given (cancellation
// safety for C tasks that are aborted or dropped while waiting). Any thread.

import CEddyABI
import Eddy

/// What a semaphore handle points to.
final class CSemaphore: @unchecked Sendable {
    // @unchecked Sendable: Semaphore and WaitNode are thread-safe (node fields under the
    // semaphore's lock); `bound` is immutable.
    let sem: Semaphore
    let bound: Int  // Int.max: unbounded
    let node = WaitNode()
    init(_ sem: Semaphore, bound: Int) {
        self.sem = sem
        self.bound = bound
    }
    deinit { sem.cancel(node) }
}

/// What a notify handle points to.
final class CNotify: @unchecked Sendable {
    // @unchecked Sendable: Notify and its nodes are thread-safe.
    let notify: Notify
    let node = WaitNode()
    init(_ notify: Notify) { self.notify = notify }
    deinit { notify.cancel(node) }
}

/// A new handle of `kind` owned by runtime `rt` (checked live and a runtime).
private func insertOwned(_ object: AnyObject, _ kind: HandleKind, rt: UInt64) -> (UInt64?, Int32) {
    guard HandleTable.kindBits(rt) == UInt64(HandleKind.runtime.rawValue), handleTable.ownerThread(rt) != nil else {
        return (nil, EddyCode.badHandle)
    }
    guard let id = insertHandle(object, kind: kind, owner: rt, thread: currentThread()) else {
        return (nil, handleTable.ownerThread(rt) == nil ? EddyCode.shutdown : EddyCode.enomem)
    }
    return (id, 0)
}

/// Calls `body` with the handle's object, retained for the call; EDDY_EBADHANDLE if stale.
@inline(__always)
private func with<T: AnyObject>(_ id: UInt64, _ kind: HandleKind, _ type: T.Type, _ body: (T) -> Int32) -> Int32 {
    withShared(id, kind) { p, _ in body(Unmanaged<T>.fromOpaque(p).takeUnretainedValue()) } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_semaphore_new(_ rt: eddy_runtime_t, _ permits: UInt32, _ max: UInt32,
                               _ out: UnsafeMutablePointer<eddy_semaphore_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard HandleTable.kindBits(rt.id) == UInt64(HandleKind.runtime.rawValue), handleTable.ownerThread(rt.id) != nil else {
        return EddyCode.badHandle
    }
    guard let out, permits <= 1 << 30, max <= 1 << 30, max == 0 || permits <= max else { return EddyCode.einval }
    let h = CSemaphore(Semaphore(permits: Int(permits)), bound: max == 0 ? Int.max : Int(max))
    let (id, err) = insertOwned(h, .semaphore, rt: rt.id)
    guard let id else { return err }
    out.pointee = eddy_semaphore_t(id: id)
    return 0
}

@c @implementation
public func eddy_semaphore_clone(_ sem: eddy_semaphore_t, _ out: UnsafeMutablePointer<eddy_semaphore_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return with(sem.id, .semaphore, CSemaphore.self) { s -> Int32 in
        guard let out else { return EddyCode.einval }
        guard let owner = handleTable.ownerOf(sem.id) else { return EddyCode.badHandle }
        let (id, err) = insertOwned(CSemaphore(s.sem, bound: s.bound), .semaphore, rt: owner)
        guard let id else { return err }
        out.pointee = eddy_semaphore_t(id: id)
        return 0
    }
}

@c @implementation
public func eddy_semaphore_try_acquire(_ sem: eddy_semaphore_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return with(sem.id, .semaphore, CSemaphore.self) { s -> Int32 in
        switch s.sem.tryAcquire() {
        case .acquired: return 0
        case .noPermits: return EddyCode.eagain
        case .closed: return EddyCode.epipe
        }
    }
}

@c @implementation
public func eddy_semaphore_poll_acquire(_ sem: eddy_semaphore_t, _ cx: OpaquePointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    return with(sem.id, .semaphore, CSemaphore.self) { s -> Int32 in
        switch s.sem.pollAcquire(s.node, cxp.pointee.waker) {
        case .ready(true): return EddyCode.ready
        case .ready(false): return EddyCode.epipe
        case .pending: return EddyCode.pending
        }
    }
}

@c @implementation
public func eddy_semaphore_release(_ sem: eddy_semaphore_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return with(sem.id, .semaphore, CSemaphore.self) { s -> Int32 in
        if s.bound == Int.max {
            s.sem.release(1)
            return 0
        }
        return s.sem.release(bound: s.bound) ? 0 : EddyCode.einval
    }
}

@c @implementation
public func eddy_semaphore_close(_ sem: eddy_semaphore_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return with(sem.id, .semaphore, CSemaphore.self) { s -> Int32 in
        s.sem.close()
        return 0
    }
}

@c @implementation
public func eddy_semaphore_free(_ sem: eddy_semaphore_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.remove(sem.id, .semaphore) else { return EddyCode.badHandle }
    Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}

@c @implementation
public func eddy_notify_new(_ rt: eddy_runtime_t, _ out: UnsafeMutablePointer<eddy_notify_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard HandleTable.kindBits(rt.id) == UInt64(HandleKind.runtime.rawValue), handleTable.ownerThread(rt.id) != nil else {
        return EddyCode.badHandle
    }
    guard let out else { return EddyCode.einval }
    let (id, err) = insertOwned(CNotify(Notify()), .notify, rt: rt.id)
    guard let id else { return err }
    out.pointee = eddy_notify_t(id: id)
    return 0
}

@c @implementation
public func eddy_notify_clone(_ n: eddy_notify_t, _ out: UnsafeMutablePointer<eddy_notify_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return with(n.id, .notify, CNotify.self) { h -> Int32 in
        guard let out else { return EddyCode.einval }
        guard let owner = handleTable.ownerOf(n.id) else { return EddyCode.badHandle }
        let (id, err) = insertOwned(CNotify(h.notify), .notify, rt: owner)
        guard let id else { return err }
        out.pointee = eddy_notify_t(id: id)
        return 0
    }
}

@c @implementation
public func eddy_notify_one(_ n: eddy_notify_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return with(n.id, .notify, CNotify.self) { h -> Int32 in
        h.notify.notifyOne()
        return 0
    }
}

@c @implementation
public func eddy_notify_all(_ n: eddy_notify_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return with(n.id, .notify, CNotify.self) { h -> Int32 in
        h.notify.notifyWaiters()
        return 0
    }
}

@c @implementation
public func eddy_notify_poll_wait(_ n: eddy_notify_t, _ cx: OpaquePointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    return with(n.id, .notify, CNotify.self) { h -> Int32 in
        h.notify.pollNotified(h.node, cxp.pointee.waker).isReady ? EddyCode.ready : EddyCode.pending
    }
}

@c @implementation
public func eddy_notify_free(_ n: eddy_notify_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.remove(n.id, .notify) else { return EddyCode.badHandle }
    Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}
