// CSharedValue: a C value kept by a broadcast or watch channel (include/eddy.h,
// "broadcast and watch channels"). The channel holds one box per value; the box's
// deinit runs the drop function, so ARC gives "exactly once, when superseded or when
// the channel dies" for free. Receivers get `clone(value)`, never the box's pointer.

import CEddyABI

/// The clone function type of include/eddy.h (`eddy_clone_fn`).
public typealias CCloneFn = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?

/// One value owned by a broadcast or watch channel.
final class CSharedValue: @unchecked Sendable {
    // @unchecked Sendable: immutable once published (`disarmed` is only set before); the C
    // caller handed the pointer's ownership over.
    let pointer: UnsafeMutableRawPointer?
    let clone: CCloneFn?
    let drop: CDropFn?
    /// Set by a failed creation before anyone else sees the box: the value stays the caller's.
    var disarmed = false

    init(_ pointer: UnsafeMutableRawPointer?, clone: CCloneFn?, drop: CDropFn?) {
        self.pointer = pointer
        self.clone = clone
        self.drop = drop
    }
    deinit { if !disarmed { drop?(pointer) } }

    /// What a receiver gets: a clone it owns, or the pointer itself without a clone function.
    /// The caller holds `self`, so the value cannot be dropped during the clone.
    func delivered() -> UnsafeMutableRawPointer? {
        guard let clone else { return pointer }
        return clone(pointer)
    }
}

/// Bit 0 of a broadcast or watch handle's object bits: the handle is a receiver.
let receiverFlag: UInt = 1

/// Any-thread access to a broadcast/watch handle's object, checking sender vs receiver.
@inline(__always)
func withSharedEnd<R>(_ id: UInt64, _ kind: HandleKind, receiver: Bool, _ body: (UnsafeMutableRawPointer) -> R) -> R? {
    guard let bits = handleTable.retainShared(id, kind) else { return nil }
    let p = HandleTable.pointer(bits)
    defer { Unmanaged<AnyObject>.fromOpaque(p).release() }
    guard (bits & receiverFlag != 0) == receiver else { return nil }
    return body(p)
}

/// Frees one end of a broadcast/watch channel (the wrong end is a bad handle).
func freeEnd(_ id: UInt64, _ kind: HandleKind, receiver: Bool) -> Int32 {
    // Check the end before removing: a sender's id passed to a receiver free must not free it.
    guard withSharedEnd(id, kind, receiver: receiver, { _ in true }) != nil,
          let bits = handleTable.remove(id, kind) else { return EddyCode.badHandle }
    Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}

/// Stores a new end for runtime `owner`: its id, or an error code.
func insertEnd(_ object: AnyObject, _ kind: HandleKind, receiver: Bool, owner: UInt64) -> (UInt64, Int32) {
    guard let id = insertHandle(object, kind: kind, owner: owner, thread: currentThread(),
                                flag: receiver ? receiverFlag : 0) else {
        return (0, handleTable.ownerThread(owner) == nil ? EddyCode.shutdown : EddyCode.enomem)
    }
    return (id, 0)
}

/// The runtime a new channel belongs to, or an error code.
func sharedChannelOwner(_ rt: UInt64) -> Int32 {
    guard HandleTable.kindBits(rt) == UInt64(HandleKind.runtime.rawValue), handleTable.ownerThread(rt) != nil else {
        return EddyCode.badHandle
    }
    return 0
}
