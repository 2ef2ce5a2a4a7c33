import CEddySys
import Glibc

/// Watches signals through a signalfd: `for await signal in try Signals(.terminate, .interrupt)`.
///
/// While a `Signals` exists, each of its signals is blocked in the thread that created it
/// and handled by Eddy (see `SignalHub` and docs/OS.md): the signal never takes its default action nor
/// reaches the handler that was installed before; it is delivered here instead. Deliveries
/// coalesce: signals that arrive before the watcher looks again count once (as the kernel
/// coalesces a pending signal). Several watchers of one signal each see every delivery.
/// When the last watcher of a signal goes (`cancel()` or deinit) the signal's previous
/// action and mask are restored.
///
/// Polled on the loop thread of the runtime it was created on (its signalfd is registered
/// there); `cancel` and deinit from any thread.
public final class Signals: AsyncSequence, @unchecked Sendable {
    // @unchecked Sendable: the registration is confined to the runtime's loop thread like
    // `FdWatch`'s (checked on each poll: `.wrongThread`); the inbox is atomic; `closed`
    // is set once under the hub's order (cancel) and read on the loop thread.
    /// Each element is one arrival (coalesced) of a watched signal.
    public typealias Element = Signal
    /// Iteration never throws: it ends (nil) instead.
    public typealias Failure = Never

    /// The watched signals.
    public let signals: [Signal]
    private let numbers: [Int32]
    private let mask: UInt64
    private let fd: Int32
    private let watch: FdWatch
    private let inbox = SignalInbox()
    private let core: Core
    private var closed = false

    /// Starts watching `signals` (at least one) on `runtime` (default: the current one).
    /// Errors: EINVAL (none given, or one not watchable: SIGKILL, SIGSTOP, out of range),
    /// EMFILE/ENOMEM (signalfd), `.shutdown`, `.wrongThread`.
    public init(_ signals: [Signal], runtime: Runtime? = nil) throws(EddyError) {
        guard !signals.isEmpty, signals.allSatisfy(\.isWatchable) else { throw .errno(EINVAL) }
        let core = try constructionCore(runtime)
        var unique: [Int32] = []
        for s in signals where !unique.contains(s.rawValue) { unique.append(s.rawValue) }
        let fd = unique.withUnsafeBufferPointer { ceddy_signalfd_for($0.baseAddress, Int32($0.count)) }
        if fd < 0 { throw .errno(-fd) }
        let w: FdWatch
        do { w = try FdWatch.watch(fd: fd, runtime: core.runtime) } catch {
            close(fd)
            throw error
        }
        do { try SignalHub.shared.add(inbox, unique) } catch {
            try? w.deregister()
            close(fd)
            throw error
        }
        self.signals = signals
        self.numbers = unique
        self.mask = unique.reduce(0) { $0 | UInt64(1) << UInt64($1 - 1) }
        self.fd = fd
        self.watch = w
        self.core = core
    }

    /// `init(_:runtime:)` with the signals listed.
    public convenience init(_ signals: Signal..., runtime: Runtime? = nil) throws(EddyError) {
        try self.init(signals, runtime: runtime)
    }

    deinit { cancel() }

    /// Stops watching (idempotent): the signals' previous actions come back once no other
    /// watcher has them. A task waiting in `next()` ends (nil); `pollNext` is then EBADF.
    public func cancel() {
        if closed { return }
        closed = true
        SignalHub.shared.remove(inbox, numbers)
        try? watch.deregister()
        close(fd)
        inbox.waker.wake()
    }

    /// Reads everything the signalfd holds and posts it to every watcher. The readiness
    /// is forgotten on EAGAIN (same poll, as `FdWatch` requires).
    private func drain() -> EddyError? {
        while true {
            let s = ceddy_signalfd_read(fd)
            if s > 0 {
                SignalHub.shared.deliver(s)
                continue
            }
            if s == 0 {
                do { try watch.clearReady(.readable) } catch { return error }
                return nil
            }
            return .errno(-s)
        }
    }

    /// Ready with the next signal that arrived (the lowest number first when several
    /// did), or pending: the task is woken when one arrives. Loop thread.
    public func pollNext(_ cx: inout Context) -> Poll<Result<Signal, EddyError>> {
        if closed { return .ready(.failure(.errno(EBADF))) }
        while true {
            if let s = inbox.take(mask) { return .ready(.success(Signal(rawValue: s))) }
            inbox.waker.register(cx.waker)  // another watcher's drain posts to us
            if let s = inbox.take(mask) { return .ready(.success(Signal(rawValue: s))) }
            switch watch.pollReady(&cx, .readable) {
            case .pending: return .pending
            case .ready(.failure(let e)): return .ready(.failure(e))
            case .ready(.success):
                if let e = drain() { return .ready(.failure(e)) }
            }
        }
    }

    /// Waits for the next signal. Throws `CancellationError` when the task is cancelled,
    /// the poll's error otherwise (EBADF after `cancel()`, `.shutdown`).
    nonisolated(nonsending) public func next() async throws -> Signal {
        guard core.isLoopThread else { throw EddyError.wrongThread }
        let w = ContinuationWaiter()
        var cx = Context(target: w, executor: Unmanaged.passUnretained(core).toOpaque())
        while true {
            switch pollNext(&cx) {
            case .ready(.success(let s)): return s
            case .ready(.failure(let e)): throw e
            case .pending:
                if await parkCancellable(w) { throw CancellationError() }
            }
        }
    }

    /// The iterator of `for await`: ends (nil) when the watcher is cancelled, the task is
    /// cancelled or the runtime shuts down.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let owner: Signals
        /// The next arrival, nil once the watcher or the task is cancelled.
        nonisolated(nonsending) public mutating func next() async -> Signal? { try? await owner.next() }
        /// The next arrival, nil once the watcher or the task is cancelled.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> Signal? {
            try? await owner.next()
        }
    }

    /// An iterator over the arrivals (all iterators of one watcher share its arrivals).
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(owner: self) }
}
