// HostTask: one host-driven task (HostProtocol.swift), a PollTask whose poll performs
// the outstanding operation with the task's own cx; any poll that cannot complete it
// while the task was woken by something else completes it as EDDY_HOST_WOKEN.
//
// The task's last poll context is kept (a copy: two unretained references, valid while
// the task holds its own waker), so eddy_host_enter can publish it as the current cx
// while the host runs the task: every cx-taking function (eddy_future_poll,
// eddy_tcp_poll_accept, eddy_cx_waker ...) then works for a host task exactly as
// inside a poll_fn.

import CEddyABI
import Eddy

/// One host-driven task.
// @unchecked Sendable: a PollTask (polled on its runtime's loop thread); the host-side
// fields are touched only by HostExports on the owning thread (withHostRuntime and
// creatingRuntime refuse other threads) while the runtime is not polling it.
final class HostTask: PollTask, @unchecked Sendable {
    /// The driver outlives every poll: it is released with the C runtime, after
    /// the runtime's shutdown dropped every task.
    unowned(unsafe) let driver: HostDriver
    let id: UInt64
    /// Outstanding operation (HostOp) and its arguments.
    @exclusivity(unchecked) var op: UInt64 = HostOp.wait
    @exclusivity(unchecked) var handle: UInt64 = 0
    @exclusivity(unchecked) var buf: UInt = 0
    @exclusivity(unchecked) var len: Int = 0
    /// Woken while no operation was outstanding: the next one must report it.
    @exclusivity(unchecked) var permit = true  // the first poll answers the initial WAIT
    @exclusivity(unchecked) var finished = false
    /// Position of its last event in the driver's event sequence (UInt64.max: none yet).
    /// An operation stays outstanding for the host until its event is handed out, not
    /// just completed: an event queued beyond a turn's cap has not reached the host,
    /// which may not yet run the task (see `isHostsToRun`).
    @exclusivity(unchecked) var eventSeq = UInt64.max
    /// Named in a batch at least once (so its first event was handed out).
    @exclusivity(unchecked) var named = false
    @exclusivity(unchecked) var stamp: UInt64 = 0
    /// READ or WRITE when the last operation was submitted with
    /// EDDY_HOST_OP_REPEAT (else `none`): after its event, a turn that does not
    /// name the task submits it again (same handle, buffer and length). Saves the
    /// host one entry per event.
    @exclusivity(unchecked) var repeatOp: UInt64 = HostOp.none
    var repeats: Bool { @inline(__always) get { repeatOp != HostOp.none } }
    /// Own waker (taken at the first poll) and a copy of the last poll context.
    @exclusivity(unchecked) var waker: Waker?
    let cx = UnsafeMutablePointer<Context>.allocate(capacity: 1)
    @exclusivity(unchecked) var hasCx = false

    /// The host holds the task: its last event was handed out and nothing is outstanding
    /// (what eddy_host_write and a batch entry need).
    var isHostsToRun: Bool {
        @inline(__always) get { op == HostOp.none && hasCx && eventSeq < driver.handed }
    }

    /// The host has had the task's first event (what eddy_host_enter needs).
    var isStarted: Bool {
        @inline(__always) get { hasCx && (named || eventSeq < driver.handed) }
    }

    init(driver: HostDriver, id: UInt64) {
        self.driver = driver
        self.id = id
    }

    deinit {
        forgetCx()
        cx.deallocate()
    }

    /// The saved context stops being valid: never leave it published.
    @inline(__always)
    func forgetCx() {
        if hasCx {
            if ceddy_tls_cx_get() == UnsafeMutableRawPointer(cx) { ceddy_tls_cx_set(nil) }
            if ceddy_tls_host_cx_get() == UnsafeMutableRawPointer(cx) { ceddy_tls_host_cx_set(nil) }
            cx.deinitialize(count: 1)
            hasCx = false
        }
    }

    override func poll(_ cx: inout Context) -> Poll<Void> {
        if finished { return .ready(()) }
        if hasCx { self.cx.pointee = cx } else { self.cx.initialize(to: cx); hasCx = true }
        if case .none = waker { waker = cx.waker }
        switch op {
        case HostOp.none:
            permit = true
        case HostOp.wait:
            op = HostOp.none
            permit = false
            driver.push(self, HostOp.woken)
        default:
            // Only a wake polls a task with a read/write outstanding (the first
            // attempt is made by eddy_host_turn): report it if still not done.
            attempt(&cx, woken: true)
        }
        return .pending
    }

    override func cancel() {
        finished = true
        waker = nil
        forgetCx()
    }

    /// Performs the outstanding read/write once; pushes its event unless it is
    /// pending and the task was not woken.
    @inline(__always)
    func attempt(_ cx: inout Context, woken: Bool) {
        if op == HostOp.fd { return attemptFd(&cx, woken: woken) }
        let r = HandleTable.lookupLocal(handle, .tcp, thread: currentThread())
        var result: Int64
        if r.error != 0 {
            result = Int64(r.error)
        } else if r.bits & listenerFlag != 0 {
            result = Int64(EddyCode.einval)
        } else {
            let n = Unmanaged<TcpStream>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
                op == HostOp.read ? $0.pollReadStep(&cx, UnsafeMutableRawPointer(bitPattern: buf), len)
                                  : $0.pollWriteStep(&cx, UnsafeRawPointer(bitPattern: buf), len)
            }
            if n == TcpStream.pendingCode {
                if !woken { return }
                result = HostOp.woken
            } else {
                result = Int64(n)  // bytes, or the error code
            }
        }
        op = HostOp.none
        driver.push(self, result)
    }

    /// EDDY_HOST_OP_FD: the watch's readiness for the bits in `len`, or pending with
    /// this task's waker stored for them; an event unless pending and not woken.
    @inline(__always)
    func attemptFd(_ cx: inout Context, woken: Bool) {
        let r = HandleTable.lookupLocal(handle, .fd, thread: currentThread())
        var result: Int64
        if r.error != 0 {
            result = Int64(r.error)
        } else {
            let n = Unmanaged<FdWatch>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
                $0.pollReadyStep(&cx, UInt32(truncatingIfNeeded: len))
            }
            if n == TcpStream.pendingCode {
                if !woken { return }
                result = HostOp.woken
            } else {
                result = Int64(n)  // ready bits, or an error code
            }
        }
        op = HostOp.none
        driver.push(self, result)
    }

    /// EDDY_HOST_OP_FD's submission: check the bits, forget the `clear` bits, attempt.
    @inline(__always)
    func submitFd(_ h: UInt64, clear: UInt64, interest: UInt64) {
        handle = h
        buf = 0
        len = Int(truncatingIfNeeded: interest & 0x3)
        if interest == 0 || interest & ~UInt64(0x3) != 0 || clear & ~UInt64(0x3) != 0 {
            permit = false
            driver.push(self, Int64(EddyCode.einval))
            return
        }
        if clear != 0 {
            let r = HandleTable.lookupLocal(h, .fd, thread: currentThread())
            if r.error == 0 {
                try? Unmanaged<FdWatch>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
                    try $0.clearReady(FdInterest(rawValue: UInt32(truncatingIfNeeded: clear)))
                }
            }  // a bad handle is the attempt's event
        }
        start(HostOp.fd)
    }

    /// Takes a new operation from the host (validated by the caller).
    @inline(__always)
    func submit(_ code: UInt64, _ h: UInt64, _ b: UInt64, _ l: UInt64) {
        repeatOp = HostOp.none
        named = true
        switch code {
        case HostOp.wait:
            if permit {
                permit = false
                driver.push(self, HostOp.woken)
            } else {
                op = HostOp.wait
            }
        case HostOp.finish:
            finished = true
            driver.release(self)
            forgetCx()
            if let w = waker {
                waker = nil
                w.wake()  // the poll that completes the Eddy task
            }
        case HostOp.fd:
            submitFd(h, clear: b, interest: l)
        default:
            handle = h
            buf = UInt(b)
            len = l > UInt64(Int.max) ? -1 : Int(l)
            if (b == 0 && l != 0) || len < 0 {
                permit = false
                driver.push(self, Int64(EddyCode.einval))
                return
            }
            let rw = code & ~HostOp.repeatFlag
            if code & HostOp.repeatFlag != 0 { repeatOp = rw }
            start(rw)
        }
    }

    /// The repeat of the last read/write (for a turn that does not name the task).
    @inline(__always)
    func resubmit() { start(repeatOp) }

    /// First attempt of read/write `rw` (handle, buf, len set): a wake that came
    /// while nothing was outstanding ends it if it cannot complete now.
    @inline(__always)
    private func start(_ rw: UInt64) {
        op = rw
        let woken = permit
        permit = false
        attempt(&cx.pointee, woken: woken)
    }
}


/// Ends the validity of the cx eddy_host_enter published on this thread, before a call
/// that polls tasks (run, run_until, block_on). Each C poll saves the current cx and
/// restores it afterwards: a host cx saved that way would come back after its task ended
/// inside the poll (FINISH in a nested turn, its runtime freed) and its storage was
/// deallocated, and a later call with that pointer would pass the cx check and read freed
/// memory (found by abi_fuzz: eddy_cx_waker with a stale host cx crashed).
func dropHostCx() {
    if let h = ceddy_tls_host_cx_get() {
        if ceddy_tls_cx_get() == h { ceddy_tls_cx_set(nil) }
        ceddy_tls_host_cx_set(nil)
    }
}


