// CWaitOp: what a channel or sync future (eddy_channel_send / _recv, eddy_notify_wait,
// eddy_semaphore_acquire, eddy_broadcast_recv, eddy_watch_changed) polls. A `.wait`
// CFuture owns one op; the op holds the core objects it needs (retained, so the C
// handle may be freed meanwhile) and, for waits, a waiting place of its own.
//
// Polling allocates nothing and locks only where the core primitive does. `cancel()`
// (future freed, timeout, runtime freed) gives back the place and drops any value the
// op still holds: exactly once, because the field is cleared first.

import Eddy

/// One channel or sync wait driven as a future. Used on the future's owning thread.
protocol CWaitOp: AnyObject {
    /// EDDY_READY, EDDY_PENDING (waker stored) or an error code (the future completes with it).
    func poll(_ cx: inout Context) -> Int32
    /// The received value and missed count, moved out once (receive ops only).
    func takeReceived() -> Result<(UnsafeMutableRawPointer?, UInt64), EddyError>
    /// Gives back the waiting place and drops what the op still owns. Idempotent.
    func cancel()
}

extension CWaitOp {
    func takeReceived() -> Result<(UnsafeMutableRawPointer?, UInt64), EddyError> { .failure(.invalidArgument) }
}

/// eddy_channel_send: a value on its way into an mpsc or oneshot channel.
final class SendOp: CWaitOp {
    /// mpsc: a clone of the caller's sender (its own FIFO place).
    private var sender: Sender<CValue>?
    /// oneshot: the C oneshot's one object (COneshot), shared with both handles.
    private var oneshot: COneshot?
    /// Until the channel owns it.
    private var value: CValue?
    /// Set once the future is published: from then on a value not sent is dropped
    /// (before, a failed creation leaves it the caller's).
    var owned = false

    init(sender: Sender<CValue>, value: CValue) { self.sender = sender; self.value = value }
    init(oneshot: COneshot, value: CValue) {
        oneshot.retainSender()
        self.oneshot = oneshot
        self.value = value
    }

    deinit { releaseOneshot() }

    /// Gives back this op's share of the oneshot's sending end (once).
    private func releaseOneshot() {
        oneshot?.senderGoneNow()
        oneshot = nil
    }

    func poll(_ cx: inout Context) -> Int32 {
        guard let v = value else { return EddyCode.ecanceled }
        if let o = oneshot {
            let r = o.send(v.pointer)  // on an error the value stays this op's (dropped by cancel)
            if r != 0 { return r }
            value = nil
            releaseOneshot()
            return EddyCode.ready
        }
        guard let s = sender else { return EddyCode.ecanceled }
        // Room now and nobody queued: no waker needed.
        do throws(SendError<CValue>) {
            try s.trySend(v)
            return sent()
        } catch where error.reason == .closed {
            return EddyCode.epipe
        } catch {}
        switch s.pollReserve(&cx) {
        case .pending: return EddyCode.pending
        case .ready(false): return EddyCode.epipe
        case .ready(true):
            do throws(SendError<CValue>) { try s.sendReserved(v) } catch { return syncCode(error.reason) }
            return sent()
        }
    }

    private func sent() -> Int32 {
        value = nil
        sender = nil  // the clone goes: the receiver's end of stream waits for no future
        return EddyCode.ready
    }

    func cancel() {
        let v = value
        value = nil
        if let v, owned {
            if let s = sender { s.dropUndelivered(v) } else { oneshot?.drop?(v.pointer) }
        }
        sender = nil  // Sender's deinit withdraws its place (or a slot it reserved)
        releaseOneshot()
    }
}

/// eddy_channel_recv: the next value of an mpsc or oneshot receiver.
final class RecvOp: CWaitOp {
    private var receiver: Receiver<CValue>?
    private var oneshot: COneshot?
    /// Received and not yet taken.
    private var got: CValue?
    private var taken = false

    init(receiver: Receiver<CValue>) { self.receiver = receiver }
    init(oneshot: COneshot) { self.oneshot = oneshot }

    func poll(_ cx: inout Context) -> Int32 {
        if let o = oneshot {
            var v: UnsafeMutableRawPointer?
            let r = o.pollReceive(&cx, &v)
            if r == EddyCode.ready { got = CValue(pointer: v) }
            return r  // EDDY_READY, EDDY_PENDING, or EPIPE / ENOTREADY
        }
        guard let r = receiver else { return EddyCode.ecanceled }
        switch r.pollReceive(&cx) {
        case .pending: return EddyCode.pending
        case .ready(nil): return EddyCode.epipe
        case .ready(let v?): got = v; return EddyCode.ready
        }
    }

    func takeReceived() -> Result<(UnsafeMutableRawPointer?, UInt64), EddyError> {
        guard let v = got else { return .failure(.notReady) }
        got = nil
        return .success((v.pointer, 0))
    }

    func cancel() {
        let v = got
        got = nil
        if let v {
            if let r = receiver { r.dropUndelivered(v) } else { oneshot?.drop?(v.pointer) }
        }
        receiver = nil
        oneshot = nil
    }
}

/// eddy_notify_wait: a waiting place of its own on the notify.
final class NotifyOp: CWaitOp {
    private var place: CNotify?
    init(_ place: CNotify) { self.place = place }

    func poll(_ cx: inout Context) -> Int32 {
        guard let p = place else { return EddyCode.ecanceled }
        guard p.notify.pollNotified(p.node, cx.waker).isReady else { return EddyCode.pending }
        place = nil
        return EddyCode.ready
    }

    /// CNotify's deinit withdraws the node, handing on a notification it was given.
    func cancel() { place = nil }
}

/// eddy_semaphore_acquire: a waiting place of its own on the semaphore.
final class AcquireOp: CWaitOp {
    private var place: CSemaphore?
    init(_ place: CSemaphore) { self.place = place }

    func poll(_ cx: inout Context) -> Int32 {
        guard let p = place else { return EddyCode.ecanceled }
        switch p.sem.pollAcquire(p.node, cx.waker) {
        case .pending: return EddyCode.pending
        case .ready(let ok):
            place = nil  // the permit is the caller's now; the node is no longer queued
            return ok ? EddyCode.ready : EddyCode.epipe
        }
    }

    /// CSemaphore's deinit withdraws the node, handing on a permit it was given.
    func cancel() { place = nil }
}

/// eddy_broadcast_recv: the next value of a broadcast receiver (a clone, with the
/// drop function to release it with when nobody takes it).
final class BroadcastRecvOp: CWaitOp {
    private var receiver: BroadcastReceiver<CSharedValue>?
    private var got: UnsafeMutableRawPointer?
    private var gotDrop: CDropFn?
    private var has = false
    private var missed: UInt64 = 0

    init(_ receiver: BroadcastReceiver<CSharedValue>) { self.receiver = receiver }

    func poll(_ cx: inout Context) -> Int32 {
        guard let r = receiver else { return EddyCode.ecanceled }
        switch r.pollReceive(cx.waker) {
        case .pending: return EddyCode.pending
        case .ready(.closed): return EddyCode.epipe
        case .ready(.value(let v)): return deliver(v, 0)
        case .ready(.lagged(let n)):
            // As eddy_broadcast_try_recv: the oldest value kept comes next; add up lags
            // from sends racing with us until a value comes.
            var lost = UInt64(n)
            while true {
                switch r.tryReceive() {
                case .value(let v)?: return deliver(v, lost)
                case .lagged(let more)?: lost += UInt64(more)
                case .closed?, nil: return EddyCode.eagain  // cannot happen: a kept value stays
                }
            }
        }
    }

    private func deliver(_ v: CSharedValue, _ lost: UInt64) -> Int32 {
        got = v.delivered()
        // Without a clone function the receiver gets the channel's own pointer: not ours to drop.
        gotDrop = v.clone == nil ? nil : v.drop
        has = true
        missed = lost
        receiver = nil
        return EddyCode.ready
    }

    func takeReceived() -> Result<(UnsafeMutableRawPointer?, UInt64), EddyError> {
        guard has else { return .failure(.notReady) }
        has = false
        let p = got
        got = nil
        return .success((p, missed))
    }

    func cancel() {
        if has {
            has = false
            let p = got
            got = nil
            gotDrop?(p)
        }
        receiver = nil
    }
}

/// eddy_watch_changed: waits for a value this watch receiver did not read.
final class WatchChangedOp: CWaitOp {
    private var receiver: WatchReceiver<CSharedValue>?
    init(_ receiver: WatchReceiver<CSharedValue>) { self.receiver = receiver }

    func poll(_ cx: inout Context) -> Int32 {
        guard let r = receiver else { return EddyCode.ecanceled }
        switch r.pollChanged(cx.waker) {
        case .pending: return EddyCode.pending
        case .ready(let changed):
            receiver = nil
            return changed ? EddyCode.ready : EddyCode.epipe
        }
    }

    func cancel() { receiver = nil }
}
