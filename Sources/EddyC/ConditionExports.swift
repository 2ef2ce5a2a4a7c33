// ConditionExports: eddy_condition_* (include/eddy.h, "Sync primitives").
//
// A handle is one waiting place with its phase: idle -> waiting (queued, mutex
// released) -> relocking (notified, re-acquiring the mutex through the caller's
// mutex handle) -> idle. Freeing it withdraws its place (a notification it got
// goes on). Any thread; the poll takes any runtime's cx.

import CEddyABI
import Eddy
import Synchronization

/// What a condition handle points to.
final class CCondition: @unchecked Sendable {
    // @unchecked Sendable: `phase` is atomic; the node is guarded by the condition's lock.
    static let idle = 0, waiting = 1, relocking = 2
    let cond: Condition
    let node = WaitNode()
    let phase = Atomic<Int>(0)
    init(_ cond: Condition) { self.cond = cond }
    deinit { cond.cancel(node) }
}

@c @implementation
public func eddy_condition_new(_ rt: eddy_runtime_t, _ out: UnsafeMutablePointer<eddy_condition_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard HandleTable.kindBits(rt.id) == UInt64(HandleKind.runtime.rawValue), handleTable.ownerThread(rt.id) != nil else {
        return EddyCode.badHandle
    }
    guard let out else { return EddyCode.einval }
    guard let id = insertHandle(CCondition(Condition()), kind: .condition, owner: rt.id, thread: currentThread()) else {
        return handleTable.ownerThread(rt.id) == nil ? EddyCode.shutdown : EddyCode.enomem
    }
    out.pointee = eddy_condition_t(id: id)
    return 0
}

@c @implementation
public func eddy_condition_clone(_ c: eddy_condition_t, _ out: UnsafeMutablePointer<eddy_condition_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withShared(c.id, .condition) { p, _ -> Int32 in
        guard let out else { return EddyCode.einval }
        let h = Unmanaged<CCondition>.fromOpaque(p).takeUnretainedValue()
        guard let owner = handleTable.ownerOf(c.id) else { return EddyCode.badHandle }
        guard let id = insertHandle(CCondition(h.cond), kind: .condition, owner: owner, thread: currentThread()) else {
            return EddyCode.enomem
        }
        out.pointee = eddy_condition_t(id: id)
        return 0
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_condition_poll_wait(_ c: eddy_condition_t, _ mutex: eddy_semaphore_t, _ cx: OpaquePointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    guard let mbits = handleTable.retainShared(mutex.id, .semaphore) else { return EddyCode.badHandle }
    let mp = HandleTable.pointer(mbits)
    defer { Unmanaged<AnyObject>.fromOpaque(mp).release() }
    let m = Unmanaged<CSemaphore>.fromOpaque(mp).takeUnretainedValue()
    return withShared(c.id, .condition) { p, _ -> Int32 in
        let h = Unmanaged<CCondition>.fromOpaque(p).takeUnretainedValue()
        guard m.bound == 1 else { return EddyCode.einval }
        let waker = cxp.pointee.waker
        if h.phase.load(ordering: .acquiring) == CCondition.idle {
            h.cond.enqueue(h.node, waker)  // before the unlock: no notification lost
            guard m.sem.release(bound: 1) else {
                h.cond.cancel(h.node)
                return EddyCode.einval  // the mutex is not held
            }
            h.phase.store(CCondition.waiting, ordering: .releasing)
        }
        if h.phase.load(ordering: .acquiring) == CCondition.waiting {
            guard h.cond.pollNotified(h.node, waker).isReady else { return EddyCode.pending }
            h.phase.store(CCondition.relocking, ordering: .releasing)
        }
        switch m.sem.pollAcquire(m.node, waker) {
        case .pending: return EddyCode.pending
        case .ready(let ok):
            h.phase.store(CCondition.idle, ordering: .releasing)
            return ok ? EddyCode.ready : EddyCode.epipe
        }
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_condition_notify_one(_ c: eddy_condition_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withShared(c.id, .condition) { p, _ -> Int32 in
        Unmanaged<CCondition>.fromOpaque(p).takeUnretainedValue().cond.notify(1)
        return 0
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_condition_notify_all(_ c: eddy_condition_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withShared(c.id, .condition) { p, _ -> Int32 in
        Unmanaged<CCondition>.fromOpaque(p).takeUnretainedValue().cond.notifyAll()
        return 0
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_condition_free(_ c: eddy_condition_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.remove(c.id, .condition) else { return EddyCode.badHandle }
    Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}
