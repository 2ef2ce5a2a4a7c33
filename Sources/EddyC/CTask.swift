// CTask: a task written in C (poll_fn + state + drop_fn), run by the core as a raw task
// (Eddy's RawTaskVTable) whose data is a `ceddy_ctask` (CEddyABI).
//
// drop_fn runs exactly once, on the loop thread, whatever ends the task:
// - completion: the vtable's finish runs it right after poll_fn returned READY/error;
// - abort / runtime free: the core calls the vtable's drop on the loop thread.
// The core calls exactly one of the two, once.
//
// cx: the eddy_cx_t* handed to poll_fn is the address of the task's core Context
// (built once at spawn); ceddy_ctask_poll publishes it in the thread-local slot for the
// duration of the call (saved/restored, so nested polls — a then-callback polling, a
// block_on in another runtime — stay correct), and every function that takes a cx
// accepts only that pointer.

import CEddyABI
import Eddy

public typealias CPollFn = @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?) -> Int32
public typealias CDropFn = @convention(c) (UnsafeMutableRawPointer?) -> Void

/// The hooks of every C task. `finish` maps poll_fn's final value to the task's status.
let cTaskVTable = RawTaskVTable(
    poll: { task, cx in ceddy_ctask_poll(task, cx) },
    finish: { task in
        let t = task!.assumingMemoryBound(to: ceddy_ctask.self)
        let r = t.pointee.result
        ceddy_ctask_drop_state(t)
        t.deallocate()
        return r == 0 ? 0 : (r < 0 ? r : EddyCode.badPoll)
    },
    drop: { task in
        let t = task!.assumingMemoryBound(to: ceddy_ctask.self)
        ceddy_ctask_drop_state(t)
        t.deallocate()
    })

extension Runtime {
    /// Spawns a C task: from here on the runtime owns `state` (drop_fn runs exactly once).
    func spawnC(poll: CPollFn, state: UnsafeMutableRawPointer?, drop: CDropFn?) -> JoinHandle<Int32> {
        let t = UnsafeMutablePointer<ceddy_ctask>.allocate(capacity: 1)
        // poll_fn's cx is an opaque pointer for C: the same bits as the hook's raw cx.
        let cPoll = unsafeBitCast(poll, to: (@convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?) -> Int32).self)
        t.initialize(to: ceddy_ctask(poll: cPoll, state: state, drop: drop, result: 0))
        return spawnRaw(cTaskVTable, data: UnsafeMutableRawPointer(t))
    }
}

/// What a task handle points to.
final class TaskBox: @unchecked Sendable {
    let handle: JoinHandle<Int32>
    init(_ handle: JoinHandle<Int32>) { self.handle = handle }
}
