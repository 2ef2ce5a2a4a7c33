import CEddySys
import Glibc

// The driver: the one place the executor reaches the operating system through (mio's
// `Selector`, tokio's `Driver`). It owns the kernel's readiness facility, the wake-up
// descriptor another thread uses to unpark the loop, the parked flag of that protocol,
// the I/O registrations and the timers, and `turn` runs one round of it: wait (bounded
// by the next timer), dispatch readiness to the registered wakers, fire due timers.
//
// A backend is one file defining a final class (see `EpollDriver`, `IoUringDriver`) with
//
//     func turn(io: IoRegistry, timers: TimerHeap, mayBlock: Bool,
//               workArrived: () -> Bool) throws(EddyError)
//     func takeParked() -> Bool               // any thread: was the loop parked? (clears)
//     func unpark()                           // any thread: wake a parked turn
//     func close()                            // shutdown: release the kernel objects
//
// and conforming to `IoBackend` (registration, called by `IoRegistry`). `Driver` picks
// one at creation (`Runtime.Configuration.driver`, else `EDDY_DRIVER`) and forwards to
// it. The executor holds this concrete class, and `Driver` holds each backend as a
// concrete optional, not an existential: a turn is on the hot path and must not cost a
// witness-table call (one nil test picks the backend). A new backend (kqueue on macOS,
// see docs/ARCHITECTURE.md) is a new file plus its case here; the executor is not edited.

/// The backend of this build's runtimes (one class; the kernel interface is chosen
/// per runtime inside it).
@usableFromInline typealias PlatformDriver = Driver

/// A runtime's driver: one backend, its registrations and its timers.
@usableFromInline
final class Driver {
    /// Registrations (loop thread).
    @usableFromInline let io: IoRegistry
    /// Timers (loop thread).
    let timers = TimerHeap()
    /// The kernel interface in use.
    let kind: DriverKind
    /// Why io_uring was asked for and not used (the runtime then runs on epoll).
    let fallback: EddyError?
    private let epoll: EpollDriver?
    private let uring: IoUringDriver?

    init(config: Runtime.Configuration, sys: Sys) throws(EddyError) {
        var want = config.driver
        if want == nil {
            want = try DriverKind.fromEnvironment()
        }
        var fallback: EddyError?
        var uring: IoUringDriver?
        if want == .ioUring {
            do {
                uring = try IoUringDriver(returnOnSignal: config.returnOnSignal,
                                          failSetup: DriverKind.setupFailureHook(), sys: sys)
            } catch {
                fallback = error
            }
        }
        self.fallback = fallback
        if let uring {
            self.uring = uring
            epoll = nil
            kind = .ioUring
            io = IoRegistry(backend: uring)
            io.rx = uring.rxPool
        } else {
            let e = try EpollDriver(eventBatch: config.eventBatch, returnOnSignal: config.returnOnSignal, sys: sys)
            epoll = e
            self.uring = nil
            kind = .epoll
            io = IoRegistry(backend: e)
        }
    }

    /// One wait for readiness (bounded by the next timer; none when `mayBlock` is false),
    /// its events dispatched, the due timers fired. `workArrived`, asked once the parked
    /// flag is up, reports work queued meanwhile: the other side of `takeParked`.
    @inline(__always)
    func turn(mayBlock: Bool, workArrived: () -> Bool) throws(EddyError) {
        if let e = epoll {
            try e.turn(io: io, timers: timers, mayBlock: mayBlock, workArrived: workArrived)
        } else {
            try uring.unsafelyUnwrapped.turn(io: io, timers: timers, mayBlock: mayBlock, workArrived: workArrived)
        }
    }

    /// `true` if the loop was parked (or about to park); clears the flag, so of several
    /// pushers only one goes on to `unpark`. Any thread.
    @inline(__always)
    func takeParked() -> Bool {
        if let e = epoll { return e.takeParked() }
        return uring.unsafelyUnwrapped.takeParked()
    }

    /// Makes a parked (or the next) wait return. Any thread, never after `close`.
    func unpark() {
        if let e = epoll { e.unpark() } else { uring.unsafelyUnwrapped.unpark() }
    }

    /// Releases the kernel objects (shutdown, after the registrations).
    func close() {
        if let e = epoll { e.close() } else { uring.unsafelyUnwrapped.close() }
    }
}

/// What a backend does for `IoRegistry`: start and stop watching descriptors. Called on
/// registration and close, never per read or per event (an existential call is fine).
protocol IoBackend: AnyObject {
    /// Watches `fd` edge-triggered for in/out/read-hang-up, its events tagged `data`.
    /// 0 or an errno (the registry undoes the registration). `recv` (only asked of a
    /// backend that gave the registry a buffer pool): reads arrive as completions into
    /// the pool instead (`IoRegistry.completionRead`); readiness is watched for writes.
    func add(fd: Int32, data: UInt64, recv: Bool) -> Int32
    /// A stopped completion read found the socket empty: arm a new recv (true) or, when
    /// the pool is short of buffers, a one-shot readability poll (false; the reader then
    /// keeps reading with read(2)). Not a per-read call: only after a recv ended.
    func armReads(fd: Int32, data: UInt64) -> Bool
    /// `fd`, registered as `data`, is about to be closed by the registry: stop watching it
    /// (queued; `flush` makes it effective).
    func cancel(fd: Int32, data: UInt64)
    /// Makes queued cancellations effective now (the files they held are released).
    func flush()
    /// Stops watching a borrowed descriptor. `sameFile`: `fd` still names the registered
    /// file (the registry checked). True when it was deregistered from that file.
    func removeBorrowed(fd: Int32, data: UInt64, sameFile: Bool) -> Bool
    /// What the kernel interface would refuse for watching `fd` that it cannot tell
    /// itself (0 if nothing): io_uring polls a regular file or its own descriptors
    /// without complaint, where epoll says EPERM and EEXIST.
    func refuseWatch(fd: Int32) -> Int32
    /// Registrations hold their file (io_uring), so a number watched twice is not refused
    /// by the kernel: the registry must refuse it (EEXIST), as epoll would.
    var registrationsHoldFiles: Bool { get }
}
