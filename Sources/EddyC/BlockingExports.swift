// BlockingExports: eddy_blocking_call (libffi) and eddy_spawn_blocking.
// The signature is parsed and the cif prepared here, on the caller's thread,
// so every argument error is reported synchronously; workers only call.

import CEddyABI
import Eddy

public typealias CVoidFn = @convention(c) () -> Void
public typealias CBlockingFn = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?

/// Queues `job` on the runtime's pool and publishes its future.
private func submit(_ job: BlockingJob, _ cr: CRuntime, _ out: UnsafeMutablePointer<eddy_future_t>) -> Int32 {
    let f = CFuture(job: job)
    guard let id = insertHandle(f, kind: .future, owner: cr.id, thread: cr.handleThread()) else { return EddyCode.enomem }
    var rc: Int32 = 0
    do { try cr.runtime.blockingPool.submit(job) } catch { rc = error.code }
    if rc != 0 {
        if let bits = handleTable.remove(id, .future) {
            Unmanaged<CFuture>.fromOpaque(HandleTable.pointer(bits)).release()
        }
        return rc
    }
    out.pointee = eddy_future_t(id: id)
    return 0
}

@c @implementation
public func eddy_blocking_call(_ rt: eddy_runtime_t, _ fn: CVoidFn?, _ signature: UnsafePointer<CChar>?,
                               _ args: UnsafePointer<eddy_value_t>?, _ nargs: Int,
                               _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let fn, let signature, let out else { return EddyCode.einval }
    guard let sig = FFISignature(signature), sig.arguments.count == nargs, nargs == 0 || args != nil else {
        return EddyCode.einval
    }
    guard let call = FFICall(function: fn, signature: sig, args: args) else { return EddyCode.einval }
    return submit(BlockingJob(.ffi(call)), cr, out)
}

@c @implementation
public func eddy_spawn_blocking(_ rt: eddy_runtime_t, _ fn: CBlockingFn?, _ arg: UnsafeMutableRawPointer?,
                                _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let fn, let out else { return EddyCode.einval }
    return submit(BlockingJob(.raw(fn, arg)), cr, out)
}
