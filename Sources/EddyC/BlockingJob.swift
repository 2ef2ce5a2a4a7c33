// BlockingJob: a C call that blocks (eddy_blocking_call, eddy_spawn_blocking),
// queued on the runtime's blocking pool (Sources/Eddy/Blocking/BlockingPool.swift,
// the one pool every front door shares), and the state of its future.
//
// - Completion: the worker publishes the result (release), then takes the
//   stored waker under the job's small lock and wakes it (Waker.wake is
//   thread-safe). The poller stores its waker under the same lock and then
//   re-checks, so a completion can never be missed.
// - Shutdown: the pool abandons jobs still queued (EDDY_ESHUTDOWN, not run) and
//   eddy_runtime_free joins its threads, waiting for a job already running (a C
//   call cannot be interrupted): nothing of the runtime survives the free.

import Eddy
import Glibc
import Synchronization

/// One unit of blocking work and its result; also the state of its future.
final class BlockingJob: BlockingWork, @unchecked Sendable {
    enum Work {
        case ffi(FFICall)
        case raw(@convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
        case file(FileJob)  // eddy_file_* (lines-15)
    }
    private static let queued: UInt8 = 0, done: UInt8 = 2

    let work: Work
    /// Set when the future was dropped before a worker picked the job up.
    let cancelled = Atomic<Bool>(false)
    private let state = Atomic<UInt8>(0)
    /// Written by the worker before `state` becomes `done` (release).
    private(set) var status: Int32 = 0
    private(set) var value: UInt64 = 0
    private let waker = Mutex<Waker?>(nil)

    init(_ work: Work) { self.work = work }

    var isDone: Bool { state.load(ordering: .acquiring) == BlockingJob.done }

    /// Runs on a worker thread.
    func run() {
        if cancelled.load(ordering: .relaxed) {
            complete(status: EddyCode.ecanceled, value: 0)
            return
        }
        switch work {
        case .ffi(let call): complete(status: 0, value: call.invoke())
        case .raw(let fn, let arg): complete(status: 0, value: UInt64(UInt(bitPattern: fn(arg))))
        case .file(let f):
            let (status, value) = f.run()
            complete(status: status, value: value)
        }
    }

    /// Never run (the pool stopped first).
    func abandon() { complete(status: EddyCode.shutdown, value: 0) }

    /// Publishes the result and wakes the poller, from any thread.
    func complete(status: Int32, value: UInt64) {
        self.status = status
        self.value = value
        state.store(BlockingJob.done, ordering: .releasing)
        let w = waker.withLock { $0.take() }
        w?.wake()
    }

    /// READY (status in `status`), or PENDING with the waker stored.
    func poll(_ cx: inout Context) -> Bool {
        if isDone { return true }
        let current = cx.waker
        waker.withLock { slot in
            if let w = slot, w.willWake(current) { return }
            slot = current
        }
        return isDone
    }
}
