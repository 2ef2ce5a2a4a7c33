// WorkerExports: the multi-thread runtime's own functions (issue 14): eddy_runtime_workers,
// eddy_spawn_on, eddy_runtime_worker_metrics. Every other function works on any number
// of workers (include/eddy.h, "Workers").

import CEddyABI
import Eddy

private let metricsSize = UInt32(MemoryLayout<eddy_runtime_metrics_t>.size)

@c @implementation
public func eddy_runtime_workers(_ rt: eddy_runtime_t, _ out: UnsafeMutablePointer<UInt32>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    // Any thread: pin-and-retain lookup (the owner may be freeing it).
    guard let bits = handleTable.retainShared(rt.id, .runtime) else { return EddyCode.badHandle }
    let cr = Unmanaged<CRuntime>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    guard let out else { return EddyCode.einval }
    out.pointee = UInt32(cr.runtime.workers)
    return 0
}

/// eddy_spawn with a worker: the same gate and handle reservation (`spawnGated`).
@c @implementation
public func eddy_spawn_on(_ rt: eddy_runtime_t, _ worker: UInt32, _ poll: CPollFn?, _ state: UnsafeMutableRawPointer?,
                          _ drop: CDropFn?, _ out: UnsafeMutablePointer<eddy_task_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.retainShared(rt, .runtime) else { return EddyCode.badHandle }
    let cr = Unmanaged<CRuntime>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    guard let poll, let out, Int(worker) < cr.runtime.workers else { return EddyCode.einval }
    return spawnGated(cr, rt, poll, state, drop, out, onWorker: Int(worker))
}

@c @implementation
public func eddy_runtime_worker_metrics(_ rt: eddy_runtime_t, _ worker: UInt32,
                                        _ out: UnsafeMutablePointer<eddy_runtime_metrics_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.retainShared(rt.id, .runtime) else { return EddyCode.badHandle }
    let cr = Unmanaged<CRuntime>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    guard let out, out.pointee.struct_size == metricsSize else { return EddyCode.einval }
    let all = cr.runtime.workerMetrics
    guard Int(worker) < all.count else { return EddyCode.einval }
    let m = all[Int(worker)]
    let b = m.blocking
    out.pointee = eddy_runtime_metrics_t(
        struct_size: metricsSize, reserved: 0, polls: m.polls, ticks: m.ticks, parks: m.parks,
        local_queue_depth: UInt64(m.localQueueDepth), remote_queue_depth: UInt64(m.remoteQueueDepth),
        live_tasks: UInt64(m.liveTasks), blocking_threads: UInt64(b.threads),
        blocking_idle_threads: UInt64(b.idleThreads), blocking_queued: UInt64(b.queuedJobs),
        blocking_running: UInt64(b.runningJobs), blocking_completed: b.completedJobs,
        blocking_max_threads: UInt64(b.maxThreads))
    return 0
}
