/// Eddy as a Swift `TaskExecutor`: jobs of tasks that prefer it run on the loop thread,
/// interleaved with poll-style tasks. Enqueueing stores the job pointer in a ring (loop
/// thread) or a locked array (other threads); no closure is allocated per job.
public final class EddyExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: holds only an unretained `Core`, whose `enqueueJob` is safe from
    // any thread (local ring on the loop thread, the inbox otherwise).
    /// The core owns this executor, so it outlives it; unmanaged: no retain per enqueue.
    let coreRef: Unmanaged<Core>

    init(core: Core) { coreRef = Unmanaged.passUnretained(core) }

    var core: Core { coreRef.takeUnretainedValue() }

    /// Called by Swift concurrency to run `job` on the loop thread (any thread may call it).
    public func enqueue(_ job: consuming ExecutorJob) {
        let j = UnownedJob(job)
        coreRef._withUnsafeGuaranteedRef { $0.enqueueJob(j) }
    }
}

extension Runtime {
    /// The executor to pass to `withTaskExecutorPreference` / `Task(executorPreference:)`.
    public var executor: EddyExecutor { core.executor }

    /// Runs async code on this runtime's loop thread until it returns.
    ///
    /// The body (and every child task or `Eddy.spawn`ed task it starts) prefers this
    /// runtime's executor; detached tasks and other executors leave the loop.
    public func blockOn<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let box = ResultBox<T>()
        let core = self.core, exec = core.executor
        // Start on the loop's own queue: `runUntil` picks the job up at once.
        Task(executorPreference: exec) {
            do { box.result = .success(try await TaskCancelSlot.run(core, body)) } catch { box.result = .failure(error) }
            box.isSet = true
        }
        let flag: ResultFlag = box  // checked every loop turn: a plain Bool, no generic access
        try core.runUntil { flag.isSet }
        return try box.result!.get()
    }
}

/// Whether `blockOn`'s body has finished (non-generic: the loop reads it every turn).
class ResultFlag: @unchecked Sendable {
    // @unchecked Sendable: set by a job on the loop thread, read by the same thread after
    // the job ran (blockOn drives the loop on the calling thread).
    @exclusivity(unchecked) final var isSet = false
}

/// Result slot of `blockOn`; written by a job on the loop thread, read after the loop
/// returns on the same thread.
final class ResultBox<T>: ResultFlag, @unchecked Sendable {
    // @unchecked Sendable: as `ResultFlag`.
    var result: Result<T, any Error>?
}
