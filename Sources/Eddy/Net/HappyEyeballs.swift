// HappyEyeballs: connect by name (issue 15 item 1), RFC 8305's "Happy Eyeballs v2".

#if canImport(Glibc)
import Glibc
#endif

/// A connection to a host name: resolve, then race connection attempts over its
/// addresses as RFC 8305 says.
///
/// - Addresses are interleaved by family, starting with the family getaddrinfo put
///   first (IPv6 on a machine that has it): v6, v4, v6, v4, ... (section 4).
/// - One attempt starts at once; the next starts when `attemptDelay` (250 ms, the
///   RFC's recommended "Connection Attempt Delay") passes without a connection, or at
///   once when every attempt in flight has failed (section 5).
/// - The first attempt to connect wins; the others are closed then. Dropping the
///   future closes every attempt and drops the lookup.
/// - All attempts failed: the last attempt's error (`ECONNREFUSED`, ...); the lookup
///   failed: its error (`EDDY_EAI_*`), see `failedInLookup`.
public final class HappyEyeballsConnect: Future, @unchecked Sendable {
    // @unchecked Sendable: every field is touched only by `poll` and deinit, i.e. by the
    // one task that owns the future; the attempts check their loop thread themselves.

    /// RFC 8305's recommended Connection Attempt Delay.
    public static let defaultAttemptDelay: Duration = .milliseconds(250)

    /// The host being connected to (for error messages).
    public let host: String
    private let core: Core
    private let delay: Duration
    private var lookup: ResolveFuture?
    private var addresses: [Endpoint] = []
    private var next = 0
    private var attempts: [(endpoint: Endpoint, future: ConnectFuture)] = []
    private var timer: Sleep?
    private var lastError: EddyError?
    private var result: Result<TcpStream, EddyError>?

    /// Every address an attempt was started for, in order (for tests and diagnostics).
    public private(set) var attempted: [Endpoint] = []
    /// `true` when the future failed because the name did not resolve.
    public private(set) var failedInLookup = false

    init(host: String, port: UInt16, core: Core, attemptDelay: Duration, timeout: Duration) {
        self.host = host
        self.core = core
        delay = attemptDelay
        lookup = ResolveFuture(host: host, port: port, core: core, timeout: timeout)
    }

    init(endpoints: [Endpoint], core: Core, attemptDelay: Duration) {
        host = endpoints.first?.description ?? ""
        self.core = core
        delay = attemptDelay
        addresses = HappyEyeballsConnect.interleave(endpoints)
    }

    /// Connects to `host` (a name or a numeric address) on `runtime` (or the runtime
    /// driving this thread). Poll it, or `await` through `TcpStream.connect(host:port:)`.
    public convenience init(host: String, port: UInt16, attemptDelay: Duration = HappyEyeballsConnect.defaultAttemptDelay,
                            lookupTimeout: Duration = ResolveFuture.defaultTimeout, runtime: Runtime? = nil) throws(EddyError) {
        try HappyEyeballsConnect.checkArgument(host)
        self.init(host: host, port: port, core: try constructionCore(runtime), attemptDelay: attemptDelay, timeout: lookupTimeout)
    }

    /// Races connections to already-resolved `endpoints` (interleaved as above).
    /// An empty list fails with `EINVAL` when polled.
    public convenience init(endpoints: [Endpoint], attemptDelay: Duration = HappyEyeballsConnect.defaultAttemptDelay,
                            runtime: Runtime? = nil) throws(EddyError) {
        self.init(endpoints: endpoints, core: try constructionCore(runtime), attemptDelay: attemptDelay)
    }

    deinit { closeAttempts() }

    /// A host that can never be looked up (empty, a NUL byte, longer than DNS allows) is
    /// `EINVAL` at once; every other failure comes from polling.
    static func checkArgument(_ host: String) throws(EddyError) {
        do { try checkHostName(host) } catch {
            if error == .invalidArgument { throw error }
        }
    }

    /// RFC 8305 section 4: alternate families, the first address's family first.
    public static func interleave(_ list: [Endpoint]) -> [Endpoint] {
        guard let first = list.first else { return [] }
        let preferred = list.filter { $0.family == first.family }
        let other = list.filter { $0.family != first.family }
        var out: [Endpoint] = []
        out.reserveCapacity(list.count)
        for i in 0..<max(preferred.count, other.count) {
            if i < preferred.count { out.append(preferred[i]) }
            if i < other.count { out.append(other[i]) }
        }
        return out
    }

    /// Ready with the first connected stream, or the error (see the type's doc).
    public func poll(_ cx: inout Context) -> Poll<Result<TcpStream, EddyError>> {
        if let r = result { return .ready(r) }
        if let l = lookup {
            switch l.poll(&cx) {
            case .pending: return .pending
            case .ready(.failure(let e)):
                lookup = nil
                failedInLookup = true
                return .ready(finish(.failure(e)))
            case .ready(.success(let list)):
                lookup = nil
                addresses = HappyEyeballsConnect.interleave(list)
            }
        }
        if attempted.isEmpty {
            if addresses.isEmpty { return .ready(finish(.failure(.invalidArgument))) }
            startNext()
        }
        while true {
            var i = 0
            while i < attempts.count {
                switch attempts[i].future.poll(&cx) {
                case .pending:
                    i += 1
                case .ready(.success(let s)):
                    attempts.remove(at: i)
                    return .ready(finish(.success(s)))
                case .ready(.failure(let e)):
                    if e == .wrongThread { return .ready(.failure(e)) }  // misuse: leave the race as it is
                    lastError = e
                    attempts.remove(at: i)
                }
            }
            if next >= addresses.count {
                if attempts.isEmpty { return .ready(finish(.failure(lastError ?? .errno(ECONNREFUSED)))) }
                return .pending
            }
            if attempts.isEmpty {  // every attempt failed: the next one starts now
                startNext()
                continue
            }
            if let t = timer, case .ready = t.poll(&cx) {  // the attempt delay passed
                startNext()
                continue
            }
            return .pending
        }
    }

    private func startNext() {
        let e = addresses[next]
        next += 1
        attempted.append(e)
        timer = Sleep(for: delay)
        do { attempts.append((e, try ConnectFuture(endpoint: e, core: core))) } catch { lastError = error }
    }

    private func finish(_ r: Result<TcpStream, EddyError>) -> Result<TcpStream, EddyError> {
        closeAttempts()
        result = r
        return r
    }

    /// Closes the losers (and everything in flight when the future is dropped).
    private func closeAttempts() {
        for a in attempts { a.future.cancel() }
        attempts.removeAll()
        lookup?.cancel()
        lookup = nil
        timer = nil
    }

    /// Takes the connected stream out of a finished future (the C ABI's `take`).
    public func take() -> Result<TcpStream, EddyError>? {
        guard let r = result else { return nil }
        if case .success = r { result = .failure(.notReady) }
        return r
    }
}
