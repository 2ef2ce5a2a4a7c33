import Glibc
import CEddySys

/// Readiness bits cached per registration (mio/tokio's ScheduledIo idea).
@usableFromInline
enum Readiness {
    @usableFromInline static let readable: UInt32 = 1 << 0
    @usableFromInline static let writable: UInt32 = 1 << 1
    @usableFromInline static let readClosed: UInt32 = 1 << 2
    @usableFromInline static let writeClosed: UInt32 = 1 << 3
    @usableFromInline static let error: UInt32 = 1 << 4
    /// Any of these makes a read attempt worthwhile.
    @usableFromInline static let readInterest: UInt32 = readable | readClosed | error
    @usableFromInline static let writeInterest: UInt32 = writable | writeClosed | error
}

/// Which half of a registration an operation waits on (its waker slot, its readiness).
@usableFromInline
enum Direction {
    /// Reading (and accepting): the registration's read half.
    case read
    /// Writing (and connecting): the registration's write half.
    case write
}

/// One registered descriptor: its fd (owned, or borrowed from the caller by an `FdWatch`),
/// cached readiness, the waker of the reader and of the writer.
///
/// Clearing readiness after an EAGAIN (or a short read) loses no edge without a tick
/// check: the clear follows the syscall on the loop thread with no dispatch in between,
/// and an edge raised by data arriving after (or even before) that syscall is queued by
/// the kernel and applied by the next epoll_wait, after the clear.
@usableFromInline
struct IoSlot: SlabEntry {
    @usableFromInline var fd: Int32 = -1
    @usableFromInline var generation: UInt32 = 1
    @usableFromInline var readiness: UInt32 = 0
    /// False for a descriptor the caller keeps owning (`watch`): deregistered, never closed.
    /// (Sits in the padding before the waker slots: the slot does not grow.)
    var owned = true
    @usableFromInline var readWaker = WakerSlot()
    @usableFromInline var writeWaker = WakerSlot()
    var nextFree: Int32 = -1
    /// Completion reads (io_uring driver; `RxMode`): the connection's unread pool
    /// buffers, the error its recv ended with, the mode. Unused on epoll.
    @usableFromInline var rx = ceddy_rxq(head: 0xFFFF, tail: 0xFFFF, off: 0, error: 0, mode: 0)
    /// The driver's buffer pool while `rx.mode` is not `readiness` (so a read needs no
    /// other object). It also pads the slot to one cache line (64 bytes; the slab's pages
    /// are line-aligned), so a dispatch and the socket operations after it load one line,
    /// never two: at 40 bytes, 3 slots in 8 straddled a line (measured:
    /// docs/PERFORMANCE-LOG.md, "Cost per round trip as connections grow").
    @usableFromInline var rxPool: UnsafeMutablePointer<ceddy_rxpool>?
    @usableFromInline init() {}
}

/// How a registration's reads are done (`IoSlot.rx.mode`).
@usableFromInline
enum RxMode {
    /// read(2) when the readiness cache says so: epoll, and io_uring for everything but
    /// accepted streams (or when completion reads are off).
    @usableFromInline static let readiness: UInt8 = 0
    /// A multishot recv is in flight: data arrives in pool buffers (`IoSlot.rx`).
    @usableFromInline static let armed: UInt8 = 1
    /// The recv ended (no free buffer, cancelled by the kernel, a buffered error was
    /// reported): the reader reads with read(2), and on EAGAIN arms a new recv.
    @usableFromInline static let stopped: UInt8 = 2
    /// The recv saw the end of the stream: reads return 0 once the buffers are drained.
    @usableFromInline static let eof: UInt8 = 3
    /// The recv ended with `rx.error`: the next read returns it, then `stopped`.
    @usableFromInline static let failed: UInt8 = 4
}

/// A registration's address: slot index + generation (stale after close).
@usableFromInline
struct IoKey: Sendable, Equatable {
    @usableFromInline let index: Int32
    @usableFromInline let generation: UInt32
    @usableFromInline var epollData: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(bitPattern: index)) }
}

/// The registration table of one runtime's driver. Loop thread only. The kernel side of
/// a registration (epoll_ctl, io_uring poll requests) is the backend's (`IoBackend`): a new
/// backend needs no change here.
@usableFromInline
final class IoRegistry {
    let slab = PagedSlab<IoSlot>()
    /// The driver's backend; the `Driver` owns both it and this registry.
    unowned(unsafe) let backend: any IoBackend
    /// Identity of each borrowed descriptor (`watch`), by slot index. Only registration and
    /// deregistration touch it, never dispatch nor the socket operations.
    private var borrowed: [Int32: FdIdentity] = [:]
    /// With a backend whose registrations hold their files (io_uring): a private duplicate
    /// of each borrowed descriptor, by slot index, so that "does the number still name the
    /// registered file" is asked of the kernel (kcmp) — fstat's identity cannot tell two
    /// eventfds, or the two ends of a pipe, apart. Closed when the watch ends.
    private var held: [Int32: Int32] = [:]

    /// The io_uring driver's buffer pool when completion reads are on (nil on epoll):
    /// accepted streams then read from it (`completionRead`).
    var rx: UnsafeMutablePointer<ceddy_rxpool>?

    init(backend: any IoBackend) {
        self.backend = backend
        assert(Readiness.readable == CEDDY_EPOLLIN && Readiness.writable == CEDDY_EPOLLOUT >> 1)  // dispatch
    }

    /// Registers `fd` once, edge-triggered for in/out/rdhup; the registry owns the fd
    /// from now on (it closes it on failure too). `initial` seeds the readiness cache.
    /// `completionReads`: a connected stream socket, whose reads the backend may do as
    /// completions into its buffer pool (io_uring with `rx`; ignored otherwise).
    func register(fd: Int32, initial: UInt32, completionReads: Bool = false) -> Result<IoKey, EddyError> {
        guard let index = slab.allocate() else {
            sysClose(fd)
            return .failure(.errno(ENOMEM))
        }
        let p = slab.pointer(index)
        p.pointee.fd = fd
        p.pointee.readiness = initial
        let key = IoKey(index: index, generation: p.pointee.generation)
        let recv = completionReads && rx != nil
        let e = backend.add(fd: fd, data: key.epollData, recv: recv)
        if e != 0 {
            release(index)
            sysClose(fd)
            return .failure(.errno(e))
        }
        if recv {
            p.pointee.rx.mode = RxMode.armed
            p.pointee.rxPool = rx
        }
        return .success(key)
    }

    /// Returned by `completionRead` when the read needs the registry (`stoppedRead`).
    @usableFromInline static var stoppedCode: Int { Int.min + 1 }

    /// A read of a registration in completion mode (`IoSlot.rx.mode` not `readiness`), the
    /// readiness cache having said it may progress: copies what the recv completions left
    /// in pool buffers (handing each emptied buffer back), else reports the end of stream
    /// or the error the recv ended with, else waits (EAGAIN) for the recv in flight.
    /// `stoppedCode` when the recv is stopped: then `stoppedRead`. No object is touched
    /// (the slot holds the pool), so the caller's references need no retain.
    @usableFromInline @inline(never)
    static func completionRead(_ p: UnsafeMutablePointer<IoSlot>, _ buf: UnsafeMutableRawPointer?, _ len: Int) -> Int {
        if len == 0 { return 0 }  // read(2)'s answer, without touching the buffers
        if p.pointee.rx.head != CEDDY_RX_NONE, let dst = buf {
            let n = ceddy_rxq_take(p.pointee.rxPool, &p.pointee.rx, dst.assumingMemoryBound(to: UInt8.self), UInt(len))
            // Drained: wait for the next completion (a stopped recv keeps `readable`, so
            // the next read asks read(2), whose EAGAIN re-arms it).
            if p.pointee.rx.head == CEDDY_RX_NONE && p.pointee.rx.mode == RxMode.armed {
                IoRegistry.clear(p, Readiness.readable)
            }
            return n
        }
        switch p.pointee.rx.mode {
        case RxMode.armed:
            IoRegistry.clear(p, Readiness.readable | Readiness.readClosed)
            return -Int(EAGAIN)
        case RxMode.eof:
            return 0
        case RxMode.failed:
            p.pointee.rx.mode = RxMode.stopped
            return -Int(p.pointee.rx.error)
        default:
            return stoppedCode
        }
    }

    /// A read of a registration whose recv stopped: read(2), and at EAGAIN a new recv
    /// (or a one-shot readability poll, short of buffers). `key`: the slot's.
    @usableFromInline @inline(never)
    func stoppedRead(_ p: UnsafeMutablePointer<IoSlot>, _ buf: UnsafeMutableRawPointer?, _ len: Int,
                     sys: Sys, key: IoKey?) -> Int {
        let n = sys.read(p.pointee.fd, buf, len)
        if n == -Int(EAGAIN) {
            IoRegistry.clear(p, Readiness.readable | Readiness.readClosed)
            if let key, backend.armReads(fd: p.pointee.fd, data: key.epollData) { p.pointee.rx.mode = RxMode.armed }
        }
        return n
    }

    /// Registers a descriptor the caller keeps owning (`FdWatch`), edge-triggered like
    /// `register`, with no readiness cached: if the fd is already ready, EPOLL_CTL_ADD queues
    /// an event that the next epoll_wait reports. Nothing is closed, on failure either.
    /// Errors: EBADF (not open), EPERM (a regular file or directory: epoll refuses them),
    /// EEXIST (already registered here, e.g. one of the runtime's own descriptors), ENOMEM.
    func watch(fd: Int32) -> Result<IoKey, EddyError> {
        guard fd >= 0 else { return .failure(.errno(EBADF)) }
        guard let identity = FdIdentity(of: fd) else { return .failure(.errno(errno)) }
        let refused = backend.refuseWatch(fd: fd)
        if refused != 0 { return .failure(.errno(refused)) }
        var dup: Int32 = -1
        if backend.registrationsHoldFiles {
            if isRegistered(fd: fd, identity: identity) { return .failure(.errno(EEXIST)) }
            // Above the low numbers a program expects close/open to hand back.
            dup = fcntl(fd, F_DUPFD_CLOEXEC, 100)
            if dup < 0 { dup = fcntl(fd, F_DUPFD_CLOEXEC, 0) }
            if dup < 0 { return .failure(.errno(errno)) }
        }
        guard let index = slab.allocate() else {
            if dup >= 0 { sysClose(dup) }
            return .failure(.errno(ENOMEM))
        }
        let p = slab.pointer(index)
        p.pointee.fd = fd
        p.pointee.owned = false
        p.pointee.readiness = 0
        let key = IoKey(index: index, generation: p.pointee.generation)
        let e = backend.add(fd: fd, data: key.epollData, recv: false)
        if e != 0 {
            release(index)
            if dup >= 0 { sysClose(dup) }
            return .failure(.errno(e))
        }
        if dup >= 0 { held[index] = dup }
        // The kernel took the number: any other watch still holding it is stale (its file was
        // closed, which removed its registration). Forget those now, so that they free
        // as EBADF and this live one deregisters normally (found by abi_fuzz: the live
        // watch's free saw the stale one, reported EBADF and left its fd registered, so
        // watching the fd again was EEXIST).
        if !borrowed.isEmpty {
            let stale = borrowed.keys.filter { slab.pointer($0).pointee.fd == fd }
            for k in stale { borrowed.removeValue(forKey: k) }
        }
        borrowed[index] = identity
        return .success(key)
    }

    /// Removes a borrowed descriptor from the epoll set, but only if `fd` still names the
    /// file it registered: when the owner closed it first, the number may now belong to
    /// another file — perhaps one of this runtime's sockets, whose registration an
    /// EPOLL_CTL_DEL by number would silently remove. False when it did not (the stale
    /// registration, if its file lives on elsewhere, only yields events the generation
    /// check drops).
    private func forget(index: Int32, fd: Int32, data: UInt64) -> Bool {
        if let dup = held.removeValue(forKey: index) {
            defer { sysClose(dup) }
            let live = borrowed.removeValue(forKey: index) != nil
            var same = live && ceddy_same_file(fd, dup) == 1
            if live && ceddy_same_file(fd, dup) < 0 {  // no kcmp: fstat's identity, as for epoll
                same = FdIdentity(of: fd) == FdIdentity(of: dup)
            }
            return backend.removeBorrowed(fd: fd, data: data, sameFile: same)
        }
        guard let identity = borrowed.removeValue(forKey: index) else {
            // Already known stale; a backend whose registrations hold files still drops it.
            return backend.removeBorrowed(fd: fd, data: data, sameFile: false)
        }
        // Another live watch of the same number means ours is gone (epoll refuses a
        // second registration of one open file).
        let same = FdIdentity(of: fd) == identity
            && !borrowed.contains(where: { slab.pointer($0.key).pointee.fd == fd })
        return backend.removeBorrowed(fd: fd, data: data, sameFile: same)
    }

    /// A live registration of `fd` naming the same open file (owned ones by number: the
    /// registry closes those itself, so their numbers cannot be stale; borrowed ones by
    /// kcmp against their private duplicate, else fstat's identity). Not a hot path.
    private func isRegistered(fd: Int32, identity: FdIdentity) -> Bool {
        for i in 0..<slab.capacity {
            let p = slab.pointer(Int32(i))
            guard p.pointee.fd == fd else { continue }
            if p.pointee.owned { return true }
            guard let other = borrowed[Int32(i)] else { continue }  // known stale
            if let dup = held[Int32(i)] {
                let same = ceddy_same_file(fd, dup)
                if same == 1 || (same < 0 && other == identity) { return true }
            } else if other == identity {
                return true
            }
        }
        return false
    }

    /// Forgets readiness the last syscall proved gone (see `IoSlot`). Call it right
    /// after that syscall, before anything can dispatch events.
    @inlinable @inline(__always)
    static func clear(_ p: UnsafeMutablePointer<IoSlot>, _ bits: UInt32) {
        p.pointee.readiness &= ~bits
    }

    /// Applies one epoll event: cache readiness, wake the interested sides. `pages` is
    /// `slab.pages` (loaded once per batch by the caller).
    @inline(__always)
    static func dispatch(pages: UnsafeMutablePointer<UnsafeMutablePointer<IoSlot>?>, data: UInt64, events: UInt32) {
        // `data` is a key this registry gave epoll (the wake eventfd's is filtered out by
        // the caller), and the slab never shrinks: the index is in range. The generation
        // tells a stale event from a live one (release bumps it, so no fd test either).
        let p = PagedSlab<IoSlot>.pointer(Int32(bitPattern: UInt32(truncatingIfNeeded: data)), in: pages)
        guard p.pointee.generation == UInt32(truncatingIfNeeded: data >> 32) else { return }
        let bits: UInt32
        if events & ~(CEDDY_EPOLLIN | CEDDY_EPOLLOUT) == 0 {
            // The usual event, IN and/or OUT, by bit arithmetic: readable == EPOLLIN (1),
            // writable == EPOLLOUT >> 1 (2); asserted in init.
            bits = (events & CEDDY_EPOLLIN) | ((events & CEDDY_EPOLLOUT) >> 1)
        } else {
            bits = IoRegistry.readiness(of: events)
        }
        p.pointee.readiness |= bits
        if bits & Readiness.readInterest != 0 { p.pointee.readWaker.wakeOnLoop() }
        if bits & Readiness.writeInterest != 0 { p.pointee.writeWaker.wakeOnLoop() }
    }

    /// `dispatch` for one event (tests).
    func dispatch(data: UInt64, events: UInt32) {
        IoRegistry.dispatch(pages: slab.pages, data: data, events: events)
    }

    /// Readiness bits of any epoll event mask.
    static func readiness(of events: UInt32) -> UInt32 {
        var bits: UInt32 = 0
        if events & (CEDDY_EPOLLIN | CEDDY_EPOLLPRI) != 0 { bits |= Readiness.readable }
        if events & CEDDY_EPOLLOUT != 0 { bits |= Readiness.writable }
        if events & CEDDY_EPOLLRDHUP != 0 { bits |= Readiness.readClosed | Readiness.readable }
        if events & CEDDY_EPOLLHUP != 0 { bits |= Readiness.readClosed | Readiness.writeClosed | Readiness.readable | Readiness.writable }
        if events & CEDDY_EPOLLERR != 0 { bits |= Readiness.error | Readiness.readable | Readiness.writable }
        return bits
    }

    /// Closes the descriptor (a borrowed one is deregistered instead) and frees the slot;
    /// waiters are woken so they see the close. False only for a borrowed descriptor that
    /// no longer names the registered file (see `forget`).
    @discardableResult
    func close(_ key: IoKey) -> Bool {
        let p = slab.pointer(key.index)
        guard p.pointee.generation == key.generation else { return true }
        let fd = p.pointee.fd
        let owned = p.pointee.owned
        let r = p.pointee.readWaker.take()
        let w = p.pointee.writeWaker.take()
        var same = true
        if owned {
            release(key.index)
            // Stale events for the reused slot are rejected by the generation check.
            backend.cancel(fd: fd, data: key.epollData)
            backend.flush()
            sysClose(fd)
        } else {
            same = forget(index: key.index, fd: fd, data: key.epollData)
            release(key.index)
        }
        r?.wake()
        w?.wake()
        return same
    }

    private func release(_ index: Int32) {
        let p = slab.pointer(index)
        if p.pointee.rx.mode != RxMode.readiness {
            // Unread buffers go back to the kernel (their data dies with the connection).
            if let pool = p.pointee.rxPool {
                var bid = p.pointee.rx.head
                while bid != CEDDY_RX_NONE {
                    let next = pool.pointee.next[Int(bid)]
                    ceddy_rxpool_give(pool, bid)
                    bid = next
                }
            }
            p.pointee.rx = ceddy_rxq(head: CEDDY_RX_NONE, tail: CEDDY_RX_NONE, off: 0, error: 0, mode: RxMode.readiness)
            p.pointee.rxPool = nil
        }
        p.pointee.fd = -1
        p.pointee.readiness = 0
        p.pointee.owned = true
        p.pointee.readWaker.clear()
        p.pointee.writeWaker.clear()
        p.pointee.generation &+= 1
        if p.pointee.generation == 0 { p.pointee.generation = 1 }
        slab.free(index)
    }

    /// Closes every descriptor still registered (borrowed ones are left open: their
    /// registrations are cancelled, and closing the driver right after drops any left); returns how many it closed, and the
    /// wakers that were waiting (the caller wakes them once the runtime reads as shut down).
    func closeAll() -> (closed: Int, wakers: [Waker]) {
        var closed = 0
        var wakers: [Waker] = []
        for i in 0..<slab.capacity {
            let p = slab.pointer(Int32(i))
            if p.pointee.fd >= 0 {
                if let r = p.pointee.readWaker.take() { wakers.append(r) }
                if let w = p.pointee.writeWaker.take() { wakers.append(w) }
                let fd = p.pointee.fd
                let owned = p.pointee.owned
                let data = IoKey(index: Int32(i), generation: p.pointee.generation).epollData
                release(Int32(i))
                backend.cancel(fd: fd, data: data)
                if owned {
                    sysClose(fd)
                    closed += 1
                }
            }
        }
        backend.flush()
        borrowed.removeAll()
        for dup in held.values { sysClose(dup) }
        held.removeAll()
        return (closed, wakers)
    }
}


/// What a descriptor number refers to (device and inode, from fstat): tells the file
/// registered by `IoRegistry.watch` from another one that took the number after a close.
struct FdIdentity: Equatable {
    let device: UInt64
    let inode: UInt64

    /// nil (errno set) when `fd` is not open.
    init?(of fd: Int32) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
    }
}
