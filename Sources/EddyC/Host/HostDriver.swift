// HostDriver: the host-driven tasks of one C runtime (HostProtocol.swift says what they
// are): their ids and slots, the events not yet handed out, one eddy_host_turn.
//
// Everything is owning-thread only (like the runtime functions). Task ids are
// (generation << 32 | slot + 1): a stale or forged id is EBADHANDLE.

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

/// The host-driven tasks of one C runtime and the events not yet handed out.
/// Owning thread only.
// @unchecked Sendable: confined to the runtime's owning thread; every entry point
// (HostExports) goes through withHostRuntime or creatingRuntime, which refuse other
// threads (EDDY_EWRONGTHREAD) before touching it.
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
    /// Events pushed and handed out so far: an event whose sequence number (its task's
    /// `eventSeq`) is below `handed` has reached the host (the queue is FIFO).
    @exclusivity(unchecked) var pushed: UInt64 = 0
    @exclusivity(unchecked) var handed: UInt64 = 0
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
        t.eventSeq = pushed
        pushed &+= 1
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


/// Runs `body` with the C runtime of a host-task call (owning thread, not being
/// freed, not running), held without a reference count: the handle table keeps it,
/// and eddy_runtime_free is refused while it runs.
@inline(__always)
func withHostRuntime(_ id: UInt64, _ body: (CRuntime) -> Int32) -> Int32 {
    let (u, err) = local(id, .runtime, as: CRuntime.self)
    guard let u else { return err }
    return u._withUnsafeGuaranteedRef { cr in
        if cr.freeing.load(ordering: .relaxed) { return EddyCode.shutdown }
        if cr.runtime.isRunning { return EddyCode.ebusy }
        return body(cr)
    }
}

extension CRuntime {
    /// The runtime's host driver, created by its first host-task call.
    @inline(__always)
    var hostDriver: HostDriver {
        if let d = host { return d }
        let d = HostDriver(runtime: runtime)
        host = d
        return d
    }
}

extension HostDriver {
    /// One eddy_host_turn of runtime `cr`, whose driver this is: submits the batch's
    /// operations (all validated first), repeats the repeating ones of tasks it does not
    /// name, runs the runtime until an event is ready, hands events out.
    @inline(__always)
    func turn(_ cr: CRuntime, _ batch: UnsafeMutablePointer<eddy_host_batch_t>) -> Int32 {
        let d = self
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
                guard let t = d.task(w.task.id), !t.finished, t.isHostsToRun, t.stamp != d.stamp,
                      HostOp.isValid(w.op) else {
                    return d.task(w.task.id) == nil ? EddyCode.badHandle : EddyCode.einval
                }
                t.stamp = d.stamp
            }
            for i in 0..<nops {
                let w = ops[i].unsafelyUnwrapped.pointee
                d.task(w.task.id).unsafelyUnwrapped.submit(w.op, w.handle, w.buf, w.len)
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
                events[i] = eddy_host_event_t(task: eddy_host_task_t(id: e.id), result: e.result)
                if e.repeats { d.repeats.append(e.id) }
            }
            src.removeFirst(k)
            d.handed &+= UInt64(k)
            rc = 0  // e.g. EINTR with events: hand them out; the signal is seen on return
        }
        batch.pointee.n = k
        return rc
    }
}
