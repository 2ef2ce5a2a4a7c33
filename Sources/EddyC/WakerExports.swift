// WakerExports: eddy_cx_waker, eddy_cx_runtime, eddy_waker_wake, eddy_waker_free.
//
// A waker handle lets a hand-written C leaf future (e.g. one fed by its own
// thread) wake its task. Wake and free are any-thread: they use the table's
// pinned lookup, and the core Waker itself is thread-safe and wake-once.

import CEddyABI
import Eddy

/// What a waker handle points to.
final class WakerBox: @unchecked Sendable {
    let waker: Waker
    init(_ waker: Waker) { self.waker = waker }
}

@c @implementation
public func eddy_cx_waker(_ cx: OpaquePointer?, _ out: UnsafeMutablePointer<eddy_waker_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx), let out else { return EddyCode.einval }
    let rtID = runtimeRegistry.withLock { $0[ObjectIdentifier(cxp.pointee.runtime)] }
    guard let rtID else { return EddyCode.einval }  // a runtime not created through the C ABI
    guard let id = insertHandle(WakerBox(cxp.pointee.waker), kind: .waker, owner: rtID, thread: currentThread()) else {
        return EddyCode.enomem
    }
    out.pointee = eddy_waker_t(id: id)
    return 0
}

@c @implementation
public func eddy_cx_runtime(_ cx: OpaquePointer?, _ out: UnsafeMutablePointer<eddy_runtime_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx), let out else { return EddyCode.einval }
    guard let rtID = runtimeRegistry.withLock({ $0[ObjectIdentifier(cxp.pointee.runtime)] }) else {
        return EddyCode.einval
    }
    out.pointee = eddy_runtime_t(id: rtID)
    return 0
}

@c @implementation
public func eddy_waker_wake(_ waker: eddy_waker_t) -> Int32 {
    let waker = waker.id
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.retainShared(waker, .waker) else { return EddyCode.badHandle }
    let u = Unmanaged<WakerBox>.fromOpaque(HandleTable.pointer(bits))
    u._withUnsafeGuaranteedRef { $0.waker.wake() }
    u.release()
    return 0
}

@c @implementation
public func eddy_waker_free(_ waker: eddy_waker_t) -> Int32 {
    let waker = waker.id
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.remove(waker, .waker) else { return EddyCode.badHandle }
    Unmanaged<WakerBox>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}
