// WatchExports: eddy_watch_* (include/eddy.h, "broadcast and watch channels").
//
// The core's watch channel (Sources/Eddy/Sync/Watch.swift) holding one `CSharedValue`
// box: the box drops its value when the next send supersedes it or when the channel
// dies; receivers get clones. Any thread.

import CEddyABI
import Eddy

private typealias WRx = WatchReceiver<CSharedValue>

/// A C watch sender handle's object: the core's sender and the functions each value
/// sent is boxed with.
private final class WTx {
    let sender: WatchSender<CSharedValue>
    let clone: CCloneFn?
    let drop: CDropFn?
    init(_ sender: WatchSender<CSharedValue>, _ clone: CCloneFn?, _ drop: CDropFn?) {
        self.sender = sender
        self.clone = clone
        self.drop = drop
    }
}

@c @implementation
public func eddy_watch_new(_ rt: eddy_runtime_t, _ initial: UnsafeMutableRawPointer?, _ clone: CCloneFn?, _ drop: CDropFn?,
                           _ tx: UnsafeMutablePointer<eddy_watch_tx_t>?, _ rx: UnsafeMutablePointer<eddy_watch_rx_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let err = sharedChannelOwner(rt.id)
    guard err == 0 else { return err }
    guard let tx, let rx else { return EddyCode.einval }
    // On failure the initial value stays the caller's (the header's rule for a refused send).
    let box = CSharedValue(initial, clone: clone, drop: drop)
    let (s, r) = watch(box)
    let (t, e1) = insertEnd(WTx(s, clone, drop), .watch, receiver: false, owner: rt.id)
    guard e1 == 0 else {
        box.disarmed = true
        return e1
    }
    let (rid, e2) = insertEnd(r, .watch, receiver: true, owner: rt.id)
    guard e2 == 0 else {
        box.disarmed = true
        _ = freeEnd(t, .watch, receiver: false)
        return e2
    }
    tx.pointee = eddy_watch_tx_t(id: t)
    rx.pointee = eddy_watch_rx_t(id: rid)
    return 0
}

@c @implementation
public func eddy_watch_subscribe(_ tx: eddy_watch_tx_t, _ out: UnsafeMutablePointer<eddy_watch_rx_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withSharedEnd(tx.id, .watch, receiver: false) { p -> Int32 in
        guard let out else { return EddyCode.einval }
        guard let owner = handleTable.ownerOf(tx.id) else { return EddyCode.badHandle }
        let r = Unmanaged<WTx>.fromOpaque(p).takeUnretainedValue().sender.subscribe()
        let (id, err) = insertEnd(r, .watch, receiver: true, owner: owner)
        guard err == 0 else { return err }
        out.pointee = eddy_watch_rx_t(id: id)
        return 0
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_watch_send(_ tx: eddy_watch_tx_t, _ value: UnsafeMutableRawPointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withSharedEnd(tx.id, .watch, receiver: false) { p -> Int32 in
        let s = Unmanaged<WTx>.fromOpaque(p).takeUnretainedValue()
        s.sender.send(CSharedValue(value, clone: s.clone, drop: s.drop))
        return 0
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_watch_get(_ rx: eddy_watch_rx_t, _ value: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withSharedEnd(rx.id, .watch, receiver: true) { p -> Int32 in
        guard let value else { return EddyCode.einval }
        // The box is held here, so a racing send cannot drop it during the clone.
        let box = Unmanaged<WRx>.fromOpaque(p).takeUnretainedValue().value
        value.pointee = box.delivered()
        return 0
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_watch_has_changed(_ rx: eddy_watch_rx_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withSharedEnd(rx.id, .watch, receiver: true) { p -> Int32 in
        Unmanaged<WRx>.fromOpaque(p).takeUnretainedValue().hasChanged ? 1 : 0
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_watch_poll_changed(_ rx: eddy_watch_rx_t, _ cx: OpaquePointer?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    return withSharedEnd(rx.id, .watch, receiver: true) { p -> Int32 in
        switch Unmanaged<WRx>.fromOpaque(p).takeUnretainedValue().pollChanged(cxp.pointee.waker) {
        case .pending: return EddyCode.pending
        case .ready(true): return EddyCode.ready
        case .ready(false): return EddyCode.epipe
        }
    } ?? EddyCode.badHandle
}

@c @implementation
public func eddy_watch_sender_free(_ tx: eddy_watch_tx_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return freeEnd(tx.id, .watch, receiver: false)
}

@c @implementation
public func eddy_watch_receiver_free(_ rx: eddy_watch_rx_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    return freeEnd(rx.id, .watch, receiver: true)
}
