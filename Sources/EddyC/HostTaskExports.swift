// HostTaskExports: host-driven tasks — eddy_host_spawn, eddy_host_turn,
// eddy_host_enter, eddy_host_wake.
//
// A host-driven task is an Eddy task whose body runs in the host's own loop
// (e.g. the Python binding's driver) instead of a poll_fn callback. The host
// calls eddy_host_turn once per loop turn: it hands Eddy one *operation* per
// task it just ran (wait for a wake, read into a buffer, write a buffer, or
// finish), Eddy performs them (at once when possible, else when the socket is
// ready), turns the reactor, and returns one *event* per completed operation.
// No C-to-host callback per task poll, one host-to-C call per loop turn.
//
// Each task is a `HostTask` (a PollTask). Its poll performs the outstanding
// operation with the task's own cx; any poll that cannot complete it while the
// task was woken by something else completes it as EDDY_HOST_WOKEN, so a wake
// from a timer, a waker handle or eddy_host_wake always reaches the host.
// Exactly one event answers each operation.
//
// The task's last poll context is kept (a copy: two unretained references,
// valid while the task holds its own waker), so eddy_host_enter can publish it
// as the current cx while the host runs the task: every cx-taking function
// (eddy_future_poll, eddy_tcp_poll_accept, eddy_cx_waker ...) then works for a
// host task exactly as inside a poll_fn.
//
// Everything is owning-thread only (like the runtime functions). Task ids are
// (generation << 32 | slot + 1): a stale or forged id is EBADHANDLE.

import CEddySys
import CEddyABI
import Eddy
import Glibc
import Synchronization

/// Generation of host task ids (process-wide, so that ids are unique across runtimes).
private let hostGeneration = Atomic<UInt32>(0)

/// Generations are taken modulo this mask + 1: UInt32.max, lower only for tests
/// (EDDY_TEST_HOST_GENERATION_BITS=n, read once: the wrap then comes after 2^n spawns).
private let hostGenerationMask: UInt32 = {
    guard let v = getenv("EDDY_TEST_HOST_GENERATION_BITS"), let n = UInt32(String(cString: v)),
          n >= 2, n < 32 else { return UInt32.max }
    return (1 << n) - 1
}()

/// The next process-wide generation (never 0).
private func nextHostGeneration() -> UInt32 {
    while true {
        let g = hostGeneration.add(1, ordering: .relaxed).newValue & hostGenerationMask
        if g != 0 { return g }
    }
}

/// Operation codes of eddy_host_op_t (include/eddy.h).
enum HostOp {
    static let none: UInt64 = 0, wait: UInt64 = 1, read: UInt64 = 2, write: UInt64 = 3, finish: UInt64 = 4
    /// EDDY_HOST_OP_REPEAT: or'ed into READ/WRITE; repeated at turns that do not name the task.
    static let repeatFlag: UInt64 = 0x100
    /// Event result of an operation ended by a wake (EDDY_HOST_WOKEN).
    static let woken: Int64 = -5100
}

/// A completed operation not yet handed out.
struct HostEvent: BitwiseCopyable {
    let id: UInt64
    let result: Int64
    /// Its operation repeats (EDDY_HOST_OP_REPEAT): once handed out, the next
    /// turn repeats it unless the host names the task.
    let repeats: Bool
}

/// The host-driven tasks of one C runtime and the events not yet handed out.
/// Owning thread only.
final class HostDriver: @unchecked Sendable {
    unowned(unsafe) let runtime: Runtime
    @exclusivity(unchecked) var slots: [HostTask?] = []
    @exclusivity(unchecked) var free: [Int] = []
    /// Per slot, the generations it has issued: the arc from `genFirst` forward to
    /// `genLast` (modulo the generation space; the counter only moves forward). A
    /// reuse whose generation falls inside that arc could make a stale id live
    /// again (the 32-bit counter wrapped): that slot is retired instead, never
    /// reused. The ABI keeps the low 32 bits a dense slot, so the generation cannot
    /// grow; retiring costs one slot per 4 billion spawns.
    @exclusivity(unchecked) var genFirst: [UInt32] = []
    @exclusivity(unchecked) var genLast: [UInt32] = []
    /// Completed operations, oldest first.
    let events = TrivialQueue<HostEvent>()
    /// Batch stamp, to refuse two operations for one task in one call.
    @exclusivity(unchecked) var stamp: UInt64 = 0
    /// Tasks handed an event of a repeating operation by the last turn: the next
    /// turn repeats the operation of each one it does not name.
    let repeats = TrivialQueue<UInt64>()

    init(runtime: Runtime) { self.runtime = runtime }

    /// The slot index of task id `id` (its low 32 bits, minus 1; -1 for none).
    @inline(__always)
    static func slot(_ id: UInt64) -> Int { Int(truncatingIfNeeded: id & 0xFFFF_FFFF) &- 1 }

    @inline(__always)
    func task(_ id: UInt64) -> HostTask? { unretainedTask(id)?.takeUnretainedValue() }

    /// The live task `id` without a reference count (the slot array keeps it
    /// alive; use it only until the next spawn or release).
    @inline(__always)
    func unretainedTask(_ id: UInt64) -> Unmanaged<HostTask>? {
        let slot = HostDriver.slot(id)
        guard slot >= 0, slot < slots.count else { return nil }
        return slots.withUnsafeBufferPointer { b -> Unmanaged<HostTask>? in
            guard let t = b[slot] else { return nil }
            let u = Unmanaged.passUnretained(t)
            return u._withUnsafeGuaranteedRef { $0.id == id } ? u : nil
        }
    }

    @inline(__always)
    func push(_ t: HostTask, _ result: Int64) {
        // pushed on the loop thread: the turn's done check sees it
        events.append(HostEvent(id: t.id, result: result, repeats: t.repeats))
    }

    func spawn() -> UInt64 {
        var slot = 0
        // One generation counter for the process: ids of different runtimes differ.
        var generation: UInt32 = 0
        while true {
            generation = nextHostGeneration()
            if let s = free.popLast() {
                // Inside the arc this slot has issued: retire it (see genFirst).
                if (generation &- genFirst[s]) & hostGenerationMask <= (genLast[s] &- genFirst[s]) & hostGenerationMask {
                    continue
                }
                slot = s
                genLast[s] = generation
            } else {
                slot = slots.count
                slots.append(nil)
                genFirst.append(generation)
                genLast.append(generation)
            }
            break
        }
        let id = UInt64(generation) << 32 | UInt64(slot + 1)
        let t = HostTask(driver: self, id: id)
        slots[slot] = t
        runtime.spawn(t)
        return id
    }

    /// Frees the slot of a finished task (its id is stale from now on).
    func release(_ t: HostTask) {
        let slot = HostDriver.slot(t.id)
        if slot < slots.count, slots[slot] === t {
            slots[slot] = nil
            free.append(slot)
        }
    }
}

/// One host-driven task.
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

    /// Takes a new operation from the host (validated by the caller).
    @inline(__always)
    func submit(_ code: UInt64, _ h: UInt64, _ b: UInt64, _ l: UInt64) {
        repeatOp = HostOp.none
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

/// Runs `body` with the C runtime of a host-task call (owning thread, not being
/// freed, not running), held without a reference count: the handle table keeps it,
/// and eddy_runtime_free is refused while it runs.
@inline(__always)
private func withHostRuntime(_ id: UInt64, _ body: (CRuntime) -> Int32) -> Int32 {
    let (u, err) = local(id, .runtime, as: CRuntime.self)
    guard let u else { return err }
    return u._withUnsafeGuaranteedRef { cr in
        if cr.freeing.load(ordering: .relaxed) { return EddyCode.shutdown }
        if cr.runtime.isRunning { return EddyCode.ebusy }
        return body(cr)
    }
}

@inline(__always)
private func driver(of cr: CRuntime) -> HostDriver {
    if let d = cr.host { return d }
    let d = HostDriver(runtime: cr.runtime)
    cr.host = d
    return d
}

@c @implementation
public func eddy_host_spawn(_ rt: eddy_runtime_t, _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    return withHostRuntime(rt) { cr in
        guard let out else { return EddyCode.einval }
        out.pointee = driver(of: cr).spawn()
        return 0
    }
}

@c @implementation
public func eddy_host_turn(_ batch: UnsafeMutablePointer<eddy_host_batch_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let batch else { return EddyCode.einval }
    // Runtime and driver unretained for the whole turn (the runtime keeps its driver).
    return withHostRuntime(batch.pointee.rt.id) { cr in
        Unmanaged.passUnretained(driver(of: cr))._withUnsafeGuaranteedRef { d in hostTurn(cr, d, batch) }
    }
}

/// eddy_host_turn once the runtime and its driver are found.
@inline(__always)
private func hostTurn(_ cr: CRuntime, _ d: HostDriver, _ batch: UnsafeMutablePointer<eddy_host_batch_t>) -> Int32 {
    let nops = batch.pointee.nops, cap = batch.pointee.cap, ops = batch.pointee.ops
    guard let events = batch.pointee.events, cap > 0, nops >= 0,
          nops == 0 || ops != nil else { return EddyCode.einval }
    // A cx published by eddy_host_enter is valid only until the next turn. Any other
    // one is the cx of a poll in progress further up this thread's stack (a turn made
    // from another runtime's poll_fn): it must stay valid after the turn, as around
    // any nested poll (Core restores it too), or that task could not even take a waker.
    let outer = ceddy_tls_cx_get()
    let keep = outer != nil && outer != ceddy_tls_host_cx_get()
    ceddy_tls_cx_set(nil)
    ceddy_tls_host_cx_set(nil)
    defer { if keep { ceddy_tls_cx_set(outer) } }
    if nops > 0, let ops {
        // Validate the whole batch first: nothing happens unless every entry is
        // a live task with one known operation and none outstanding.
        d.stamp &+= 1
        for i in 0..<nops {
            guard let w = ops[i]?.pointee else { return EddyCode.einval }
            guard let t = d.task(w.task), !t.finished, t.op == HostOp.none, t.hasCx, t.stamp != d.stamp,
                  (HostOp.wait...HostOp.finish).contains(w.op & ~HostOp.repeatFlag),
                  w.op & HostOp.repeatFlag == 0 || w.op & ~HostOp.repeatFlag == HostOp.read
                      || w.op & ~HostOp.repeatFlag == HostOp.write else {
                return d.task(w.task) == nil ? EddyCode.badHandle : EddyCode.einval
            }
            t.stamp = d.stamp
        }
        for i in 0..<nops {
            let w = ops[i].unsafelyUnwrapped.pointee
            d.task(w.task).unsafelyUnwrapped.submit(w.op, w.handle, w.buf, w.len)
        }
    }
    if !d.repeats.isEmpty {
        // Tasks of the last turn's events that this batch does not name: their
        // repeating read/write again (the stamp marks the named ones).
        for i in 0..<d.repeats.count {
            d.unretainedTask(d.repeats[i])?._withUnsafeGuaranteedRef { t in
                if !t.finished, t.repeats, t.op == HostOp.none, t.stamp != d.stamp || nops == 0 { t.resubmit() }
            }
        }
        d.repeats.removeAll()
    }
    var rc: Int32 = 0
    do {
        // At least one reactor check per turn (non-blocking when events are already
        // there), so tasks whose operations always complete at once cannot starve the
        // sockets nobody polled yet. A plain closure: no task, no generic result.
        try cr.runtime.run(tickingOnce: true) { !d.events.isEmpty }
    } catch {
        rc = error.code
    }
    let k = min(cap, d.events.count)
    if k > 0 {
        let src = d.events
        for i in 0..<k {
            let e = src[i]
            events[i] = eddy_host_event_t(task: e.id, result: e.result)
            if e.repeats { d.repeats.append(e.id) }
        }
        src.removeFirst(k)
        rc = 0  // e.g. EINTR with events: hand them out; the signal is seen on return
    }
    batch.pointee.n = k
    return rc
}

@c @implementation
public func eddy_host_enter(_ rt: eddy_runtime_t, _ task: UInt64, _ cx: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    return withHostRuntime(rt) { cr in
        guard let cx else { return EddyCode.einval }
        guard let t = cr.host?.task(task), !t.finished else { return EddyCode.badHandle }
        guard t.hasCx else { return EddyCode.einval }
        ceddy_tls_cx_set(UnsafeMutableRawPointer(t.cx))
        ceddy_tls_host_cx_set(UnsafeMutableRawPointer(t.cx))
        cx.pointee = OpaquePointer(t.cx)
        return 0
    }
}

@c @implementation
public func eddy_host_wake(_ rt: eddy_runtime_t, _ task: UInt64) -> Int32 {
    let rt = rt.id
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt)  // allowed while the runtime runs (from a poll)
    guard let cr else { return err }
    guard let t = cr.host?.task(task), !t.finished else { return EddyCode.badHandle }
    if let w = t.waker {
        w.wake()
    } else {
        t.permit = true  // not polled yet: its first poll answers the initial WAIT anyway
    }
    return 0
}

@c @implementation
public func eddy_host_write(_ op: UnsafePointer<eddy_host_op_t>?, _ buf: UnsafeRawPointer?, _ len: Int) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let op = op?.pointee else { return EddyCode.einval }
    // The stream first: its owner is the runtime (checked like any runtime call).
    let r = HandleTable.lookupLocal(op.handle, .tcp, thread: currentThread())
    guard r.error == 0 else { return r.error }
    return withHostRuntime(HandleTable.ownerLocal(op.handle)) { cr in
        guard let t = cr.host?.task(op.task), !t.finished else { return EddyCode.badHandle }
        guard t.op == HostOp.none, t.hasCx, op.op == HostOp.write, r.bits & listenerFlag == 0 else {
            return EddyCode.einval
        }
        guard len >= 0, buf != nil || len == 0 else { return EddyCode.einval }
        let n = Unmanaged<TcpStream>.fromOpaque(HandleTable.pointer(r.bits))._withUnsafeGuaranteedRef {
            $0.pollWriteStep(&t.cx.pointee, buf, min(len, Int(Int32.max)))
        }
        return n == TcpStream.pendingCode ? -EAGAIN : Int32(truncatingIfNeeded: n)  // bytes or error code
    }
}
