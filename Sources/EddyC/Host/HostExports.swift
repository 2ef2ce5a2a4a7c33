// HostExports: the C functions of host-driven tasks (include/eddy.h, "Host-driven
// tasks"): eddy_host_spawn, eddy_host_turn, eddy_host_enter, eddy_host_wake,
// eddy_host_write. The protocol is HostProtocol.swift, the work HostDriver and HostTask.

import CEddyABI
import Eddy
import Glibc

/// Creates a host-driven task of `rt` and writes its id to `*task`.
@c @implementation
public func eddy_host_spawn(_ rt: eddy_runtime_t, _ task: UnsafeMutablePointer<eddy_host_task_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withHostRuntime(rt.id) { cr in
        guard let task else { return EddyCode.einval }
        task.pointee = eddy_host_task_t(id: cr.hostDriver.spawn())
        return 0
    }
}

/// One loop turn for the host: submits the batch's operations, runs the runtime until
/// an event is ready, hands the events out.
@c @implementation
public func eddy_host_turn(_ batch: UnsafeMutablePointer<eddy_host_batch_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let batch else { return EddyCode.einval }
    // Runtime and driver unretained for the whole turn (the runtime keeps its driver).
    return withHostRuntime(batch.pointee.rt.id) { cr in
        Unmanaged.passUnretained(cr.hostDriver)._withUnsafeGuaranteedRef { d in d.turn(cr, batch) }
    }
}

/// Publishes host task `task`'s context as the current cx and writes it to `*cx`.
@c @implementation
public func eddy_host_enter(_ rt: eddy_runtime_t, _ task: eddy_host_task_t,
                            _ cx: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    return withHostRuntime(rt.id) { cr in
        guard let cx else { return EddyCode.einval }
        guard let t = cr.host?.task(task.id), !t.finished else { return EddyCode.badHandle }
        guard t.isStarted else { return EddyCode.einval }  // first event handed out
        ceddy_tls_cx_set(UnsafeMutableRawPointer(t.cx))
        ceddy_tls_host_cx_set(UnsafeMutableRawPointer(t.cx))
        cx.pointee = OpaquePointer(t.cx)
        return 0
    }
}

/// Wakes host task `task` as its waker would.
@c @implementation
public func eddy_host_wake(_ rt: eddy_runtime_t, _ task: eddy_host_task_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)  // allowed while the runtime runs (from a poll)
    guard let cr else { return err }
    guard let t = cr.host?.task(task.id), !t.finished else { return EddyCode.badHandle }
    if let w = t.waker {
        w.wake()
    } else {
        t.permit = true  // not polled yet: its first poll answers the initial WAIT anyway
    }
    return 0
}

/// Writes to `stream` for host task `task` at once, without a turn.
@c @implementation
public func eddy_host_write(_ task: eddy_host_task_t, _ stream: eddy_tcp_t, _ buf: UnsafeRawPointer?,
                            _ len: Int) -> Int32 {
    if isForked() { return EddyCode.forked }
    // The stream first: its owner is the runtime (checked like any runtime call).
    let r = HandleTable.lookupLocal(stream.id, .tcp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    return withHostRuntime(HandleTable.ownerLocal(stream.id)) { cr in
        guard let t = cr.host?.task(task.id), !t.finished else { return EddyCode.badHandle }
        // Nothing outstanding for the host: its last event handed out, not merely queued.
        guard t.isHostsToRun, r.bits & listenerFlag == 0 else { return EddyCode.einval }
        guard len >= 0, buf != nil || len == 0 else { return EddyCode.einval }
        let n = Unmanaged<TcpStream>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
            $0.pollWriteStep(&t.cx.pointee, buf, min(len, Int(Int32.max)))
        }
        return n == TcpStream.pendingCode ? -EAGAIN : Int32(truncatingIfNeeded: n)  // bytes or error code
    }
}
