import CEddySys

/// Installs the handler of waiters' cancellation records (a `Core` does it too; a
/// program may use the sync primitives from tasks of no Eddy runtime).
private let cancelHandlerInstalled: Bool = {
    ceddy_set_cancel_handler(ContinuationWaiter.cancelHandler)
    return true
}()

/// Suspends the calling Swift task until `w` is woken (or returns at once if a wake
/// is pending); cancellation of the task wakes it. Returns true when the task is
/// cancelled: the caller then withdraws its wait (giving back what it was granted).
/// Works from any executor: an Eddy loop, the global pool, another runtime.
nonisolated(nonsending) func parkCancellable(_ w: ContinuationWaiter) async -> Bool {
    if Task.isCancelled { return true }
    _ = cancelHandlerInstalled
    let record = ceddy_task_add_cancel_handler(Unmanaged.passUnretained(w).toOpaque())
    await w.suspend()
    ceddy_task_remove_cancel_handler(record)
    return Task.isCancelled
}

/// Errors of the sync primitives and channels (Swift front door). The C ABI maps them
/// to codes (include/eddy.h), Python to asyncio's exceptions.
public enum SyncError: Error, Sendable, Equatable {
    /// The channel or semaphore is closed: a send whose receiver is gone, an acquire on a
    /// closed semaphore, a receive after every sender has gone and nothing is left.
    case closed
    /// `trySend` on a full channel.
    case full
    /// `tryReceive` on an empty channel that still has senders.
    case empty
    /// A oneshot's value was already received.
    case alreadyReceived
    /// Releasing a mutex that is not locked, or a bounded semaphore above its bound.
    case notHeld
}
