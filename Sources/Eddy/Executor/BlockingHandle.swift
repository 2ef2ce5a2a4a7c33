import Synchronization

/// The shared state of one `spawnBlocking` job: the closure, then its result, and the
/// waker of whoever waits. A job runs at most once.
@usableFromInline
final class BlockingCell<T>: BlockingWork, @unchecked Sendable {
    // @unchecked Sendable: `body` is read once by the pool thread that won `claim`;
    // `result` is written before `done` is published (release) and read after it is seen
    // (acquire); the waker is under `slot`'s lock. `T` crosses threads only as that result.
    private static var queued: UInt8 { 0 }
    private static var started: UInt8 { 1 }
    private static var finished: UInt8 { 2 }

    private var body: (@Sendable () -> T)?
    private var result: Result<T, JoinError>?
    private let state = Atomic<UInt8>(0)
    private let slot = PosixMutex<Waker?>(nil)

    init(_ body: @escaping @Sendable () -> T) { self.body = body }

    /// queued -> started, for exactly one of `run`/`cancel`/`abandon`.
    private func claim(_ to: UInt8) -> Bool {
        state.compareExchange(expected: Self.queued, desired: to, ordering: .acquiringAndReleasing).exchanged
    }

    private func finish(_ r: Result<T, JoinError>) {
        result = r
        body = nil
        state.store(Self.finished, ordering: .releasing)
        let w = slot.withLock { $0.take() }
        w?.wake()
    }

    func run() {
        guard claim(Self.started), let body else { return }
        finish(.success(body()))
    }

    func abandon() {
        if claim(Self.started) { finish(.failure(.cancelled)) }
    }

    /// True when the job had not started: it never will.
    func cancel() -> Bool {
        guard claim(Self.started) else { return false }
        finish(.failure(.cancelled))
        return true
    }

    var isFinished: Bool { state.load(ordering: .acquiring) == Self.finished }

    func poll(_ cx: inout Context) -> Result<T, JoinError>? {
        if isFinished { return result }
        let current = cx.waker
        slot.withLock { w in
            if let w, w.willWake(current) { return }
            w = current
        }
        return isFinished ? result : nil
    }

    func register(_ waker: Waker) -> Result<T, JoinError>? {
        if isFinished { return result }
        slot.withLock { $0 = waker }
        return isFinished ? result : nil
    }
}

/// A job running (or queued) on the runtime's blocking pool, from `Runtime.spawnBlocking`.
/// Poll it (it is a `Future`), `await value`, or `cancel()` it.
///
/// Cancellation: `cancel()` before a pool thread picked the job up means the closure never
/// runs and the handle completes with `JoinError.cancelled`. Once the closure started it
/// runs to completion (a thread cannot be interrupted safely) and the handle yields its
/// value; `cancel()` then returns false and changes nothing. Dropping the handle detaches
/// the job (it still runs). Cancelling the Swift task that awaits `value` does not cancel
/// the job; call `cancel()` for that. A runtime shutting down abandons the queued jobs
/// (they complete with `JoinError.cancelled`) and waits for the running ones.
public struct BlockingHandle<T>: Future, @unchecked Sendable {
    // @unchecked Sendable: holds only its cell (see there).
    @usableFromInline let cell: BlockingCell<T>

    @usableFromInline init(_ cell: BlockingCell<T>) { self.cell = cell }

    /// The closure's value once it returned; `.failure(.cancelled)` if the job was
    /// cancelled or abandoned before it started. Stores the caller's waker while it runs.
    public mutating func poll(_ cx: inout Context) -> Poll<Result<T, JoinError>> {
        if let r = cell.poll(&cx) { return .ready(r) }
        return .pending
    }

    /// Prevents the job from starting if no pool thread has picked it up yet; returns
    /// true then. Any thread; false (and no effect) once it started or finished.
    @discardableResult
    public func cancel() -> Bool { cell.cancel() }

    /// `true` once the job returned or was cancelled.
    public var isFinished: Bool { cell.isFinished }

    /// The closure's value, from async code (any executor); throws `JoinError.cancelled`
    /// if the job was cancelled or abandoned before it started.
    public var value: T {
        get async throws(JoinError) {
            let waiter = ContinuationWaiter()
            while true {
                if let r = cell.register(Waker(waiter)) { return try r.get() }
                await waiter.suspend()
            }
        }
    }
}
