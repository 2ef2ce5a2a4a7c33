// SignalExports: eddy_signal_watch, eddy_signal_poll, eddy_signal_free.
//
// A signal handle is a `Signals` watcher (Sources/Eddy/OS/Signals.swift): its
// signalfd is registered with the runtime, so everything is owning-thread only
// (the slot records the runtime's thread: EDDY_EWRONGTHREAD otherwise).

import CEddyABI
import Eddy

@c @implementation
public func eddy_signal_watch(_ rt: eddy_runtime_t, _ signums: UnsafePointer<Int32>?, _ count: Int,
                              _ out: UnsafeMutablePointer<eddy_signal_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let signums, let out, count > 0, count <= 64 else { return EddyCode.einval }
    let list = (0..<count).map { Signal(rawValue: signums[$0]) }
    let s: Signals
    do { s = try Signals(list, runtime: cr.runtime) } catch { return error.code }
    guard let id = insertHandle(s, kind: .signal, owner: cr.id, thread: cr.thread) else {
        s.cancel()
        return EddyCode.enomem
    }
    out.pointee = eddy_signal_t(id: id)
    return 0
}

@c @implementation
public func eddy_signal_poll(_ sig: eddy_signal_t, _ cx: OpaquePointer?, _ signum: UnsafeMutablePointer<Int32>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let r = HandleTable.lookupLocal(sig.id, .signal, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let signum else { return EddyCode.einval }
    let polled = Unmanaged<Signals>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
        $0.pollNext(&cxp.pointee)
    }
    switch polled {
    case .pending: return EddyCode.pending
    case .ready(.failure(let e)): return e.code
    case .ready(.success(let s)):
        signum.pointee = s.rawValue
        return EddyCode.ready
    }
}

@c @implementation
public func eddy_signal_free(_ sig: eddy_signal_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(sig.id, .signal, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let bits = handleTable.remove(sig.id, .signal) else { return EddyCode.badHandle }
    Unmanaged<Signals>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue().cancel()
    return 0
}
