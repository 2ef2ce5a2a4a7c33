import Glibc
import Synchronization

/// Files through the runtime's blocking pool (issue 16): whole-file `read`/`write`, and
/// `open` for an `AsyncFile` read and written piece by piece. Regular files are always
/// "ready" to epoll, so each call is a blocking-pool job; the loop serves other tasks
/// meanwhile. Errors are `EddyError`s: a missing path `.errno(ENOENT)`, a directory
/// `.errno(EISDIR)`, a path with a NUL byte `.invalidArgument`.
///
/// The async forms use the current runtime (`Runtime.current`: call them from a task
/// Eddy runs) and throw `.wrongThread` elsewhere. A job that started runs to its end
/// even if its caller goes away; nothing it opened outlives it unless handed over.
public enum File {
    /// The pool job reading the whole file at `path` (poll it, or `await value`).
    public static func readJob(_ path: String, runtime: Runtime? = nil) throws(EddyError) -> BlockingHandle<Result<[UInt8], EddyError>> {
        try poolRuntime(runtime).spawnBlocking { FileCalls.readWhole(path) }
    }

    /// The whole contents of the file at `path`.
    nonisolated(nonsending) public static func read(_ path: String) async throws -> [UInt8] {
        try await value(of: readJob(path))
    }

    /// Writes `bytes` to the file at `path`, created if needed (0o666 less the umask),
    /// truncated first unless `append`.
    nonisolated(nonsending) public static func write(_ path: String, _ bytes: [UInt8], append: Bool = false) async throws {
        let job = try poolRuntime(nil).spawnBlocking {
            bytes.withUnsafeBytes { FileCalls.writeWhole(path, $0, append: append) }
        }
        _ = try await value(of: job)
    }

    /// Opens `path` for `AsyncFile` reads and writes.
    nonisolated(nonsending) public static func open(_ path: String, _ mode: AsyncFile.Mode = .read) async throws -> AsyncFile {
        let flags = mode.flags
        let fd = try await value(of: try poolRuntime(nil).spawnBlocking { FileCalls.open(path, flags) })
        return AsyncFile(fd: fd)
    }

    static func poolRuntime(_ runtime: Runtime?) throws(EddyError) -> Runtime {
        guard let rt = runtime ?? Runtime.current else { throw .wrongThread }
        return rt
    }

    /// A job's value; a job the pool dropped unstarted (shutdown) is `.shutdown`.
    static func value<T>(of job: BlockingHandle<Result<T, EddyError>>) async throws -> T {
        let r: Result<T, EddyError>
        do { r = try await job.value } catch { throw EddyError.shutdown }
        return try r.get()
    }
}

/// A file opened by `File.open`: `read(maxBytes:)`, `write(_:)`, `close()`. Each read
/// or write is one blocking-pool job.
///
/// Closing never pulls the descriptor from under a job: `close()` while one runs (from
/// another task) leaves the close to that job's end, so the number is never reused
/// under it. Dropping the object closes the file the same way.
public final class AsyncFile: Sendable {
    /// How `File.open` opens: as `fopen`'s r, w, a, x (each with `+`: read and write).
    public enum Mode: Sendable {
        /// `r`: read only.
        case read
        /// `w`: write, created or truncated.
        case write
        /// `a`: append, created if needed.
        case append
        /// `x`: write a new file (EEXIST if it exists).
        case createNew
        /// `r+`: read and write, no truncation.
        case readWrite
        /// `w+`: read and write, created or truncated.
        case writeRead
        /// `a+`: read and append, created if needed.
        case appendRead
        var flags: Int32 {
            switch self {
            case .read: return O_RDONLY
            case .write: return O_WRONLY | O_CREAT | O_TRUNC
            case .append: return O_WRONLY | O_CREAT | O_APPEND
            case .createNew: return O_WRONLY | O_CREAT | O_EXCL
            case .readWrite: return O_RDWR
            case .writeRead: return O_RDWR | O_CREAT | O_TRUNC
            case .appendRead: return O_RDWR | O_CREAT | O_APPEND
            }
        }
    }

    private struct State {
        var fd: Int32
        var busy = 0
        var closing = false
    }
    private let state: Mutex<State>

    init(fd: Int32) { state = Mutex(State(fd: fd)) }

    deinit { close() }

    /// `true` once `close()` was called.
    public var isClosed: Bool { state.withLock { $0.closing } }

    /// The descriptor for a job, counted as in use; `.badHandle` after close.
    private func enter() throws(EddyError) -> Int32 {
        try state.withLock { s throws(EddyError) -> Int32 in
            if s.closing { throw .badHandle }
            s.busy += 1
            return s.fd
        }
    }

    private func leave() {
        let fd = state.withLock { s -> Int32 in
            s.busy -= 1
            guard s.closing, s.busy == 0, s.fd >= 0 else { return -1 }
            defer { s.fd = -1 }
            return s.fd
        }
        if fd >= 0 { Glibc.close(fd) }
    }

    private func job<T>(_ body: @escaping @Sendable (Int32) -> Result<T, EddyError>) throws(EddyError) -> BlockingHandle<Result<T, EddyError>> {
        let fd = try enter()
        let rt: Runtime
        do { rt = try File.poolRuntime(nil) } catch { leave(); throw error }
        return rt.spawnBlocking { [self] in
            defer { leave() }
            return body(fd)
        }
    }

    /// Up to `maxBytes` bytes (fewer only at end of file; empty there). A negative
    /// `maxBytes` throws `.invalidArgument`; a huge one allocates only what is read.
    nonisolated(nonsending) public func read(maxBytes: Int) async throws -> [UInt8] {
        guard maxBytes >= 0 else { throw EddyError.invalidArgument }
        if maxBytes == 0 { return [] }
        return try await File.value(of: job { FileCalls.read($0, max: maxBytes) })
    }

    /// The rest of the file.
    nonisolated(nonsending) public func readToEnd() async throws -> [UInt8] {
        try await File.value(of: job { FileCalls.read($0, max: nil) })
    }

    /// Writes all of `bytes`.
    nonisolated(nonsending) public func write(_ bytes: [UInt8]) async throws {
        _ = try await File.value(of: job { fd in bytes.withUnsafeBytes { FileCalls.write(fd, $0) } })
    }

    /// Closes the file (idempotent); a job still running closes it when it ends.
    public func close() {
        let fd = state.withLock { s -> Int32 in
            if s.closing { return -1 }
            s.closing = true
            guard s.busy == 0, s.fd >= 0 else { return -1 }
            defer { s.fd = -1 }
            return s.fd
        }
        if fd >= 0 { Glibc.close(fd) }
    }
}
