// CChannel: what channel handles point to, and the mapping of the core's channel
// outcomes onto the ABI's codes. The channels themselves are the core's
// (Sources/Eddy/Sync); C values are `void*` with the channel's drop function.

import CEddyABI
import Eddy

/// A C value in a channel. Sendable because the C caller hands its ownership over with
/// the send (include/eddy.h, "Ownership of values").
struct CValue: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
}

/// Bit 0 of a sender or receiver handle's object bits: a oneshot channel.
let oneshotFlag: UInt = 1

/// The `dropUndelivered` hook running a C drop function on each value never received.
func cDropHook(_ drop: CDropFn?) -> (@Sendable (CValue) -> Void)? {
    guard let drop else { return nil }
    return { v in drop(v.pointer) }
}

/// The ABI code of a sync outcome.
func syncCode(_ e: SyncError) -> Int32 {
    switch e {
    case .closed: return EddyCode.epipe
    case .full, .empty: return EddyCode.eagain
    case .alreadyReceived: return EddyCode.notReady
    case .notHeld: return EddyCode.einval
    }
}

/// Any-thread access to a channel handle's object: retained for the call
/// (`retainShared`), with the oneshot flag.
@inline(__always)
func withShared<R>(_ id: UInt64, _ kind: HandleKind, _ body: (UnsafeMutableRawPointer, Bool) -> R) -> R? {
    guard let bits = handleTable.retainShared(id, kind) else { return nil }
    let p = HandleTable.pointer(bits)
    defer { Unmanaged<AnyObject>.fromOpaque(p).release() }
    return body(p, bits & oneshotFlag != 0)
}

/// Stores a channel's two ends for runtime `rt`; on failure releases what was made.
func insertChannel(_ rt: UInt64, sender: AnyObject, receiver: AnyObject, oneshot: Bool,
                   _ tx: UnsafeMutablePointer<eddy_sender_t>, _ rx: UnsafeMutablePointer<eddy_receiver_t>) -> Int32 {
    let flag = oneshot ? oneshotFlag : 0
    // Both ends in one table lock hold (each handle holds one reference).
    let sb = UInt(bitPattern: Unmanaged.passRetained(sender).toOpaque()) | flag
    let rb = UInt(bitPattern: Unmanaged.passRetained(receiver).toOpaque()) | flag
    guard let (t, r) = handleTable.insertPair(sb, .sender, rb, .receiver, owner: rt, thread: currentThread()) else {
        Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(sb)).release()
        Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(rb)).release()
        return handleTable.ownerThread(rt) == nil ? EddyCode.shutdown : EddyCode.enomem
    }
    tx.pointee = eddy_sender_t(id: t)
    rx.pointee = eddy_receiver_t(id: r)
    return 0
}
