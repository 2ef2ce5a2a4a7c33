// ChannelExports: eddy_channel_* and eddy_oneshot_new (include/eddy.h, "Channels").
//
// Every function is any-thread: handles are read with the table's pinned lookup
// (`retainShared`) and the core's channels are thread-safe. The poll functions take
// any runtime's cx. Uncontended send/receive: no lock, no allocation (the retain of
// the pinned lookup is the only reference counting).

import CEddyABI
import Eddy

/// The runtime id a new channel belongs to, or an error code.
private func channelOwner(_ rt: UInt64) -> (UInt64, Int32) {
    guard HandleTable.kindBits(rt) == UInt64(HandleKind.runtime.rawValue), handleTable.ownerThread(rt) != nil else {
        return (0, EddyCode.badHandle)
    }
    return (rt, 0)
}

@c @implementation
public func eddy_channel_new(_ rt: eddy_runtime_t, _ capacity: Int, _ drop: CDropFn?,
                             _ tx: UnsafeMutablePointer<eddy_sender_t>?, _ rx: UnsafeMutablePointer<eddy_receiver_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (owner, err) = channelOwner(rt.id)
    guard err == 0 else { return err }
    guard let tx, let rx, capacity >= 1, capacity <= 1 << 30 else { return EddyCode.einval }
    let (s, r) = channel(of: CValue.self, capacity: capacity, dropUndelivered: cDropHook(drop))
    return insertChannel(owner, sender: s, receiver: r, oneshot: false, tx, rx)
}

@c @implementation
public func eddy_oneshot_new(_ rt: eddy_runtime_t, _ drop: CDropFn?,
                             _ tx: UnsafeMutablePointer<eddy_sender_t>?, _ rx: UnsafeMutablePointer<eddy_receiver_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (owner, err) = channelOwner(rt.id)
    guard err == 0 else { return err }
    guard let tx, let rx else { return EddyCode.einval }
    // One object for both ends (COneshot): each handle holds a reference.
    let o = COneshot(drop: drop)
    return insertChannel(owner, sender: o, receiver: o, oneshot: true, tx, rx)
}

@c @implementation
public func eddy_channel_clone_sender(_ tx: eddy_sender_t, _ out: UnsafeMutablePointer<eddy_sender_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.retainShared(tx.id, .sender) else { return EddyCode.badHandle }
    let p = HandleTable.pointer(bits)
    defer { Unmanaged<AnyObject>.fromOpaque(p).release() }
    guard let out, bits & oneshotFlag == 0 else { return EddyCode.einval }
    let clone = Unmanaged<Sender<CValue>>.fromOpaque(p).takeUnretainedValue().clone()
    let owner = handleTable.ownerOf(tx.id)
    guard let owner, let id = insertHandle(clone, kind: .sender, owner: owner, thread: currentThread()) else {
        return owner == nil ? EddyCode.badHandle : EddyCode.enomem
    }
    out.pointee = eddy_sender_t(id: id)
    return 0
}

@c @implementation
public func eddy_channel_try_send(_ tx: eddy_sender_t, _ value: UnsafeMutableRawPointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withShared(tx.id, .sender) { p, isOneshot -> Int32 in
        do throws(SendError<CValue>) {
            if isOneshot {
                return Unmanaged<COneshot>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.send(value) }
            } else {
                try Unmanaged<Sender<CValue>>.fromOpaque(p).takeUnretainedValue().trySend(CValue(pointer: value))
            }
            return 0
        } catch {
            return syncCode(error.reason)
        }
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_channel_poll_send(_ tx: eddy_sender_t, _ cx: OpaquePointer?, _ value: UnsafeMutableRawPointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    return withShared(tx.id, .sender) { p, isOneshot -> Int32 in
        if isOneshot {
            let r = Unmanaged<COneshot>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.send(value) }
            return r == 0 ? EddyCode.ready : r
        }
        return Unmanaged<Sender<CValue>>.fromOpaque(p)._withUnsafeGuaranteedRef { s -> Int32 in
            // Room now and nobody queued: no waker needed.
            do throws(SendError<CValue>) {
                try s.trySend(CValue(pointer: value))
                return EddyCode.ready
            } catch where error.reason == .closed {
                return EddyCode.epipe
            } catch {}
            switch s.pollReserve(&cxp.pointee) {
            case .pending: return EddyCode.pending
            case .ready(false): return EddyCode.epipe
            case .ready(true):
                do throws(SendError<CValue>) {
                    try s.sendReserved(CValue(pointer: value))
                    return EddyCode.ready
                } catch { return syncCode(error.reason) }
            }
        }
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_channel_try_recv(_ rx: eddy_receiver_t, _ value: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withShared(rx.id, .receiver) { p, isOneshot -> Int32 in
        guard let value else { return EddyCode.einval }
        if isOneshot {
            var v: UnsafeMutableRawPointer?
            let r = Unmanaged<COneshot>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.tryReceive(&v) }
            if r == 0 { value.pointee = v }
            return r
        }
        do throws(SyncError) {
            let v = try Unmanaged<Receiver<CValue>>.fromOpaque(p).takeUnretainedValue().tryReceive()
            value.pointee = v.pointer
            return 0
        } catch {
            return syncCode(error)
        }
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_channel_poll_recv(_ rx: eddy_receiver_t, _ cx: OpaquePointer?,
                                   _ value: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    return withShared(rx.id, .receiver) { p, isOneshot -> Int32 in
        guard let value else { return EddyCode.einval }
        if isOneshot {
            var v: UnsafeMutableRawPointer?
            let r = Unmanaged<COneshot>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.pollReceive(&cxp.pointee, &v) }
            if r == EddyCode.ready { value.pointee = v }
            return r
        }
        return Unmanaged<Receiver<CValue>>.fromOpaque(p)._withUnsafeGuaranteedRef { r -> Int32 in
            // A value now: no waker needed.
            do throws(SyncError) {
                value.pointee = try r.tryReceive().pointer
                return EddyCode.ready
            } catch .closed {
                return EddyCode.epipe
            } catch {}
            switch r.pollReceive(&cxp.pointee) {
            case .pending: return EddyCode.pending
            case .ready(nil): return EddyCode.epipe
            case .ready(let v?):
                value.pointee = v.pointer
                return EddyCode.ready
            }
        }
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_channel_close(_ rx: eddy_receiver_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withShared(rx.id, .receiver) { p, isOneshot -> Int32 in
        if isOneshot {
            Unmanaged<COneshot>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.close() }
        } else {
            Unmanaged<Receiver<CValue>>.fromOpaque(p)._withUnsafeGuaranteedRef { $0.close() }
        }
        return 0
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_channel_sender_free(_ tx: eddy_sender_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.remove(tx.id, .sender) else { return EddyCode.badHandle }
    if bits & oneshotFlag != 0 {  // the object is shared with the receiver: say this end left
        Unmanaged<COneshot>.fromOpaque(HandleTable.pointer(bits))._withUnsafeGuaranteedRef { $0.senderGoneNow() }
    }
    Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}

@c @implementation
public func eddy_channel_receiver_free(_ rx: eddy_receiver_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.remove(rx.id, .receiver) else { return EddyCode.badHandle }
    if bits & oneshotFlag != 0 {  // shared with the sender: close this end (releases an unreceived value)
        Unmanaged<COneshot>.fromOpaque(HandleTable.pointer(bits))._withUnsafeGuaranteedRef { $0.close() }
    }
    Unmanaged<AnyObject>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}
