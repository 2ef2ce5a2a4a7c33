// CTimer: an eddy_sleep handle with no object behind it.
//
// Why: a C program may hold a million sleeps. As a CFuture plus a `Sleep` each cost
// ~300 B (two objects, the handle slot, the heap entry); a handle slot whose object
// bits are the timer's key in its runtime's heap costs the slot and the heap entry
// only (~100 B). Bit 0 of a future slot's bits tells the two apart: object
// pointers are aligned, so it is never set for a CFuture.
//
// A keyed sleep is turned into a `.timer` CFuture when something must own it as an
// object: eddy_timeout (inner) and eddy_future_then (the then-task).

import Eddy

enum CTimer {
    /// Set in a future slot's bits when the rest is a timer key.
    static let flag: UInt = 1

    @inline(__always)
    static func isTimer(_ bits: UInt) -> Bool { bits & flag != 0 }

    /// generation (bits 32...63) | index (bits 1...31, indexes stay below 2^24) | flag.
    static func bits(_ key: TimerKey) -> UInt {
        UInt(key.generation) << 32 | UInt(UInt32(bitPattern: key.index)) << 1 | flag
    }

    static func key(_ bits: UInt) -> TimerKey {
        TimerKey(index: Int32(truncatingIfNeeded: (bits >> 1) & 0x7FFF_FFFF),
                 generation: UInt32(truncatingIfNeeded: bits >> 32))
    }

    /// The runtime owning future `id`. Only after `lookupLocal(id)` succeeded on this
    /// thread: the runtime's handle outlives its futures' (eddy_runtime_free removes it
    /// last) and belongs to the same thread.
    static func runtime(of id: UInt64) -> (Runtime?, Int32) {
        let owner = HandleTable.ownerLocal(id)
        let (cr0, err) = local(owner, .runtime, as: CRuntime.self)
        guard let cr = cr0 ?? workerRuntime(owner, err) else { return (nil, err) }
        return (cr.takeUnretainedValue().runtime, 0)
    }

    /// eddy_future_poll of a keyed sleep.
    static func poll(_ id: UInt64, _ bits: UInt, _ cx: inout Context) -> Int32 {
        let (rt, err) = runtime(of: id)
        guard let rt else { return err }
        // The key means nothing in another runtime's heap (misuse, as for CFuture).
        guard cx.isPolled(by: rt) else { return EddyCode.wrongThread }
        return rt.pollTimer(key(bits), &cx) ? EddyCode.ready : EddyCode.pending
    }

    /// eddy_future_take_tcp / take_value: a sleep has no result to take.
    static func take(_ id: UInt64, _ bits: UInt) -> Int32 {
        let (rt, err) = runtime(of: id)
        guard let rt else { return err }
        return rt.isTimerCompleted(key(bits)) ? EddyCode.einval : EddyCode.notReady
    }
}
