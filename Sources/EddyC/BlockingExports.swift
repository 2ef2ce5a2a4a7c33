// BlockingExports: eddy_blocking_call (libffi) and eddy_spawn_blocking.
// The signature is parsed and the cif prepared here, on the caller's thread,
// so every argument error is reported synchronously; workers only call.

import Eddy

public typealias CVoidFn = @convention(c) () -> Void
public typealias CBlockingFn = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?

/// Queues `job` on the runtime's pool and publishes its future.
private func submit(_ job: BlockingJob, _ cr: CRuntime, _ out: UnsafeMutablePointer<UInt64>) -> Int32 {
    let f = CFuture(job: job)
    guard let id = insertHandle(f, kind: .future, owner: cr.id, thread: cr.thread) else { return EddyCode.enomem }
    let rc = cr.blockingPool().submit(job)
    if rc != 0 {
        if let bits = handleTable.remove(id, .future) {
            Unmanaged<CFuture>.fromOpaque(HandleTable.pointer(bits)).release()
        }
        return rc
    }
    out.pointee = id
    return 0
}

@_cdecl("eddy_blocking_call")
public func eddy_blocking_call(_ rt: UInt64, _ fn: CVoidFn?, _ signature: UnsafePointer<CChar>?,
                               _ args: UnsafeRawPointer?, _ nargs: Int,
                               _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
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

@_cdecl("eddy_spawn_blocking")
public func eddy_spawn_blocking(_ rt: UInt64, _ fn: CBlockingFn?, _ arg: UnsafeMutableRawPointer?,
                                _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let fn, let out else { return EddyCode.einval }
    return submit(BlockingJob(.raw(fn, arg)), cr, out)
}
