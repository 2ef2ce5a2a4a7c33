/// What a shutdown did: `Runtime.shutdown()` (at once) or `Runtime.shutdown(timeout:)`
/// (graceful). The C ABI's `eddy_shutdown_report_t` carries the same counts.
public struct ShutdownReport: Sendable, Equatable {
    /// Tasks that had not finished and were dropped (aborted).
    public var tasksDropped: Int
    /// Descriptors still registered that were closed (force-closed handles).
    public var descriptorsClosed: Int
    /// Tasks that finished on their own while a graceful shutdown waited for them.
    public var tasksFinished = 0
    /// Blocking jobs still queued, completed as cancelled without running.
    public var blockingJobsAbandoned = 0
    /// Blocking jobs still running when the shutdown ended (a thread cannot be
    /// interrupted: they finish later, and the runtime's end waits for them).
    public var blockingJobsRunning = 0

    /// A report of `tasksDropped` aborted tasks and `descriptorsClosed` closed descriptors.
    public init(tasksDropped: Int, descriptorsClosed: Int) {
        self.tasksDropped = tasksDropped
        self.descriptorsClosed = descriptorsClosed
    }
}
