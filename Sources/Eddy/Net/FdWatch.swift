import Glibc

/// Readiness a caller asks about (`FdWatch`).
public struct FdInterest: OptionSet, Sendable {
    /// The bits (`readable` = 1, `writable` = 2, as in the C ABI).
    public let rawValue: UInt32
    /// Interest from its bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Readable (`EDDY_FD_READABLE` in the C ABI).
    public static let readable = FdInterest(rawValue: 1 << 0)
    /// Writable (`EDDY_FD_WRITABLE` in the C ABI).
    public static let writable = FdInterest(rawValue: 1 << 1)
}

/// Readiness of a descriptor the caller owns (tokio's `AsyncFd`, libuv's `uv_poll_t`):
/// a pipe, an eventfd, a signal wake-up fd, a third-party library's socket.
///
/// The descriptor is registered once, edge-triggered, like Eddy's own sockets, and Eddy
/// never reads, writes nor closes it: the caller does the I/O. The protocol is the one the
/// leaf futures follow internally:
/// 1. `pollReady` (or `readable()` / `writable()`): ready, or the task's waker is stored
///    and woken at the next edge;
/// 2. the caller tries its syscall; when it fails with EAGAIN, `clearReady` forgets the
///    readiness, then back to 1.
/// `clearReady` must follow that syscall with no runtime turn in between (same poll, or
/// same resumption of the task): an edge dispatched between the syscall and the clear would be
/// lost. Readiness may be spurious; hang-up and error states are never cleared (the
/// syscall reports them).
///
/// Keep the descriptor open until `deregister()`: closing it first is reported by
/// `deregister` as EBADF (and its number, maybe reused by then, is not touched).
/// Loop thread of the runtime (or its owner while it does not run).
public final class FdWatch: @unchecked Sendable {
    // @unchecked Sendable: as `TcpStream`: the registration is confined to its runtime's loop
    // thread (or its owner while the loop does not run), checked on every call
    // (`cx.isPolledBy`, `mayTouchLoopState`: `.wrongThread` otherwise).
    @usableFromInline let source: IoSource
    /// The watched descriptor (still the caller's).
    public let fd: Int32

    private init(source: IoSource, fd: Int32) {
        self.source = source
        self.fd = fd
    }

    /// Registers `fd` with the runtime (default: the current one).
    /// Errors: EBADF (not open), EPERM (a regular file: epoll cannot watch it), EEXIST (already
    /// registered with this runtime), ENOMEM, `.shutdown`, `.wrongThread`.
    public static func watch(fd: Int32, runtime: Runtime? = nil) throws(EddyError) -> FdWatch {
        let core = try constructionCore(runtime)
        let key = try core.io.watch(fd: fd).get()
        return FdWatch(source: IoSource(core: core, key: key), fd: fd)
    }

    /// Readiness bits among `interest` that the cache holds (0: none).
    @inline(__always)
    static func readyBits(_ p: UnsafeMutablePointer<IoSlot>, _ interest: UInt32) -> UInt32 {
        let cached = p.pointee.readiness
        var bits: UInt32 = 0
        if interest & FdInterest.readable.rawValue != 0, cached & Readiness.readInterest != 0 {
            bits |= FdInterest.readable.rawValue
        }
        if interest & FdInterest.writable.rawValue != 0, cached & Readiness.writeInterest != 0 {
            bits |= FdInterest.writable.rawValue
        }
        return bits
    }

    /// `pollReady` as one Int: the ready bits (> 0), `TcpStream.pendingCode`, or a negative
    /// `EddyError` code. `interest` must be a non-empty subset of readable|writable.
    package func pollReadyStep(_ cx: inout Context, _ interest: UInt32) -> Int {
        let s = source
        guard let p = s.slot, cx.isPolledBy(s.core) else { return Int(s.unusable().code) }
        let bits = FdWatch.readyBits(p, interest)
        if bits != 0 { return Int(bits) }
        if interest & FdInterest.readable.rawValue != 0 { cx.register(&p.pointee.readWaker) }
        if interest & FdInterest.writable.rawValue != 0 { cx.register(&p.pointee.writeWaker) }
        return TcpStream.pendingCode
    }

    /// Ready with the subset of `interest` believed ready, or pending (the task's waker is
    /// stored for each interest and woken by the next edge).
    public func pollReady(_ cx: inout Context, _ interest: FdInterest) -> Poll<Result<FdInterest, EddyError>> {
        if interest.isEmpty || !FdInterest([.readable, .writable]).isSuperset(of: interest) {
            return .ready(.failure(.errno(EINVAL)))
        }
        let r = pollReadyStep(&cx, interest.rawValue)
        if r == TcpStream.pendingCode { return .pending }
        if r < 0 { return .ready(.failure(EddyError(code: Int32(truncatingIfNeeded: r)))) }
        return .ready(.success(FdInterest(rawValue: UInt32(r))))
    }

    /// Forgets the readiness a syscall just proved gone (it returned EAGAIN). See the type's
    /// comment for when to call it. Hang-up and error states stay.
    public func clearReady(_ bits: FdInterest) throws(EddyError) {
        guard let p = source.slot else { throw source.core.isShutdown ? .shutdown : .errno(EBADF) }
        guard source.core.mayTouchLoopState else { throw .wrongThread }
        var clear: UInt32 = 0
        if bits.contains(.readable) { clear |= Readiness.readable }
        if bits.contains(.writable) { clear |= Readiness.writable }
        IoRegistry.clear(p, clear)
    }

    /// Waits until the descriptor may be readable (async, on the loop thread).
    nonisolated(nonsending) public func readable() async throws {
        while true {
            let p = try source.checkAsync()
            if FdWatch.readyBits(p, FdInterest.readable.rawValue) != 0 { return }
            try await source.waitReadable(p)
        }
    }

    /// Waits until the descriptor may be writable (async, on the loop thread).
    nonisolated(nonsending) public func writable() async throws {
        while true {
            let p = try source.checkAsync()
            if FdWatch.readyBits(p, FdInterest.writable.rawValue) != 0 { return }
            try await source.waitWritable(p)
        }
    }

    /// Removes the descriptor from the runtime (never closes it); waiters are woken and see
    /// EBADF. Idempotent; dropping the watch does the same. Throws `.errno(EBADF)` when `fd`
    /// no longer names the registered file (closed, maybe reused, before this call): the
    /// watch is gone all the same. From another thread the removal is queued to the loop.
    public func deregister() throws(EddyError) {
        let s = source
        guard let key = s.key else { return }
        let core = s.core
        guard core.mayTouchLoopState, !core.isShutdown else {
            s.closeRegistration()  // queued to the loop; nothing to do after shutdown
            return
        }
        s.key = nil
        s.generation = 0
        if !core.io.close(key) { throw .errno(EBADF) }
    }
}
