// CRuntime: what a C runtime handle points to — the core Runtime plus the C
// ABI's bookkeeping (owning thread, running flag, blocking pool).
//
// Thread rule (docs/C-ABI.md): the thread that creates a runtime owns it. Every
// table entry of this runtime records that thread, so the hot path checks
// ownership with one compare and never dereferences a foreign object.

import Eddy
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
    /// Blocking pool, created on first use (owning thread only).
    private var pool: BlockingPool?
    private let blockingThreads: Int
    /// Host-driven tasks (HostTaskExports.swift), created on first use (owning thread only).
    var host: HostDriver?

    init(runtime: Runtime, thread: UInt, blockingThreads: Int) {
        self.runtime = runtime
        self.thread = thread
        self.blockingThreads = blockingThreads
    }

    /// The pool, created lazily. Owning thread.
    func blockingPool() -> BlockingPool {
        if let p = pool { return p }
        let p = BlockingPool(maxThreads: blockingThreads)
        pool = p
        return p
    }

    /// Joins the pool's threads (eddy_runtime_free).
    func stopPool() {
        pool?.shutdown()
        pool = nil
    }
}

/// Core runtime -> C handle id, for eddy_cx_runtime (a cx only knows its core
/// Runtime). Not on any hot path.
let runtimeRegistry = Mutex<[ObjectIdentifier: UInt64]>([:])
