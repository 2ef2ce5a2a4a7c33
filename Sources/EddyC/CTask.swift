// CTask: a task written in C (poll_fn + state + drop_fn), run by the core as a raw task
// (Eddy's RawTaskVTable): poll_fn is the poll hook itself, state the task's data and
// drop_fn its owner pointer.
//
// drop_fn runs exactly once, on the loop thread, whatever ends the task:
// - completion: the vtable's finish runs it right after poll_fn returned READY/error;
// - abort / runtime free: the core calls the vtable's drop on the loop thread.
// The core calls exactly one of the two, once.
//
// cx: the eddy_cx_t* handed to poll_fn is the address of the task's core Context
// (built once at spawn); the core publishes it in the thread's raw-context slot for the
// duration of the call (saved/restored, so nested polls — a then-callback polling, a
// block_on in another runtime — stay correct), and every function that takes a cx
// accepts only that pointer (Guards.validContext).

import Eddy

public typealias CPollFn = @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?) -> Int32
public typealias CDropFn = @convention(c) (UnsafeMutableRawPointer?) -> Void

/// Runs drop_fn (the owner pointer, if any) on the state.
@inline(__always)
private func runDrop(_ state: UnsafeMutableRawPointer?, _ owner: UnsafeMutableRawPointer?) {
    guard let owner else { return }
    unsafeBitCast(owner, to: CDropFn.self)(state)
}

/// The finish and drop hooks of every C task (the poll hook is each task's poll_fn).
/// `finish` maps poll_fn's final value to the task's status.
private let cFinish: RawTaskVTable.Finish = { state, owner, r in
    runDrop(state, owner)
    return r == 0 ? 0 : (r < 0 ? r : EddyCode.badPoll)
}
private let cDrop: RawTaskVTable.Drop = { state, owner in runDrop(state, owner) }
/// Every C task's vtable but the poll hook (one global: one lazy-init check per spawn).
private let cHooks = (finish: cFinish, drop: cDrop)

extension Runtime {
    /// Spawns a C task: from here on the runtime owns `state` (drop_fn runs exactly once).
    func spawnC(poll: CPollFn, state: UnsafeMutableRawPointer?, drop: CDropFn?) -> JoinHandle<Int32> {
        let owner = drop.map { unsafeBitCast($0, to: UnsafeMutableRawPointer.self) }
        return spawnRaw(RawTaskVTable(poll: poll, finish: cFinish, drop: cDrop), data: state, owner: owner)
    }

    /// `spawnC` without a handle (eddy_spawn's `out == NULL`). `worker` as in `spawnC`.
    func spawnCDetached(poll: CPollFn, state: UnsafeMutableRawPointer?, drop: CDropFn?, onWorker worker: Int?) {
        let owner = drop.map { unsafeBitCast($0, to: UnsafeMutableRawPointer.self) }
        let hooks = cHooks
        spawnRawDetached(RawTaskVTable(poll: poll, finish: hooks.finish, drop: hooks.drop), data: state, owner: owner,
                         onWorker: worker)
    }

    /// `spawnC` on worker `worker` (checked by the caller); nil: where `spawnC` puts it.
    func spawnC(poll: CPollFn, state: UnsafeMutableRawPointer?, drop: CDropFn?, onWorker worker: Int?) -> JoinHandle<Int32> {
        guard let worker else { return spawnC(poll: poll, state: state, drop: drop) }
        let owner = drop.map { unsafeBitCast($0, to: UnsafeMutableRawPointer.self) }
        return spawnRaw(RawTaskVTable(poll: poll, finish: cFinish, drop: cDrop), data: state, owner: owner,
                        onWorker: worker)
    }
}

/// What a task handle points to.
final class TaskBox: @unchecked Sendable {
    // @unchecked Sendable: immutable; the handle it holds is itself Sendable-safe (see JoinHandle).
    let handle: JoinHandle<Int32>
    init(_ handle: JoinHandle<Int32>) { self.handle = handle }
}
