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
/// watchers' inboxes, the action that was in place before, and the threads that block it
/// for a watcher.
///
/// Each watcher blocks its signals in the thread that creates it (the loop thread of its
/// runtime), so a process-directed signal stays pending for the signalfds of every
/// watching thread. The first watcher also installs a handler (`ceddy_sig_install`) that
/// runs only when the kernel picks a thread that does not block the signal (a host
/// thread) and re-sends it to each watching thread: the signal never takes its default
/// action. Whichever signalfd reads a signal posts it to every inbox of that signal. A
/// watching thread's last watcher unblocks the signal there (if it was not blocked before,
/// and only when it goes on that thread); the last watcher of all first discards what is
/// still pending anywhere (`ceddy_sig_restore`) and restores the saved action.
final class SignalHub: Sendable {
    struct Entry {
        /// Each watcher's inbox and the thread it blocked the signal in.
        var watchers: [(inbox: SignalInbox, tid: Int32)] = []
        /// Per watching thread: its watchers and whether it blocked the signal before.
        var threads: [Int32: (count: Int, wasBlocked: Bool)] = [:]
        var saved = sigaction()
    }

    static let shared = SignalHub()
    private let table = Mutex<[Int32: Entry]>([:])

    /// Adds `inbox` as a watcher of each of `signals` (all valid), blocking them in the
    /// calling thread. Throws the errno of sigaction (nothing is left changed then).
    func add(_ inbox: SignalInbox, _ signals: [Int32]) throws(EddyError) {
        let tid = ceddy_gettid()
        let r: Int32 = table.withLock { t in
            var done: [Int32] = []
            for s in signals {
                var e = t[s] ?? Entry()
                if var th = e.threads[tid] {
                    th.count += 1
                    e.threads[tid] = th
                } else {
                    let wasBlocked = ceddy_sig_block(s, 1) != 0
                    if t[s] == nil {
                        let rc = ceddy_sig_install(s, tid, &e.saved)
                        if rc != 0 {
                            if !wasBlocked { _ = ceddy_sig_block(s, 0) }
                            for d in done { Self.drop(&t, inbox, d, tid) }
                            return rc
                        }
                    }
                    e.threads[tid] = (1, wasBlocked)
                }
                e.watchers.append((inbox, tid))
                t[s] = e
                Self.retarget(s, e)
                done.append(s)
            }
            return 0
        }
        if r != 0 { throw .errno(-r) }
    }

    /// Removes `inbox` from each of `signals`; see the type's comment for what is restored.
    func remove(_ inbox: SignalInbox, _ signals: [Int32]) {
        let me = ceddy_gettid()
        table.withLock { t in
            for s in signals { Self.drop(&t, inbox, s, me) }
        }
    }

    private static func retarget(_ s: Int32, _ e: Entry) {
        let tids = Array(e.threads.keys.sorted().prefix(8))
        tids.withUnsafeBufferPointer { ceddy_sig_set_targets(s, $0.baseAddress, Int32($0.count)) }
    }

    private static func drop(_ t: inout [Int32: Entry], _ inbox: SignalInbox, _ s: Int32, _ me: Int32) {
        guard var e = t[s], let i = e.watchers.firstIndex(where: { $0.inbox === inbox }) else { return }
        let tid = e.watchers.remove(at: i).tid
        var unblock = false
        if var th = e.threads[tid] {
            th.count -= 1
            if th.count == 0 {
                e.threads[tid] = nil
                unblock = tid == me && !th.wasBlocked
            } else {
                e.threads[tid] = th
            }
        }
        if e.watchers.isEmpty {
            t[s] = nil
            // What is still pending (here, process-wide, on any other thread, or on its way
            // from a forwarding handler) arrived while watched: seen or coalesced, never
            // handed to the old action. Discarded before it is restored and (below) the
            // signal unblocked.
            _ = ceddy_sig_restore(s, &e.saved)
        } else {
            t[s] = e
            retarget(s, e)  // before unblocking: a copy pending here goes to the others
        }
        if unblock { _ = ceddy_sig_block(s, 0) }
    }

    /// Posts `signo` (read from some signalfd) to every watcher of it.
    func deliver(_ signo: Int32) {
        let inboxes = table.withLock { t in t[signo]?.watchers.map(\.inbox) ?? [] }
        for i in inboxes { i.post(signo) }
    }
}
