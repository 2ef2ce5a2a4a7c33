import CEddySys
import Glibc
import Synchronization

/// One watcher's share of the hub: which signals arrived since it last looked, and the
/// waker of the task waiting for it. Any thread sets bits and wakes.
final class SignalInbox: @unchecked Sendable {
    // @unchecked Sendable: `pending` is atomic; the waker slot is an AtomicWaker.
    /// Bit n: signal n arrived (coalesced: two arrivals before a look are one).
    let pending = Atomic<UInt64>(0)
    let waker = AtomicWaker()

    func post(_ signo: Int32) {
        pending.bitwiseOr(UInt64(1) << UInt64(signo - 1), ordering: .sequentiallyConsistent)
        waker.wake()
    }

    /// The lowest pending signal, cleared; nil when none.
    func take(_ mask: UInt64) -> Int32? {
        while true {
            let p = pending.load(ordering: .sequentiallyConsistent) & mask
            if p == 0 { return nil }
            let bit = p & (~p &+ 1)
            if pending.bitwiseAnd(~bit, ordering: .sequentiallyConsistent).oldValue & bit != 0 {
                return Int32(bit.trailingZeroBitCount + 1)
            }
        }
    }
}

/// The process-wide table of watched signals (one per process, like the signal
/// dispositions it manages). For each signal with at least one watcher it holds the
/// watchers' inboxes, the action that was in place before, and the thread that blocked it.
///
/// The first watcher of a signal blocks it in the calling thread and installs a handler
/// that forwards it to that thread (`ceddy_sig_install`): a process-directed signal then
/// either stays pending for a signalfd or, when the kernel picks a thread that does not
/// block it (a host thread), is re-sent to the blocking thread. It never takes its
/// default action. The last watcher to go consumes what is still pending, restores the
/// saved action and, in the thread that blocked it and only if it was not blocked before,
/// unblocks it. Any signalfd that reads a signal posts it to every inbox of that signal.
final class SignalHub: Sendable {
    struct Entry {
        var inboxes: [SignalInbox] = []
        var saved = sigaction()
        var tid: Int32 = 0
        var wasBlocked = false
    }

    static let shared = SignalHub()
    private let table = Mutex<[Int32: Entry]>([:])

    /// Adds `inbox` as a watcher of each of `signals` (all valid). Throws the errno of
    /// sigaction (nothing is left changed then).
    func add(_ inbox: SignalInbox, _ signals: [Int32]) throws(EddyError) {
        let r: Int32 = table.withLock { t in
            var done: [Int32] = []
            for s in signals {
                if t[s] != nil {
                    t[s]!.inboxes.append(inbox)
                    done.append(s)
                    continue
                }
                var e = Entry()
                e.tid = ceddy_gettid()
                e.wasBlocked = ceddy_sig_block(s, 1) != 0
                let rc = ceddy_sig_install(s, e.tid, &e.saved)
                if rc != 0 {
                    if !e.wasBlocked { _ = ceddy_sig_block(s, 0) }
                    for d in done { Self.drop(&t, inbox, d) }
                    return rc
                }
                e.inboxes.append(inbox)
                t[s] = e
                done.append(s)
            }
            return 0
        }
        if r != 0 { throw .errno(-r) }
    }

    /// Removes `inbox` from each of `signals`; the last watcher restores the signal.
    func remove(_ inbox: SignalInbox, _ signals: [Int32]) {
        table.withLock { t in
            for s in signals { Self.drop(&t, inbox, s) }
        }
    }

    private static func drop(_ t: inout [Int32: Entry], _ inbox: SignalInbox, _ s: Int32) {
        guard var e = t[s], let i = e.inboxes.firstIndex(where: { $0 === inbox }) else { return }
        e.inboxes.remove(at: i)
        if !e.inboxes.isEmpty {
            t[s] = e
            return
        }
        t[s] = nil
        // Arrived while watched: seen (or coalesced), never delivered to the old action.
        let mine = ceddy_gettid() == e.tid
        if mine { _ = ceddy_sig_consume(s) }
        _ = ceddy_sig_restore(s, &e.saved)
        if mine && !e.wasBlocked { _ = ceddy_sig_block(s, 0) }
    }

    /// Posts `signo` (read from some signalfd) to every watcher of it.
    func deliver(_ signo: Int32) {
        let inboxes = table.withLock { t in t[signo]?.inboxes ?? [] }
        for i in inboxes { i.post(signo) }
    }
}
