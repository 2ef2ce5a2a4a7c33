// BroadcastExports: eddy_broadcast_* (include/eddy.h, "broadcast and watch channels").
//
// The core's broadcast channel (Sources/Eddy/Sync/Broadcast.swift) carrying one
// `CSharedValue` box per value: the box drops its value when superseded or when the
// channel dies; receivers get clones. Any thread, like the mpsc exports.

import CEddyABI
import Eddy

private typealias BRx = BroadcastReceiver<CSharedValue>

/// A C broadcast sender handle's object: the core's sender and the functions each value
/// sent is boxed with.
private final class BTx {
    let sender: BroadcastSender<CSharedValue>
    let clone: CCloneFn?
    let drop: CDropFn?
    init(_ sender: BroadcastSender<CSharedValue>, _ clone: CCloneFn?, _ drop: CDropFn?) {
        self.sender = sender
        self.clone = clone
        self.drop = drop
    }
}
@c @implementation
public func eddy_broadcast_new(_ rt: eddy_runtime_t, _ capacity: Int, _ clone: CCloneFn?, _ drop: CDropFn?,
                               _ tx: UnsafeMutablePointer<eddy_broadcast_tx_t>?,
                               _ rx: UnsafeMutablePointer<eddy_broadcast_rx_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let err = sharedChannelOwner(rt.id)
    guard err == 0 else { return err }
    guard let tx, let rx, capacity >= 1, capacity <= 1 << 24 else { return EddyCode.einval }
    let (s, r) = broadcast(of: CSharedValue.self, capacity: capacity)
    let (t, e1) = insertEnd(BTx(s, clone, drop), .broadcast, receiver: false, owner: rt.id)
    guard e1 == 0 else { return e1 }
    let (rid, e2) = insertEnd(r, .broadcast, receiver: true, owner: rt.id)
    guard e2 == 0 else {
        _ = freeEnd(t, .broadcast, receiver: false)
        return e2
    }
    tx.pointee = eddy_broadcast_tx_t(id: t)
    rx.pointee = eddy_broadcast_rx_t(id: rid)
    return 0
}

@c @implementation
public func eddy_broadcast_subscribe(_ tx: eddy_broadcast_tx_t, _ out: UnsafeMutablePointer<eddy_broadcast_rx_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withSharedEnd(tx.id, .broadcast, receiver: false) { p -> Int32 in
        guard let out else { return EddyCode.einval }
        guard let owner = handleTable.ownerOf(tx.id) else { return EddyCode.badHandle }
        let r = Unmanaged<BTx>.fromOpaque(p).takeUnretainedValue().sender.subscribe()
        let (id, err) = insertEnd(r, .broadcast, receiver: true, owner: owner)
        guard err == 0 else { return err }
        out.pointee = eddy_broadcast_rx_t(id: id)
        return 0
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_broadcast_send(_ tx: eddy_broadcast_tx_t, _ value: UnsafeMutableRawPointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withSharedEnd(tx.id, .broadcast, receiver: false) { p -> Int32 in
        let s = Unmanaged<BTx>.fromOpaque(p).takeUnretainedValue()
        let n = s.sender.send(CSharedValue(value, clone: s.clone, drop: s.drop))
        return Int32(clamping: n)
    } ?? EddyCode.badHandle
}

/// The ABI result of one broadcast receive outcome.
private func deliver(_ r: BroadcastReceive<CSharedValue>, _ rx: BRx,
                     _ value: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                     _ missed: UnsafeMutablePointer<UInt64>?) -> Int32 {
    switch r {
    case .closed: return EddyCode.epipe
    case .value(let v):
        missed?.pointee = 0
        value.pointee = v.delivered()
        return 0
    case .lagged(var n):
        // Lagged: the oldest value kept is there now; sends racing with us may push it
        // out again, so add up until a value comes.
        while true {
            switch rx.tryReceive() {
            case .value(let v)?:
                missed?.pointee = UInt64(n)
                value.pointee = v.delivered()
                return 0
            case .lagged(let more)?: n += more
            case .closed?, nil: return EddyCode.eagain  // cannot happen: a kept value is never removed
            }
        }
    }
}

@c @implementation
public func eddy_broadcast_try_recv(_ rx: eddy_broadcast_rx_t, _ value: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                    _ missed: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withSharedEnd(rx.id, .broadcast, receiver: true) { p -> Int32 in
        guard let value else { return EddyCode.einval }
        let r = Unmanaged<BRx>.fromOpaque(p).takeUnretainedValue()
        guard let got = r.tryReceive() else { return EddyCode.eagain }
        return deliver(got, r, value, missed)
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_broadcast_poll_recv(_ rx: eddy_broadcast_rx_t, _ cx: OpaquePointer?,
                                     _ value: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                     _ missed: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    return withSharedEnd(rx.id, .broadcast, receiver: true) { p -> Int32 in
        guard let value else { return EddyCode.einval }
        let r = Unmanaged<BRx>.fromOpaque(p).takeUnretainedValue()
        switch r.pollReceive(cxp.pointee.waker) {
        case .pending: return EddyCode.pending
        case .ready(let got):
            let code = deliver(got, r, value, missed)
            return code == 0 ? EddyCode.ready : code
        }
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_broadcast_sender_free(_ tx: eddy_broadcast_tx_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return freeEnd(tx.id, .broadcast, receiver: false)
}

@c @implementation
public func eddy_broadcast_receiver_free(_ rx: eddy_broadcast_rx_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return freeEnd(rx.id, .broadcast, receiver: true)
}
