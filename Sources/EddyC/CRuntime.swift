// CRuntime: what a C runtime handle points to — the core Runtime plus the C
// ABI's bookkeeping (owning thread, running flag, spawn gate).
//
// Thread rule (docs/C-ABI.md): the thread that creates a runtime owns it. Every
// table entry of this runtime records that thread, so the hot path checks
// ownership with one compare and never dereferences a foreign object.

import Eddy
import Glibc
import Synchronization

final class CRuntime: @unchecked Sendable {
    let runtime: Runtime
    /// Owning thread (ceddy_thread_id of the creator).
    let thread: UInt
    /// This runtime's own handle id (set right after insertion).
    var id: UInt64 = 0
    /// True while run/run_until/block_on drive the loop (owning thread only).
    var running = false
    /// Set when eddy_runtime_free starts; spawn from other threads checks it.
    let freeing = Atomic<Bool>(false)
    /// eddy_spawn calls in progress (any thread). eddy_runtime_free sets `freeing`,
    /// then waits for this to drain before it drops tasks and handles (Dekker, both
    /// sides seq_cst): a spawn either sees `freeing` and takes nothing, or finishes
    /// queueing its task and publishing its handle before the free starts, so the
    /// free drops that task. Never both "spawn failed" and "the runtime owns state".
    let spawning = Atomic<Int>(0)
    /// Host-driven tasks (Host/HostDriver.swift), created on first use (owning thread only).
    var host: HostDriver?

    init(runtime: Runtime, thread: UInt) {
        self.runtime = runtime
        self.thread = thread
    }

    /// Enters the spawn gate: false (and nothing to undo) when the runtime is being
    /// freed. Balance a true with `leaveSpawn`.
    @inline(__always)
    func enterSpawn() -> Bool {
        spawning.add(1, ordering: .sequentiallyConsistent)
        if freeing.load(ordering: .sequentiallyConsistent) {
            spawning.subtract(1, ordering: .releasing)
            return false
        }
        return true
    }

    @inline(__always)
    func leaveSpawn() { spawning.subtract(1, ordering: .releasing) }

    // ---- multi-thread runtime (issue 14) ----
    /// The thread a handle made now belongs to: the caller when it is the owner or one
    /// of the runtime's other workers (its registrations live on that worker's driver),
    /// else the owner (eddy_spawn from a foreign thread). For a one-worker runtime
    /// every creating function has already checked that the caller is the owner.
    @inline(__always)
    func handleThread() -> UInt {
        let me = currentThread()
        if me == thread { return me }
        return runtime.isOnOtherWorker ? me : thread
    }

    /// Marks the runtime as being freed and waits until no eddy_spawn is between its
    /// check and its handle publication (they take microseconds; no lock is held).
    func closeSpawnGate() {
        freeing.store(true, ordering: .sequentiallyConsistent)
        while spawning.load(ordering: .sequentiallyConsistent) != 0 { sched_yield() }
    }
}

/// Core runtime -> C handle id, for eddy_cx_runtime (a cx only knows its core
/// Runtime). Not on any hot path.
let runtimeRegistry = PosixMutex<[ObjectIdentifier: UInt64]>([:])

// ---- multi-thread runtime (issue 14) ----
/// Runtime handle id -> runtime, for the multi-thread runtimes only: how a worker other
/// than the owner finds its runtime (the table says EWRONGTHREAD to it). Entries are
/// added by eddy_runtime_new and removed by eddy_runtime_free once its workers stopped,
/// so an entry found from a worker is alive.
let workerRuntimes = PosixMutex<[UInt64: Unmanaged<CRuntime>]>([:])

/// Runtime `id` for a caller that drives one of its workers other than worker 0, after
/// the owner's lookup failed with `err`; nil (keep `err`) otherwise. Off the hot path.
@inline(never)
func workerRuntime(_ id: UInt64, _ err: Int32) -> Unmanaged<CRuntime>? {
    guard err == EddyCode.wrongThread, let r = Runtime.current, r.isOnOtherWorker,
          let cr = workerRuntimes.withLock({ $0[id] }),
          cr._withUnsafeGuaranteedRef({ $0.runtime === r }) else { return nil }
    return cr
}
