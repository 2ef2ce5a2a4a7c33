// Resolve: the name lookup leaf future (issue 15 item 1). getaddrinfo blocks, so it
// runs on the runtime's blocking pool; the loop thread only polls a handle and a
// deadline timer.

#if canImport(Glibc)
import Glibc
#endif

/// A host name lookup in flight: every IPv4/IPv6 address of a name, from getaddrinfo
/// run on the runtime's blocking pool (a numeric host is answered at once, without it).
///
/// - Cancellable: `cancel()` (or dropping the future) before a pool thread took the job
///   means getaddrinfo never runs; once it runs it cannot be interrupted, and its result
///   is dropped when it arrives (getaddrinfo's own list is freed on the pool thread, so
///   nothing leaks).
/// - Bounded: a lookup still running after `timeout` fails with `EDDY_EAI_AGAIN`
///   ("Temporary failure in name resolution"), as glibc's own DNS timeout does.
/// - Names in RFC 6761's `.invalid` domain fail at once with `EDDY_EAI_NONAME`.
public final class ResolveFuture: Future, @unchecked Sendable {
    // @unchecked Sendable: `handle`, `deadline`, `result` are touched only by `poll`,
    // `cancel` and deinit, i.e. by the one task that owns the future; the pool job only
    // writes its BlockingCell (synchronised there).

    /// How long a lookup may take before it fails with `EDDY_EAI_AGAIN`.
    public static let defaultTimeout: Duration = .seconds(10)

    /// The name being resolved (for error messages).
    public let host: String
    /// The port every address carries.
    public let port: UInt16
    private var handle: BlockingHandle<Result<[Endpoint], EddyError>>?
    private var deadline: Sleep?
    private var result: Result<[Endpoint], EddyError>?

    /// Starts the lookup on the runtime of `core` (the job is queued now).
    init(host: String, port: UInt16, core: Core, timeout: Duration) {
        self.host = host
        self.port = port
        if let e = try? Endpoint(host: host, port: port) {  // numeric: no pool hop
            result = .success([e])
            return
        }
        do { try checkHostName(host) } catch {
            result = .failure(error)
            return
        }
        let h = host
        handle = core.runtime.spawnBlocking { blockingGetAddrInfo(host: h, port: port) }
        deadline = Sleep(for: timeout)
    }

    /// Starts resolving `host` on `runtime` (or the runtime driving this thread).
    public convenience init(host: String, port: UInt16 = 0, timeout: Duration = ResolveFuture.defaultTimeout,
                            runtime: Runtime? = nil) throws(EddyError) {
        try HappyEyeballsConnect.checkArgument(host)  // empty, a NUL byte, too long: EINVAL now
        self.init(host: host, port: port, core: try constructionCore(runtime), timeout: timeout)
    }

    deinit { handle?.cancel() }

    /// `true` when the lookup went to the blocking pool (false for numeric hosts and
    /// names refused before any lookup).
    public var usedBlockingPool: Bool { deadline != nil || handle != nil }

    /// Ready with every address (getaddrinfo's order, duplicates removed) or the error:
    /// `EDDY_EAI_*`, `ECANCELED` (cancelled, or the runtime shut down before the lookup
    /// ran). (A host that can be no name — empty, a NUL byte, over 253 bytes — is
    /// `EINVAL` from `init`.)
    public func poll(_ cx: inout Context) -> Poll<Result<[Endpoint], EddyError>> {
        if let r = result { return .ready(r) }
        guard var h = handle else { return .ready(.failure(.cancelled)) }
        if case .ready(let r) = h.poll(&cx) {
            switch r {
            case .success(let v): return .ready(finish(v))
            case .failure: return .ready(finish(.failure(.cancelled)))
            }
        }
        if let d = deadline, case .ready = d.poll(&cx) {
            return .ready(finish(.failure(.nameTemporaryFailure)))
        }
        return .pending
    }

    private func finish(_ r: Result<[Endpoint], EddyError>) -> Result<[Endpoint], EddyError> {
        handle?.cancel()  // a job still queued never runs; a running one's result is dropped
        handle = nil
        deadline = nil
        result = r
        return r
    }

    /// Cancels the lookup: the future completes with `ECANCELED` (if not complete yet).
    public func cancel() {
        if result == nil { _ = finish(.failure(.cancelled)) }
    }
}

/// A failed lookup, with the host name: what the async name APIs throw.
/// `description`: `cannot resolve "nonexistent.invalid": Name or service not known (EDDY_EAI_NONAME)`.
public struct ResolveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The code (`EDDY_EAI_*`, `EINVAL`, ...).
    public let error: EddyError
    /// The name that did not resolve.
    public let host: String

    /// Wraps `error` for `host`.
    public init(_ error: EddyError, host: String) {
        self.error = error
        self.host = host
    }

    /// `cannot resolve "HOST": MESSAGE (NAME)`.
    public var description: String { "cannot resolve \"\(host)\": \(error.message) (\(error.name))" }
}

/// Name lookups from async code.
public enum Resolver {
    /// Every address of `host` (IPv4 and IPv6) with `port`; a numeric host is returned
    /// as is, without a blocking-pool hop. Throws `ResolveError` (with the host name),
    /// or `CancellationError` when the Swift task is cancelled (the lookup is dropped).
    nonisolated(nonsending) public static func resolve(host: String, port: UInt16 = 0,
                                                      timeout: Duration = ResolveFuture.defaultTimeout) async throws -> [Endpoint] {
        let core = try loopCore()
        let f = ResolveFuture(host: host, port: port, core: core, timeout: timeout)
        defer { f.cancel() }
        switch try await awaitPolling(f, core: core) {
        case .success(let v): return v
        case .failure(let e): throw ResolveError(e, host: host)
        }
    }
}

/// Polls a class future from async code on its loop thread until it is ready.
nonisolated(nonsending) func awaitPolling<F: Future & AnyObject>(_ f: F, core: Core) async throws -> F.Output {
    let waiter = ContinuationWaiter()
    var g = f
    while true {
        var cx = Context(target: waiter, core: core)
        if case .ready(let v) = g.poll(&cx) { return v }
        try await waiter.suspendCancellable(core)
        if core.isShutdown { throw EddyError.shutdown }
    }
}
