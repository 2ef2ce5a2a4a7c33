// RuntimeExports: eddy_config_init, eddy_runtime_new/run/run_until/free, eddy_block_on.

import CEddyABI
import Eddy
import Glibc

/// Limits of eddy_config_t's fields (include/eddy.h); the struct itself is the header's.
private enum ConfigLimits {
    static let size = UInt32(MemoryLayout<eddy_config_t>.size)
    /// struct_size of the header before `driver` was added (the fields up to
    /// blocking_threads): still accepted, with the default driver.
    static let sizeBeforeDriver = UInt32(MemoryLayout<eddy_config_t>.offset(of: \eddy_config_t.driver)!)
    /// struct_size before `workers` was added (issue 14): one worker unless EDDY_WORKERS says more.
    static let sizeBeforeWorkers = UInt32(MemoryLayout<eddy_config_t>.offset(of: \eddy_config_t.workers)!)
    static let maxWorkers: UInt32 = 1024
    /// Largest accepted values (include/eddy.h, eddy_config_t).
    static let maxEventBatch: UInt32 = 1024, maxTaskBudget: UInt32 = 1 << 20, maxBlockingThreads: UInt32 = 1024
    static let knownFlags = UInt32(EDDY_CONFIG_RETURN_ON_SIGNAL)
}

@c @implementation
public func eddy_config_init(_ config: UnsafeMutablePointer<eddy_config_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let config else { return EddyCode.einval }
    config.pointee = eddy_config_t(struct_size: ConfigLimits.size, flags: 0, event_batch: 1024, task_budget: 128,
                                   blocking_threads: 4, driver: EDDY_DRIVER_DEFAULT, workers: 0)
    return 0
}

@c @implementation
public func eddy_runtime_new(_ config: UnsafePointer<eddy_config_t>?, _ out: UnsafeMutablePointer<eddy_runtime_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let out else { return EddyCode.einval }
    var conf = Runtime.Configuration()
    if let config {
        // struct_size first: only then are the other fields known to be there.
        let size = config.pointee.struct_size
        guard size == ConfigLimits.size || size == ConfigLimits.sizeBeforeWorkers || size == ConfigLimits.sizeBeforeDriver,
              config.pointee.flags & ~ConfigLimits.knownFlags == 0 else { return EddyCode.einval }
        // Field by field: a caller of the older, smaller struct owns no `driver` to read.
        conf.returnOnSignal = config.pointee.flags & ConfigLimits.knownFlags != 0
        if size == ConfigLimits.size {  // ---- multi-thread runtime (issue 14) ----
            guard config.pointee.workers <= ConfigLimits.maxWorkers else { return EddyCode.einval }
            conf.workers = Int(config.pointee.workers)
        }
        if size >= ConfigLimits.sizeBeforeWorkers {
            switch config.pointee.driver {
            case EDDY_DRIVER_DEFAULT: conf.driver = nil
            case EDDY_DRIVER_EPOLL: conf.driver = .epoll
            case EDDY_DRIVER_IO_URING: conf.driver = .ioUring
            default: return EddyCode.einval
            }
        }
        // 0 means default; above the limit is EINVAL (e.g. a -1 stored in the uint32).
        let batch = config.pointee.event_batch, budget = config.pointee.task_budget
        let threads = config.pointee.blocking_threads
        guard batch <= ConfigLimits.maxEventBatch, budget <= ConfigLimits.maxTaskBudget,
              threads <= ConfigLimits.maxBlockingThreads else { return EddyCode.einval }
        if batch != 0 { conf.eventBatch = Int(batch) }
        if budget != 0 { conf.taskBudget = Int(budget) }
        if threads != 0 { conf.blockingThreads = Int(threads) }
    }
    registerForkHandlerOnce()
    let runtime: Runtime
    do { runtime = try Runtime(conf) } catch { return error.code }
    let thread = currentThread()
    let cr = CRuntime(runtime: runtime, thread: thread)
    let bits = UInt(bitPattern: Unmanaged.passRetained(cr).toOpaque())
    guard let id = handleTable.insert(bits: bits, kind: .runtime, owner: nil, thread: thread) else {
        Unmanaged<CRuntime>.fromOpaque(HandleTable.pointer(bits)).release()
        return EddyCode.enomem
    }
    cr.id = id
    runtimeRegistry.withLock { $0[ObjectIdentifier(runtime)] = id }
    if runtime.workers > 1 { workerRuntimes.withLock { $0[id] = Unmanaged.passUnretained(cr) } }
    out.pointee = eddy_runtime_t(id: id)
    return 0
}

/// Runtime on the owning thread, not running (run/run_until/block_on/free).
@inline(__always)
private func idleRuntime(_ id: UInt64) -> (CRuntime?, Int32) {
    let (u, err) = local(id, .runtime, as: CRuntime.self)
    guard let u else { return (nil, err) }
    let cr = u.takeUnretainedValue()
    // Running (called from one of its tasks), or being freed (called from a
    // drop_fn or then-callback that eddy_runtime_free is running).
    if cr.runtime.isRunning || cr.freeing.load(ordering: .relaxed) { return (nil, EddyCode.ebusy) }
    return (cr, 0)
}

@c @implementation
public func eddy_runtime_run(_ rt: eddy_runtime_t) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = idleRuntime(rt)
    guard let cr else { return err }
    dropHostCx()
    do { try cr.runtime.run() } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_runtime_run_until(_ rt: eddy_runtime_t, _ task: eddy_task_t, _ status: UnsafeMutablePointer<Int32>?) -> Int32 {
    let rt = rt.id
    let task = task.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = idleRuntime(rt)
    guard let cr else { return err }
    let (t, terr) = local(task, .task, as: TaskBox.self)
    guard let t else { return terr }
    guard let status else { return EddyCode.einval }
    guard HandleTable.ownerLocal(task) == rt else { return EddyCode.einval }
    let handle = t.takeUnretainedValue().handle
    dropHostCx()
    do {
        let result = try cr.runtime.runUntil(handle)
        status.pointee = taskStatus(result)
    } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_block_on(_ rt: eddy_runtime_t, _ poll: CPollFn?, _ state: UnsafeMutableRawPointer?,
                          _ drop: CDropFn?, _ status: UnsafeMutablePointer<Int32>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = idleRuntime(rt)
    guard let cr else { return err }
    guard let poll, let status else { return EddyCode.einval }
    if cr.freeing.load(ordering: .relaxed) { return EddyCode.shutdown }
    dropHostCx()
    // From here on the runtime owns `state`: drop runs exactly once whatever happens.
    let handle = cr.runtime.spawnC(poll: poll, state: state, drop: drop)
    do {
        let result = try cr.runtime.runUntil(handle)
        status.pointee = taskStatus(result)
        return 0
    } catch {
        // The task stays in the runtime (e.g. EINTR): it keeps running on the
        // next run, or is dropped by eddy_runtime_free.
        return error.code
    }
}

@c @implementation
public func eddy_runtime_free(_ rt: eddy_runtime_t) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = idleRuntime(rt)
    guard let cr else { return err }
    // 0. No spawn from another thread may be half done from here on (CRuntime.spawning).
    cr.closeSpawnGate()
    // 1. Drop every task (drop_fns and then-callbacks run here, on this thread,
    //    while the runtime's handles still work for them).
    let report: ShutdownReport
    do { report = try cr.runtime.shutdown() } catch { cr.freeing.store(false, ordering: .relaxed); return error.code }
    //    The shutdown also joins the blocking pool's threads (queued jobs complete
    //    with ESHUTDOWN, running ones are waited for), and a multi-thread runtime's
    //    workers: no thread but this one uses its handles from here on.
    workerRuntimes.withLock { _ = $0.removeValue(forKey: rt) }
    // 2. Free every handle still owned by the runtime, then the runtime's own.
    let (handles, own) = handleTable.removeAll(owner: rt)
    for h in handles { forceClose(h) }
    runtimeRegistry.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(cr.runtime)) }
    if let own { Unmanaged<CRuntime>.fromOpaque(HandleTable.pointer(own)).release() }
    return Int32(clamping: report.tasksDropped + handles.count)
}

/// Closes and releases one handle detached by eddy_runtime_free.
private func forceClose(_ h: DetachedHandle) {
    // A keyed sleep has no object: its timer went with the runtime's heap (shut down above).
    if h.kind == .future && CTimer.isTimer(h.bits) { return }
    let p = HandleTable.pointer(h.bits)
    switch h.kind {
    case .tcp:
        if h.bits & 1 != 0 {
            Unmanaged<TcpListener>.fromOpaque(p).takeRetainedValue().close()
        } else {
            Unmanaged<TcpStream>.fromOpaque(p).takeRetainedValue().close()
        }
    case .future:
        Unmanaged<CFuture>.fromOpaque(p).takeRetainedValue().close()
    case .fd:
        // The runtime is shut down: its epoll fd is closed, the caller's fd stays open.
        try? Unmanaged<FdWatch>.fromOpaque(p).takeRetainedValue().deregister()
    case .udp:  // issue 15
        Unmanaged<UdpSocket>.fromOpaque(p).takeRetainedValue().close()
    case .reader:  // lines-15: the reader only; its stream is a handle of its own
        Unmanaged<LineReader>.fromOpaque(p).release()
    case .unixDatagram:  // issue 15 item 3
        Unmanaged<UnixDatagramSocket>.fromOpaque(p).takeRetainedValue().close()
        case .task, .waker, .runtime, .sender, .receiver, .semaphore, .notify, .condition,
         .interval:  // issue 16 item 6: its Sleep's timer went with the runtime's heap
        Unmanaged<AnyObject>.fromOpaque(p).release()
    // ---- signals and child processes (issue 16) ----
    case .signal:
        Unmanaged<Signals>.fromOpaque(p).takeRetainedValue().cancel()
    case .process:
        Unmanaged<AnyObject>.fromOpaque(p).release()  // an unreaped child goes to the reaper
    // ---- broadcast and watch (issue 16 item 1): the last handle's release drops the values ----
    case .broadcast, .watch:
        Unmanaged<AnyObject>.fromOpaque(p).release()
    }
}

/* ---- driver (io_uring) ---- */

@c @implementation
public func eddy_runtime_driver(_ rt: eddy_runtime_t, _ driver: UnsafeMutablePointer<UInt32>?,
                                _ fallback: UnsafeMutablePointer<Int32>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (u, err) = local(rt.id, .runtime, as: CRuntime.self)
    guard let u else { return err }
    let runtime = u.takeUnretainedValue().runtime
    driver?.pointee = runtime.driver == .ioUring ? EDDY_DRIVER_IO_URING : EDDY_DRIVER_EPOLL
    fallback?.pointee = runtime.driverFallback?.code ?? 0
    return 0
}
