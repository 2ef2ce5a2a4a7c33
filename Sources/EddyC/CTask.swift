// CTask: a task written in C (poll_fn + state + drop_fn) as a core Future.
//
// drop_fn must run exactly once, on the loop thread, whatever ends the task:
// - completion: CTask.cFinish calls it right after poll_fn returned READY/error;
// - abort / runtime free: the core drops the future on the loop thread
//   (TaskCell.cancelTask), releasing CTaskState, whose deinit calls it.
// A flag makes the two paths exclusive.
//
// cx: the eddy_cx_t* handed to poll_fn is the address of the task's core Context
// (built once at spawn); it is published in the thread-local slot for the
// duration of the call (saved/restored, so nested polls — a then-callback
// polling, a block_on in another runtime — stay correct), and every function
// that takes a cx accepts only that pointer.

import CEddySys
import Eddy

public typealias CPollFn = @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?) -> Int32
public typealias CDropFn = @convention(c) (UnsafeMutableRawPointer?) -> Void

/// The state of one C task and its drop_fn (poll_fn is held by the task cell).
final class CTaskState: @unchecked Sendable {
    let state: UnsafeMutableRawPointer?
    let dropFn: CDropFn?
    @exclusivity(unchecked) private var dropped = false

    init(state: UnsafeMutableRawPointer?, drop: CDropFn?) {
        self.state = state
        dropFn = drop
    }

    /// Runs drop_fn once.
    @inline(__always)
    func drop() {
        if dropped { return }
        dropped = true
        dropFn?(state)
    }

    deinit { drop() }
}

/// The task the core runs for eddy_spawn / eddy_block_on (spawned with `spawnC`: the
/// core's loop calls poll_fn directly, publishing cx in the thread-local slot);
/// `cFinish` runs drop_fn and maps the result to a status.
/// @unchecked Sendable: it carries a C state pointer that the C contract says is
/// handed to the runtime; it is only touched on the loop thread.
final class CTask: PollTask, @unchecked Sendable {
    let task: CTaskState

    init(_ task: CTaskState) {
        self.task = task
        super.init()
        cFinish = { [task] r in
            task.drop()
            return r == 0 ? 0 : (r < 0 ? r : EddyCode.badPoll)
        }
    }

    override func cancel() { task.drop() }
}

extension Runtime {
    /// Spawns a C task: from here on the runtime owns `state` (drop_fn runs exactly once).
    func spawnC(poll: CPollFn, state: UnsafeMutableRawPointer?, drop: CDropFn?) -> JoinHandle<Int32> {
        spawn(CTask(CTaskState(state: state, drop: drop)), cPoll: poll, cState: state)
    }
}

/// What a task handle points to.
final class TaskBox: @unchecked Sendable {
    let handle: JoinHandle<Int32>
    init(_ handle: JoinHandle<Int32>) { self.handle = handle }
}
