// TaskExports: eddy_spawn, eddy_task_poll_join/status/abort/free.

import CEddyABI
import Eddy

/// Contract (include/eddy.h): on any error drop is not called and the caller keeps
/// `state`. So everything that can fail happens before the task exists: the spawn
/// gate (a concurrent eddy_runtime_free waits for us, or we see it and stop) and
/// the handle's slot (reserved first: a full table is EDDY_ENOMEM with nothing
/// spawned). After the spawn nothing can fail. `out == NULL` spawns a detached task: no
/// handle slot and no `TaskBox` (one allocation per spawn instead of three).
@c @implementation
public func eddy_spawn(_ rt: eddy_runtime_t, _ poll: CPollFn?, _ state: UnsafeMutableRawPointer?,
                       _ drop: CDropFn?, _ out: UnsafeMutablePointer<eddy_task_t>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    // Any thread: pin-and-retain lookup (another thread may be freeing it).
    guard let bits = handleTable.retainShared(rt, .runtime) else { return EddyCode.badHandle }
    let cr = Unmanaged<CRuntime>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    guard let poll else { return EddyCode.einval }
    return spawnGated(cr, rt, poll, state, drop, out, onWorker: nil)
}

/// eddy_spawn and eddy_spawn_on after their argument checks: the gate, the slot, then
/// the spawn, in that order (the contract above). `worker` nil: the runtime places it.
func spawnGated(_ cr: CRuntime, _ rt: UInt64, _ poll: CPollFn, _ state: UnsafeMutableRawPointer?, _ drop: CDropFn?,
                _ out: UnsafeMutablePointer<eddy_task_t>?, onWorker worker: Int?) -> Int32 {
    guard cr.enterSpawn() else { return EddyCode.shutdown }
    defer { cr.leaveSpawn() }
    // A graceful shutdown began (eddy_runtime_shutdown): refused, the caller keeps state.
    if cr.runtime.isStopping { return EddyCode.shutdown }
    guard let out else {
        cr.runtime.spawnCDetached(poll: poll, state: state, drop: drop, onWorker: worker)
        return 0
    }
    // The owner is live here (the free waits for the gate), so nil means a full table.
    guard let id = handleTable.reserve(kind: .task, owner: rt) else { return EddyCode.enomem }
    let box = TaskBox(cr.runtime.spawnC(poll: poll, state: state, drop: drop, onWorker: worker))
    let boxBits = UInt(bitPattern: Unmanaged.passRetained(box).toOpaque())
    if !handleTable.publish(id, bits: boxBits, thread: cr.handleThread()) {
        // Unreachable while the gate is held; the task is queued all the same, so it
        // is a success whose handle reads as freed (as if the free came right after).
        Unmanaged<TaskBox>.fromOpaque(HandleTable.pointer(boxBits)).release()
    }
    out.pointee = eddy_task_t(id: id)
    return 0
}

@c @implementation
public func eddy_task_poll_join(_ task: eddy_task_t, _ cx: OpaquePointer?, _ status: UnsafeMutablePointer<Int32>?) -> Int32 {
    let task = task.id
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let (t, err) = local(task, .task, as: TaskBox.self)
    guard let t else { return err }
    guard let status else { return EddyCode.einval }
    var handle = t.takeUnretainedValue().handle
    switch handle.poll(&cxp.pointee) {
    case .ready(let r):
        status.pointee = taskStatus(r)
        return EddyCode.ready
    case .pending:
        return EddyCode.pending
    }
}

@c @implementation
public func eddy_task_status(_ task: eddy_task_t, _ status: UnsafeMutablePointer<Int32>?) -> Int32 {
    let task = task.id
    if isForked() { return EddyCode.forked }
    let (t, err) = local(task, .task, as: TaskBox.self)
    guard let t else { return err }
    guard let status else { return EddyCode.einval }
    guard let r = t.takeUnretainedValue().handle.tryResult() else { return EddyCode.pending }
    status.pointee = taskStatus(r)
    return EddyCode.ready
}

@c @implementation
public func eddy_task_abort(_ task: eddy_task_t) -> Int32 {
    let task = task.id
    if isForked() { return EddyCode.forked }
    guard let bits = handleTable.retainShared(task, .task) else { return EddyCode.badHandle }
    let box = Unmanaged<TaskBox>.fromOpaque(HandleTable.pointer(bits)).takeRetainedValue()
    box.handle.abort()
    return 0
}

@c @implementation
public func eddy_task_free(_ task: eddy_task_t) -> Int32 {
    let task = task.id
    if isForked() { return EddyCode.forked }
    let (t, err) = local(task, .task, as: TaskBox.self)
    guard t != nil else { return err }
    guard let bits = handleTable.remove(task, .task) else { return EddyCode.badHandle }
    Unmanaged<TaskBox>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}
