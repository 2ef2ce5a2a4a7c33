import CEddySys
import Glibc

/// A registered socket: the runtime's core, its registration key and the shared
/// readiness-driven read/write/accept steps used by the poll-style and async APIs.
///
/// Each step tries the syscall only when the cached readiness says it may succeed;
/// on EAGAIN it clears the readiness and reports `-EAGAIN` so the caller stores its
/// waker and waits for the next edge.
///
/// Public only because `TcpStream` inherits it (nothing of it is public API): one object
/// per stream, so a socket operation loads one line of it instead of a `TcpStream` line and
/// then an `IoSource` line (measured: docs/PERFORMANCE-LOG.md, "Cost per round trip as
/// connections grow"). Listeners and fd watches hold one as a field.
public class IoSource: @unchecked Sendable {
    // @unchecked Sendable: `key`/`slot` change only on the loop thread (register, close) or
    // through `Core.closeIo`, which queues a close from elsewhere; every reader checks the
    // thread first (`cx.isPolledBy`, `checkAsync`).
    // Field order: what every read/write step loads (core, slot address, generation) first.
    @usableFromInline final let core: Core
    /// The registration's slot: slab pages never move and the core (which owns them)
    /// lives as long as this object, so the address stays valid; the generation says
    /// whether the slot is still ours (close and shutdown both bump it).
    @usableFromInline final let slotAddress: UnsafeMutablePointer<IoSlot>
    /// Zeroed by close() (generations start at 1), so `slot` is one compare.
    @exclusivity(unchecked) @usableFromInline final var generation: UInt32
    @exclusivity(unchecked) @usableFromInline final var key: IoKey?
    /// Reused across suspensions of async reads / writes (allocated on first use, then
    /// kept as long as the socket, which is what lets a suspension hold them unretained).
    @exclusivity(unchecked) @usableFromInline final var readWaiterStorage: ContinuationWaiter?
    @exclusivity(unchecked) @usableFromInline final var writeWaiterStorage: ContinuationWaiter?

    @inlinable @inline(__always)
    final func waiter(_ storage: inout ContinuationWaiter?) -> Unmanaged<ContinuationWaiter> {
        if let w = storage { return Unmanaged.passUnretained(w) }
        return makeWaiter(&storage)
    }

    @usableFromInline @inline(never)
    final func makeWaiter(_ storage: inout ContinuationWaiter?) -> Unmanaged<ContinuationWaiter> {
        let w = ContinuationWaiter()
        storage = w
        return Unmanaged.passUnretained(w)
    }

    init(core: Core, key: IoKey) {
        self.core = core
        slotAddress = core.io.slab.pointer(key.index)
        generation = key.generation
        self.key = key
    }

    deinit { closeRegistration() }

    /// The live slot, or nil once closed / after shutdown.
    @inlinable @inline(__always)
    final var slot: UnsafeMutablePointer<IoSlot>? {
        // `generation` goes 0 at close() even when the close itself is deferred to the loop.
        slotAddress.pointee.generation == generation ? slotAddress : nil
    }


    /// Returned by the steps below when the running task used up its operation budget:
    /// the socket may still be ready, but the task must yield first.
    @usableFromInline static var yieldCode: Int { Int.min }

    /// Takes one operation from the running task's budget; false when it is used up.
    @inlinable @inline(__always)
    final func spendBudget() -> Bool {
        if core.opBudget <= 0 { return false }
        core.opBudget -= 1
        return true
    }

    /// read(2) if readable: n >= 0, -EAGAIN (readiness cleared), `yieldCode`, or -errno.
    /// A short read also clears `readable`.
    @inlinable @inline(__always)
    final func tryRead(_ p: UnsafeMutablePointer<IoSlot>, _ buf: UnsafeMutableRawPointer?, _ len: Int) -> Int {
        if p.pointee.readiness & Readiness.readInterest == 0 { return -Int(EAGAIN) }
        if !spendBudget() { return IoSource.yieldCode }
        if p.pointee.rx.mode != RxMode.readiness {  // io_uring completion reads
            let n = IoRegistry.completionRead(p, buf, len)
            return n != IoRegistry.stoppedCode ? n : core.io.stoppedRead(p, buf, len, sys: core.sys, key: key)
        }
        let n = core.sys.read(p.pointee.fd, buf, len)
        if n > 0 {
            // A short read drained the receive queue (Linux TCP; tokio and libuv rely on
            // it too): the next read would be EAGAIN, so skip it until a new edge. Only
            // `readable` goes: a close or error seen earlier must still reach the reader.
            // (Urgent data is the exception: a read stops at the mark. Not supported.)
            if n < len { IoRegistry.clear(p, Readiness.readable) }
        } else if n == -Int(EAGAIN) {
            IoRegistry.clear(p, Readiness.readInterest)
        }
        return n
    }

    /// send(2, MSG_NOSIGNAL) if writable: n >= 0, -EAGAIN (readiness cleared), `yieldCode`, or -errno.
    @inlinable @inline(__always)
    final func tryWrite(_ p: UnsafeMutablePointer<IoSlot>, _ buf: UnsafeRawPointer?, _ len: Int) -> Int {
        if p.pointee.readiness & Readiness.writeInterest == 0 { return -Int(EAGAIN) }
        if !spendBudget() { return IoSource.yieldCode }
        let n = core.sys.send(p.pointee.fd, buf, len)
        if n == -Int(EAGAIN) { IoRegistry.clear(p, Readiness.writeInterest) }
        return n
    }

    /// Closes the descriptor (idempotent). Waiters are woken and see EBADF. (Not `close`:
    /// `TcpStream`, a subclass, has its own public `close`.)
    final func closeRegistration() {
        guard let k = key else { return }
        key = nil
        generation = 0
        if !core.isShutdown { core.closeIo(k) }
    }

    /// Why an operation cannot run: closed, runtime gone, or another runtime's poll.
    @usableFromInline
    final func unusable() -> EddyError {
        if core.isShutdown { return .shutdown }
        if key == nil { return .errno(EBADF) }
        return .wrongThread
    }

    /// Async operations must run on this socket's loop thread.
    @inlinable @inline(__always)
    final func checkAsync() throws(EddyError) -> UnsafeMutablePointer<IoSlot> {
        guard let p = slot else { throw core.isShutdown ? .shutdown : .errno(EBADF) }
        guard core.isLoopThread else { throw .wrongThread }
        return p
    }

    /// Parks the current Swift task until the read side may progress.
    @inlinable @inline(__always)
    nonisolated(nonsending) final func waitReadable(_ p: UnsafeMutablePointer<IoSlot>) async throws {
        let w = waiter(&readWaiterStorage)
        p.pointee.readWaker.register(Unmanaged<WakeTarget>.fromOpaque(w.toOpaque()))  // no retain/release pair
        try await ContinuationWaiter.suspendCancellable(w, core)
    }

    /// Parks the current Swift task until the write side may progress.
    @inlinable @inline(__always)
    nonisolated(nonsending) final func waitWritable(_ p: UnsafeMutablePointer<IoSlot>) async throws {
        let w = waiter(&writeWaiterStorage)
        p.pointee.writeWaker.register(Unmanaged<WakeTarget>.fromOpaque(w.toOpaque()))  // no retain/release pair
        try await ContinuationWaiter.suspendCancellable(w, core)
    }
}

/// The core a synchronous constructor should use: the given runtime or the current one,
/// and only from a thread allowed to touch its loop state (no runtime given on a thread
/// no runtime drives: `wrongThread`, like any other thread that may not do this).
func constructionCore(_ runtime: Runtime?) throws(EddyError) -> Core {
    // A multi-thread runtime's worker registers on its own driver (the socket's worker).
    guard let core = runtime.map({ $0.group?.currentWorker() ?? $0.core }) ?? Core.current else { throw .wrongThread }
    if core.isShutdown { throw .shutdown }
    guard core.mayTouchLoopState else { throw .wrongThread }
    return core
}
