// ProcessExports: eddy_process_spawn, _pid, _take_stdio, _poll_wait, _wait, _kill, _free.
//
// A process handle is a CProcess: the `Subprocess` (Sources/Eddy/OS/Subprocess.swift)
// and which of its piped streams C has taken (each becomes an eddy_tcp_t of its own).
// Owning-thread only, like the runtime functions.

import CEddyABI
import Eddy

/// What a process handle points to.
final class CProcess {
    let child: Subprocess
    var taken: [Bool] = [false, false, false]
    init(_ child: Subprocess) { self.child = child }
}

/// A NULL-terminated C string array as Swift strings (nil for a NULL array).
private func strings(_ list: UnsafePointer<UnsafePointer<CChar>?>?) -> [String]? {
    guard let list else { return nil }
    var out: [String] = []
    var i = 0
    while let p = list[i] {
        out.append(String(cString: p))
        i += 1
    }
    return out
}

private func stdioMode(_ raw: Int32) -> Subprocess.Stdio? {
    switch raw {
    case EDDY_STDIO_INHERIT: return .inherit
    case EDDY_STDIO_NULL: return .null
    case EDDY_STDIO_PIPE: return .pipe
    case EDDY_STDIO_STDOUT: return .stdout
    default: return nil
    }
}

/// The process object of a live handle, on its runtime's thread.
@inline(__always)
private func process(_ id: UInt64) -> (CProcess?, Int32) {
    let r = HandleTable.lookupLocal(id, .process, thread: currentThread())
    guard r.error == 0 else { return (nil, r.error) }
    return (Unmanaged<CProcess>.fromOpaque(HandleTable.pointer(r.bits)).takeUnretainedValue(), 0)
}

@c @implementation
public func eddy_process_spawn(_ rt: eddy_runtime_t, _ argv: UnsafePointer<UnsafePointer<CChar>?>?,
                               _ envp: UnsafePointer<UnsafePointer<CChar>?>?, _ cwd: UnsafePointer<CChar>?,
                               _ stdio: UnsafePointer<Int32>?, _ out: UnsafeMutablePointer<eddy_process_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)
    guard let cr else { return err }
    guard let out, let args = strings(argv), !args.isEmpty else { return EddyCode.einval }
    var modes: [Subprocess.Stdio] = [.inherit, .inherit, .inherit]
    if let stdio {
        for i in 0..<3 {
            guard let m = stdioMode(stdio[i]) else { return EddyCode.einval }
            modes[i] = m
        }
    }
    let child: Subprocess
    do {
        child = try Subprocess.spawn(args, environmentEntries: strings(envp),
                                     workingDirectory: cwd.map { String(cString: $0) },
                                     stdin: modes[0], stdout: modes[1], stderr: modes[2], runtime: cr.runtime)
    } catch { return error.code }
    guard let id = insertHandle(CProcess(child), kind: .process, owner: cr.id, thread: cr.thread) else {
        try? child.kill()
        return EddyCode.enomem
    }
    out.pointee = eddy_process_t(id: id)
    return 0
}

@c @implementation
public func eddy_process_pid(_ proc: eddy_process_t, _ pid: UnsafeMutablePointer<Int32>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (p, err) = process(proc.id)
    guard let p else { return err }
    guard let pid else { return EddyCode.einval }
    pid.pointee = p.child.pid
    return 0
}

@c @implementation
public func eddy_process_take_stdio(_ proc: eddy_process_t, _ which: Int32, _ out: UnsafeMutablePointer<eddy_tcp_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (p, err) = process(proc.id)
    guard let p else { return err }
    guard let out, which >= 0, which <= 2, !p.taken[Int(which)] else { return EddyCode.einval }
    let c = p.child
    guard let stream = which == 0 ? c.stdin : which == 1 ? c.stdout : c.stderr else { return EddyCode.einval }
    guard let id = insertHandle(stream, kind: .tcp, owner: HandleTable.ownerLocal(proc.id), thread: currentThread()) else {
        return EddyCode.enomem
    }
    p.taken[Int(which)] = true
    out.pointee = eddy_tcp_t(id: id)
    return 0
}

@c @implementation
public func eddy_process_poll_wait(_ proc: eddy_process_t, _ cx: OpaquePointer?, _ code: UnsafeMutablePointer<Int32>?,
                                   _ signum: UnsafeMutablePointer<Int32>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let (p, err) = process(proc.id)
    guard let p else { return err }
    switch p.child.pollWait(&cxp.pointee) {
    case .pending: return EddyCode.pending
    case .ready(.failure(let e)): return e.code
    case .ready(.success(let s)):
        switch s {
        case .exited(let c):
            code?.pointee = c
            signum?.pointee = 0
        case .signalled(let n):
            code?.pointee = -1
            signum?.pointee = n
        }
        return EddyCode.ready
    }
}

@c @implementation
public func eddy_process_wait(_ proc: eddy_process_t, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (p, err) = process(proc.id)
    guard let p else { return err }
    guard let out else { return EddyCode.einval }
    let fut = CFuture(wait: p.child)
    guard let id = insertHandle(fut, kind: .future, owner: HandleTable.ownerLocal(proc.id), thread: currentThread()) else {
        return EddyCode.enomem
    }
    out.pointee = eddy_future_t(id: id)
    return 0
}

@c @implementation
public func eddy_process_kill(_ proc: eddy_process_t, _ signum: Int32) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (p, err) = process(proc.id)
    guard let p else { return err }
    do { try p.child.kill(signum) } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_process_free(_ proc: eddy_process_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    let r = HandleTable.lookupLocal(proc.id, .process, thread: currentThread())
    guard r.error == 0 else { return r.error }
    guard let bits = handleTable.remove(proc.id, .process) else { return EddyCode.badHandle }
    Unmanaged<CProcess>.fromOpaque(HandleTable.pointer(bits)).release()  // deinit: reaper if unreaped
    return 0
}
