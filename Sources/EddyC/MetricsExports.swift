// MetricsExports: eddy_runtime_metrics and eddy_runtime_task_dump (Runtime.metrics
// and Runtime.taskDump through the C ABI).

import CEddyABI
import Eddy

private let metricsSize = UInt32(MemoryLayout<eddy_runtime_metrics_t>.size)

@c @implementation
public func eddy_runtime_metrics(_ rt: eddy_runtime_t, _ out: UnsafeMutablePointer<eddy_runtime_metrics_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    // Any thread: pin-and-retain lookup (the owner may be freeing it).
    guard let bits = handleTable.retainShared(rt.id, .runtime) else { return EddyCode.badHandle }
    let cr = Unmanaged<CRuntime>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    guard let out, out.pointee.struct_size == metricsSize else { return EddyCode.einval }
    // Loop state (queue depth, live tasks) is read only on the owning thread.
    let m = cr.runtime.metrics(readLoopState: currentThread() == cr.thread)
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

@c @implementation
public func eddy_runtime_task_dump(_ rt: eddy_runtime_t, _ buf: UnsafeMutablePointer<CChar>?, _ cap: Int,
                                   _ len: UnsafeMutablePointer<Int>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (u, err) = local(rt.id, .runtime, as: CRuntime.self)
    guard let u else { return err }
    guard let len, buf != nil || cap == 0 else { return EddyCode.einval }
    let text: [UInt8]
    do {
        text = Array(try u.takeUnretainedValue().runtime.taskDump().map { $0.description + "\n" }.joined().utf8)
    } catch { return error.code }
    len.pointee = text.count
    if let buf, cap > 0 {
        let n = min(text.count, cap - 1)
        for i in 0..<n { buf[i] = CChar(bitPattern: text[i]) }
        buf[n] = 0
    }
    return 0
}
