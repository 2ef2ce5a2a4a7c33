/// The entry points of a task whose body the core does not see (async-task's
/// `TaskVTable`, reduced to what Eddy needs). A layer embedding Eddy — the C ABI — supplies
/// them; the core knows nothing about what the pointers hold or which language wrote the
/// task. A raw task carries two pointers: `data`, handed to every poll, and `owner`,
/// handed to `finish` or `drop` along with `data` (e.g. what releases `data`).
///
/// Contract, for a task spawned with `Runtime.spawnRaw(_:data:owner:)`:
/// - `poll(data, cx)` is called on the loop thread each time the task is scheduled, `cx`
///   being the address of the task's `Context` (built once at spawn, the same for every
///   poll, valid while the task lives). For the duration of the call the executor
///   publishes `cx` in the thread's raw-context slot (CEddySys's `ceddy_raw_context_get`),
///   so the supplier can tell a live context pointer from a stale one without
///   dereferencing it. It returns `RawTaskVTable.pending` until the task finished; any
///   other value finishes it.
/// - `finish(data, owner, value)` is called exactly once, right after `poll` returned a
///   `value` other than `pending`: it returns the task's output (what its `JoinHandle`
///   reports) and releases what the task owns.
/// - `drop(data, owner)` is called exactly once instead of `finish` when the task is
///   dropped before finishing (aborted, its runtime shut down, never run): on the loop
///   thread, or on the thread shutting the runtime down.
/// There is no schedule hook: the core queues a woken raw task like any other.
package struct RawTaskVTable: Sendable {
    package typealias Poll = @convention(c) (_ data: UnsafeMutableRawPointer?, _ cx: OpaquePointer?) -> Int32
    package typealias Finish = @convention(c) (_ data: UnsafeMutableRawPointer?, _ owner: UnsafeMutableRawPointer?,
                                               _ value: Int32) -> Int32
    package typealias Drop = @convention(c) (_ data: UnsafeMutableRawPointer?, _ owner: UnsafeMutableRawPointer?) -> Void

    /// What `poll` returns while the task is not finished.
    package static let pending: Int32 = 1

    package let poll: Poll
    package let finish: Finish
    package let drop: Drop

    package init(poll: Poll, finish: Finish, drop: Drop) {
        self.poll = poll
        self.finish = finish
        self.drop = drop
    }
}
