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
