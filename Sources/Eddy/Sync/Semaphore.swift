import Synchronization

/// A counting semaphore with FIFO waiters (tokio's `Semaphore`, asyncio's `Semaphore`).
///
/// Uncontended `tryAcquire` / `release` are one CAS on one word and take no lock;
/// the lock (and a `WaitNode`) only comes in when someone has to wait. While waiters
/// are queued, released permits go to them in arrival order (no overtaking: a
/// `tryAcquire` fails meanwhile). A waiter that gives up (`cancel(_:)`, a cancelled
/// `acquire()`) gives back a permit it had already been handed.
///
/// Any thread; waiters may belong to different runtimes (they are woken through their
/// `Waker`). Also the permit pool behind the bounded channel and the mutex.
public final class Semaphore: @unchecked Sendable {
    // @unchecked Sendable: `word` is atomic; `waiters` (and every WaitNode in it) is only
    // touched under `lock`.
    @usableFromInline let word: Atomic<Int>
    @usableFromInline let lock: PosixMutex<WaiterList>

    /// A semaphore holding `permits` (>= 0) permits.
    public init(permits: Int) {
        precondition(permits >= 0 && permits < Int.max >> 3, "Semaphore(permits:) out of range")
        word = Atomic(permits * PermitState.one)
        lock = PosixMutex(WaiterList())
    }

    /// Free permits now (racy by nature: for tests and diagnostics).
    public var availablePermits: Int { word.load(ordering: .acquiring) >> 2 }

    /// Whether `close()` was called.
    public var isClosed: Bool { word.load(ordering: .acquiring) & PermitState.closed != 0 }

    /// Number of queued waiters (takes the lock: diagnostics and tests).
    public var waiterCount: Int { lock.withLock { $0.count } }

    /// Outcome of a non-waiting acquire.
    public enum TryAcquire: Sendable, Equatable {
        /// Got a permit.
        case acquired
        /// None free (or waiters queued ahead).
        case noPermits
        /// The semaphore is closed.
        case closed
    }

    /// Takes a permit if one is free and nobody waits ahead. No lock.
    @inlinable public func tryAcquire() -> TryAcquire {
        var s = word.load(ordering: .relaxed)
        while true {
            if s & PermitState.closed != 0 { return .closed }
            if s & PermitState.waiters != 0 || s < PermitState.one { return .noPermits }
            let (ok, now) = word.compareExchange(expected: s, desired: s - PermitState.one,
                                                 ordering: .acquiringAndReleasing)
            if ok { return .acquired }
            s = now
        }
    }

    /// Poll-style acquire with a waiter node the caller keeps (one per waiting
    /// operation, reusable afterwards): `.ready(true)` with a permit, `.ready(false)`
    /// when closed, `.pending` after queueing `node` (FIFO) with `waker`. Poll again
    /// with the same node after the wake. A caller that stops polling a queued node must
    /// `cancel(_:)` it.
    public func pollAcquire(_ node: WaitNode, _ waker: Waker) -> Poll<Bool> {
        if !node.waiting.load(ordering: .relaxed) {  // not queued: the lock-free path first
            switch tryAcquire() {
            case .acquired: return .ready(true)
            case .closed: return .ready(false)
            case .noPermits: break
            }
        }
        return lock.withLock { list -> Poll<Bool> in
            if node.granted {
                node.granted = false
                node.waiting.store(false, ordering: .relaxed)
                return .ready(true)
            }
            if node.linked {
                if let w = node.waker, w.willWake(waker) {} else { node.waker = waker }
                return .pending
            }
            var s = word.load(ordering: .acquiring)
            while true {
                if s & PermitState.closed != 0 {
                    node.waiting.store(false, ordering: .relaxed)
                    return .ready(false)
                }
                if s & PermitState.waiters == 0 && s >= PermitState.one {
                    let (ok, now) = word.compareExchange(expected: s, desired: s - PermitState.one,
                                                         ordering: .acquiringAndReleasing)
                    if ok {
                        node.waiting.store(false, ordering: .relaxed)
                        return .ready(true)
                    }
                    s = now
                    continue
                }
                let (ok, now) = word.compareExchange(expected: s, desired: s | PermitState.waiters,
                                                     ordering: .acquiringAndReleasing)
                if ok { break }
                s = now
            }
            node.waker = waker
            node.closed = false
            node.waiting.store(true, ordering: .relaxed)
            list.pushBack(node)
            return .pending
        }
    }

    /// Withdraws `node` (a waiter giving up): unlinks it, and gives back the permit it
    /// was granted if it had not consumed it yet. Safe on an idle node.
    public func cancel(_ node: WaitNode) {
        let hadPermit = lock.withLock { list -> Bool in
            if list.remove(node), list.isEmpty { clearWaitersBit() }
            node.waker = nil
            node.waiting.store(false, ordering: .relaxed)
            let g = node.granted
            node.granted = false
            return g
        }
        if hadPermit { release(1) }
    }

    /// Under the lock: the list just became empty.
    @usableFromInline func clearWaitersBit() {
        // While the bit is set nobody else changes the word (PermitState): a plain RMW.
        _ = word.bitwiseAnd(~PermitState.waiters, ordering: .acquiringAndReleasing)
    }

    /// Returns `n` permits: to the queued waiters first (oldest first, each woken), the
    /// rest to the pool. No lock when nobody waits.
    public func release(_ n: Int = 1) {
        guard n > 0 else { return }
        var s = word.load(ordering: .relaxed)
        while s & PermitState.waiters == 0 {
            let (ok, now) = word.compareExchange(expected: s, desired: s + n * PermitState.one,
                                                 ordering: .acquiringAndReleasing)
            if ok { return }
            s = now
        }
        lock.withLock { list in
            var left = n
            while left > 0, let node = list.popFront() {
                node.granted = true
                left -= 1
                node.waker?.wake()
            }
            if list.isEmpty {
                clearWaitersBit()
                if left > 0 { word.wrappingAdd(left * PermitState.one, ordering: .acquiringAndReleasing) }
            }
        }
    }

    /// `release(1)` unless the free permits already reach `bound` (nobody holds one):
    /// false then, and nothing changes. One CAS: the check and the release are atomic
    /// (a mutex's unlock, a bounded semaphore's release).
    public func release(bound: Int) -> Bool {
        var s = word.load(ordering: .relaxed)
        while s & PermitState.waiters == 0 {
            if s >> 2 >= bound { return false }
            let (ok, now) = word.compareExchange(expected: s, desired: s + PermitState.one,
                                                 ordering: .acquiringAndReleasing)
            if ok { return true }
            s = now
        }
        release(1)  // waiters queued: no permit is free, one goes to the oldest waiter
        return true
    }

    /// Closes the semaphore: every queued waiter is woken and fails (`.ready(false)`,
    /// `SyncError.closed`), as does every later acquire. Permits already held stay valid.
    public func close() {
        lock.withLock { list in
            word.bitwiseOr(PermitState.closed, ordering: .acquiringAndReleasing)
            while let node = list.popFront() {
                node.closed = true
                node.waker?.wake()
            }
            clearWaitersBit()
        }
    }

    /// Waits for a permit (FIFO). Throws `CancellationError` when the task is cancelled
    /// while waiting (a permit it was granted meanwhile goes back), `SyncError.closed`
    /// when the semaphore is closed. Any executor.
    nonisolated(nonsending) public func acquire() async throws {
        if tryAcquire() == .acquired { return }
        try await acquireSlow()
    }

    nonisolated(nonsending) func acquireSlow() async throws {
        let w = ContinuationWaiter()
        let node = WaitNode()
        let waker = Waker(w)
        while true {
            switch pollAcquire(node, waker) {
            case .ready(true): return
            case .ready(false): throw SyncError.closed
            case .pending: break
            }
            if await parkCancellable(w) {
                cancel(node)
                throw CancellationError()
            }
        }
    }

    /// Runs `body` holding one permit.
    nonisolated(nonsending) public func withPermit<R>(_ body: () async throws -> R) async throws -> R {
        try await acquire()
        defer { release() }
        return try await body()
    }
}
