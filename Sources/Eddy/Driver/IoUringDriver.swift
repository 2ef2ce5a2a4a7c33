import CEddySys
import Glibc
import Synchronization

/// The io_uring backend, phase 1: readiness. Each registration is one multishot poll
/// request (edge-triggered in/out/rdhup, like the epoll backend's registration) whose
/// completions carry the registration's key — slot index and generation — as user_data,
/// so they feed the same `IoRegistry.dispatch` as epoll events, and a completion of a
/// cancelled request for a reused slot is dropped by the generation check. A request
/// the kernel ends (no IORING_CQE_F_MORE: completion ring overflow, the submitting thread
/// exited) is re-armed while its registration lives.
///
/// A turn makes at most one `io_uring_enter`: it submits what was queued (new
/// registrations, re-arms) and waits, bounded by the next timer through the EXT_ARG
/// timeout; with completions already in the ring and nothing to submit it makes none.
/// The unpark is an eventfd polled by the ring; a signalfd polled by the ring ends the
/// wait on a signal that is pending but blocked (valgrind blocks signals during the
/// system call, so EINTR never comes; `ceddy_signalfd`).
///
/// Unlike epoll, a poll request holds a reference to its file: closing a registered
/// descriptor first removes its request (`cancel` + `flush`), or the socket would stay
/// open (the peer would see no FIN) until the runtime ends.
///
/// Threads: `turn` and the `IoBackend` calls belong to the loop thread (or the owner while
/// no loop runs); `takeParked` and `unpark` are for any thread (never after `close`).
@usableFromInline
final class IoUringDriver: IoBackend {
    private let ring: UnsafeMutablePointer<ceddy_uring>
    private let wakeFd: Int32
    private let signalFd: Int32
    private let returnOnSignal: Bool
    private let sys: Sys
    /// Wait in poll(2) on the ring's descriptor instead of in io_uring_enter: under
    /// valgrind, whose 3.19 treats io_uring_enter as a call that cannot block — it keeps
    /// every signal blocked and runs no other thread of the program meanwhile (a blocking
    /// pool's result or another thread's wake would never come). poll(2) is a call it
    /// knows may block. Costs one more system call per wait, so only there.
    private let waitsByPoll: Bool
    /// The loop is (about to be) blocked in io_uring_enter: a remote push must unpark it.
    private let parked = Atomic<Bool>(false)
    /// Completion reads' buffer pool (nil: off — the default, see `completionReadsWanted`;
    /// a kernel older than 6.0; a scripted `SysCalls` table). Freed at deinit, after the ring.
    let rxPool: UnsafeMutablePointer<ceddy_rxpool>?

    // user_data of the driver's own requests: generation 0, which no registration has.
    /// Completions to ignore (the results of cancellations).
    static let ignoredKey: UInt64 = 0
    /// The unpark eventfd's poll.
    static let wakeKey: UInt64 = 1
    /// The signalfd's poll.
    static let signalKey: UInt64 = 2
    /// A registration's poll mask (POLLIN, POLLOUT, POLLRDHUP: epoll's values).
    static let pollMask = CEDDY_EPOLLIN | CEDDY_EPOLLOUT | CEDDY_EPOLLRDHUP
    /// The poll mask of a registration whose reads are completions: writes only (errors
    /// and hang-ups are always reported), so data costs one completion, not two.
    static let writeMask = CEDDY_EPOLLOUT
    /// Tags in the low word of a registration's user_data (slot indexes stay below 2^24):
    /// its multishot recv, its one-shot readability poll (a stopped recv, short of buffers).
    static let recvTag: UInt64 = 1 << 31
    static let readPollTag: UInt64 = 1 << 30
    static let tagMask: UInt32 = 0xC000_0000
    /// The pool: buffers x bytes (virtual memory, touched as the kernel fills them),
    /// and its buffer group id.
    static let rxBuffers: UInt32 = 2048
    /// `rxBuffers`, or `EDDY_TEST_URING_RX_BUFFERS` (a power of two: a test runs the pool dry).
    static func rxBufferCount() -> UInt32 {
        guard let p = getenv("EDDY_TEST_URING_RX_BUFFERS"), let n = UInt32(String(cString: p)) else { return rxBuffers }
        return n
    }
    static let rxBufferSize: UInt32 = 2048
    static let rxGroup: UInt16 = 0

    /// Submission slots (a turn queues at most one re-arm per completion, and a full ring
    /// is submitted early) and completion slots (one per readiness change per registration
    /// between two turns; more wait in the kernel's overflow list, never lost).
    static let sqEntries: UInt32 = 256
    static let cqEntries: UInt32 = 4096

    /// Sets up the ring, its eventfd and its signalfd. Throws the reason io_uring cannot be
    /// used (`failSetup` > 0: that errno, a test hook): the caller falls back to epoll.
    init(returnOnSignal: Bool, failSetup: Int32, sys: Sys) throws(EddyError) {
        let r = UnsafeMutablePointer<ceddy_uring>.allocate(capacity: 1)
        let rc = ceddy_uring_setup(r, IoUringDriver.sqEntries, IoUringDriver.cqEntries, failSetup)
        guard rc == 0 else {
            r.deallocate()
            throw .errno(-rc)
        }
        let ev = ceddy_eventfd()
        let sig = ev >= 0 ? ceddy_signalfd() : -1
        if ev < 0 || sig < 0 {
            let e = errno
            if ev >= 0 { sysClose(ev) }
            ceddy_uring_exit(r)
            r.deallocate()
            throw .errno(e)
        }
        _ = ceddy_uring_poll_add(r, ev, CEDDY_EPOLLIN, IoUringDriver.wakeKey, 1)
        _ = ceddy_uring_poll_add(r, sig, CEDDY_EPOLLIN, IoUringDriver.signalKey, 1)
        // Submitted now: a kernel (or filter) that refuses the enter or the requests is
        // found here, while falling back is still possible.
        let n = ceddy_uring_enter(r, 0, -1)
        var failure: Int32 = n < 0 ? -n : (n != 2 ? EOPNOTSUPP : 0)
        if failure == 0 {
            // A multishot poll that the kernel rejects completes at once with an error.
            let head = ceddy_uring_cq_head(r), tail = ceddy_uring_cq_tail(r)
            var i = head
            while i != tail {
                let c = ceddy_uring_cqe_at(r, i).pointee
                if c.res < 0 { failure = -c.res }
                i &+= 1
            }
        }
        if failure != 0 {
            sysClose(sig)
            sysClose(ev)
            ceddy_uring_exit(r)
            r.deallocate()
            throw .errno(failure)
        }
        var pool: UnsafeMutablePointer<ceddy_rxpool>?
        if IoUringDriver.completionReadsWanted(sys) {
            let p = UnsafeMutablePointer<ceddy_rxpool>.allocate(capacity: 1)
            if ceddy_rxpool_setup(r, p, IoUringDriver.rxBufferCount(), IoUringDriver.rxBufferSize, IoUringDriver.rxGroup) == 0 {
                pool = p
            } else {
                p.deallocate()
            }
        }
        rxPool = pool
        ring = r
        wakeFd = ev
        signalFd = sig
        self.returnOnSignal = returnOnSignal
        self.sys = sys
        waitsByPoll = ceddy_under_valgrind() != 0
    }

    deinit {
        ceddy_uring_exit(ring)  // idempotent: close() usually did it
        ring.deallocate()
        if let p = rxPool {
            ceddy_rxpool_free(p)
            p.deallocate()
        }
    }

    /// Completion reads are asked for (`EDDY_URING_RECV=1`), and `sys` has the system's
    /// read and accept (a test's scripted table must see every read). Off by default:
    /// for the poll-style front doors they cost more user-space instructions per round
    /// trip than they save (a copy out of the pool and the buffer's return against one
    /// read(2) less; docs/PERFORMANCE-LOG.md, "io_uring phase 2").
    private static func completionReadsWanted(_ sys: Sys) -> Bool {
        guard let v = getenv("EDDY_URING_RECV"), String(cString: v) == "1" else { return false }
        let read = unsafeBitCast(sys.calls.read, to: UnsafeRawPointer.self)
        let accept = unsafeBitCast(sys.calls.accept, to: UnsafeRawPointer.self)
        return read == unsafeBitCast(SysCalls.system.read, to: UnsafeRawPointer.self)
            && accept == unsafeBitCast(SysCalls.system.accept, to: UnsafeRawPointer.self)
    }

    /// Submits what is queued, waits unless completions are there already (with
    /// `mayBlock`: until one comes or the next timer is due), dispatches the completions,
    /// fires the due timers. See `Driver.turn`.
    @inline(__always)
    func turn(io: IoRegistry, timers: TimerHeap, mayBlock: Bool, workArrived: () -> Bool) throws(EddyError) {
        let r = ring
        let head = ceddy_uring_cq_head(r)
        var tail = ceddy_uring_cq_tail(r)
        // The fast path: completions are there and nothing is queued (nor held back by
        // the kernel): no system call.
        if head == tail || ceddy_uring_sq_pending(r) != 0 || ceddy_uring_cq_overflow(r) != 0 {
            try enter(timers: timers, wait: mayBlock && head == tail, workArrived: workArrived)
            tail = ceddy_uring_cq_tail(r)
        }
        if head != tail {
            let signalled = reap(io: io, from: head, to: tail)
            if signalled && returnOnSignal { throw .errno(EINTR) }
        }
        if timers.count > 0 {
            _ = timers.fire(now: timers.now())
        }
    }

    /// The turn's one io_uring_enter.
    @inline(__always)
    private func enter(timers: TimerHeap, wait: Bool, workArrived: () -> Bool) throws(EddyError) {
        var timeout: Int64 = 0
        if wait {
            timeout = timers.idleWaitNanos()  // a paused clock: 0 (TimerHeap+Clock)
            if timeout != 0 {
                parked.store(true, ordering: .sequentiallyConsistent)
                if workArrived() { timeout = 0 }
            }
        }
        var n: Int32
        if waitsByPoll && timeout != 0 {
            n = sys.calls.uringEnter(ring, 0, -1)  // submit only
            if n >= 0 && ceddy_uring_cq_head(ring) == ceddy_uring_cq_tail(ring) {
                // Round up so a timer never fires early.
                let ms = timeout < 0 ? -1 : Int32(clamping: (timeout + 999_999) / 1_000_000)
                var pfd = pollfd(fd: ring.pointee.fd, events: Int16(POLLIN), revents: 0)
                if Glibc.poll(&pfd, 1, ms) < 0 { n = -errno }
            }
        } else {
            n = sys.calls.uringEnter(ring, timeout != 0 ? 1 : 0, timeout)
        }
        parked.store(false, ordering: .sequentiallyConsistent)
        if n < 0 {
            switch -n {
            case ETIME, EBUSY, EAGAIN:
                return  // the timer is due; the completion ring is full (reaped next)
            case EINTR:
                if returnOnSignal { throw .errno(EINTR) }
            default:
                throw .errno(-n)
            }
        }
    }

    /// Applies the completions `head..<tail` and hands them back to the kernel. True if
    /// the signalfd reported a signal.
    @inline(__always)
    private func reap(io: IoRegistry, from head: UInt32, to tail: UInt32) -> Bool {
        let r = ring
        let pages = io.slab.pages
        // Loaded once: a waker called in the loop is opaque code, after which the
        // compiler would reload them through the ring for every completion.
        let cqes = r.pointee.cqes.unsafelyUnwrapped
        let mask = r.pointee.cq_mask
        var signalled = false
        var i = head
        while i != tail {
            let c = cqes[Int(i & mask)]
            i &+= 1
            if c.user_data >> 32 != 0 {
                if UInt32(truncatingIfNeeded: c.user_data) & IoUringDriver.tagMask != 0 {
                    read(io: io, pages: pages, c)
                } else if c.res >= 0 {
                    IoRegistry.dispatch(pages: pages, data: c.user_data, events: UInt32(bitPattern: c.res))
                    if c.flags & CEDDY_CQE_F_MORE == 0 { rearm(io: io, data: c.user_data) }
                } else {
                    failed(io: io, data: c.user_data, error: -c.res)
                }
            } else {
                signalled = own(c) || signalled
            }
        }
        ceddy_uring_cq_set_head(r, tail)
        return signalled
    }

    /// A completion of a registration's recv (data in a pool buffer, the end of the
    /// stream, or the end of the request) or of its one-shot readability poll. Out of
    /// line: the readiness loop stays small enough to be inlined into the turn.
    @inline(never)
    private func read(io: IoRegistry, pages: UnsafeMutablePointer<UnsafeMutablePointer<IoSlot>?>, _ c: ceddy_cqe) {
        let pool = rxPool.unsafelyUnwrapped
        let low = UInt32(truncatingIfNeeded: c.user_data)
        let p = PagedSlab<IoSlot>.pointer(Int32(bitPattern: low & ~IoUringDriver.tagMask), in: pages)
        let hasBuffer = c.flags & CEDDY_CQE_F_BUFFER != 0
        if hasBuffer { pool.pointee.free &-= 1 }
        guard p.pointee.generation == UInt32(truncatingIfNeeded: c.user_data >> 32),
              p.pointee.rx.mode != RxMode.readiness else {
            // A closed registration's late data: the buffer goes back.
            if hasBuffer { ceddy_rxpool_give(pool, UInt16(truncatingIfNeeded: c.flags >> 16)) }
            return
        }
        if UInt64(low) & IoUringDriver.readPollTag != 0 {
            p.pointee.readiness |= Readiness.readable  // read(2) says what it was
            p.pointee.readWaker.wakeOnLoop()
            return
        }
        if c.res > 0 && hasBuffer {
            ceddy_rxq_push(pool, &p.pointee.rx, UInt16(truncatingIfNeeded: c.flags >> 16), UInt32(bitPattern: c.res))
            p.pointee.readiness |= Readiness.readable
            if c.flags & CEDDY_CQE_F_MORE == 0 { p.pointee.rx.mode = RxMode.stopped }
        } else {
            readEnded(p, pool: pool, c)
        }
        p.pointee.readWaker.wakeOnLoop()
    }

    /// The recv ended without data: end of stream, an error to report, or a reason to
    /// go on with read(2) (no free buffer, cancelled by the kernel).
    @inline(never)
    private func readEnded(_ p: UnsafeMutablePointer<IoSlot>, pool: UnsafeMutablePointer<ceddy_rxpool>, _ c: ceddy_cqe) {
        if c.flags & CEDDY_CQE_F_BUFFER != 0 { ceddy_rxpool_give(pool, UInt16(truncatingIfNeeded: c.flags >> 16)) }
        if c.flags & CEDDY_CQE_F_MORE != 0 { return }  // not an end (not seen; harmless)
        switch -c.res {
        case 0:
            p.pointee.rx.mode = RxMode.eof
            p.pointee.readiness |= Readiness.readable | Readiness.readClosed
        case ENOBUFS, ECANCELED, EINTR, EAGAIN, ENOMEM:
            p.pointee.rx.mode = RxMode.stopped
            p.pointee.readiness |= Readiness.readable
        default:
            p.pointee.rx.mode = RxMode.failed
            p.pointee.rx.error = -c.res
            p.pointee.readiness |= Readiness.readable
        }
    }

    /// A completion of the driver's own requests; true for a signal.
    @inline(never)
    private func own(_ c: ceddy_cqe) -> Bool {
        switch c.user_data {
        case IoUringDriver.wakeKey:
            var v: UInt64 = 0
            _ = Glibc.read(wakeFd, &v, 8)
            if c.flags & CEDDY_CQE_F_MORE == 0 { queue(fd: wakeFd, data: IoUringDriver.wakeKey, mask: CEDDY_EPOLLIN) }
            return false
        case IoUringDriver.signalKey:
            if c.flags & CEDDY_CQE_F_MORE == 0 { queue(fd: signalFd, data: IoUringDriver.signalKey, mask: CEDDY_EPOLLIN) }
            // A signal is pending and blocked: under valgrind, which blocks every signal
            // during io_uring_enter and delivers one only at a system call it knows may
            // block. poll(2) is one: the handler runs now, before the turn returns (and
            // EINTR reaches a host that checks its flags), not at some later enter that
            // would wait forever. Outside valgrind the signal was already delivered and
            // this returns at once. The signalfd is never read: the signal stays the
            // handler's.
            var pfd = pollfd(fd: signalFd, events: Int16(POLLIN), revents: 0)
            _ = Glibc.poll(&pfd, 1, 0)
            return c.res >= 0
        default:
            return false  // a cancellation's result
        }
    }

    /// The kernel ended a live registration's request: poll again.
    @inline(never)
    private func rearm(io: IoRegistry, data: UInt64) {
        let p = io.slab.pointer(Int32(bitPattern: UInt32(truncatingIfNeeded: data)))
        guard p.pointee.generation == UInt32(truncatingIfNeeded: data >> 32), p.pointee.fd >= 0 else { return }
        let mask = p.pointee.rx.mode == RxMode.readiness ? IoUringDriver.pollMask : IoUringDriver.writeMask
        queue(fd: p.pointee.fd, data: data, mask: mask)
    }

    /// A registration's request failed. A transient failure (the request was cancelled
    /// because the thread that submitted it exited, no memory) polls again; otherwise
    /// (EBADF: the borrowed descriptor was closed before the request went in) the waiters
    /// are woken with an error readiness, so their next system call reports the cause.
    @inline(never)
    private func failed(io: IoRegistry, data: UInt64, error: Int32) {
        switch error {
        case EBADF, EINVAL, EPERM, EOPNOTSUPP:
            IoRegistry.dispatch(pages: io.slab.pages, data: data, events: CEDDY_EPOLLERR)
        default:
            rearm(io: io, data: data)
        }
    }

    /// Queues a multishot poll, submitting the ring first when it is full.
    private func queue(fd: Int32, data: UInt64, mask: UInt32, multishot: Int32 = 1) {
        if ceddy_uring_poll_add(ring, fd, mask, data, multishot) != 0 {
            _ = ceddy_uring_enter(ring, 0, -1)
            _ = ceddy_uring_poll_add(ring, fd, mask, data, multishot)
        }
    }

    /// Queues a multishot recv into the pool, submitting the ring first when it is full.
    private func queueRecv(fd: Int32, data: UInt64) {
        let tagged = data | IoUringDriver.recvTag
        if ceddy_uring_recv_multishot(ring, fd, IoUringDriver.rxGroup, tagged) != 0 {
            _ = ceddy_uring_enter(ring, 0, -1)
            _ = ceddy_uring_recv_multishot(ring, fd, IoUringDriver.rxGroup, tagged)
        }
    }

    /// Queues the cancellation of the request `target`.
    private func queueCancel(_ target: UInt64) {
        if ceddy_uring_poll_remove(ring, target, IoUringDriver.ignoredKey) != 0 {
            _ = ceddy_uring_enter(ring, 0, -1)
            _ = ceddy_uring_poll_remove(ring, target, IoUringDriver.ignoredKey)
        }
    }

    /// `true` if the loop was parked (or about to park); clears the flag. Any thread.
    @inline(__always)
    func takeParked() -> Bool { parked.exchange(false, ordering: .sequentiallyConsistent) }

    /// Makes a parked (or the next) wait return: the eventfd's poll completes. Any thread.
    func unpark() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFd, &one, 8)
    }

    /// Closes the ring (which ends every request left) and the two descriptors.
    func close() {
        ceddy_uring_exit(ring)
        sysClose(signalFd)
        sysClose(wakeFd)
    }

    // MARK: IoBackend (registration: poll requests)

    func add(fd: Int32, data: UInt64, recv: Bool) -> Int32 {
        if recv && rxPool != nil {
            queue(fd: fd, data: data, mask: IoUringDriver.writeMask)
            queueRecv(fd: fd, data: data)
        } else {
            queue(fd: fd, data: data, mask: IoUringDriver.pollMask)
        }
        return 0
    }

    /// A recv when the pool has buffers to spare (a sixteenth), else a one-shot
    /// readability poll: a connection whose recv stopped for want of buffers does not
    /// spin through recvs that fail at once.
    func armReads(fd: Int32, data: UInt64) -> Bool {
        guard let pool = rxPool else { return false }
        if pool.pointee.free >= pool.pointee.count / 16 {
            queueRecv(fd: fd, data: data)
            return true
        }
        queue(fd: fd, data: data | IoUringDriver.readPollTag, mask: CEDDY_EPOLLIN | CEDDY_EPOLLRDHUP, multishot: 0)
        return false
    }

    /// Queues the cancellation of the registration's requests (its file stays referenced
    /// until the removal is submitted: see `flush`). By key, never by descriptor number:
    /// a borrowed number may name another registration's file by now. A late completion
    /// of a cancelled recv hands its buffer back (`read`, generation check); the kernel
    /// only ever writes into the pool, which lives as long as the ring, so a recv in
    /// flight at close is safe whatever the caller does with its own buffer.
    func cancel(fd: Int32, data: UInt64) {
        queueCancel(data)
        if rxPool != nil {
            queueCancel(data | IoUringDriver.recvTag)
            queueCancel(data | IoUringDriver.readPollTag)
        }
    }

    /// Submits now: a cancelled request releases its file before this returns, so a socket
    /// closed by the registry is really closed (FIN sent) when `close` returns, as on epoll.
    func flush() {
        if ceddy_uring_sq_pending(ring) != 0 { _ = ceddy_uring_enter(ring, 0, -1) }
    }

    /// The request is removed whatever `fd` names now (by key, never by number).
    func removeBorrowed(fd: Int32, data: UInt64, sameFile: Bool) -> Bool {
        cancel(fd: fd, data: data)
        flush()
        return sameFile
    }

    /// What epoll_ctl would refuse and a poll request does not: a regular file or a
    /// directory (EPERM: always "ready", nothing to wait for), the driver's own
    /// descriptors (EEXIST).
    func refuseWatch(fd: Int32) -> Int32 {
        if fd == ring.pointee.fd || fd == wakeFd || fd == signalFd { return EEXIST }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return errno }
        let type = st.st_mode & S_IFMT
        return type == S_IFREG || type == S_IFDIR ? EPERM : 0
    }

    var registrationsHoldFiles: Bool { true }
}
