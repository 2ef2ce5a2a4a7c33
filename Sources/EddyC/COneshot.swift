// COneshot: a C oneshot channel as one object. Both handles (the sender's and the
// receiver's, each with the oneshot flag) point to it, each holding one reference.
//
// Why not the core's `oneshot(of: CValue.self)`: that is three objects (state, sender,
// receiver), and its generic classes' deinits look up `Optional<CValue>` metadata on
// every free (a deinit is never specialised): ~1 300 of a C oneshot's 2 800 instructions
// (docs/PERFORMANCE-LOG.md). The protocol is the same: one state word, whoever sets a bit
// second handles the value; the receiver's waker behind a spin word.

import CEddyABI
import Eddy
import Synchronization

final class COneshot: @unchecked Sendable {
    // @unchecked Sendable: `value` is written by the sender before it sets `sent`
    // (release) and read by whoever wins the word afterwards; `waker` only under `lock`.
    static let sent: UInt32 = 1          // the sender stored the value
    static let senderGone: UInt32 = 2    // the sender's handle was freed unsent
    static let receiverGone: UInt32 = 4  // the receiver closed or was freed
    static let taken: UInt32 = 8         // the receiver took the value (or a send claims the cell)

    let word = Atomic<UInt32>(0)
    /// Spin word guarding `waker`; `hasWaker` mirrors it so a wake with nobody waiting
    /// is one load.
    let lock = Atomic<UInt32>(0)
    let hasWaker = Atomic<Bool>(false)
    @exclusivity(unchecked) var waker: Waker?
    @exclusivity(unchecked) var value: UnsafeMutableRawPointer?
    /// Runs on a value sent and never received.
    let drop: CDropFn?

    init(drop: CDropFn?) { self.drop = drop }

    deinit {
        // Both handles gone without the receiver's close (the runtime was freed): a value
        // still in the cell is released here.
        let w = word.load(ordering: .acquiring)
        if w & (COneshot.sent | COneshot.taken | COneshot.receiverGone) == COneshot.sent { drop?(value) }
    }

    @inline(__always) private func set(_ bits: UInt32) -> UInt32 {
        word.bitwiseOr(bits, ordering: .acquiringAndReleasing).oldValue
    }

    // MARK: sender

    /// Sends `v`: 0, or EDDY_EPIPE (receiver gone, or already sent: the caller keeps `v`).
    func send(_ v: UnsafeMutableRawPointer?) -> Int32 {
        let w = word.load(ordering: .acquiring)
        if w & (COneshot.sent | COneshot.receiverGone) != 0 { return EddyCode.epipe }
        // Claim the cell: a second concurrent send loses this CAS.
        guard word.compareExchange(expected: w, desired: w | COneshot.taken, ordering: .acquiringAndReleasing).exchanged else {
            return EddyCode.epipe
        }
        value = v
        // Publish: clear the claim, set `sent`. If the receiver left meanwhile, take it back.
        let old = word.bitwiseXor(COneshot.taken | COneshot.sent, ordering: .acquiringAndReleasing).oldValue
        if old & COneshot.receiverGone != 0 {
            value = nil
            return EddyCode.epipe
        }
        wake()
        return 0
    }

    /// Holders of the sending end: the sender's handle and each pending send future
    /// (eddy_channel_send), so freeing the handle right after making a send future does not
    /// close the channel under it.
    let senders = Atomic<Int>(1)

    /// A send future takes a share of the sending end (released by `senderGoneNow`).
    func retainSender() { senders.add(1, ordering: .relaxed) }

    /// A holder of the sending end left: when it was the last and nothing was sent, the
    /// receiver's wait ends ("closed").
    func senderGoneNow() {
        guard senders.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 else { return }
        if set(COneshot.senderGone) & COneshot.sent == 0 { wake() }
    }

    // MARK: receiver

    /// Takes the value: 0 with `out` set, EDDY_EAGAIN (not sent yet), EDDY_EPIPE (sender
    /// gone unsent, or closed), EDDY_ENOTREADY (already received).
    func tryReceive(_ out: inout UnsafeMutableRawPointer?) -> Int32 {
        let old = word.load(ordering: .acquiring)
        if old & COneshot.sent != 0 {
            if old & COneshot.receiverGone != 0 { return EddyCode.epipe }
            if set(COneshot.taken) & COneshot.taken != 0 { return EddyCode.notReady }
            out = value
            value = nil
            return 0
        }
        if old & (COneshot.senderGone | COneshot.receiverGone) != 0 { return EddyCode.epipe }
        return EddyCode.eagain
    }

    /// Poll style: EDDY_READY with `out` set, EDDY_PENDING after storing `cx`'s waker, or
    /// the errors of `tryReceive`.
    func pollReceive(_ cx: inout Context, _ out: inout UnsafeMutableRawPointer?) -> Int32 {
        var r = tryReceive(&out)
        if r != EddyCode.eagain { return r == 0 ? EddyCode.ready : r }
        register(cx.waker)
        r = tryReceive(&out)
        if r != EddyCode.eagain { return r == 0 ? EddyCode.ready : r }
        return EddyCode.pending
    }

    /// Refuses the value from now on; a value sent and not received is released. Idempotent.
    func close() {
        let old = set(COneshot.receiverGone)
        if old & (COneshot.sent | COneshot.taken | COneshot.receiverGone) == COneshot.sent {
            let v = value
            value = nil
            drop?(v)
        }
    }

    // MARK: the receiver's waker (as the core's AtomicWaker)

    @inline(__always) private func withLock<R>(_ body: () -> R) -> R {
        while !lock.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {}
        defer { lock.store(0, ordering: .releasing) }
        return body()
    }

    /// Stores `w`; the caller re-checks the word afterwards.
    private func register(_ w: Waker) {
        withLock {
            if let old = waker, old.willWake(w) { return }
            waker = w
            hasWaker.store(true, ordering: .sequentiallyConsistent)
        }
    }

    /// Wakes and clears the registered waker, if any. Any thread.
    private func wake() {
        // Orders the caller's publication before the check, against `register`'s store
        // followed by the receiver's re-check (store-load on both sides).
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard hasWaker.load(ordering: .sequentiallyConsistent) else { return }
        let w: Waker? = withLock {
            hasWaker.store(false, ordering: .relaxed)
            return waker.take()
        }
        w?.wake()
    }
}
