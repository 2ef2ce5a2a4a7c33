// ShutdownExports: eddy_runtime_shutdown, the graceful shutdown (Runtime.shutdown(timeout:)).
// The thread rules differ from the core's: only the owning thread may run a C runtime
// (drop_fns and then-callbacks run there), so another thread only asks and waits.

import CEddyABI
import Eddy

private let reportSize = UInt32(MemoryLayout<eddy_shutdown_report_t>.size)

private func fill(_ out: UnsafeMutablePointer<eddy_shutdown_report_t>?, _ r: ShutdownReport) {
    guard let out else { return }
    out.pointee = eddy_shutdown_report_t(
        struct_size: reportSize, reserved: 0, tasks_finished: UInt64(r.tasksFinished),
        tasks_aborted: UInt64(r.tasksDropped), handles_closed: UInt64(r.descriptorsClosed),
        blocking_abandoned: UInt64(r.blockingJobsAbandoned), blocking_running: UInt64(r.blockingJobsRunning))
}

@c @implementation
public func eddy_runtime_shutdown(_ rt: eddy_runtime_t, _ timeout_ns: UInt64,
                                  _ report: UnsafeMutablePointer<eddy_shutdown_report_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    // Any thread: pin-and-retain lookup (the owner may be freeing it).
    guard let bits = handleTable.retainShared(rt.id, .runtime) else { return EddyCode.badHandle }
    let cr = Unmanaged<CRuntime>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    if let report, report.pointee.struct_size != reportSize { return EddyCode.einval }
    if cr.freeing.load(ordering: .relaxed) { return EddyCode.ebusy }
    let timeout = Duration.nanoseconds(Int64(clamping: timeout_ns))
    let result: ShutdownReport?
    if currentThread() == cr.thread {
        if !cr.runtime.isRunning { dropHostCx() }
        do { result = try cr.runtime.shutdown(timeout: timeout) } catch { return error.code }
    } else {
        let deadline = Instant.now().advanced(by: timeout)
        result = cr.runtime.requestShutdown(deadline: deadline, waitUntil: deadline.advanced(by: .seconds(1)))
    }
    guard let result else { return EddyCode.pending }
    fill(report, result)
    return 0
}
