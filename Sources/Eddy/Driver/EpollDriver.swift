import CEddySys
import Glibc
import Synchronization

/// The Linux backend: epoll (edge-triggered) plus an eventfd for cross-thread unparks.
///
/// Threads: `turn` and the `IoBackend` calls belong to the loop thread; `takeParked` and
/// `unpark` are for any thread. The caller of `unpark` makes sure `close` cannot run at
/// the same time (the executor's inbox calls it under its lock, and refuses once closed).
@usableFromInline
final class EpollDriver: IoBackend {
    private let sys: Sys
    private let epfd: Int32
    private let wakeFd: Int32
    private let events: UnsafeMutablePointer<ceddy_event>
    private let eventBatch: Int32
    private let returnOnSignal: Bool
    /// The loop is (about to be) blocked in epoll_wait: a remote push must unpark it.
    private let parked = Atomic<Bool>(false)

    /// The eventfd's epoll key (a registration key never has all bits set).
    static let wakeKey: UInt64 = .max

    init(eventBatch: Int, returnOnSignal: Bool, sys: Sys) throws(EddyError) {
        self.sys = sys
        let ep = ceddy_epoll_create()
        guard ep >= 0 else { throw .errno(errno) }
        let ev = ceddy_eventfd()
        guard ev >= 0 else {
            let e = errno
            sysClose(ep)
            throw .errno(e)
        }
        if ceddy_epoll_add(ep, ev, CEDDY_EPOLLIN | CEDDY_EPOLLET, EpollDriver.wakeKey) != 0 {
            let e = errno
            sysClose(ev)
            sysClose(ep)
            throw .errno(e)
        }
        epfd = ep
        wakeFd = ev
        assert(Readiness.readable == CEDDY_EPOLLIN && Readiness.writable == CEDDY_EPOLLOUT >> 1)  // dispatch
        self.eventBatch = Int32(max(1, min(eventBatch, 1024)))
        self.returnOnSignal = returnOnSignal
        events = .allocate(capacity: Int(eventBatch))
    }

    deinit { events.deallocate() }

    /// One epoll_wait, then the events' wakers and the due timers. With `mayBlock` the
    /// wait lasts until the next timer (forever without one), unless `workArrived`,
    /// asked once the parked flag is up, reports work queued meanwhile: the other side
    /// of `takeParked`, so a push is either seen here or unparks the wait.
    @inline(__always)
    func turn(io: IoRegistry, timers: TimerHeap, mayBlock: Bool, workArrived: () -> Bool) throws(EddyError) {
        var timeout: Int32 = 0
        if mayBlock {
            // Round up so a timer never fires early (a paused clock: 0, TimerHeap+Clock).
            let ns = timers.idleWaitNanos()
            timeout = ns <= 0 ? Int32(ns) : Int32(clamping: (ns + 999_999) / 1_000_000)
            if timeout != 0 {
                parked.store(true, ordering: .sequentiallyConsistent)
                if workArrived() { timeout = 0 }
            }
        }
        let n = sys.epollWait(epfd, events, eventBatch, timeout)
        parked.store(false, ordering: .sequentiallyConsistent)
        if n < 0 {
            if n == -EINTR {
                if returnOnSignal { throw .errno(EINTR) }
                return
            }
            throw .errno(-n)
        }
        let pages = io.slab.pages
        for i in 0..<Int(n) {
            let e = events[i]
            if e.data == EpollDriver.wakeKey {
                var v: UInt64 = 0
                _ = Glibc.read(wakeFd, &v, 8)
            } else {
                IoRegistry.dispatch(pages: pages, data: e.data, events: e.events)
            }
        }
        if timers.count > 0 {
            _ = timers.fire(now: timers.now())
        }
    }

    /// `true` if the loop was parked (or about to park); clears the flag, so of several
    /// pushers only one goes on to `unpark`. Any thread.
    @inline(__always)
    func takeParked() -> Bool { parked.exchange(false, ordering: .sequentiallyConsistent) }

    /// Makes a parked (or the next) epoll_wait return. Any thread, never after `close`.
    func unpark() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFd, &one, 8)
    }

    /// Closes the epoll instance and the eventfd (shutdown, after the registrations).
    func close() {
        sysClose(wakeFd)
        sysClose(epfd)
    }

    // MARK: IoBackend (registration: epoll_ctl)

    /// Edge-triggered for in/out/rdhup.
    func add(fd: Int32, data: UInt64, recv: Bool) -> Int32 {
        let events = CEDDY_EPOLLIN | CEDDY_EPOLLOUT | CEDDY_EPOLLRDHUP | CEDDY_EPOLLET
        return ceddy_epoll_add(epfd, fd, events, data) == 0 ? 0 : errno
    }

    /// Never asked: the registry has no buffer pool on epoll.
    func armReads(fd: Int32, data: UInt64) -> Bool { false }

    /// Nothing: closing the last reference removes the registration (no EPOLL_CTL_DEL),
    /// and a stale event for a reused slot is rejected by the generation check.
    func cancel(fd: Int32, data: UInt64) {}

    func flush() {}

    /// EPOLL_CTL_DEL, only when `fd` still names the registered file: otherwise the number
    /// may now belong to another file, perhaps one of this runtime's sockets, whose
    /// registration a DEL by number would silently remove.
    func removeBorrowed(fd: Int32, data: UInt64, sameFile: Bool) -> Bool {
        sameFile && ceddy_epoll_del(epfd, fd) == 0
    }

    /// epoll_ctl itself refuses regular files (EPERM) and its own descriptors (EEXIST).
    func refuseWatch(fd: Int32) -> Int32 { 0 }

    /// epoll refuses a second registration of one open file itself.
    var registrationsHoldFiles: Bool { false }
}
