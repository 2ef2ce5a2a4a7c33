/// One unit of work for the `BlockingPool`: a front door's job (a Swift closure, a C
/// function pointer, a libffi call) together with its result and whoever waits for it.
///
/// The pool calls exactly one of the two methods, once, on a thread it chooses: `run` on
/// one of its threads, or `abandon` when the pool stops (or the job was dropped) before
/// a thread picked the job up. Both publish a result and wake the waiter themselves.
package protocol BlockingWork: AnyObject, Sendable {
    /// Runs the job on a pool thread (every signal blocked there).
    func run()
    /// The job will never run: complete it with "shut down" (any thread).
    func abandon()
}
