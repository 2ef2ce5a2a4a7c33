// Guards: the checks every entry point makes before touching an object.
//
// Kept as tiny @inline(__always) helpers so the hot poll functions stay
// straight-line code: one relaxed load for the fork flag, one TLS read for the
// cx, one seqlock read of the handle slot, one thread-id call.

import CEddySys
import CEddyABI
import Eddy

/// Identity of the calling thread (opaque C call: pthread_self is `const` and
/// could be cached by the optimiser across calls).
@inline(__always)
func currentThread() -> UInt { UInt(ceddy_thread_id_inline()) }

/// The Context of the poll in progress on this thread, if `cx` is it.
/// C code only ever sees the pointer ceddy_ctask_poll (or a host turn) published in the TLS slot.
@inline(__always)
func validContext(_ cx: OpaquePointer?) -> UnsafeMutablePointer<Context>? {
    // Bit patterns: one compare (a non-nil cx equal to the slot implies the slot is set).
    guard let cx, UInt(bitPattern: ceddy_tls_cx_get()) == UInt(bitPattern: cx) else { return nil }
    return UnsafeMutablePointer<Context>(cx)
}

/// Converts a thrown error into the ABI's code space.
@inline(__always)
func code(of error: any Error) -> Int32 {
    if let e = error as? EddyError { return e.code }
    if error is JoinError { return EddyCode.ecanceled }
    return EddyCode.einval
}

/// Maps a join result to a task status.
@inline(__always)
func taskStatus(_ result: Result<Int32, JoinError>) -> Int32 {
    switch result {
    case .success(let s): return s
    case .failure: return EddyCode.ecanceled
    }
}

/// Looks up a handle that only the owning thread may use and returns its object
/// unretained (the owning thread is the only one that can free it, so it stays
/// alive for the duration of the call).
@inline(__always)
func local<T: AnyObject>(_ id: UInt64, _ kind: HandleKind, as: T.Type) -> (Unmanaged<T>?, Int32) {
    let r = HandleTable.lookupLocal(id, kind, thread: currentThread())
    guard r.error == 0 else { return (nil, r.error) }
    return (Unmanaged<T>.fromOpaque(HandleTable.pointer(r.bits)), 0)
}

/// Stores a new object in the table for runtime `owner` (+1 for the table).
func insertHandle(_ object: AnyObject, kind: HandleKind, owner: UInt64, thread: UInt, flag: UInt = 0) -> UInt64? {
    let bits = UInt(bitPattern: Unmanaged.passRetained(object).toOpaque()) | flag
    guard let id = handleTable.insert(bits: bits, kind: kind, owner: owner, thread: thread) else {
        Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(bits)).release()
        return nil
    }
    return id
}
