// WaitFutureExports: the future-style channel and sync calls (include/eddy.h,
// "channel and sync futures"): eddy_channel_send / _recv, eddy_notify_wait,
// eddy_semaphore_acquire, eddy_broadcast_recv, eddy_watch_changed and
// eddy_future_take_received. Each makes a `.wait` CFuture of runtime `rt` around a
// CWaitOp (CWaitOp.swift); the channel or primitive may belong to any runtime.

import CEddyABI
import Eddy

/// Publishes the op made by `make` as a new future of runtime `rt`. `make` runs with the
/// handle's object retained and returns nil for a handle of the wrong end (EBADHANDLE).
@inline(__always)
private func publishWait(_ rt: UInt64, _ out: UnsafeMutablePointer<eddy_future_t>?,
                         _ make: () -> (any CWaitOp)??) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let out else { return EddyCode.einval }
    guard let made = make(), let op = made else { return EddyCode.badHandle }
    return publish(CFuture(op: op), cr, out)
}

@c @implementation
public func eddy_channel_send(_ rt: eddy_runtime_t, _ tx: eddy_sender_t, _ value: UnsafeMutableRawPointer?,
                              _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    // A failed publish closes the future: the op owns the value only once published, so
    // on every error return it stays the caller's (the header's rule).
    var op: SendOp?
    let rc = publishWait(rt.id, out) {
        withShared(tx.id, .sender) { p, isOneshot -> (any CWaitOp)? in
            let v = CValue(pointer: value)
            let o = isOneshot
                ? SendOp(oneshot: Unmanaged<COneshot>.fromOpaque(p).takeUnretainedValue(), value: v)
                : SendOp(sender: Unmanaged<Sender<CValue>>.fromOpaque(p).takeUnretainedValue().clone(), value: v)
            op = o
            return o
        }
    }
    if rc == 0 { op?.owned = true }
    return rc
}

@c @implementation
public func eddy_channel_recv(_ rt: eddy_runtime_t, _ rx: eddy_receiver_t, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    publishWait(rt.id, out) {
        withShared(rx.id, .receiver) { p, isOneshot -> (any CWaitOp)? in
            isOneshot
                ? RecvOp(oneshot: Unmanaged<COneshot>.fromOpaque(p).takeUnretainedValue())
                : RecvOp(receiver: Unmanaged<Receiver<CValue>>.fromOpaque(p).takeUnretainedValue())
        }
    }
}

@c @implementation
public func eddy_notify_wait(_ rt: eddy_runtime_t, _ n: eddy_notify_t, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    publishWait(rt.id, out) {
        withShared(n.id, .notify) { p, _ -> (any CWaitOp)? in
            NotifyOp(CNotify(Unmanaged<CNotify>.fromOpaque(p).takeUnretainedValue().notify))
        }
    }
}

@c @implementation
public func eddy_semaphore_acquire(_ rt: eddy_runtime_t, _ sem: eddy_semaphore_t,
                                   _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    publishWait(rt.id, out) {
        withShared(sem.id, .semaphore) { p, _ -> (any CWaitOp)? in
            let s = Unmanaged<CSemaphore>.fromOpaque(p).takeUnretainedValue()
            return AcquireOp(CSemaphore(s.sem, bound: s.bound))
        }
    }
}

@c @implementation
public func eddy_broadcast_recv(_ rt: eddy_runtime_t, _ rx: eddy_broadcast_rx_t,
                                _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    publishWait(rt.id, out) {
        withSharedEnd(rx.id, .broadcast, receiver: true) { p -> (any CWaitOp)? in
            BroadcastRecvOp(Unmanaged<BroadcastReceiver<CSharedValue>>.fromOpaque(p).takeUnretainedValue())
        }
    }
}

@c @implementation
public func eddy_watch_changed(_ rt: eddy_runtime_t, _ rx: eddy_watch_rx_t, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    publishWait(rt.id, out) {
        withSharedEnd(rx.id, .watch, receiver: true) { p -> (any CWaitOp)? in
            WatchChangedOp(Unmanaged<WatchReceiver<CSharedValue>>.fromOpaque(p).takeUnretainedValue())
        }
    }
}

@c @implementation
public func eddy_future_take_received(_ fut: eddy_future_t, _ value: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                      _ missed: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (lf, err) = localFuture(fut.id)
    guard let lf else { return err }
    guard let value else { return EddyCode.einval }
    switch lf {
    case .timer(let bits): return CTimer.take(fut.id, bits)
    case .object(let f):
        switch f.takeUnretainedValue().takeReceived() {
        case .failure(let e): return e.code
        case .success(let (p, n)):
            value.pointee = p
            missed?.pointee = n
            return 0
        }
    }
}
