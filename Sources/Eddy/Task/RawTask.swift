/// The entry points of a task whose body the core does not see (async-task's
/// `TaskVTable`, reduced to what Eddy needs). A layer embedding Eddy — the C ABI — supplies
/// them; the core knows nothing about what `data` holds or which language wrote the task.
///
/// Contract, for a task spawned with `Runtime.spawnRaw(_:data:)`:
/// - `poll(data, cx)` is called on the loop thread each time the task is scheduled;
///   `cx` is the address of the task's `Context` (built once at spawn, the same for every
///   poll, valid while the task lives). It returns `true` once the task finished.
/// - `finish(data)` is called exactly once, right after `poll` returned `true`: it yields
///   the task's output (what its `JoinHandle` reports) and releases `data`.
/// - `drop(data)` is called exactly once instead of `finish` when the task is dropped
///   before finishing (aborted, or its runtime shut down, or never run): on the loop
///   thread, or on the thread shutting the runtime down. It releases `data`.
/// There is no schedule hook: the core queues a woken raw task like any other, and a
/// wake from the task's own poll is visible through `cx.waker`.
package struct RawTaskVTable: Sendable {
    package typealias Poll = @convention(c) (_ data: UnsafeMutableRawPointer?, _ cx: UnsafeMutableRawPointer?) -> Bool
    package typealias Finish = @convention(c) (_ data: UnsafeMutableRawPointer?) -> Int32
    package typealias Drop = @convention(c) (_ data: UnsafeMutableRawPointer?) -> Void

    package let poll: Poll
    package let finish: Finish
    package let drop: Drop

    package init(poll: Poll, finish: Finish, drop: Drop) {
        self.poll = poll
        self.finish = finish
        self.drop = drop
    }
}
