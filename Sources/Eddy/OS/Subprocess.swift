import CEddySys
import Glibc

/// A child process started by Eddy (tokio's `process::Child`, Swift's `Subprocess`).
///
/// Started with `posix_spawn` (never a bare fork in a multi-threaded process): empty signal
/// mask and default dispositions in the child, only the three standard descriptors passed
/// (every descriptor Eddy opens is close-on-exec). Piped standard streams are `TcpStream`s
/// over a Unix socket pair (as libuv's pipes are): read, write, `shutdown(.write)` to send
/// end-of-file, close.
///
/// The exit is awaited through a pidfd registered with the runtime (Linux >= 5.3); without
/// one (`pidfd_open` refused, or `EDDY_TEST_NO_PIDFD=1`) through a SIGCHLD watcher
/// (`Signals`). No zombie is ever left: a `Subprocess` dropped before its child was reaped
/// hands the child to a reaper thread (`ChildReaper`).
///
/// Loop thread of its runtime (like `FdWatch`), `kill` and deinit from any thread.
public final class Subprocess: @unchecked Sendable {
    // @unchecked Sendable: `status` and the watches are touched on the loop thread (checked:
    // `.wrongThread`); `kill` reads `pidfd`, immutable, and reaps under the kernel's rules
    // (waitpid of a reaped pid is ECHILD, turned into "already exited").

    /// What becomes of one of the child's standard descriptors.
    public enum Stdio: Sendable, Equatable {
        /// The parent's descriptor (the default).
        case inherit
        /// /dev/null.
        case null
        /// A new stream: the parent's end is the `stdin`/`stdout`/`stderr` property.
        case pipe
        /// stderr only: the same as stdout (`subprocess.STDOUT`).
        case stdout
    }

    /// The child's process id.
    public let pid: Int32
    /// The parent's end of the child's stdin (`.pipe`), else nil.
    public let stdin: TcpStream?
    /// The parent's end of the child's stdout (`.pipe`), else nil.
    public let stdout: TcpStream?
    /// The parent's end of the child's stderr (`.pipe`), else nil.
    public let stderr: TcpStream?
    /// How it ended, once reaped by `wait`/`pollWait`/`tryWait`/`kill`.
    public private(set) var status: TerminationStatus?
    /// Whether the exit is awaited through a pidfd (false: the SIGCHLD fallback).
    public var usesPidfd: Bool { pidfd >= 0 }

    private let pidfd: Int32
    private let pidWatch: FdWatch?
    private let childSignals: Signals?
    private let core: Core

    private init(pid: Int32, pidfd: Int32, pidWatch: FdWatch?, childSignals: Signals?,
                 streams: [TcpStream?], core: Core) {
        self.pid = pid
        self.pidfd = pidfd
        self.pidWatch = pidWatch
        self.childSignals = childSignals
        self.stdin = streams[0]
        self.stdout = streams[1]
        self.stderr = streams[2]
        self.core = core
    }

    /// Tests force the SIGCHLD fallback with EDDY_TEST_NO_PIDFD=1.
    static var pidfdDisabled: Bool { getenv("EDDY_TEST_NO_PIDFD").map { String(cString: $0) == "1" } ?? false }

    /// Starts `arguments[0]` (searched in PATH unless it holds a '/') with `arguments`.
    /// `environment` nil inherits this process's; `workingDirectory` nil keeps this one's.
    /// Errors: EINVAL (no arguments, a NUL inside one, stderr `.stdout` for another stream),
    /// the exec's errno (ENOENT: no such program, EACCES, ENOEXEC ...; the failed child is
    /// reaped and no descriptor is left open), EMFILE, `.shutdown`, `.wrongThread`.
    public static func spawn(_ arguments: [String], environment: [String: String]? = nil,
                             workingDirectory: String? = nil, stdin: Stdio = .inherit,
                             stdout: Stdio = .inherit, stderr: Stdio = .inherit,
                             runtime: Runtime? = nil) throws(EddyError) -> Subprocess {
        if environment?.contains(where: { $0.key.isEmpty || $0.key.contains("=") }) ?? false { throw .errno(EINVAL) }
        return try spawn(arguments, environmentEntries: environment.map { $0.map { "\($0.key)=\($0.value)" }.sorted() },
                         workingDirectory: workingDirectory, stdin: stdin, stdout: stdout, stderr: stderr,
                         runtime: runtime)
    }

    /// `spawn` with the environment as "NAME=value" entries (the C ABI's and Python's form).
    package static func spawn(_ arguments: [String], environmentEntries env: [String]?,
                              workingDirectory: String?, stdin: Stdio, stdout: Stdio, stderr: Stdio,
                              runtime: Runtime?) throws(EddyError) -> Subprocess {
        guard let program = arguments.first, !program.isEmpty,
              !arguments.contains(where: { $0.utf8.contains(0) }),
              stdin != .stdout, stdout != .stdout,
              !(env?.contains { $0.utf8.contains(0) || !$0.contains("=") } ?? false),
              !(workingDirectory?.utf8.contains(0) ?? false)
        else { throw .errno(EINVAL) }
        let core = try constructionCore(runtime)

        // Descriptors to give the child (ours, closed after the spawn) and to keep.
        var childFds: [Int32] = [-1, -1, -1]
        var parentFds: [Int32] = [-1, -1, -1]
        var nullFd: Int32 = -1
        func cleanup() {
            for fd in childFds where fd >= 0 && fd != nullFd { close(fd) }
            for fd in parentFds where fd >= 0 { close(fd) }
            if nullFd >= 0 { close(nullFd) }
        }
        for (i, mode) in [stdin, stdout, stderr].enumerated() {
            switch mode {
            case .inherit: break
            case .null:
                if nullFd < 0 { nullFd = open("/dev/null", O_RDWR | O_CLOEXEC) }
                if nullFd < 0 {
                    let e = errno
                    cleanup()
                    throw .errno(e)
                }
                childFds[i] = nullFd
            case .pipe:
                var sv: [Int32] = [-1, -1]
                if socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &sv) != 0 {
                    let e = errno
                    cleanup()
                    throw .errno(e)
                }
                parentFds[i] = sv[0]
                childFds[i] = sv[1]
            case .stdout:
                childFds[i] = childFds[1] >= 0 ? childFds[1] : 1
            }
        }

        // The SIGCHLD watcher exists before the child does: its exit cannot be missed.
        var childSignals: Signals? = nil
        if pidfdDisabled {
            do { childSignals = try Signals([.child], runtime: core.runtime) } catch {
                cleanup()
                throw error
            }
        }

        var pid: pid_t = 0
        let rc = withCStrings(arguments) { argv in
            withOptionalCStrings(env) { envp in
                childFds.withUnsafeBufferPointer { fds in
                    ceddy_spawn(program, argv, envp, workingDirectory, fds.baseAddress, &pid)
                }
            }
        }
        // The child has its copies (or never existed): close ours.
        for (i, fd) in childFds.enumerated() where fd >= 0 && fd != nullFd && !(i == 2 && stderr == .stdout) {
            close(fd)
        }
        childFds = [-1, -1, -1]
        if nullFd >= 0 { close(nullFd); nullFd = -1 }
        if rc != 0 {
            cleanup()
            throw .errno(-rc)
        }

        var pidfd: Int32 = -1
        var watch: FdWatch? = nil
        if childSignals == nil {
            pidfd = ceddy_pidfd_open(pid)
            if pidfd >= 0 {
                watch = try? FdWatch.watch(fd: pidfd, runtime: core.runtime)
                if watch == nil { close(pidfd); pidfd = -1 }
            }
            if pidfd < 0 { childSignals = try? Signals([.child], runtime: core.runtime) }
        }
        var streams: [TcpStream?] = [nil, nil, nil]
        var adoptError: EddyError? = nil
        for i in 0..<3 where parentFds[i] >= 0 {
            let fd = parentFds[i]
            parentFds[i] = -1
            do { streams[i] = try TcpStream.adopt(fileDescriptor: fd, runtime: core.runtime) } catch {
                adoptError = error  // the fd is closed by adopt
            }
        }
        let child = Subprocess(pid: pid, pidfd: pidfd, pidWatch: watch, childSignals: childSignals,
                               streams: streams, core: core)
        if let adoptError {
            _ = try? child.kill()
            throw adoptError  // deinit hands the child to the reaper
        }
        return child
    }

    deinit {
        if status != nil {
            try? pidWatch?.deregister()
            if pidfd >= 0 { close(pidfd) }
            return
        }
        try? pidWatch?.deregister()
        ChildReaper.shared.adopt(pid: pid, pidfd: pidfd)  // owns the pidfd now
    }

    /// Reaps the child if it has exited: its status, or nil while it runs.
    public func tryWait() throws(EddyError) -> TerminationStatus? {
        if let status { return status }
        var raw: Int32 = 0
        let r = ceddy_reap(pid, &raw)
        if r == 0 { return nil }
        if r < 0 { throw .errno(-r) }  // ECHILD: someone else reaped it (SIGCHLD ignored ...)
        let s = TerminationStatus(decoded: ceddy_decode_status(raw))
        status = s
        return s
    }

    /// Ready with the exit status once the child has exited (it is reaped then), or
    /// pending: the task is woken by the pidfd (or SIGCHLD). Loop thread.
    public func pollWait(_ cx: inout Context) -> Poll<Result<TerminationStatus, EddyError>> {
        while true {
            do {
                if let s = try tryWait() { return .ready(.success(s)) }
            } catch { return .ready(.failure(error)) }
            if let w = pidWatch {
                switch w.pollReady(&cx, .readable) {
                case .pending: return .pending
                case .ready(.failure(let e)): return .ready(.failure(e))
                case .ready(.success):
                    // Readable means exited; a spurious edge is forgotten after the check.
                    do {
                        if let s = try tryWait() { return .ready(.success(s)) }
                        try w.clearReady(.readable)
                    } catch { return .ready(.failure(error)) }
                }
            } else if let sig = childSignals {
                switch sig.pollNext(&cx) {
                case .pending: return .pending
                case .ready(.failure(let e)): return .ready(.failure(e))
                case .ready(.success): continue  // some child changed state: check ours
                }
            } else {
                return .ready(.failure(.errno(ENOSYS)))
            }
        }
    }

    /// Waits for the child to exit and reaps it. Throws `CancellationError` when the task
    /// is cancelled (the child keeps running; wait again or drop it).
    nonisolated(nonsending) public func wait() async throws -> TerminationStatus {
        guard core.isLoopThread else { throw EddyError.wrongThread }
        let w = ContinuationWaiter()
        var cx = Context(target: w, executor: Unmanaged.passUnretained(core).toOpaque())
        while true {
            switch pollWait(&cx) {
            case .ready(.success(let s)): return s
            case .ready(.failure(let e)): throw e
            case .pending:
                if await parkCancellable(w) { throw CancellationError() }
            }
        }
    }

    /// Sends `signal` (default SIGKILL) to the child. Throws `.errno(ESRCH)` when it has
    /// already exited (it is reaped then), EINVAL for a bad signal number.
    public func kill(_ signal: Int32 = SIGKILL) throws(EddyError) {
        guard signal >= 0 && signal < 65 else { throw .errno(EINVAL) }
        if core.mayTouchLoopState {
            if try tryWait() != nil { throw .errno(ESRCH) }
        } else if status != nil {
            throw .errno(ESRCH)
        }
        let r = pidfd >= 0 ? ceddy_pidfd_send_signal(pidfd, signal) : (Glibc.kill(pid, signal) == 0 ? 0 : -errno)
        if r != 0 { throw .errno(-r) }
    }
}

/// `body` with a NULL-terminated C array of `strings`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func withOptionalCStrings<R>(_ strings: [String]?, _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R) -> R {
    guard let strings else { return body(nil) }
    return withCStrings(strings) { body($0) }
}
