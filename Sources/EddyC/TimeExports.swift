// TimeExports: the runtime's clock (eddy_now, eddy_runtime_clock_*), absolute
// deadlines (eddy_sleep_until) and intervals (include/eddy.h, "Time and combinators").
// The clock and `Interval` are the core's (Runtime+Clock.swift, Interval.swift).

import CEddyABI
import Eddy

/// What an interval handle points to: the core's `Interval` and the runtime whose clock
/// and timer heap it uses. Owning thread only.
final class CInterval {
    let interval: Interval
    let runtime: Runtime
    init(_ interval: Interval, _ runtime: Runtime) {
        self.interval = interval
        self.runtime = runtime
    }
}

/// The Runtime of an owning-thread call on runtime handle `rt`.
@inline(__always)
private func ownedRuntime(_ rt: UInt64) -> (Runtime?, Int32) {
    let (u, err) = local(rt, .runtime, as: CRuntime.self)
    guard let u else { return (nil, err) }
    return (u.takeUnretainedValue().runtime, 0)
}

@c @implementation
public func eddy_now(_ rt: eddy_runtime_t, _ nanos: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (r, err) = ownedRuntime(rt.id)
    guard let r else { return err }
    guard let nanos else { return EddyCode.einval }
    nanos.pointee = r.clockNanos
    return 0
}

@c @implementation
public func eddy_runtime_clock_pause(_ rt: eddy_runtime_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (r, err) = ownedRuntime(rt.id)
    guard let r else { return err }
    do { try r.pauseClock() } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_runtime_clock_resume(_ rt: eddy_runtime_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (r, err) = ownedRuntime(rt.id)
    guard let r else { return err }
    do { try r.resumeClock() } catch { return error.code }
    return 0
}

@c @implementation
public func eddy_runtime_clock_advance(_ rt: eddy_runtime_t, _ nanos: UInt64) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (r, err) = ownedRuntime(rt.id)
    guard let r else { return err }
    // Duration takes Int64 nanoseconds: beyond that the clock saturates anyway.
    let d = Duration.nanoseconds(Int64(clamping: nanos))
    do { return Int32(clamping: try r.advanceClock(by: d)) } catch { return error.code }
}

@c @implementation
public func eddy_sleep_until(_ rt: eddy_runtime_t, _ deadlineNs: UInt64, _ out: UnsafeMutablePointer<eddy_future_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let out else { return EddyCode.einval }
    // A keyed timer, as eddy_sleep (CTimer.swift).
    guard let key = cr.runtime.reserveTimer(until: Instant(nanoseconds: deadlineNs)) else { return EddyCode.enomem }
    guard let id = handleTable.insert(bits: CTimer.bits(key), kind: .future, owner: cr.id, thread: cr.handleThread()) else {
        cr.runtime.releaseTimer(key)
        return EddyCode.enomem
    }
    out.pointee = eddy_future_t(id: id)
    return 0
}

@c @implementation
public func eddy_interval_new(_ rt: eddy_runtime_t, _ startNs: UInt64, _ periodNs: UInt64, _ missed: Int32,
                              _ out: UnsafeMutablePointer<eddy_interval_t>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (cr, err) = creatingRuntime(rt.id)
    guard let cr else { return err }
    guard let out, periodNs >= 1, periodNs <= 1 << 62,
          let behaviour = MissedTickBehavior(rawValue: Int(missed)) else { return EddyCode.einval }
    let period = Duration.nanoseconds(Int64(periodNs))
    let start = Instant(nanoseconds: startNs == 0 ? deadline(after: periodNs, cr.runtime).nanoseconds : startNs)
    let iv: Interval
    do { iv = try Interval(every: period, startingAt: start, missedTickBehavior: behaviour) } catch { return error.code }
    guard let id = insertHandle(CInterval(iv, cr.runtime), kind: .interval, owner: cr.id, thread: cr.handleThread()) else {
        return EddyCode.enomem
    }
    out.pointee = eddy_interval_t(id: id)
    return 0
}

@c @implementation
public func eddy_interval_poll_tick(_ iv: eddy_interval_t, _ cx: OpaquePointer?, _ tickNs: UnsafeMutablePointer<UInt64>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard let cxp = validContext(cx) else { return EddyCode.einval }
    let (u, err) = local(iv.id, .interval, as: CInterval.self)
    guard let u else { return err }
    return u._withUnsafeGuaranteedRef { c -> Int32 in
        // Its deadlines are on its own runtime's clock (misuse otherwise, as for futures).
        guard cxp.pointee.isPolled(by: c.runtime) else { return EddyCode.wrongThread }
        switch c.interval.pollTick(&cxp.pointee) {
        case .pending: return EddyCode.pending
        case .ready(let t):
            tickNs?.pointee = t.nanoseconds
            return EddyCode.ready
        }
    }
}

@c @implementation
public func eddy_interval_free(_ iv: eddy_interval_t) -> Int32 {
    if isForked() { return EddyCode.forked }
    let (u, err) = local(iv.id, .interval, as: CInterval.self)
    guard u != nil else { return err }
    guard let bits = handleTable.remove(iv.id, .interval) else { return EddyCode.badHandle }
    Unmanaged<CInterval>.fromOpaque(HandleTable.pointer(bits)).release()
    return 0
}

// ---- join / select over N futures (poll-style helpers) ----

@c @implementation
public func eddy_join_poll(_ futs: UnsafePointer<eddy_future_t>?, _ n: Int, _ cx: OpaquePointer?,
                           _ results: UnsafeMutablePointer<Int32>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard validContext(cx) != nil else { return EddyCode.einval }
    if n == 0 { return EddyCode.ready }
    guard let futs, let results else { return EddyCode.einval }
    var pending = false
    for i in 0..<n where results[i] == EddyCode.pending {
        let r = eddy_future_poll(futs[i], cx)
        results[i] = r
        if r == EddyCode.pending { pending = true }
    }
    return pending ? EddyCode.pending : EddyCode.ready
}

@c @implementation
public func eddy_select_poll(_ futs: UnsafePointer<eddy_future_t>?, _ n: Int, _ cx: OpaquePointer?,
                             _ index: UnsafeMutablePointer<Int>?, _ status: UnsafeMutablePointer<Int32>?) -> Int32 {
    if isForked() { return EddyCode.forked }
    guard validContext(cx) != nil else { return EddyCode.einval }
    guard n > 0, let futs, let index, let status else { return EddyCode.einval }
    for i in 0..<n {
        let r = eddy_future_poll(futs[i], cx)
        if r != EddyCode.pending {
            index.pointee = i
            status.pointee = r
            return EddyCode.ready
        }
    }
    return EddyCode.pending
}
